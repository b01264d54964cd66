// The simulated cloud of one cluster: instances in node slots, moved along by the clock.
// Pure (no I/O, time and randomness passed in), so every rule is testable directly.
// A slot is (role, pool, index); an instance occupies its slot until it is terminated, and a
// launch only ever fills an empty slot, so retries, crashes and injected failures can never
// put more instances in the cloud than the spec has slots.
import { z } from 'zod';
import type { SimSettings } from './settings.ts';
import { RESTORE_STEPS } from '../../domain/index.ts';

/** A rollout's steps on one node: each timed step ends in the next state by the clock. */
export const UPGRADE_STEPS = ['cordoning', 'cordoned', 'draining', 'drained', 'upgrading', 'upgraded'] as const;
export type UpgradeStep = (typeof UPGRADE_STEPS)[number];
const NEXT_STEP: Partial<Record<UpgradeStep, UpgradeStep>> = { cordoning: 'cordoned', draining: 'drained', upgrading: 'upgraded' };

export const INSTANCE_STATES = ['pending', 'running', 'stopping', 'stopped', 'terminating', 'terminated'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

const instanceSchema = z.object({
  id: z.string(),
  role: z.enum(['server', 'agent']),
  pool: z.string().optional(),
  index: z.int().min(0),
  /** Absent in states written before plans existed: such an instance is never replaced for its type. */
  instanceType: z.string().optional(),
  state: z.enum(INSTANCE_STATES),
  /** When the instance entered its current state (epoch ms). */
  since: z.number(),
  privateIp: z.string(),
  launchedAt: z.number(),
  bootedAt: z.number().optional(),
  k3sInstalledAt: z.number().optional(),
  /** Set while a scale-down drains the node before terminating it. */
  drainingSince: z.number().optional(),
  /** Injected fault: this instance never boots. */
  stuck: z.boolean().optional(),
  /** The K3s version it runs; absent in states written before rollouts (then: the spec's). */
  k3sVersion: z.string().optional(),
  cordoned: z.boolean().optional(),
  /** Where a rollout has this node; each step ends at `until`. */
  upgrade: z
    .object({
      step: z.enum(UPGRADE_STEPS),
      since: z.number(),
      until: z.number(),
      to: z.string(),
      /** Injected fault or a drain past its timeout: the step never ends by itself. */
      fails: z.boolean().optional(),
    })
    .optional(),
  /** K3s stopped by a restore. */
  k3sStopped: z.boolean().optional(),
});
export type SimInstance = z.output<typeof instanceSchema>;

/** Stands in for what etcd holds: a snapshot captures it, a restore brings it back. */
const workloadSchema = z.object({ revision: z.int().min(0), objects: z.record(z.string(), z.string()) });
export type SimWorkload = z.output<typeof workloadSchema>;

const snapshotSchema = z.object({
  id: z.string(),
  takenAt: z.number(),
  sizeBytes: z.int(),
  k3sVersion: z.string(),
  location: z.string(),
  scheduled: z.boolean(),
  workload: workloadSchema,
});
export type SimSnapshot = z.output<typeof snapshotSchema>;

const rolloutSchema = z.object({
  from: z.string(),
  to: z.string(),
  startedAt: z.number(),
  finishedAt: z.number().optional(),
  /** Set when a node did not come back (or a drain did not finish): nothing moves until resumed. */
  pause: z.object({ node: z.string(), reason: z.string(), at: z.number() }).optional(),
  history: z.array(z.object({ node: z.string(), startedAt: z.number(), endedAt: z.number().optional(), result: z.string().optional() })),
});
export type SimRollout = z.output<typeof rolloutSchema>;

const restoreSchema = z.object({
  snapshot: z.string(),
  k3sVersion: z.string(),
  startedAt: z.number(),
  /** Index into RESTORE_STEPS of the running step; equal to its length once done. */
  step: z.int().min(0),
  since: z.number(),
  stepsDone: z.array(z.object({ step: z.enum(RESTORE_STEPS), at: z.number() })),
  finishedAt: z.number().optional(),
});
export type SimRestore = z.output<typeof restoreSchema>;

export const simStateSchema = z.object({
  version: z.literal(1),
  instances: z.array(instanceSchema),
  /** Host part of the next private IP; only grows, so an IP is never reused in a cluster. */
  nextHost: z.int().min(0),
  rollout: rolloutSchema.optional(),
  restore: restoreSchema.optional(),
  snapshots: z.array(snapshotSchema).default([]),
  workload: workloadSchema.default({ revision: 0, objects: {} }),
  /** Scheduled snapshots (spec.backup.schedule) have been taken up to this time. */
  scheduledUntil: z.number().optional(),
  /** The last one-shot request of each kind carried out (spec.requests). */
  handled: z.object({ backup: z.string().optional(), restore: z.string().optional(), resume: z.string().optional() }).default({}),
});
export type SimState = z.output<typeof simStateSchema>;

export function emptySimState(): SimState {
  return { version: 1, instances: [], nextHost: 10, snapshots: [], workload: { revision: 0, objects: {} }, handled: {} };
}

export function isLive(i: SimInstance): boolean {
  return i.state !== 'terminating' && i.state !== 'terminated';
}

export function isNodeReady(i: SimInstance, now: number): boolean {
  return (
    i.state === 'running' &&
    i.k3sInstalledAt !== undefined &&
    i.k3sInstalledAt <= now &&
    i.drainingSince === undefined &&
    i.upgrade?.step !== 'upgrading' &&
    !i.k3sStopped
  );
}

/** Moves one instance along by the clock as far as it can go; true if anything changed. */
export function advance(i: SimInstance, now: number, s: SimSettings): boolean {
  let changed = false;
  for (;;) {
    if (i.state === 'pending' && !i.stuck && now >= i.since + s.bootMs) {
      i.state = 'running';
      i.since += s.bootMs;
      i.bootedAt = i.since;
    } else if (i.state === 'running' && i.k3sInstalledAt === undefined && i.bootedAt !== undefined && now >= i.bootedAt + s.installMs) {
      i.k3sInstalledAt = i.bootedAt + s.installMs;
    } else if (i.upgrade && !i.upgrade.fails && NEXT_STEP[i.upgrade.step] !== undefined && now >= i.upgrade.until) {
      const next = NEXT_STEP[i.upgrade.step];
      if (next === 'upgraded') i.k3sVersion = i.upgrade.to;
      i.upgrade = { ...i.upgrade, step: next ?? i.upgrade.step, since: i.upgrade.until };
    } else if ((i.state === 'stopping' || i.state === 'terminating') && now >= i.since + s.transitionMs) {
      i.state = i.state === 'stopping' ? 'stopped' : 'terminated';
      i.since += s.transitionMs;
    } else {
      return changed;
    }
    changed = true;
  }
}

/** When the clock alone will next move this instance (epoch ms), if ever. */
export function nextDue(i: SimInstance, s: SimSettings): number | undefined {
  switch (i.state) {
    case 'pending':
      return i.since + (i.stuck ? s.stuckTimeoutMs : s.bootMs);
    case 'running':
      if (i.upgrade && NEXT_STEP[i.upgrade.step] !== undefined) return i.upgrade.fails ? undefined : i.upgrade.until;
      if (i.drainingSince !== undefined) return i.drainingSince + s.transitionMs;
      if (i.k3sInstalledAt === undefined && i.bootedAt !== undefined) return i.bootedAt + s.installMs;
      return undefined;
    case 'stopping':
    case 'terminating':
      return i.since + s.transitionMs;
    default:
      return undefined;
  }
}

export function terminate(i: SimInstance, now: number): void {
  i.state = 'terminating';
  i.since = now;
  delete i.drainingSince;
}

/** A private IP in 10.0.0.0/8, distinct per cluster and per instance. */
export function privateIp(clusterId: string, host: number): string {
  let h = 0;
  for (const ch of clusterId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `10.${h % 256}.${(host >> 8) & 255}.${host & 255}`;
}
