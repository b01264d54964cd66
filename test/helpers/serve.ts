// A real `goman serve` for tests: the CLI launcher (bin/goman) on a free port, with its own
// data directory and CLI config (XDG_CONFIG_HOME) in a temp dir, fast sim timings, and
// /readyz awaited. Use `env` for every `bin/goman` subprocess that should talk to it.
//
//   const srv = await startServe();
//   after(() => srv.stop());
//   const r = await runGoman(['list', '-o', 'json'], { env: srv.env });
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';

export const GOMAN_BIN = fileURLToPath(new URL('../../bin/goman', import.meta.url));

export interface ServeHandle {
  url: string;
  port: number;
  /** Temp root holding data/ and config/ (removed by stop()). */
  dir: string;
  /** Environment for CLI subprocesses: this server's config (context `local`), no colour. */
  env: Record<string, string>;
  /** The admin token `goman serve` wrote to the CLI config. */
  token: string;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  /** SIGTERM, wait for exit; the temp dir stays when keepDir (for a restart on the same data). */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export interface ServeOptions {
  /** Extra environment for the server (e.g. GOMAN_SIM_FAIL_RATE). */
  env?: Record<string, string>;
  /** Extra arguments after `serve`. */
  args?: string[];
  /** Reuse a previous server's dir and port (restart on the same data). */
  reuse?: { dir: string; port: number };
  readyTimeoutMs?: number;
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** The inherited environment without anything that would point goman elsewhere. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^GOMAN_|^NO_COLOR$|^FORCE_COLOR$/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export async function startServe(opts: ServeOptions = {}): Promise<ServeHandle> {
  const dir = opts.reuse?.dir ?? (await mkdtemp(path.join(tmpdir(), 'goman-serve-')));
  const port = opts.reuse?.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const base = { GOMAN_DATA_DIR: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  const serverEnv = cleanEnv({ ...base, GOMAN_SIM_BOOT_SECONDS: '0.2', GOMAN_SIM_INSTALL_SECONDS: '0.2', GOMAN_LOG_LEVEL: 'warn', ...opts.env });
  const child = spawn(GOMAN_BIN, ['serve', '--listen', `127.0.0.1:${port}`, ...(opts.args ?? [])], { env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out = (out + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => void (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const stop = async (stopOpts: { keepDir?: boolean } = {}): Promise<void> => {
    await terminate(child, exited);
    if (!stopOpts.keepDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, exited, opts.readyTimeoutMs ?? 30_000, () => out);
    const token = await adminToken(path.join(base.XDG_CONFIG_HOME, 'goman', 'config.yaml'));
    return { url, port, dir, env: cleanEnv({ ...base, NO_COLOR: '1' }), token, output: () => out, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitReady(url: string, exited: Promise<number | null>, timeoutMs: number, output: () => string): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const outcome = await eventually(
    `goman serve at ${url} to be ready`,
    async () => (gone !== undefined ? 'exited' : (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok && 'ready'),
    { timeoutMs, intervalMs: 50 },
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}:\n${output()}`, { cause: e });
  });
  if (outcome === 'exited') throw new Error(`goman serve exited with ${String(gone)} before it was ready:\n${output()}`);
}

async function adminToken(configFile: string): Promise<string> {
  const { parse } = await import('yaml');
  const config = parse(await readFile(configFile, 'utf8')) as { contexts?: { name: string; token?: string }[] };
  const token = config.contexts?.find((c) => c.name === 'local')?.token;
  if (!token) throw new Error(`goman serve wrote no token for context "local" to ${configFile}`);
  return token;
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

export interface GomanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `bin/goman ARGS` to completion (stdin closed unless `input` is given). */
export function runGoman(args: string[], opts: { env: Record<string, string>; input?: string; timeoutMs?: number }): Promise<GomanResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(GOMAN_BIN, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
