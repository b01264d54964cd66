// Shared test helpers for node configuration: temp dirs and a stand-in nvidia-smi.
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = process.execPath;
export const ENTRY = path.join(REPO, 'src/cmd/nodeconfig.ts');
/** The full goman CLI, which loads the node-configuration commands on demand. */
export const GOMAN = path.join(REPO, 'src/cmd/main.ts');

export function tempDir(prefix = 'goman-nc-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * No GPU exists on test machines, so a shell script that prints a fixture stands in for
 * nvidia-smi; the collector runs it exactly as it would run the real binary.
 */
export async function fakeNvidiaSmi(dir: string, body: string): Promise<string> {
  const file = path.join(dir, `nvidia-smi-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

export const printFixture = (name: string): string => `cat '${path.join(FIXTURES, name)}'`;
