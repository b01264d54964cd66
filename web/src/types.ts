// Wire types, taken from the server's own modules (type-only: nothing of the server is bundled).
export type { Cluster, Phase } from '../../src/domain/index.ts';
export type { TokenRecord } from '../../src/domain/index.ts';
export type { PlanResult } from '../../src/domain/plan-result.ts';

export interface Me {
  subject: string;
  role: 'user' | 'controller' | 'admin';
  via: 'token' | 'session' | 'gateway';
  expiresAt: string | null;
}
