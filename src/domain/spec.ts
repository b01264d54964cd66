// Cluster spec schemas with their defaults (DESIGN §2). The API, the CLI, the S3 store and
// the OpenAPI document all derive from these, so the rules live in one place.
import { z } from 'zod';
import type { FieldError } from './errors.ts';
import { UnprocessableError } from './errors.ts';
import { jsonBytes } from './json-bounds.ts';
import { NAME_MAX_LENGTH, NAME_PATTERN } from './names.ts';
import { backupSchema, requestsSchema, upgradeSchema } from './day2.ts';

export const PROVIDERS = ['sim', 'aws'] as const;
export const MODES = ['dev', 'ha'] as const;
export const DESIRED_STATES = ['running', 'stopped'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

export const DEFAULT_REGION = 'ap-south-1';
export const DEFAULT_INSTANCE_TYPE = 't3.medium';
export const DEFAULT_K3S_VERSION = 'stable';
export const MAX_POOL_COUNT = 100;
/**
 * Servers and agents together. Every node is in each controller report and in every read of
 * the cluster, so the spec bounds it: 20 pools of 100 would otherwise admit a cluster whose
 * controllers' reports the server must refuse.
 */
export const MAX_CLUSTER_NODES = 1000;
/** Labels per cluster and per node pool: well above what a real fleet uses, far below abuse. */
export const MAX_LABELS = 64;
/** A whole spec as JSON; a real one (20 pools with labels and taints) stays under 20 KiB. */
export const MAX_SPEC_BYTES = 64 * 1024;
/**
 * Fixed at creation: they place the cluster's cloud resources (which controllers act on it, the
 * region and VPC its instances live in, the pod and service CIDRs K3s was installed with).
 * Changing them on a live cluster would strand it; create a new cluster instead.
 */
export const IMMUTABLE_SPEC_FIELDS = ['provider', 'region', 'network'] as const;

export const nameSchema = z
  .string()
  .max(NAME_MAX_LENGTH)
  .regex(NAME_PATTERN, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting with a letter, at most 40 characters');

// Kubernetes label keys/values, kept strict because pool labels reach `kubectl label`.
const labelKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'must be a Kubernetes label key');
const labelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value');

export const labelsSchema = z
  .record(labelKey, labelValue)
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, { message: `must have at most ${MAX_LABELS} labels` });

// Instance types and regions reach cloud APIs only, but stay in a narrow alphabet anyway.
const instanceType = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,31}$/, 'must look like an instance type, e.g. t3.medium');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like a region, e.g. ap-south-1');
const k3sVersion = z
  .string()
  .regex(/^(stable|latest|v\d+\.\d+\.\d+\+k3s\d+)$/, 'must be "stable", "latest" or a K3s release such as v1.31.4+k3s1');

export const taintSchema = z.strictObject({
  key: labelKey,
  value: labelValue.optional(),
  effect: z.enum(TAINT_EFFECTS),
});

export const nodePoolSchema = z.strictObject({
  name: nameSchema,
  count: z.int().min(0).max(MAX_POOL_COUNT),
  instanceType: instanceType.optional(),
  labels: labelsSchema.optional(),
  taints: z.array(taintSchema).max(50).optional(),
});

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR, e.g. 10.42.0.0/16');

export const networkSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id').optional(),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id')).max(16).optional(),
  podCIDR: cidr.optional(),
  serviceCIDR: cidr.optional(),
});

export const clusterSpecSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS).default('sim'),
    region: region.default(DEFAULT_REGION),
    mode: z.enum(MODES).default('dev'),
    k3sVersion: k3sVersion.default(DEFAULT_K3S_VERSION),
    instanceType: instanceType.default(DEFAULT_INSTANCE_TYPE),
    desiredState: z.enum(DESIRED_STATES).default('running'),
    nodePools: z.array(nodePoolSchema).max(20).default([]),
    network: networkSchema.optional(),
    upgrade: upgradeSchema.optional().describe('how a change of k3sVersion rolls out (defaults apply when absent)'),
    backup: backupSchema.optional().describe("scheduled etcd snapshots; absent: K3s's own schedule. Without s3, snapshots go to goman's bucket (aws)"),
    requests: requestsSchema.optional().describe('one-shot requests (backup, restore, resume); set by their API routes'),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.nodePools.forEach((pool, i) => {
      if (seen.has(pool.name)) {
        ctx.addIssue({ code: 'custom', path: ['nodePools', i, 'name'], message: `duplicate node pool name "${pool.name}"` });
      }
      seen.add(pool.name);
    });
    const nodes = serverCount(spec) + spec.nodePools.reduce((sum, pool) => sum + pool.count, 0);
    if (nodes > MAX_CLUSTER_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodePools'],
        message: `a cluster has at most ${MAX_CLUSTER_NODES} nodes, servers included (this spec asks for ${nodes}); lower the pool counts or split the fleet into clusters`,
      });
    }
    const bytes = jsonBytes(spec);
    if (bytes > MAX_SPEC_BYTES) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_SPEC_BYTES} bytes of JSON (is ${bytes})` });
  });

export type ClusterSpec = z.output<typeof clusterSpecSchema>;
export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;
export type NodePool = z.output<typeof nodePoolSchema>;
export type Taint = z.output<typeof taintSchema>;
export type Labels = z.output<typeof labelsSchema>;
export type Provider = (typeof PROVIDERS)[number];
export type DesiredState = (typeof DESIRED_STATES)[number];

/** The immutable fields an update would change, as field errors (empty when it changes none). */
export function immutableSpecChanges(before: ClusterSpec, after: ClusterSpec): FieldError[] {
  return IMMUTABLE_SPEC_FIELDS.filter((field) => stableStringify(before[field] ?? {}) !== stableStringify(after[field] ?? {})).map((field) => ({
    path: `spec.${field}`,
    message: `cannot change after creation (is ${stableStringify(before[field] ?? {})}); create a new cluster instead`,
  }));
}

/** Refuses an update that changes an immutable field (UnprocessableError naming the fields). */
export function assertMutableSpec(before: ClusterSpec, after: ClusterSpec): void {
  const changes = immutableSpecChanges(before, after);
  if (changes.length > 0) throw new UnprocessableError(`${changes.map((c) => c.path).join(', ')} cannot change after creation`, changes);
}

/** Number of K3s servers a mode runs. */
export function serverCount(spec: Pick<ClusterSpec, 'mode'>): number {
  return spec.mode === 'ha' ? 3 : 1;
}

/** Canonical JSON of a spec, so "did the spec change" is a string comparison. */
export function canonicalSpec(spec: ClusterSpec): string {
  return stableStringify(spec);
}

export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
