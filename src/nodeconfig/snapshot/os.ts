// The OS measurement: os-release, kernel, kernel command line, a stable sysctl subset and
// loaded modules. Every subtype is read on its own, so one unreadable file costs only itself.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Measurement, Scalar, Subtype } from '../types.ts';

export interface OsSources {
  osRelease: string; // /etc/os-release
  proc: string; // /proc
}

export const DEFAULT_OS_SOURCES: OsSources = { osRelease: '/etc/os-release', proc: '/proc' };

/** sysctl trees that describe how a K8s/GPU node is configured. */
const SYSCTL_ROOTS = ['kernel', 'net/ipv4', 'net/bridge', 'vm', 'fs'];

// Values that change second to second or identify one boot/host: they would make two
// snapshots of one unchanged node differ, and some (uuid, boot_id, hostname) leak identity.
const VOLATILE = [
  /^kernel\.random\./,
  /^kernel\.(hostname|domainname|ns_last_pid|tainted|pty\.nr|perf_event_max_sample_rate|real-root-dev)$/,
  /^kernel\.sched_domain\./,
  /^kernel\.(usermodehelper|keys)\./,
  /^fs\.(dentry-state|file-nr|inode-nr|inode-state|aio-nr|dquot-nr|quota\.)/,
  /^fs\.binfmt_misc\./,
  /-nr$/,
  /^vm\.(stat_refresh|drop_caches|compact_memory|nr_pdflush_threads)$/,
  /^net\.ipv4\.(route\.flush|neigh\.)/,
  /^net\.ipv4\.conf\.(?!all\.|default\.)/,
  /^net\.ipv4\.tcp_(mem|fastopen_key)$/,
];

export function isVolatileSysctl(key: string): boolean {
  return VOLATILE.some((re) => re.test(key));
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    }
    out[line.slice(0, eq)] = value;
  }
  return out;
}

/**
 * `quiet ro root=/dev/x BOOT_IMAGE=...` → flags map to true, `k=v` to v; the whole line is
 * `raw`. Words after a lone `--` are arguments for init, not kernel parameters.
 */
export function parseCmdline(text: string): Record<string, Scalar> {
  const line = text.replaceAll('\0', ' ').trim();
  const out: Record<string, Scalar> = { raw: line };
  const words = line.split(/\s+/).filter(Boolean);
  const end = words.indexOf('--');
  for (const token of end < 0 ? words : words.slice(0, end)) {
    const eq = token.indexOf('=');
    if (eq < 0) out[token] = true;
    else out[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return out;
}

// /proc/sys is served from kernel memory: synchronous reads of a few hundred small files cost
// less than as many thread-pool round trips, and they cannot block on a disk.
function walkSysctl(root: string, rel: string, out: Record<string, Scalar>, depth: number): void {
  let entries;
  try {
    entries = readdirSync(path.join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    const key = relPath.replaceAll('/', '.');
    if (isVolatileSysctl(key)) continue;
    if (e.isDirectory()) {
      if (depth < 4) walkSysctl(root, relPath, out, depth + 1);
      continue;
    }
    try {
      const value = readFileSync(path.join(root, relPath), 'utf8').trim().replace(/\s+/g, ' ');
      if (value.length <= 256) out[key] = value;
    } catch {
      // write-only or permission-guarded entries are simply not part of the snapshot
    }
  }
}

export async function readSysctl(procDir: string): Promise<Record<string, Scalar>> {
  const out: Record<string, Scalar> = {};
  const root = path.join(procDir, 'sys');
  for (const r of SYSCTL_ROOTS) walkSysctl(root, r, out, 0);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** /proc/modules: `name size refcount deps state address` → name: state. */
export function parseModules(text: string): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const line of text.split('\n')) {
    const [name, , , , state] = line.trim().split(/\s+/);
    if (name) out[name] = state ?? 'Live';
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function collectOs(sources: OsSources = DEFAULT_OS_SOURCES): Promise<Measurement> {
  const reasons: string[] = [];
  const attempt = async (name: string, read: () => Promise<Record<string, Scalar>>): Promise<Subtype | undefined> => {
    try {
      return { subtype: name, data: await read() };
    } catch (e) {
      reasons.push(`${name}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const subtypes = await Promise.all([
    attempt('release', async () => parseOsRelease(await readFile(sources.osRelease, 'utf8'))),
    attempt('kernel', async () => ({ version: os.release(), build: os.version(), arch: os.machine() })),
    attempt('cmdline', async () => parseCmdline(await readFile(path.join(sources.proc, 'cmdline'), 'utf8'))),
    attempt('sysctl', () => readSysctl(sources.proc)),
    attempt('kmod', async () => parseModules(await readFile(path.join(sources.proc, 'modules'), 'utf8'))),
  ]);
  const m: Measurement = { type: 'OS', subtypes: subtypes.filter((s): s is Subtype => s !== undefined) };
  if (reasons.length) m.reason = reasons.join('; ');
  return m;
}
