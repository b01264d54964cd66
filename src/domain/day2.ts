// Day 2 (DESIGN §14): the spec's rollout and backup settings, the one-shot requests (backup,
// restore, resume) that the API and the serverless backend turn into spec changes, and the
// status shapes a provider reports for a rollout, a restore and its snapshots. Pure.
import { z } from 'zod';
import { parseCron } from './cron.ts';

/** A Kubernetes-style duration: "90s", "5m", "1h". */
const duration = z.string().regex(/^\d{1,6}(s|m|h)$/, 'must be a duration such as 90s, 5m or 1h');

export const DEFAULT_DRAIN_TIMEOUT = '5m';
export const DEFAULT_NODE_TIMEOUT = '10m';

export const upgradeSchema = z.strictObject({
  maxUnavailable: z
    .union([z.int().min(1).max(1000), z.string().regex(/^([1-9]\d?|100)%$/, 'must be a number of nodes or a percentage from 1% to 100%')])
    .default(1)
    .describe('agents upgraded at once: a number or a percentage of the agents (rounded down, at least 1)'),
  drainTimeout: duration.default(DEFAULT_DRAIN_TIMEOUT).describe('longest a drain may take (PodDisruptionBudgets respected)'),
  nodeTimeout: duration.default(DEFAULT_NODE_TIMEOUT).describe('a node not Ready at the new version within this pauses the rollout'),
  force: z.boolean().default(false).describe('evict past PodDisruptionBudgets once drainTimeout is reached, instead of pausing'),
  paused: z.boolean().default(false).describe('no further node is started while true (`goman rollout pause|resume`)'),
});
export type UpgradeSettings = z.output<typeof upgradeSchema>;

const s3Prefix = z.string().regex(/^[A-Za-z0-9_./-]{0,200}$/, 'must be an S3 key prefix of letters, digits and _./-');

export const backupSchema = z.strictObject({
  schedule: z
    .string()
    .max(100)
    .refine((v) => parseCron(v) !== undefined, 'must be a cron expression of five fields (minute hour day month weekday), e.g. "0 */12 * * *"')
    .default('0 */12 * * *'),
  retention: z.int().min(1).max(100).default(5),
  s3: z
    .strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
      prefix: s3Prefix.default(''),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like a region, e.g. ap-south-1').optional(),
    })
    .optional(),
});
export type BackupSettings = z.output<typeof backupSchema>;

const requestId = z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be a request id (letters, digits, ":._-")');

/**
 * One-shot requests: each distinct value is carried out once by the provider, which remembers
 * the last one it handled. Set by `goman backup|restore|rollout resume` through the API.
 */
export const requestsSchema = z.strictObject({
  backup: requestId.optional().describe('take an on-demand snapshot with this id'),
  restore: z.strictObject({ snapshot: requestId, at: requestId }).optional().describe('restore this snapshot (once per `at`)'),
  resume: requestId.optional().describe('lift a rollout that paused itself (once per value)'),
});
export type Requests = z.output<typeof requestsSchema>;

// --- what providers report -----------------------------------------------------------------

export const UPGRADE_STATES = ['pending', 'cordoned', 'draining', 'upgrading', 'uncordoning', 'done', 'failed'] as const;

export const rolloutStatusSchema = z.strictObject({
  fromVersion: z.string(),
  toVersion: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  nodesDone: z.int().min(0),
  nodesTotal: z.int().min(0),
  current: z.array(z.string()).describe('nodes being upgraded now'),
  paused: z.boolean(),
  reason: z.string().describe('why it is paused, or what it is doing'),
  history: z
    .array(z.strictObject({ node: z.string(), startedAt: z.string(), endedAt: z.string().optional(), result: z.string().optional() }))
    .max(1100)
    .default([]),
});
export type RolloutStatus = z.output<typeof rolloutStatusSchema>;

/** Finished nodes status.rollout.history keeps (nodes in progress are always kept). */
export const ROLLOUT_HISTORY_FINISHED = 100;

/**
 * The history status.rollout shows: every node in progress and the latest finished ones. A
 * thousand-node rollout's full history would crowd a report out of its size limit; every node's
 * start and end is a `rollout` event in the cluster's history all the same.
 */
export function recentHistory(history: RolloutStatus['history']): RolloutStatus['history'] {
  let drop = history.filter((h) => h.endedAt !== undefined).length - ROLLOUT_HISTORY_FINISHED;
  return history.filter((h) => !(h.endedAt !== undefined && drop-- > 0));
}

export const RESTORE_STEPS = ['stop-k3s', 'reset-first-server', 'rejoin-servers', 'restart-agents'] as const;

export const restoreStatusSchema = z.strictObject({
  snapshot: z.string(),
  k3sVersion: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  step: z.enum(RESTORE_STEPS).optional().describe('the step running now; absent once done'),
  stepsDone: z.array(z.strictObject({ step: z.enum(RESTORE_STEPS), at: z.string() })),
});
export type RestoreStatus = z.output<typeof restoreStatusSchema>;

export const snapshotSchema = z.strictObject({
  id: z.string(),
  takenAt: z.string(),
  sizeBytes: z.int().min(0),
  k3sVersion: z.string(),
  location: z.string(),
  scheduled: z.boolean(),
});
export type Snapshot = z.output<typeof snapshotSchema>;

// --- rules ---------------------------------------------------------------------------------

/** Seconds in a duration of the schema above. */
export function durationMs(text: string): number {
  const n = Number(text.slice(0, -1));
  const unit = text.at(-1);
  return n * 1000 * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
}

/** The upgrade settings with their defaults, for a spec that has none. */
export function upgradeSettings(spec: { upgrade?: UpgradeSettings | undefined }): UpgradeSettings {
  return spec.upgrade ?? upgradeSchema.parse({});
}

/** How many agents may be down at once: a number, or a percentage of `agents` rounded down, at least 1. */
export function maxUnavailableOf(value: UpgradeSettings['maxUnavailable'], agents: number): number {
  if (typeof value === 'number') return value;
  return Math.max(1, Math.floor((agents * Number(value.slice(0, -1))) / 100));
}

export interface K3sVersion {
  major: number;
  minor: number;
  patch: number;
  build: number;
}

/** "v1.31.4+k3s1" → its numbers; undefined for channels ("stable", "latest"), which are not checked. */
export function parseK3sVersion(v: string): K3sVersion | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), build: Number(m[4]) } : undefined;
}

/**
 * Kubernetes' version skew rules for a change of K3s version: at most one minor version up at a
 * time, and never down across a minor version. A problem text, or undefined when allowed.
 */
export function skewProblem(from: string, to: string): string | undefined {
  const a = parseK3sVersion(from);
  const b = parseK3sVersion(to);
  if (!a || !b || from === to) return undefined;
  if (a.major !== b.major) return `cannot change the major version (${from} → ${to})`;
  if (b.minor > a.minor + 1) return `upgrades go one minor version at a time: from ${from} go to v${a.major}.${a.minor + 1}.x first`;
  if (b.minor < a.minor) return `cannot downgrade across a minor version (${from} → ${to}); restore a snapshot taken at ${to} instead`;
  return undefined;
}

/** True while a rollout has nodes left to do. */
export function rolloutActive(r: RolloutStatus | undefined): boolean {
  return r !== undefined && r.finishedAt === undefined && r.nodesDone < r.nodesTotal;
}

/** True while a restore has steps left. */
export function restoreActive(r: RestoreStatus | undefined): boolean {
  return r !== undefined && r.finishedAt === undefined;
}
