// The fleet at a glance: counts by phase, filters, sortable columns and a virtualised list
// (only the rows in view are in the DOM, so 1 000 clusters scroll as smoothly as ten).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Fleet } from '../fleet.ts';
import { Field, PhaseBadge, age, readyNodes } from '../format.tsx';
import { fleetCosts, useCostVersion, usePricing, type Costs } from '../costs.ts';
import type { Cluster } from '../types.ts';
import { PHASES } from '../../../src/domain/cluster.ts';

const ROW_HEIGHT = 44;
const OVERSCAN = 8;

interface Column {
  key: string;
  label: string;
  value: (c: Cluster, costs: Costs) => string | number;
  cell: (c: Cluster, now: number, costs: Costs) => preact.ComponentChildren;
}

const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', value: (c) => c.name, cell: (c) => <a href={`#/clusters/${encodeURIComponent(c.name)}`}>{c.name}</a> },
  { key: 'phase', label: 'Phase', value: (c) => c.status.phase, cell: (c) => <PhaseBadge phase={c.status.phase} /> },
  { key: 'provider', label: 'Provider', value: (c) => c.spec.provider, cell: (c) => c.spec.provider },
  { key: 'region', label: 'Region', value: (c) => c.spec.region, cell: (c) => c.spec.region },
  {
    key: 'nodes',
    label: 'Nodes',
    value: (c) => readyNodes(c).ready,
    cell: (c) => {
      const n = readyNodes(c);
      return `${n.ready}/${n.total}`;
    },
  },
  { key: 'k3s', label: 'K3s', value: (c) => c.spec.k3sVersion, cell: (c) => c.spec.k3sVersion },
  // Sorting by cost orders what has been priced so far (rows are priced as they come into view).
  { key: 'cost', label: 'Cost/month', value: (c, costs) => costs.monthly(c) ?? -1, cell: (c, _now, costs) => costs.text(c) },
  { key: 'age', label: 'Age', value: (c) => -Date.parse(c.createdAt), cell: (c, now) => age(c.createdAt, now) },
];

function useFleetVersion(fleet: Fleet): number {
  const [version, setVersion] = useState(fleet.version);
  useEffect(() => fleet.subscribe(() => setVersion(fleet.version)), [fleet]);
  return version;
}

function useNow(ms: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}

/** `a=b,c` → every label requirement must hold (equality or existence). */
function labelMatcher(text: string): (c: Cluster) => boolean {
  const reqs = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((r) => r.split('=', 2).map((s) => s.trim()));
  return (c) => reqs.every(([k, v]) => k !== undefined && (v === undefined ? k in c.labels : c.labels[k] === v));
}

export function FleetView({ fleet }: { fleet: Fleet }) {
  const version = useFleetVersion(fleet);
  useNow(15_000); // re-render so ages move
  const now = Date.now();
  const [name, setName] = useState('');
  const [phase, setPhase] = useState('');
  const [provider, setProvider] = useState('');
  const [labels, setLabels] = useState('');
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 }>({ key: 'name', dir: 1 });
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const all = useMemo(() => [...fleet.clusters.values()], [fleet, version]);
  const counts = useMemo(() => {
    const m = new Map<string, number>();
    for (const c of all) m.set(c.status.phase, (m.get(c.status.phase) ?? 0) + 1);
    return m;
  }, [all]);
  const costVersion = useCostVersion();
  const rows = useMemo(() => {
    const matchLabels = labelMatcher(labels);
    const needle = name.trim().toLowerCase();
    const col = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0]!;
    return all
      .filter((c) => (!needle || c.name.includes(needle)) && (!phase || c.status.phase === phase) && (!provider || c.spec.provider === provider) && matchLabels(c))
      .sort((a, b) => {
        const x = col.value(a, fleetCosts);
        const y = col.value(b, fleetCosts);
        const byCol = x < y ? -1 : x > y ? 1 : 0;
        return byCol * sort.dir || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      });
  }, [all, name, phase, provider, labels, sort, sort.key === 'cost' ? costVersion : 0]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);
  usePricing(visible);
  const providers = [...new Set(all.map((c) => c.spec.provider))].sort();

  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <ul class="summary" aria-label="clusters by phase">
        <li>
          <strong>{all.length}</strong> clusters
        </li>
        {PHASES.filter((p) => counts.has(p)).map((p) => (
          <li key={p}>
            <PhaseBadge phase={p} /> <strong data-testid={`count-${p}`}>{counts.get(p)}</strong>
          </li>
        ))}
      </ul>
      <form class="filters" role="search" aria-label="filter clusters" onSubmit={(e) => e.preventDefault()}>
        <Field id="filter-name" label="Name">
          <input type="search" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="filter-phase" label="Phase">
          <select value={phase} onChange={(e) => setPhase(e.currentTarget.value)}>
            <option value="">any</option>
            {PHASES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field id="filter-provider" label="Provider">
          <select value={provider} onChange={(e) => setProvider(e.currentTarget.value)}>
            <option value="">any</option>
            {providers.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field id="filter-labels" label="Labels">
          <input type="search" placeholder="team=ml,env" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} />
        </Field>
      </form>
      <div class="grid" role="table" aria-label="clusters" aria-rowcount={rows.length + 1}>
        <div class="grid-row grid-head" role="row" aria-rowindex={1}>
          {COLUMNS.map((col) => (
            <div
              key={col.key}
              class={`cell col-${col.key}`}
              role="columnheader"
              aria-sort={sort.key === col.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
            >
              <button type="button" onClick={() => setSort((s) => ({ key: col.key, dir: s.key === col.key ? (s.dir === 1 ? -1 : 1) : 1 }))}>
                {col.label}
              </button>
            </div>
          ))}
        </div>
        <div class="grid-body" ref={scroller} role="rowgroup" onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
          <div class="grid-spacer" style={{ height: `${rows.length * ROW_HEIGHT}px` }}>
            {visible.map((c, i) => (
              <div
                key={c.id}
                class="grid-row"
                role="row"
                aria-rowindex={first + i + 2}
                data-cluster={c.name}
                style={{ transform: `translateY(${(first + i) * ROW_HEIGHT}px)` }}
              >
                {COLUMNS.map((col) => (
                  <div key={col.key} class={`cell col-${col.key}`} role="cell">
                    {col.cell(c, now, fleetCosts)}
                  </div>
                ))}
              </div>
            ))}
          </div>
        </div>
        {fleet.loaded && rows.length === 0 && <p class="empty">{all.length === 0 ? 'No clusters yet. Create one with “New cluster”.' : 'No cluster matches these filters.'}</p>}
      </div>
    </section>
  );
}
