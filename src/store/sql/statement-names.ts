// Which statements PostgreSQL keeps parsed and planned on each connection. A GET's read by id
// and a status report's read and save run on nearly every request, and planning the report's
// save cost PostgreSQL more than running it (docs/performance.md). The postgres adapter sends a
// marked text under its name (pg's named statements): the first run on a connection parses and
// plans it, later runs send only the parameters. Unmarked statements are planned on every run.
// A named statement must keep its result's shape across migrations, so the marked reads name
// their columns rather than `*`.
import type { CompiledQuery } from 'kysely';

/** More than the shapes the marked writes build; past it a statement runs unnamed, as any other. */
const MAX_NAMES = 200;

export class StatementNames {
  readonly #names = new Map<string, string>();

  /** The query, its text marked to be named. */
  mark<Q extends CompiledQuery<unknown>>(query: Q): Q {
    if (this.#names.size < MAX_NAMES && !this.#names.has(query.sql)) this.#names.set(query.sql, `goman_${this.#names.size + 1}`);
    return query;
  }

  /** The name a marked text is sent under; undefined for any other text. */
  nameOf(text: string): string | undefined {
    return this.#names.get(text);
  }
}
