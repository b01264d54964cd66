// Node slots (DESIGN §7): a spec asks for a fixed set of (role, pool, index) slots, and an
// instance occupies one until it is terminated, so retries and crashes never put more instances
// in the cloud than the spec has slots. One rule for every provider: which slots a spec asks
// for, how a slot is keyed, and the node's name in K3s.
import type { ClusterSpec } from './spec.ts';
import { serverCount } from './spec.ts';

export interface NodeSlot {
  role: 'server' | 'agent';
  /** The agent's node pool; servers have none of the spec's pools. */
  pool?: string | undefined;
  index: number;
}

/** A slot's identity. A server's pool is ignored, so providers that tag servers with one agree. */
export function slotKey(s: NodeSlot): string {
  return `${s.role}/${s.role === 'server' ? '' : (s.pool ?? '')}/${s.index}`;
}

/** Every node slot the spec asks for: the servers of its mode, then each pool's agents. */
export function desiredSlots(spec: Pick<ClusterSpec, 'mode' | 'nodePools'>): NodeSlot[] {
  const slots: NodeSlot[] = [];
  for (let i = 0; i < serverCount(spec); i++) slots.push({ role: 'server', index: i });
  for (const pool of spec.nodePools) for (let i = 0; i < pool.count; i++) slots.push({ role: 'agent', pool: pool.name, index: i });
  return slots;
}

/** Node name in K3s: servers and agents end differently, so no pool name can collide with a server. */
export function nodeName(clusterName: string, s: NodeSlot): string {
  return s.role === 'server' ? `${clusterName}-server-${s.index}` : `${clusterName}-${s.pool ?? 'agent'}-agent-${s.index}`;
}
