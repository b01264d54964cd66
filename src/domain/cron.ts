// Five-field cron expressions (minute hour day-of-month month day-of-week), as K3s's
// --etcd-snapshot-schedule-cron takes them: numbers, "*", ranges "a-b", steps "*/n" or "a-b/n",
// and lists. Times are UTC. Pure, so the sim can schedule snapshots and the schema can refuse
// what would never fire.
const FIELDS = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12 },
  { min: 0, max: 6 },
] as const;

export type Cron = Set<number>[];

/** The sets of values each field allows, or undefined when the expression is not valid. */
export function parseCron(expr: string): Cron | undefined {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return undefined;
  const out: Cron = [];
  for (const [i, part] of parts.entries()) {
    const { min, max } = FIELDS[i] ?? { min: 0, max: 0 };
    const set = new Set<number>();
    for (const item of part.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!m) return undefined;
      const from = m[1] === '*' ? min : Number(m[2]);
      const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (from < min || to > max || from > to || step < 1) return undefined;
      for (let v = from; v <= to; v += step) set.add(v);
    }
    out.push(set);
  }
  return out;
}

const MINUTE = 60_000;

/** The first time after `after` (epoch ms) the schedule fires, within a year; undefined if none. */
export function nextFire(cron: Cron, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + 366 * 24 * 60 * MINUTE;
  while (t <= end) {
    const d = new Date(t);
    const [minutes, hours, days, months, weekdays] = cron;
    if (!months?.has(d.getUTCMonth() + 1) || !days?.has(d.getUTCDate()) || !weekdays?.has(d.getUTCDay())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    } else if (!hours?.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
    } else if (!minutes?.has(d.getUTCMinutes())) {
      t += MINUTE;
    } else {
      return t;
    }
  }
  return undefined;
}
