// What the benches read of a local process from /proc (Linux): CPU seconds and resident memory,
// and the CPU of a database's PostgreSQL backends. Elsewhere, or once a process is gone, 0.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** utime + stime of a process in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Records, into `seen`, the CPU seconds so far of each backend serving database `db` (the
 * asking connection's own excluded). Only meaningful where PostgreSQL runs on this machine.
 */
export async function backendCpu(client: pg.Client, db: string, seen: Map<number, number>): Promise<void> {
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
  for (const { pid } of rows) {
    const s = cpuSeconds(pid);
    if (s > 0) seen.set(pid, s);
  }
}

/** CPU seconds the backends spent between two `backendCpu` readings (a backend that started in between counts from 0). */
export function backendCpuSpent(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let spent = 0;
  for (const [pid, s] of after) spent += s - (before.get(pid) ?? 0);
  return spent;
}
