// Live cluster list for the TUI: list once per (re)connection, then apply watch events.
// A server that goes away flips `connected` off (the banner shows) and the backend's watch
// reconnects by itself; on `connected` the list is read afresh so nothing is missed.
import React from 'react';
import type { ClusterBackend } from '../../client/backend.ts';
import type { Cluster } from '../../domain/cluster.ts';
import { listAll } from '../commands/clusters.ts';

export interface ClusterFeed {
  clusters: Cluster[];
  connected: boolean;
  /** Why the last connection dropped, while disconnected. */
  reason: string | undefined;
  loaded: boolean;
}

export function useClusters(backend: ClusterBackend): ClusterFeed {
  const [byId, setById] = React.useState<ReadonlyMap<string, Cluster>>(new Map());
  const [connected, setConnected] = React.useState(true);
  const [reason, setReason] = React.useState<string | undefined>(undefined);
  const [loaded, setLoaded] = React.useState(false);

  React.useEffect(() => {
    const abort = new AbortController();
    const relist = async (): Promise<void> => {
      try {
        const items = await listAll(backend, {});
        if (!abort.signal.aborted) {
          setById(new Map(items.map((c) => [c.id, c])));
          setLoaded(true);
        }
      } catch (e) {
        // The watch stream reports the outage itself; a failed re-list waits for the next `connected`.
        if (!abort.signal.aborted) setReason(e instanceof Error ? e.message : String(e));
      }
    };
    void (async () => {
      for await (const ev of backend.watch(abort.signal)) {
        if (ev.type === 'connected') {
          setConnected(true);
          setReason(undefined);
          await relist();
        } else if (ev.type === 'disconnected') {
          setConnected(false);
          setReason(ev.reason);
        } else if (ev.type === 'upsert') {
          setById((m) => new Map(m).set(ev.cluster.id, ev.cluster));
        } else {
          setById((m) => {
            const next = new Map(m);
            next.delete(ev.id);
            return next;
          });
        }
      }
    })().catch((e: unknown) => {
      if (!abort.signal.aborted) {
        setConnected(false);
        setReason(e instanceof Error ? e.message : String(e));
      }
    });
    return () => abort.abort();
  }, [backend]);

  const clusters = React.useMemo(() => [...byId.values()].sort((a, b) => a.name.localeCompare(b.name)), [byId]);
  return { clusters, connected, reason, loaded };
}

/** Name substring or phase, case-insensitive: "/web" or "/failed". */
export function matchesFilter(c: Cluster, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  return c.name.includes(f) || c.status.phase.toLowerCase() === f || (c.deletionTimestamp !== undefined && f === 'deleting');
}
