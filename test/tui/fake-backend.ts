// An in-memory ClusterBackend for the TUI component tests. It stands in for a goman server
// because these tests look at rendering and keys, frame by frame, and need to cut the
// connection on demand; the tmux end-to-end test (tui-e2e.test.ts) runs the real server.
import type { CreateClusterBody } from '../../src/client/backend.ts';
import type { ClusterBackend, ClusterPatch, WatchEvent } from '../../src/client/backend.ts';
import type { Cluster, Phase } from '../../src/domain/cluster.ts';
import { GomanError } from '../../src/domain/errors.ts';
import { clusterSpecSchema } from '../../src/domain/spec.ts';

export function cluster(name: string, phase: Phase = 'Ready', extra: Partial<Cluster> = {}): Cluster {
  const now = new Date().toISOString();
  return {
    id: `id-${name}`,
    name,
    labels: {},
    spec: clusterSpecSchema.parse({ nodePools: [{ name: 'workers', count: 2 }] }),
    status: { phase, observedGeneration: 1, reason: '', message: `${phase.toLowerCase()} message`, conditions: [], controllers: [], nodes: [] },
    generation: 1,
    resourceVersion: '1',
    createdBy: 'test',
    createdAt: now,
    updatedAt: now,
    finalizers: [],
    ...extra,
  };
}

export class FakeBackend implements ClusterBackend {
  readonly kind = 'server' as const;
  readonly target = 'http://fake';
  readonly clusters = new Map<string, Cluster>();
  readonly calls: string[] = [];
  private listeners = new Set<(e: WatchEvent) => void>();

  constructor(initial: Cluster[] = []) {
    for (const c of initial) this.clusters.set(c.name, c);
  }

  emit(e: WatchEvent): void {
    if (e.type === 'upsert') this.clusters.set(e.cluster.name, e.cluster);
    for (const l of this.listeners) l(e);
  }

  async create(body: CreateClusterBody): Promise<Cluster> {
    this.calls.push(`create ${body.name} ${JSON.stringify(body.spec)}`);
    if (this.clusters.has(body.name)) throw new GomanError('NAME_TAKEN', `a cluster named "${body.name}" already exists`);
    const c = cluster(body.name, 'Pending', { spec: clusterSpecSchema.parse(body.spec ?? {}) });
    this.emit({ type: 'upsert', cluster: c });
    return c;
  }
  async list() {
    return { items: [...this.clusters.values()], nextCursor: null };
  }
  async get(name: string) {
    const c = this.clusters.get(name);
    if (!c) throw new GomanError('NOT_FOUND', `cluster ${name} not found`);
    return { value: c, etag: `"${c.resourceVersion}"` };
  }
  async patch(name: string, patch: ClusterPatch, ifMatch?: string): Promise<Cluster> {
    this.calls.push(`patch ${name} ${JSON.stringify(patch)} ${ifMatch ?? ''}`.trim());
    const { value } = await this.get(name);
    const c: Cluster = { ...value, spec: clusterSpecSchema.parse({ ...value.spec, ...patch.spec }) };
    this.emit({ type: 'upsert', cluster: c });
    return c;
  }
  async replace(): Promise<Cluster> {
    throw new Error('not used by the TUI');
  }
  async backup(): Promise<{ snapshot: string; cluster: Cluster }> {
    throw new Error('not used by the TUI');
  }
  async backups(): Promise<never[]> {
    return [];
  }
  async restore(): Promise<Cluster> {
    throw new Error('not used by the TUI');
  }
  async rollout(): Promise<Cluster> {
    throw new Error('not used by the TUI');
  }
  async delete(name: string): Promise<Cluster | null> {
    this.calls.push(`delete ${name}`);
    const { value } = await this.get(name);
    const c = { ...value, deletionTimestamp: new Date().toISOString() };
    this.emit({ type: 'upsert', cluster: c });
    return c;
  }
  async events() {
    return { items: [], nextCursor: null };
  }
  async *watch(signal: AbortSignal): AsyncIterable<WatchEvent> {
    const queue: WatchEvent[] = [{ type: 'connected' }];
    let wake: (() => void) | undefined;
    const listener = (e: WatchEvent): void => {
      queue.push(e);
      wake?.();
    };
    this.listeners.add(listener);
    signal.addEventListener('abort', () => wake?.());
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((r) => (wake = r));
      }
    } finally {
      this.listeners.delete(listener);
    }
  }
}
