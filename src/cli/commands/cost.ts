// `goman cost [NAME]`: the hourly and monthly on-demand cost of each cluster and the total,
// from the dated price book (AWS Price List API when allowed, cached; else the shipped table).
import type { Cost } from '../../domain/cost.ts';
import { clusterCost } from '../../domain/cost.ts';
import { clusterName } from '../flags.ts';
import { formatTable, serialize } from '../output.ts';
import { localPrices } from '../plans.ts';
import type { GlobalOptions } from '../session.ts';
import { openSession } from '../session.ts';
import { listAll } from './clusters.ts';

const money = (n: number | null, digits: number): string => (n === null ? 'no price' : `$${n.toFixed(digits)}`);

export async function cost(name: string | undefined, flags: GlobalOptions): Promise<void> {
  if (name !== undefined) clusterName(name);
  const s = await openSession(flags);
  const clusters = name !== undefined ? [(await s.backend.get(name)).value] : await listAll(s.backend, {});
  const book = await localPrices(clusters.map((c) => c.spec));
  const rows = clusters.map((c) => ({ name: c.name, region: c.spec.region, cost: clusterCost(c.spec, book) }));
  const known = rows.filter((r) => r.cost.hourly !== null);
  const total = {
    hourly: known.reduce((n, r) => n + (r.cost.hourly ?? 0), 0),
    monthly: known.reduce((n, r) => n + (r.cost.monthly ?? 0), 0),
    unpriced: rows.filter((r) => r.cost.hourly === null).map((r) => r.name),
  };
  if (s.format !== 'table') {
    s.write(await serialize({ items: rows, total, origin: book.origin, asOf: book.asOf }, s.format));
    return;
  }
  const line = (c: Cost): string[] => [money(c.hourly, 4), money(c.monthly, 2), c.missing.join(', ')];
  s.write(
    formatTable(
      [{ header: 'NAME' }, { header: 'REGION' }, { header: 'HOURLY' }, { header: 'MONTHLY' }, { header: 'NO PRICE FOR', flexible: true }],
      [
        ...rows.map((r) => [r.name, r.region, ...line(r.cost)]),
        ['TOTAL', '', `$${total.hourly.toFixed(4)}`, `$${total.monthly.toFixed(2)}`, total.unpriced.length ? `excludes ${total.unpriced.join(', ')}` : ''],
      ],
      { width: s.term.columns },
    ),
  );
  process.stderr.write(`On-demand Linux prices in USD (${book.origin}, ${book.asOf}); stopped clusters count 0.\n`);
}
