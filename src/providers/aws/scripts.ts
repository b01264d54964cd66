// The fixed shell scripts goman runs on nodes over SSM RunCommand (DESIGN §7). A script is a
// template file plus variable assignments prepended as single-quoted literals; every value
// must match its pattern first, so nothing a user typed can change what the shell runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GomanError } from '../../domain/index.ts';

export const SCRIPT_NAMES = [
  'install-server',
  'join-agent',
  'get-nodes',
  'read-kubeconfig',
  'label-node',
  'drain-node',
  // Day 2 (DESIGN §14): rollouts, snapshots and restore.
  'cordon-node',
  'drain-for-upgrade',
  'upgrade-k3s',
  'uncordon-node',
  'etcd-snapshot',
  'stop-k3s',
  'restore-snapshot',
  'rejoin-server',
  'restart-k3s',
  'configure-snapshots',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export const SCRIPT_DIR = path.join(import.meta.dirname, 'scripts');

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PATTERNS: Record<string, RegExp> = {
  CLUSTER: NAME,
  POOL: NAME,
  NODE_NAME: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
  K3S_VERSION: /^(stable|latest|v\d+\.\d+\.\d+\+k3s\d+)$/,
  REGION: /^[a-z]{2}(-[a-z]+)+-\d$/,
  TOKEN_PARAM: /^\/goman\/[a-z]([-a-z0-9]{0,38}[a-z0-9])?\/token$/,
  SERVER_URL: /^(https:\/\/\d{1,3}(\.\d{1,3}){3}:6443)?$/,
  CLUSTER_INIT: /^(true|false)$/,
  PRIVATE_IP: /^\d{1,3}(\.\d{1,3}){3}$/,
  // Space-separated items already validated by the spec schema's label/taint rules.
  LABELS: /^[-A-Za-z0-9_./= ]*$/,
  REMOVE_LABELS: /^[-A-Za-z0-9_./ ]*$/,
  TAINTS: /^[-A-Za-z0-9_./=: ]*$/,
  REMOVE_TAINTS: /^[-A-Za-z0-9_./: ]*$/,
  DRAIN_TIMEOUT: /^\d{1,6}$/,
  FORCE: /^(true|false)$/,
  // A cron of five fields from the spec schema; no quotes, $ or ; can pass.
  SNAPSHOT_CRON: /^(([-0-9*/,A-Za-z]+ ){4}[-0-9*/,A-Za-z]+)?$/,
  SNAPSHOT_RETENTION: /^\d{0,3}$/,
  SNAPSHOT_NAME: /^[A-Za-z0-9._-]{1,64}$/,
  SNAPSHOT_PATH: /^[A-Za-z0-9._-]{1,200}$/,
  S3_BUCKET: /^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$/,
  S3_PREFIX: /^[A-Za-z0-9_./-]{0,200}$/,
  S3_REGION: /^([a-z]{2}(-[a-z]+)+-\d)?$/,
};

const cache = new Map<ScriptName, string>();

function template(name: ScriptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(SCRIPT_DIR, `${name}.sh`), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** Single-quoted shell literal; the patterns above already exclude quotes. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `commands` parameter of AWS-RunShellScript: variable lines, then the fixed script. */
export function renderScript(name: ScriptName, vars: Record<string, string>): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(vars)) {
    const pattern = PATTERNS[key];
    if (!pattern) throw new GomanError('INTERNAL', `script variable ${key} is not declared`);
    if (!pattern.test(value)) throw new GomanError('VALIDATION_FAILED', `refusing to pass ${key}=${JSON.stringify(value)} to ${name}.sh`);
    lines.push(`${key}=${shellQuote(value)}`);
  }
  // The template runs in a child shell so its `set -- ...` and exits stay its own.
  const body = template(name);
  lines.push(`export ${Object.keys(vars).join(' ') || 'PATH'}`);
  lines.push(`sh -s <<'GOMAN_SCRIPT_EOF'\n${body}GOMAN_SCRIPT_EOF`);
  return lines;
}
