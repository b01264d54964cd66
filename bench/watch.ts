// bench:watch — watch fan-out on one replica (never run as a test):
//   npm run bench:watch -- [--watchers 1000] [--rate 100] [--seconds 60] [--pad 0]
// A real `goman serve --no-controllers` on PostgreSQL and a private nats-server; `--watchers` SSE streams on
// /api/v1/watch held by two client processes (so parsing them does not share the writer's event
// loop); a writer here PATCHes labels at `--rate` writes/s round robin over 100 clusters, each
// write carrying its send time in a label. Reports delivery latency (write sent → event parsed
// by a watcher) p50/p99, deliveries vs expected, the server's RSS growth, and whether one
// consumer that never reads is dropped while the others keep their latency.
// Goals: p99 <= 100 ms, RSS growth <= 200 MB, the slow consumer dropped.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { issueToken } from '../src/api/tokens.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { clusterSpecSchema } from '../src/domain/index.ts';
import { openStore } from '../src/store/open.ts';
import { eventually } from '../test/helpers/eventually.ts';
import { freshPgDatabase } from '../test/helpers/peers.ts';
import { cleanEnv, freePort, GOMAN_BIN } from '../test/helpers/serve.ts';
import { privateNats } from './nats.ts';
import { rssMb } from './proc.ts';

const BUCKETS = 10_000; // 1 ms latency buckets; the last one holds everything slower

interface WorkerReport {
  histogram: number[];
  deliveries: number;
  connected: number;
  ended: number;
}

/** A client process: `count` streams, a latency histogram of every update event parsed. */
function worker(url: string, token: string, count: number): void {
  const histogram = new Array<number>(BUCKETS).fill(0);
  let deliveries = 0;
  let connected = 0;
  let ended = 0;
  for (let i = 0; i < count; i++) {
    http.get(`${url}/api/v1/watch`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
      connected++;
      if (connected === count) process.send!({ connected });
      res.setEncoding('utf8');
      let tail = '';
      res.on('data', (chunk: string) => {
        const now = Date.now();
        const text = tail + chunk;
        const cut = text.lastIndexOf('\n\n');
        tail = cut < 0 ? text : text.slice(cut + 2);
        if (cut < 0) return;
        for (const m of text.slice(0, cut).matchAll(/"sentAt":"(\d+)"/g)) {
          const ms = now - Number(m[1]);
          histogram[Math.min(BUCKETS - 1, Math.max(0, ms))]!++;
          deliveries++;
        }
      });
      res.on('close', () => ended++);
    });
  }
  process.on('message', () => {
    process.send!({ histogram, deliveries, connected, ended } satisfies WorkerReport);
  });
}

