// CLI cold start: `goman --version` and `goman list -o json` (100 clusters, against a
// `goman serve` this script starts), each run as a fresh process, compared with `node -e 0`
// measured in the same run on the same machine. Usage: npm run bench:cli [-- RUNS]
import { spawnSync } from 'node:child_process';
import { ApiClient } from '../src/client/api-client.ts';
import { GOMAN_BIN, startServe } from '../test/helpers/serve.ts';

const runs = Number(process.argv[2] ?? 20);

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number[] {
  const out: number[] = [];
  spawnSync(cmd, args, { env }); // warm the page cache and node's compile cache
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
    out.push(ms);
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (label: string, xs: number[], base?: number): string => {
  const m = median(xs);
  const ratio = base ? `  ${(m / base).toFixed(2)}x node -e 0` : '';
  return `${label.padEnd(28)} median ${m.toFixed(1).padStart(7)} ms  min ${Math.min(...xs).toFixed(1).padStart(7)} ms${ratio}`;
};

const node = process.execPath;
const baseline = time(node, ['-e', '0']);
const base = median(baseline);
console.log(`runs per command: ${runs} (node ${process.version})`);
console.log(fmt('node -e 0', baseline));
console.log(fmt('goman --version', time(GOMAN_BIN, ['--version']), base));

const srv = await startServe({ args: ['--no-controllers'] });
try {
  const api = new ApiClient({ baseUrl: srv.url, token: srv.token });
  for (let i = 0; i < 100; i++) await api.createCluster({ name: `bench-${i}`, spec: { nodePools: [{ name: 'workers', count: 1 }] } });
  const listRuns = time(GOMAN_BIN, ['list', '-o', 'json'], srv.env);
  console.log(fmt('goman list -o json (100)', listRuns, base));
  console.log(fmt('goman list (table, 100)', time(GOMAN_BIN, ['list'], srv.env), base));
} finally {
  await srv.stop();
}
