import type { SqlDialect } from '../sql/schema.ts';

/** One schema step. Statements run in order inside one transaction; SQL differs per dialect. */
export interface Migration {
  version: number;
  name: string;
  statements: Record<SqlDialect, readonly string[]>;
}
