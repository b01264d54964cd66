// Fault test of the service topology (issue: reconciliation engine). Real PostgreSQL, a
// private NATS JetStream server, 2 API replicas (`goman serve --no-controllers`) and 3
// controller workers (`goman controller --provider sim`), all separate processes of the real
// binary. 200 clusters with failure injection; mid-run a worker is killed with SIGKILL and the
// bus is restarted. Every cluster must reach Ready and then be deleted; no cluster may ever
// have more sim instances than its spec asks for; every outbox row is published; and the
// scheduler never has two leaders ticking at once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ApiClient } from '../../src/client/api-client.ts';
import type { Cluster } from '../../src/domain/index.ts';
import { freshPgDatabase, PG_ADMIN_URL, reachable } from '../helpers/peers.ts';
import { cleanEnv, freePort, GOMAN_BIN } from '../helpers/serve.ts';
import { eventually } from '../helpers/eventually.ts';

const CLUSTERS = 200;
const NATS_BIN = process.env.GOMAN_NATS_SERVER ?? '/usr/sbin/nats-server';

interface Proc {
  name: string;
  child: ChildProcess;
  out: string[];
}

const procs: Proc[] = [];
let dir = '';
let db: Awaited<ReturnType<typeof freshPgDatabase>> | undefined;

function launch(name: string, cmd: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { name, child, out: [] };
  const keep = (d: Buffer): void => void p.out.push(d.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  procs.push(p);
  return p;
}

async function stopProc(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  await Promise.race([exited, sleep(15_000).then(() => p.child.kill('SIGKILL'))]);
}

/** eventually, with every process's recent output in the failure message. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  try {
    return await eventually(what, fn, { timeoutMs, intervalMs: 250 });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${procs.map((p) => `--- ${p.name}\n${p.out.join('').slice(-2000)}`).join('\n')}`, { cause: e });
  }
}

async function listAll(client: ApiClient): Promise<Cluster[]> {
  const items: Cluster[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listClusters({ limit: 500, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'goman-fault-'));
});

after(async () => {
  await Promise.all(procs.map((p) => stopProc(p, 'SIGKILL')));
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('service topology survives a killed worker and a bus restart', { timeout: 240_000 }, async (t) => {
  const missing = !(await reachable(PG_ADMIN_URL)) ? 'PostgreSQL' : null;
  if (missing) {
    if (process.env.CI) throw new Error(`${missing} is required in CI`);
    t.skip(`${missing} is not reachable`);
    return;
  }
  db = await freshPgDatabase();
  const natsPort = await freePort();
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const natsArgs = ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', path.join(dir, 'nats')];
  let nats = launch('nats', NATS_BIN, natsArgs, cleanEnv());
  await waitFor('nats', async () => ((await reachable(natsUrl)) ? true : undefined), 15_000);

  const shared = { GOMAN_DATABASE_URL: db.url, GOMAN_BUS_URL: natsUrl, GOMAN_RECONCILE_ACTIVE_SECONDS: '2', GOMAN_SCHEDULER_TICK_SECONDS: '0.5' };
  const apiUrls: string[] = [];
  for (const i of [0, 1]) {
    const port = await freePort();
    const env = cleanEnv({ ...shared, XDG_CONFIG_HOME: path.join(dir, `api${i}`), GOMAN_DATA_DIR: path.join(dir, `api${i}-data`), GOMAN_LOG_LEVEL: 'debug' });
    launch(`api${i}`, GOMAN_BIN, ['serve', '--no-controllers', '--listen', `127.0.0.1:${port}`], env);
    apiUrls.push(`http://127.0.0.1:${port}`);
    // The first replica creates the admin token on the fresh database; wait before starting the next.
    await waitFor(`api${i} ready`, async () => ((await fetch(`${apiUrls[i]}/readyz`)).ok ? true : undefined), 30_000);
  }
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('yaml');
  const config = parse(await readFile(path.join(dir, 'api0', 'goman', 'config.yaml'), 'utf8')) as { contexts: { token: string }[] };
  const adminToken = config.contexts[0]?.token;
  assert.ok(adminToken);
  const admins = apiUrls.map((baseUrl) => new ApiClient({ baseUrl, token: adminToken }));
  const controllerToken = (await admins[0]!.createToken({ subject: 'sim-workers', role: 'controller' })).token;

  const workerEnv = (i: number): Record<string, string> =>
    cleanEnv({
      ...shared,
      GOMAN_SERVER: apiUrls[i % 2]!,
      GOMAN_TOKEN: controllerToken,
      XDG_CONFIG_HOME: path.join(dir, `worker${i}`),
      GOMAN_DATA_DIR: path.join(dir, `worker${i}-data`),
      GOMAN_LOG_LEVEL: 'warn',
      GOMAN_LEASE_TTL_SECONDS: '3',
      GOMAN_SIM_BOOT_SECONDS: '0.3',
      GOMAN_SIM_INSTALL_SECONDS: '0.3',
      GOMAN_SIM_FAIL_RATE: '0.15',
      GOMAN_SIM_CAPACITY_ERROR_RATE: '0.05',
      GOMAN_SIM_STUCK_RATE: '0.02',
    });
  const workers = [0, 1, 2].map((i) => launch(`worker${i}`, GOMAN_BIN, ['controller', '--provider', 'sim'], workerEnv(i)));
  await waitFor('sim-controller registered', async () => ((await admins[0]!.listControllers()).items.some((c) => c.name === 'sim-controller') ? true : undefined), 30_000);

  // Watch the sim's own records the whole time: never more live instances than slots.
  const expected = new Map<string, number>();
  const violations: string[] = [];
  const watcher = new pg.Pool({ connectionString: db.url, max: 1 });
  let watching = true;
  const watching$ = (async () => {
    while (watching) {
      const { rows } = await watcher.query<{ cluster_id: string; state: { instances: { state: string }[] } }>(
        "SELECT cluster_id, state FROM provider_state WHERE provider = 'sim'",
      );
      for (const r of rows) {
        const live = r.state.instances.filter((i) => i.state !== 'terminated').length;
        const want = expected.get(r.cluster_id);
        if (want !== undefined && live > want) violations.push(`${r.cluster_id}: ${live} instances for ${want} slots`);
      }
      await sleep(200); // the sampler's interval, not a wait for something
    }
  })();

  const created: Cluster[] = [];
  for (let i = 0; i < CLUSTERS; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, CLUSTERS - i) }, (_, j) => {
        const n = i + j;
        const pools = [{ name: 'workers', count: n % 3 }];
        return admins[n % 2]!.createCluster({ name: `fault-${n}`, spec: { provider: 'sim', mode: n % 10 === 0 ? 'ha' : 'dev', nodePools: pools } });
      }),
    );
    for (const c of batch) expected.set(c.id, (c.spec.mode === 'ha' ? 3 : 1) + (c.spec.nodePools[0]?.count ?? 0));
    created.push(...batch);
    if (i === 60) await stopProc(workers[0]!, 'SIGKILL');
    if (i === 120) {
      await stopProc(nats, 'SIGKILL');
      await sleep(1000); // NATS stays down a while: the relay must ride out the outage
      nats = launch('nats-restarted', NATS_BIN, natsArgs, cleanEnv());
    }
  }
  assert.equal(created.length, CLUSTERS);

  await waitFor(
    'every cluster Ready',
    async () => {
      const all = await listAll(admins[1]!);
      const notReady = all.filter((c) => c.status.phase !== 'Ready');
      return all.length === CLUSTERS && notReady.length === 0 ? true : undefined;
    },
    150_000,
  );

  await Promise.all(created.map((c, i) => admins[i % 2]!.deleteCluster(c.id)));
  await waitFor('every deletion complete', async () => ((await listAll(admins[0]!)).length === 0 ? true : undefined), 120_000);
  watching = false;
  await watching$;
  await watcher.end();
  assert.deepEqual(violations, [], 'no cluster ever had more instances than its spec asked for');

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    // No event lost: every outbox row the writes appended was published (and acknowledged).
    await waitFor('outbox drained', async () => {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL');
      return rows[0]?.n === '0' ? true : undefined;
    }, 20_000);
    const { rows: left } = await client.query<{ n: string }>("SELECT count(*) AS n FROM provider_state WHERE provider = 'sim'");
    assert.equal(left[0]?.n, '0', 'no sim state left behind');
  } finally {
    await client.end();
  }

  // Scheduler ticks from both replicas' debug logs: never two leaders ticking at once.
  const ticks = procs
    .filter((p) => p.name.startsWith('api'))
    .flatMap((p) => p.out.join('').split('\n'))
    .filter((l) => l.includes('"scheduler tick"'))
    .map((l) => (JSON.parse(l) as { tick: { owner: string; fence: number; startedAt: number; finishedAt: number } }).tick)
    .sort((a, b) => a.startedAt - b.startedAt);
  assert.ok(ticks.length > 5, `scheduler ticked (${ticks.length} ticks)`);
  for (let i = 1; i < ticks.length; i++) {
    const [prev, cur] = [ticks[i - 1]!, ticks[i]!];
    if (prev.owner !== cur.owner) {
      assert.ok(cur.startedAt >= prev.finishedAt, `ticks of ${prev.owner} and ${cur.owner} overlap`);
      assert.ok(cur.fence > prev.fence, 'a new leader has a higher fence');
    }
  }
});
