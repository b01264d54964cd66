// The SystemD measurement: the container runtime and kubelet units, as `systemctl show` sees them.
import { access } from 'node:fs/promises';
import type { Measurement, Scalar, Subtype } from '../types.ts';
import { CommandUnavailable, runCommand } from './exec.ts';

export const UNITS = ['containerd', 'docker', 'kubelet'] as const;

// Configuration, not runtime counters: no PIDs, timestamps or memory figures.
const PROPERTIES = ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'FragmentPath', 'Delegate', 'LimitNOFILE', 'TasksMax', 'CPUAccounting', 'MemoryAccounting', 'Restart'];

/** `systemctl show` of several units: `Key=Value` blocks separated by blank lines, in argument order. */
export function parseSystemctlShow(text: string, units: readonly string[]): Subtype[] {
  const blocks = text.split(/\n\s*\n/).map((b) => b.trim());
  return units.map((unit, i) => {
    const data: Record<string, Scalar> = {};
    for (const line of (blocks[i] ?? '').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) data[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return { subtype: unit, data };
  });
}

export interface SystemdOptions {
  systemctl?: string;
  /** sd_booted(3): this directory exists only when systemd is PID 1. */
  runtimeDir?: string;
}

export async function collectSystemd(signal: AbortSignal, opts: SystemdOptions = {}): Promise<Measurement> {
  try {
    await access(opts.runtimeDir ?? '/run/systemd/system');
  } catch {
    return { type: 'SystemD', subtypes: [], reason: 'systemd is not the init system on this host' };
  }
  const units = UNITS.map((u) => `${u}.service`);
  try {
    const { stdout } = await runCommand(opts.systemctl ?? 'systemctl', ['show', ...units, `--property=${PROPERTIES.join(',')}`, '--no-pager'], signal);
    // A unit that is not installed still answers, with LoadState=not-found: drop it.
    const subtypes = parseSystemctlShow(stdout, UNITS).filter((s) => s.data.LoadState !== 'not-found');
    return subtypes.length ? { type: 'SystemD', subtypes } : { type: 'SystemD', subtypes, reason: `none of ${UNITS.join(', ')} is installed` };
  } catch (e) {
    if (e instanceof CommandUnavailable) return { type: 'SystemD', subtypes: [], reason: e.message };
    throw e;
  }
}
