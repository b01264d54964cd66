// Node-configuration benchmark (never run as a test): `npm run bench:nodeconfig`.
//  1. `goman snapshot` wall time p50/p99 and peak RSS over 50 subprocess runs, with no
//     nvidia-smi and no kubeconfig, next to a bare `node -e 0` measured in the same run.
//  2. GET /v1/recipe throughput and p99 with autocannon, next to an empty route served by
//     the same process (a child process, so autocannon does not share its event loop).
// Goals: snapshot p99 <= 100 ms beyond the bare node start; recipe p99 <= 10 ms at >= 50 %
// of the empty route's throughput.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);

function pct(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

// Each child reports its own peak RSS as it exits; this preload adds nothing else.
const RSS_PROBE = "data:text/javascript,process.on('exit',()=>process.stderr.write('\\nRSS_KB '+process.resourceUsage().maxRSS+'\\n'))";

function timeRuns(label: string, args: string[], env: NodeJS.ProcessEnv): { p50: number; p99: number; rssMiB: number } {
  const times: number[] = [];
  let rss = 0;
  // One untimed run first: it fills the OS page cache (and the compile cache, when enabled).
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], { cwd: REPO, env });
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', RSS_PROBE, ...args], { cwd: REPO, env, encoding: 'utf8' });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
    const m = /RSS_KB (\d+)/.exec(r.stderr);
    rss = Math.max(rss, Number(m?.[1] ?? 0));
  }
  const res = { p50: pct(times, 0.5), p99: pct(times, 0.99), rssMiB: rss / 1024 };
  console.log(`${label.padEnd(52)} p50 ${res.p50.toFixed(1)} ms  p99 ${res.p99.toFixed(1)} ms  peak RSS ${res.rssMiB.toFixed(1)} MiB`);
  return res;
}

async function snapshotBench(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'goman-bench-'));
  const env = { ...process.env, GOMAN_NVIDIA_SMI: path.join(tmp, 'no-nvidia-smi'), KUBECONFIG: path.join(tmp, 'no-kubeconfig'), XDG_CONFIG_HOME: tmp };
  try {
    console.log(`snapshot: ${RUNS} runs each, no nvidia-smi, no kubeconfig`);
    const bare = timeRuns('node -e 0', ['-e', '0'], env);
    // Node strips TypeScript types with a WebAssembly module on every start; this row shows
    // that fixed cost, which any .ts entry pays before goman's own code runs.
    const emptyTs = path.join(tmp, 'empty.ts');
    writeFileSync(emptyTs, 'export {};\n');
    timeRuns('node empty.ts (type-stripping floor)', [emptyTs], env);
    const entries: [string, string][] = [['src/cmd/nodeconfig.ts snapshot', 'src/cmd/nodeconfig.ts']];
    if (existsSync(path.join(REPO, 'src/cmd/main.ts'))) entries.push(['goman snapshot (src/cmd/main.ts)', 'src/cmd/main.ts']);
    const cached = { ...env, NODE_COMPILE_CACHE: path.join(tmp, 'compile-cache') };
    const runs: [string, string, NodeJS.ProcessEnv][] = entries.map(([label, entry]) => [label, entry, env]);
    for (const [label, entry] of entries) runs.push([`${label} +NODE_COMPILE_CACHE`, entry, cached]);
    for (const [label, entry, runEnv] of runs) {
      const r = timeRuns(label, [entry, 'snapshot', '-o', 'json'], runEnv);
      console.log(
        `  beyond bare node: p50 +${(r.p50 - bare.p50).toFixed(1)} ms, p99 +${(r.p99 - bare.p99).toFixed(1)} ms (goal <= 100 ms); ` +
          `time ratio p50 ${(r.p50 / bare.p50).toFixed(2)}x, RSS ratio ${(r.rssMiB / bare.rssMiB).toFixed(2)}x`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function recipeBench(): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  const server = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(import.meta.url), '--serve'], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      server.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()));
      server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const load = async (label: string, urlPath: string): Promise<{ rps: number; p99: number }> => {
      await autocannon({ url: address + urlPath, connections: 10, duration: 1 }); // warm-up
      const r = await autocannon({ url: address + urlPath, connections: 10, duration: DURATION });
      if (r.non2xx || r.errors) throw new Error(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      console.log(`${label.padEnd(52)} ${r.requests.average.toFixed(0)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms`);
      return { rps: r.requests.average, p99: r.latency.p99 };
    };
    console.log(`\nHTTP: autocannon, 10 connections, ${DURATION} s each, server in a child process`);
    const empty = await load('GET /empty (baseline)', '/empty');
    const recipe = await load('GET /v1/recipe (gb200/eks/train/ub)', '/v1/recipe?service=eks&accelerator=gb200&intent=training&os=ubuntu');
    console.log(`  recipe throughput ${((100 * recipe.rps) / empty.rps).toFixed(0)} % of the empty route (goal >= 50 %), p99 ${recipe.p99} ms (goal <= 10 ms)`);
  } finally {
    server.kill();
  }
}

async function main(): Promise<void> {
  await snapshotBench();
  await recipeBench();
}

if (process.argv[2] === '--serve') {
  const { default: Fastify } = await import('fastify');
  const { nodeConfigRoutes } = await import('../src/nodeconfig/http.ts');
  const app = Fastify();
  app.get('/empty', async () => ({}));
  await app.register(nodeConfigRoutes);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${address}\n`);
} else {
  await main();
}
