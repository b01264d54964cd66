// A private nats-server (JetStream, own storage directory, free port) for tests that restart
// the bus: restarting the shared server would disturb every other test file.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { eventually } from './eventually.ts';
import { reachable } from './peers.ts';
import { freePort } from './serve.ts';

export interface PrivateNats {
  url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage, once listening. */
  start(): Promise<void>;
  /** Stops it for good and removes its storage. */
  dispose(): Promise<void>;
}

/** Null when the binary is missing (the test was skipped; CI requires it). */
export async function privateNatsServer(t: TestContext): Promise<PrivateNats | null> {
  if (spawnSync('nats-server', ['--version']).status !== 0) {
    if (process.env.CI) throw new Error('nats-server binary is required in CI');
    t.skip('nats-server binary not installed');
    return null;
  }
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-nats-'));
  let child: ChildProcess | null = null;
  const server: PrivateNats = {
    url,
    async start() {
      child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
      await eventually('private nats-server listening', () => reachable(url, 200));
    },
    async stop() {
      const running = child;
      child = null;
      if (running === null || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
