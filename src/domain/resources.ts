// Resource shapes the API, its clients and the stores share: pages, tokens, label requirements.

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type TokenRole = 'user' | 'controller' | 'admin';

export interface TokenRecord {
  id: string;
  subject: string;
  role: TokenRole;
  createdAt: string;
  expiresAt: string | null;
}

/** `a=b`, `a!=b`, `a` (exists), `!a` (absent): a parsed label selector term. */
export type LabelRequirement =
  | { key: string; op: '='; value: string }
  | { key: string; op: '!='; value: string }
  | { key: string; op: 'exists' }
  | { key: string; op: '!exists' };
