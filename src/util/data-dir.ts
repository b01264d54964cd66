// Where goman keeps its data (SQLite, keys, cached prices): GOMAN_DATA_DIR, else the XDG data home.
import { homedir } from 'node:os';
import path from 'node:path';

export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  if (env.GOMAN_DATA_DIR) return env.GOMAN_DATA_DIR;
  const base = env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share');
  return path.join(base, 'goman');
}