function pctOf(histogram: readonly number[], q: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms]!;
    if (seen >= q * total) return ms;
  }
  return NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { watchers: { type: 'string', default: '1000' }, rate: { type: 'string', default: '100' }, seconds: { type: 'string', default: '60' }, pad: { type: 'string', default: '0' } } });
  const watchers = Number(values.watchers);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const db = await freshPgDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-bench-watch-'));
  const nats = await privateNats(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(GOMAN_BIN, ['serve', '--no-controllers', '--listen', `127.0.0.1:${port}`], {
    // The writer's 100 writes/s and the watchers' connects share one token: the per-identity
    // limit (6000 a minute) is not what this bench measures.
    env: cleanEnv({ GOMAN_DATABASE_URL: db.url, GOMAN_BUS_URL: nats.url, GOMAN_LOG_LEVEL: 'warn', GOMAN_RATE_LIMIT: '1000000', XDG_CONFIG_HOME: path.join(dir, 'config'), GOMAN_DATA_DIR: path.join(dir, 'data') }),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const workers: ReturnType<typeof fork>[] = [];
  try {
    for (let i = 0; (await fetch(`${url}/readyz`).catch(() => null))?.ok !== true; i++) {
      if (i > 300 || server.exitCode !== null) throw new Error('server did not become ready');
      await sleep(100);
    }
    const store = await openStore({ databaseUrl: db.url, dataDir: dir });
    const token = (await issueToken(store, { subject: 'bench', role: 'admin' })).token;
    await store.close();
    const api = new ApiClient({ baseUrl: url, token });
    const spec = clusterSpecSchema.parse({ provider: 'sim' });
    const ids: string[] = [];
    // `--pad` labels of 60 characters make events bigger (~1.3 KB bare, ~5 KB with 40), so the
    // never-reading consumer fills the kernel's socket buffers and its 1 MiB allowance sooner.
    const labels = Object.fromEntries(Array.from({ length: Number(values.pad) }, (_, i) => [`pad-${i}`, 'x'.repeat(60)]));
    for (let i = 0; i < 100; i++) ids.push((await api.createCluster({ name: `w-${i}`, labels, spec })).id);
    const rssBefore = rssMb(server.pid!);

    for (const share of [Math.ceil(watchers / 2), Math.floor(watchers / 2)]) {
      const w = fork(new URL(import.meta.url).pathname, ['--worker', url, token, String(share)], { stdio: 'inherit' });
      workers.push(w);
      await new Promise((resolve) => w.once('message', resolve));
    }
    // The slow consumer: its stream is opened and never read. A client that never reads never
    // sees its socket closed either, so the server's own count of open streams says when it was
    // dropped (every healthy stream stays open: the workers count any that end).
    let slowEndedAt: number | null = null;
    const slow = http.get(`${url}/api/v1/watch`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      res.pause();
      res.socket.pause();
    });
    slow.on('error', () => undefined);
    const openStreams = async (): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/^goman_watch_streams (\d+)/m.exec(text)?.[1] ?? NaN);
    };
    await eventually('the slow consumer to connect', async () => (await openStreams()) === watchers + 1, { timeoutMs: 30_000 });
    const watchSlow = setInterval(() => {
      void openStreams()
        .then((n) => {
          if (n <= watchers) slowEndedAt ??= Date.now();
        })
        .catch(() => undefined);
    }, 1000);
    const rssConnected = rssMb(server.pid!);

    let writes = 0;
    let failed = 0;
    let lastError = '';
    let rssPeak = rssConnected;
    const t0 = Date.now();
    const end = t0 + seconds * 1000;
    const inFlight = new Set<Promise<unknown>>();
    while (Date.now() < end) {
      const due = t0 + (writes * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const id = ids[writes % ids.length]!;
      const p = api
        .patchCluster(id, { labels: { sentAt: String(Date.now()) } })
        .catch((err: unknown) => {
          failed++;
          lastError = err instanceof Error ? err.message : String(err);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      writes++;
      if (writes % rate === 0 && server.exitCode === null) rssPeak = Math.max(rssPeak, rssMb(server.pid!));
    }
    await Promise.all(inFlight);
    await sleep(2_000);
    clearInterval(watchSlow);
    const reports = await Promise.all(
      workers.map(
        (w) =>
          new Promise<WorkerReport>((resolve) => {
            w.once('message', (m) => resolve(m as WorkerReport));
            w.send('report');
          }),
      ),
    );
    const histogram = new Array<number>(BUCKETS).fill(0);
    for (const r of reports) r.histogram.forEach((n, ms) => (histogram[ms]! += n));
    const deliveries = reports.reduce((a, r) => a + r.deliveries, 0);
    const ended = reports.reduce((a, r) => a + r.ended, 0);
    const p99 = pctOf(histogram, 0.99);
    const growth = rssPeak - rssBefore;
    console.log(`\nbench:watch — ${watchers} watchers on one replica (PostgreSQL), ${rate} writes/s for ${seconds} s (${writes} writes)`);
    if (failed > 0) console.log(`${failed} writes failed (last: ${lastError}); server ${server.exitCode === null ? 'still running' : `exited with ${server.exitCode}`}`);
    console.log(`delivery latency: p50 ${pctOf(histogram, 0.5)} ms, p99 ${p99} ms, max ${pctOf(histogram, 1)} ms; ${deliveries} of ${writes * watchers} expected deliveries; ${ended} healthy streams ended`);
    console.log(`server RSS: ${rssBefore.toFixed(0)} MB before, ${rssConnected.toFixed(0)} MB connected, peak ${rssPeak.toFixed(0)} MB (growth ${growth.toFixed(0)} MB)`);
    console.log(`slow consumer: ${slowEndedAt === null ? 'NOT dropped' : `dropped after ${((slowEndedAt - t0) / 1000).toFixed(1)} s of writes`}`);
    console.log(`goals: p99 <= 100 ms ${p99 <= 100 ? 'met' : 'MISSED'}; RSS growth <= 200 MB ${growth <= 200 ? 'met' : 'MISSED'}; slow consumer dropped ${slowEndedAt !== null ? 'met' : 'MISSED'}`);
    slow.destroy();
  } finally {
    for (const w of workers) w.kill();
    server.kill('SIGTERM');
    if (server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve));
    nats.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') worker(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
else await main();
