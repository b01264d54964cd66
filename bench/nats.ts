// A private JetStream nats-server for a benchmark run: its own port and storage, so runs never
// share a stream with each other or with tests on the shared server.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { reachable } from '../test/helpers/peers.ts';
import { freePort } from '../test/helpers/serve.ts';

export async function privateNats(dir: string): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'nats')], { stdio: 'ignore' });
  for (let i = 0; !(await reachable(url, 200)); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error('nats-server did not start (is it on PATH?)');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, stop: () => void child.kill('SIGTERM') };
}
