// One cluster: what it is, how it is doing (conditions, controllers, nodes, recent events,
// rollout/restore progress when present) and what you can do to it. Live: the fleet's watch
// keeps it current, and the event history is refetched whenever the cluster changes.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, message } from '../api.ts';
import type { Fleet } from '../fleet.ts';
import { PhaseBadge, age } from '../format.tsx';
import type { Cluster, Me, PlanResult } from '../types.ts';
import { costText } from '../../../src/domain/cost.ts';

interface HistoryEntry {
  id: string;
  kind: string;
  message: string;
  generation: number;
  at: string;
}

const MERGE_PATCH = 'application/merge-patch+json';

function useCluster(fleet: Fleet, idOrName: string): { cluster: Cluster | null; gone: string | null } {
  const find = (): Cluster | null => [...fleet.clusters.values()].find((c) => c.id === idOrName || c.name === idOrName) ?? null;
  const [cluster, setCluster] = useState<Cluster | null>(find);
  const [gone, setGone] = useState<string | null>(null);
  useEffect(() => {
    api<Cluster>('GET', `/api/v1/clusters/${encodeURIComponent(idOrName)}`).then(setCluster, (e: unknown) => setGone(message(e)));
    return fleet.subscribe(() => {
      const c = find();
      if (c) setCluster(c);
      else if (fleet.loaded) setGone(`cluster "${idOrName}" no longer exists`);
    });
  }, [fleet, idOrName]);
  return { cluster, gone };
}

function Progress({ title, value }: { title: string; value: unknown }) {
  if (value === undefined || value === null || typeof value !== 'object') return null;
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <dl class="kv">
        {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)}</dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}

