// A real moto server per test file (DESIGN §8: "the whole flow runs against a local AWS
// emulator"). Each file gets its own process and port, so account state never leaks between
// files that run in parallel.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { JsonObjects } from '../../src/store/s3/objects.ts';
import { eventually } from './eventually.ts';

export const MOTO_BIN = process.env.GOMAN_MOTO_SERVER ?? path.resolve(import.meta.dirname, '../../.venv/bin/moto_server');

export interface Moto {
  endpoint: string;
  /** Point the AWS SDK (and goman) at this server through the environment. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Until our moto answers. The port was free when chosen but another process may take it before
 * moto binds: then moto exits, and whatever holds the port must not pass for it.
 */
function waitUntilAnswering(endpoint: string, child: ChildProcess, deadlineMs: number): Promise<unknown> {
  return eventually(
    `moto_server at ${endpoint} to answer`,
    async () => {
      const answer = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} (port taken?)`);
      return answer?.status === 200;
    },
    { timeoutMs: deadlineMs, intervalMs: 100 },
  );
}

/**
 * Start moto for one test file. Returns null (and skips the test) when the binary is absent
 * outside CI; in CI a missing moto fails, so nothing is skipped silently.
 */
export async function startMoto(t?: TestContext): Promise<Moto | null> {
  if (!existsSync(MOTO_BIN)) {
    const msg = `moto_server not found at ${MOTO_BIN} (python -m venv .venv && .venv/bin/pip install 'moto[server]')`;
    if (process.env.CI || !t) throw new Error(msg);
    t.skip(msg);
    return null;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMotoOnce();
    } catch (e) {
      // A port taken between choosing it and moto binding it: choose again.
      if (attempt >= 3 || !/exited/.test((e as Error).message)) throw e;
    }
  }
}

async function startMotoOnce(): Promise<Moto> {
  const port = await freePort();
  // AWS-managed IAM policies (AmazonSSMManagedInstanceCore) exist in every real account;
  // moto loads them only when asked.
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`, { cause: e });
  }
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'ap-south-1',
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Set moto's environment for this process (goman reads AWS_ENDPOINT_URL like the SDK does). */
export function useMotoEnv(moto: Moto): void {
  Object.assign(process.env, moto.env);
}

/**
 * moto checks If-Match and then writes, in two steps on a threaded server, so two conditional
 * writes racing on one key can both succeed; real S3 decides them atomically. Serialising this
 * process's writes per key gives back that one guarantee (and nothing else: every write still
 * goes to moto with its condition). Tests with concurrent patches on one key use it.
 */
export class AtomicPerKeyObjects extends JsonObjects {
  private readonly tails = new Map<string, Promise<unknown>>();
  override put(key: string, value: unknown, ifMatch?: string | null): Promise<string> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(() => super.put(key, value, ifMatch));
    this.tails.set(key, run.catch(() => undefined));
    return run;
  }
}
