// K3s's own view of a cluster, parsed from `kubectl get nodes -o json` run over SSM.
import { z } from 'zod';
import type { Taint } from '../../domain/index.ts';

const nodeListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()).default({}) }),
      spec: z.object({ taints: z.array(z.object({ key: z.string(), value: z.string().optional(), effect: z.string() })).default([]) }).default({ taints: [] }),
      status: z
        .object({
          conditions: z.array(z.object({ type: z.string(), status: z.string() })).default([]),
          nodeInfo: z.object({ kubeletVersion: z.string() }).partial().default({}),
        })
        .default({ conditions: [], nodeInfo: {} }),
    }),
  ),
});

export interface K3sNode {
  name: string;
  ready: boolean;
  version: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string | undefined; effect: string }[];
}

/** Null when the output is not a node list (K3s not installed or not answering yet). */
export function parseNodes(stdout: string): Map<string, K3sNode> | null {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    return null;
  }
  const parsed = nodeListSchema.safeParse(raw);
  if (!parsed.success) return null;
  return new Map(
    parsed.data.items.map((n) => [
      n.metadata.name,
      {
        name: n.metadata.name,
        ready: n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
        version: n.status.nodeInfo.kubeletVersion ?? '',
        labels: n.metadata.labels,
        taints: n.spec.taints,
      },
    ]),
  );
}

/** A pinned version must match exactly; a channel ("stable", "latest") accepts what is running. */
export function versionMatches(wanted: string, running: string): boolean {
  return wanted === 'stable' || wanted === 'latest' || wanted === running;
}

const SYSTEM_TAINT = /^node\.(kubernetes\.io|cloudprovider\.kubernetes\.io)\//;

/** kubectl arguments that bring a node's pool labels and taints to the spec; null when it already matches. */
export function labelTaintChanges(
  node: K3sNode,
  labels: Record<string, string>,
  taints: readonly Taint[],
): { LABELS: string; TAINTS: string; REMOVE_TAINTS: string } | null {
  const setLabels = Object.entries(labels).filter(([k, v]) => node.labels[k] !== v).map(([k, v]) => `${k}=${v}`);
  const key = (t: { key: string; value?: string | undefined; effect: string }): string => `${t.key}=${t.value ?? ''}:${t.effect}`;
  const have = new Set(node.taints.map(key));
  const want = new Set(taints.map(key));
  const addTaints = taints.filter((t) => !have.has(key(t))).map((t) => (t.value ? `${t.key}=${t.value}:${t.effect}` : `${t.key}:${t.effect}`));
  const removeTaints = node.taints.filter((t) => !SYSTEM_TAINT.test(t.key) && !want.has(key(t))).map((t) => `${t.key}:${t.effect}-`);
  if (!setLabels.length && !addTaints.length && !removeTaints.length) return null;
  return { LABELS: setLabels.join(' '), TAINTS: addTaints.join(' '), REMOVE_TAINTS: removeTaints.join(' ') };
}