function Actions({ cluster, onDeleted }: { cluster: Cluster; onDeleted: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [counts, setCounts] = useState<Record<string, string>>({});
  const [version, setVersion] = useState('');
  const [confirm, setConfirm] = useState('');
  const run = (what: string, p: Promise<unknown>): void => {
    setError(null);
    setNotice(null);
    p.then(
      () => setNotice(`${what}: accepted`),
      (e: unknown) => setError(e instanceof ApiError && e.errors.length ? `${e.message}: ${e.errors.map((x) => `${x.path} ${x.message}`).join('; ')}` : message(e)),
    );
  };
  const patch = (spec: Record<string, unknown>): Promise<Cluster> =>
    api<Cluster>('PATCH', `/api/v1/clusters/${cluster.id}`, { spec }, MERGE_PATCH);
  const scale = (e: Event): void => {
    e.preventDefault();
    const nodePools = cluster.spec.nodePools.map((p) => ({ ...p, count: counts[p.name] === undefined ? p.count : Number(counts[p.name]) }));
    run('Scale', patch({ nodePools }));
  };
  const stopped = cluster.spec.desiredState === 'stopped';
  return (
    <section aria-labelledby="actions-title" class="actions">
      <h2 id="actions-title">Actions</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {cluster.spec.nodePools.length > 0 && (
        <form onSubmit={scale} aria-label="scale node pools">
          {cluster.spec.nodePools.map((p) => (
            <label key={p.name}>
              Pool {p.name} nodes
              <input
                type="number"
                min={0}
                max={100}
                value={counts[p.name] ?? String(p.count)}
                onInput={(e) => setCounts({ ...counts, [p.name]: e.currentTarget.value })}
              />
            </label>
          ))}
          <button type="submit">Scale</button>
        </form>
      )}
      <div class="row">
        <button type="button" onClick={() => run(stopped ? 'Start' : 'Stop', patch({ desiredState: stopped ? 'running' : 'stopped' }))}>
          {stopped ? 'Start' : 'Stop'}
        </button>
      </div>
      <form
        aria-label="upgrade K3s"
        onSubmit={(e) => {
          e.preventDefault();
          run('Upgrade', patch({ k3sVersion: version.trim() }));
        }}
      >
        <label>
          K3s version
          <input value={version} placeholder={cluster.spec.k3sVersion} onInput={(e) => setVersion(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={version.trim() === ''}>
          Upgrade
        </button>
      </form>
      <form
        aria-label="delete cluster"
        class="danger"
        onSubmit={(e) => {
          e.preventDefault();
          api('DELETE', `/api/v1/clusters/${cluster.id}`).then(onDeleted, (err: unknown) => setError(message(err)));
        }}
      >
        <label>
          <span>
            Type <strong>{cluster.name}</strong> to delete it
          </span>
          <input value={confirm} autocomplete="off" onInput={(e) => setConfirm(e.currentTarget.value)} />
        </label>
        <button type="submit" class="destructive" disabled={confirm !== cluster.name || !!cluster.deletionTimestamp}>
          Delete
        </button>
      </form>
    </section>
  );
}

export function ClusterView({ fleet, idOrName, me }: { fleet: Fleet; idOrName: string; me: Me }) {
  const { cluster, gone } = useCluster(fleet, idOrName);
  const [events, setEvents] = useState<HistoryEntry[]>([]);
  const rv = cluster?.resourceVersion;
  const [cost, setCost] = useState<string | null>(null);
  useEffect(() => {
    if (!cluster) return;
    // The plan of "no change" prices the current spec.
    api<PlanResult>('POST', `/api/v1/clusters/${cluster.id}/plan`).then(
      (p) => setCost(costText(p.cost.before)),
      () => setCost(null),
    );
    // A spec change reprices; while no price is known (say the request failed while the server was
    // away), every change the watch brings tries again.
  }, [cluster?.id, cluster?.generation, cost === null ? rv : null]);
  useEffect(() => {
    if (!cluster) return;
    api<{ items: HistoryEntry[] }>('GET', `/api/v1/clusters/${cluster.id}/events?limit=20`).then(
      (p) => setEvents(p.items),
      () => {},
    );
  }, [cluster?.id, rv]);
  if (!cluster) {
    return gone ? (
      <p role="alert" class="error">
        {gone}. <a href="#/">Back to the fleet</a>
      </p>
    ) : (
      <p class="loading">Loading…</p>
    );
  }
  const s = cluster.status;
  const status = s as unknown as Record<string, unknown>;
  return (
    <article aria-labelledby="cluster-title" class="cluster">
      <h1 id="cluster-title">
        {cluster.name} <PhaseBadge phase={s.phase} />
      </h1>
      <p class="reason">
        {s.reason}
        {s.message ? `: ${s.message}` : ''}
      </p>
      <dl class="kv">
        <dt>Provider</dt>
        <dd>{cluster.spec.provider}</dd>
        <dt>Region</dt>
        <dd>{cluster.spec.region}</dd>
        <dt>Cost</dt>
        <dd data-testid="cost">{cost ?? '—'}</dd>
        <dt>Owner</dt>
        <dd>{cluster.createdBy}</dd>
        <dt>Age</dt>
        <dd>{age(cluster.createdAt)}</dd>
        {s.endpoint && (
          <>
            <dt>Endpoint</dt>
            <dd>{s.endpoint}</dd>
          </>
        )}
        <dt>Labels</dt>
        <dd>{Object.entries(cluster.labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}</dd>
      </dl>
      {cluster.spec.provider === 'aws' && me.role !== 'controller' && (
        <p>
          <a href={`/api/v1/clusters/${cluster.id}/kubeconfig`} download={`${cluster.name}.kubeconfig`}>
            Download kubeconfig
          </a>
        </p>
      )}
      <Actions cluster={cluster} onDeleted={() => (location.hash = '#/')} />
      <Progress title="Rollout" value={status.rollout} />
      <Progress title="Restore" value={status.restore} />
      <section aria-labelledby="conditions-title">
        <h2 id="conditions-title">Conditions</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {s.conditions.map((c) => (
              <tr key={c.type}>
                <td>{c.type}</td>
                <td>{c.status}</td>
                <td>{c.reason}</td>
                <td>{c.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="controllers-title">
        <h2 id="controllers-title">Controllers</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Controller</th>
              <th scope="col">Observed generation</th>
              <th scope="col">Conditions</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {s.controllers.map((c) => (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>
                  {c.observedGeneration} / {cluster.generation}
                </td>
                <td>{c.conditions.map((x) => `${x.type}=${x.status} (${x.reason})`).join(', ')}</td>
                <td class={c.lastError ? 'error' : ''}>{c.lastError ? `${c.lastError.code}: ${c.lastError.message}` : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="nodes-title">
        <h2 id="nodes-title">Nodes</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Pool</th>
              <th scope="col">State</th>
              <th scope="col">Version</th>
              <th scope="col">Ready</th>
            </tr>
          </thead>
          <tbody>
            {s.nodes.map((n) => (
              <tr key={n.name}>
                <td>{n.name}</td>
                <td>{n.role}</td>
                <td>{n.pool ?? '—'}</td>
                <td>{n.state}</td>
                <td>{cluster.spec.k3sVersion}</td>
                <td>{n.ready ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="events-title">
        <h2 id="events-title">Recent events</h2>
        <ol class="events">
          {events.map((e) => (
            <li key={e.id}>
              <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time> <span class="kind">{e.kind}</span> {e.message}
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="spec-title">
        <h2 id="spec-title">Spec</h2>
        <pre>{JSON.stringify(cluster.spec, null, 2)}</pre>
      </section>
    </article>
  );
}
