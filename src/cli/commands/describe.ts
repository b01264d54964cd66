// `goman get NAME` for people: spec, conditions, per-controller status, nodes, recent events.
import type { Cluster } from '../../domain/cluster.ts';
import type { HistoryEntry } from '../../domain/index.ts';
import type { Terminal } from '../output.ts';
import { age, formatTable, paint, PHASE_COLORS } from '../output.ts';
import { nodesText, phaseOf } from '../view.ts';

export function describeCluster(c: Cluster, history: readonly HistoryEntry[], term: Terminal, now = new Date(), cost?: string): string {
  const phase = phaseOf(c);
  const width = term.columns;
  const out: string[] = [];
  const field = (k: string, v: string): void => void out.push(`${`${k}:`.padEnd(16)}${v}`);
  field('Name', c.name);
  field('ID', c.id);
  field('Phase', `${paint(phase, PHASE_COLORS[phase], term.color)}${c.status.message ? `  (${c.status.message})` : ''}`);
  field('Provider', `${c.spec.provider} / ${c.spec.region}`);
  field('Mode', c.spec.mode);
  field('K3s', c.spec.k3sVersion);
  field('Instance type', c.spec.instanceType);
  field('Desired state', c.spec.desiredState);
  field('Nodes ready', nodesText(c));
  if (cost !== undefined) field('Cost', cost);
  field('Generation', `${c.generation} (observed ${c.status.observedGeneration})`);
  if (c.status.endpoint) field('Endpoint', c.status.endpoint);
  const labels = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`);
  field('Labels', labels.length ? labels.join(',') : '<none>');
  field('Created', `${c.createdAt} (${age(c.createdAt, now)} ago) by ${c.createdBy}`);
  if (c.deletionTimestamp) field('Deleting since', c.deletionTimestamp);
  const section = (title: string, body: string): void => void out.push('', `${title}:`, body.trimEnd().replace(/^/gm, '  '));
  section(
    'Node pools',
    c.spec.nodePools.length
      ? formatTable([{ header: 'NAME' }, { header: 'COUNT' }, { header: 'TYPE' }], c.spec.nodePools.map((p) => [p.name, String(p.count), p.instanceType ?? c.spec.instanceType]))
      : '<none>',
  );
  section(
    'Conditions',
    c.status.conditions.length
      ? formatTable(
          [{ header: 'TYPE' }, { header: 'STATUS' }, { header: 'REASON' }, { header: 'AGE' }, { header: 'MESSAGE', flexible: true }],
          c.status.conditions.map((k) => [k.type, k.status, k.reason, age(k.lastTransitionTime, now), k.message]),
          { width: width && width - 2 },
        )
      : '<none>',
  );
  section(
    'Controllers',
    c.status.controllers.length
      ? formatTable(
          [{ header: 'NAME' }, { header: 'GEN' }, { header: 'READY' }, { header: 'UPDATED' }, { header: 'ERROR', flexible: true }],
          c.status.controllers.map((k) => [
            k.name,
            String(k.observedGeneration),
            k.conditions.find((x) => x.type === 'Ready')?.status ?? 'Unknown',
            age(k.updatedAt, now),
            k.lastError ? `${k.lastError.code}: ${k.lastError.message}` : '',
          ]),
          { width: width && width - 2 },
        )
      : '<none>',
  );
  section(
    'Nodes',
    c.status.nodes.length
      ? formatTable(
          [{ header: 'NAME' }, { header: 'ROLE' }, { header: 'POOL' }, { header: 'STATE' }, { header: 'READY' }, { header: 'IP' }],
          c.status.nodes.map((n) => [n.name, n.role, n.pool ?? '', n.state, n.ready ? 'yes' : 'no', n.privateIp ?? '']),
          { width: width && width - 2 },
        )
      : '<none>',
  );
  section(
    'Events',
    history.length
      ? formatTable([{ header: 'AGE' }, { header: 'KIND' }, { header: 'MESSAGE', flexible: true }], history.map((e) => [age(e.at, now), e.kind, e.message]), {
          width: width && width - 2,
        })
      : '<none>',
  );
  return out.join('\n') + '\n';
}
