// The cluster resource and its status (DESIGN §2), and the shapes controllers report.
import { z } from 'zod';
import type { FieldError } from './errors.ts';
import { boundedJson, jsonBoundsProblem, nulPath } from './json-bounds.ts';
import type { ClusterSpec, Labels } from './spec.ts';
import { MAX_CLUSTER_NODES } from './spec.ts';
import type { RestoreStatus, RolloutStatus } from './day2.ts';
import { UPGRADE_STATES } from './day2.ts';

export const PHASES = ['Pending', 'Provisioning', 'Ready', 'Updating', 'Restoring', 'Stopping', 'Stopped', 'Deleting', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export const NODE_ROLES = ['server', 'agent'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export const clusterNodeSchema = z.strictObject({
  name: z.string().min(1).max(253),
  role: z.enum(NODE_ROLES),
  pool: z.string().max(63).optional(),
  instanceId: z.string().max(64).optional(),
  privateIp: z.string().max(64).optional(),
  state: z.string().max(32),
  ready: z.boolean(),
  k3sVersion: z.string().max(64).optional(),
  /** Where a rollout has this node: pending, cordoned, draining, upgrading, uncordoning, done, failed. */
  upgrade: z.enum(UPGRADE_STATES).optional(),
  cordoned: z.boolean().optional(),
});
export type ClusterNode = z.output<typeof clusterNodeSchema>;

const MAX_MESSAGE = 2000;
const MAX_REASON = 128;
const MAX_CODE = 64;

export const lastErrorSchema = z.strictObject({
  code: z.string().min(1).max(MAX_CODE),
  message: z.string().max(MAX_MESSAGE),
  retryable: z.boolean(),
});
export type LastError = z.output<typeof lastErrorSchema>;

/** What a controller sends; the server stamps lastTransitionTime and observedGeneration. */
export const reportedConditionSchema = z.strictObject({
  type: z.string().regex(/^[A-Z][A-Za-z0-9]{0,63}$/, 'must be a condition type such as Ready'),
  status: z.enum(CONDITION_STATUSES),
  reason: z.string().max(MAX_REASON).default(''),
  message: z.string().max(MAX_MESSAGE).default(''),
});
export type ReportedCondition = z.output<typeof reportedConditionSchema>;

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * A report with its texts cut to what the API takes. A provider's messages carry cloud error text
 * (an EC2 authorization failure alone runs to thousands of characters); one character too many
 * would make the whole report fail, and the controller retry it for ever.
 */
export function fitReport(report: ControllerReport): ControllerReport {
  const fitted: ControllerReport = {
    ...report,
    conditions: report.conditions.map((c) => ({ ...c, reason: cut(c.reason, MAX_REASON), message: cut(c.message, MAX_MESSAGE) })),
  };
  if (report.lastError) fitted.lastError = { ...report.lastError, code: cut(report.lastError.code, MAX_CODE), message: cut(report.lastError.message, MAX_MESSAGE) };
  return fitted;
}

/** Room for the largest cluster a spec admits (MAX_CLUSTER_NODES) and some extra facts; a report's metadata is stored and served with every read of its cluster. */
// Measured: the largest admitted cluster (1 000 nodes, longest names) rolling all its agents at
// once reports 548 KB from the sim; the aws provider adds instance ids, addresses and its own
// bookkeeping. With 32 conditions a report still fits the API's 1 MiB body limit.
export const MAX_METADATA_BYTES = 896 * 1024;

export const reportMetadataSchema = z
  .object({
    endpoint: z.string().max(512).optional(),
    nodes: z.array(clusterNodeSchema).max(MAX_CLUSTER_NODES).optional(),
  })
  .catchall(z.unknown())
  .superRefine(boundedJson(MAX_METADATA_BYTES));

export const controllerReportSchema = z.strictObject({
  observedGeneration: z.int().min(0),
  conditions: z.array(reportedConditionSchema).max(32),
  metadata: reportMetadataSchema.optional(),
  lastError: lastErrorSchema.nullable().optional(),
});
export type ControllerReport = z.output<typeof controllerReportSchema>;

/**
 * The first field of a report that no store may take (U+0000 in any text, metadata too deep or
 * too large), or null. Every store checks it, so SQLite and PostgreSQL refuse the same reports.
 */
export function reportFieldProblem(report: ControllerReport): FieldError | null {
  const nul = nulPath(report);
  if (nul !== null) return { path: nul, message: 'must not contain the NUL character (U+0000)' };
  const problem = report.metadata ? jsonBoundsProblem(report.metadata, MAX_METADATA_BYTES) : null;
  return problem ? { path: 'metadata', message: problem } : null;
}

export interface ControllerStatus {
  name: string;
  observedGeneration: number;
  conditions: Condition[];
  lastError?: LastError;
  metadata?: z.output<typeof reportMetadataSchema>;
  updatedAt: string;
}

export interface ClusterStatus {
  phase: Phase;
  /** The last generation every required controller reported Ready at (0 before the first). */
  observedGeneration: number;
  reason: string;
  message: string;
  conditions: Condition[];
  controllers: ControllerStatus[];
  endpoint?: string;
  nodes: ClusterNode[];
  /** The latest K3s rollout, as the provider reports it (DESIGN §14). */
  rollout?: RolloutStatus;
  /** The latest restore from a snapshot. */
  restore?: RestoreStatus;
}

export interface Cluster {
  id: string;
  name: string;
  labels: Labels;
  spec: ClusterSpec;
  status: ClusterStatus;
  generation: number;
  resourceVersion: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  deletionTimestamp?: string;
  finalizers: string[];
}

export const controllerRegistrationSchema = z.strictObject({
  providers: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/)).min(1).max(16),
  required: z.boolean().default(true),
});
export type ControllerRegistrationInput = z.output<typeof controllerRegistrationSchema>;

export interface ControllerRegistration extends ControllerRegistrationInput {
  name: string;
  registeredAt: string;
  lastHeartbeat: string;
}

export function emptyStatus(): ClusterStatus {
  return {
    phase: 'Pending',
    observedGeneration: 0,
    reason: 'Created',
    message: 'waiting for controllers',
    conditions: [],
    controllers: [],
    nodes: [],
  };
}
