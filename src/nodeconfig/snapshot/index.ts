// A snapshot: every collector runs at once under one deadline. A collector that is missing,
// fails or runs out of time leaves an empty measurement with a reason; the snapshot itself
// always succeeds (eidos failed the whole snapshot on one collector's error).
import os from 'node:os';
import { gomanVersion } from '../../util/version.ts';
import { API_VERSION } from '../constants.ts';
import type { Measurement, MeasurementType, Snapshot } from '../types.ts';
import { collectGpu } from './gpu.ts';
import { collectK8s } from './k8s.ts';
import { collectOs, DEFAULT_OS_SOURCES, type OsSources } from './os.ts';
import { collectSystemd, type SystemdOptions } from './systemd.ts';

export const DEFAULT_TIMEOUT_MS = 5000;

export interface SnapshotOptions {
  timeoutMs?: number;
  nvidiaSmi?: string;
  os?: OsSources;
  systemd?: SystemdOptions;
  nodeName?: string;
  now?: () => Date;
}

async function guarded(type: MeasurementType, signal: AbortSignal, run: () => Promise<Measurement>): Promise<Measurement> {
  const timedOut = new Promise<Measurement>((resolve) => {
    const onAbort = (): void => resolve({ type, subtypes: [], reason: 'collector did not finish before the snapshot deadline' });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run(), timedOut]);
  } catch (e) {
    return { type, subtypes: [], reason: `collector failed: ${(e as Error).message}` };
  }
}

export async function collectSnapshot(opts: SnapshotOptions = {}): Promise<Snapshot> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  timer.unref();
  const { signal } = controller;
  const nodeName = opts.nodeName ?? os.hostname();
  try {
    const measurements = await Promise.all([
      guarded('OS', signal, () => collectOs(opts.os ?? DEFAULT_OS_SOURCES)),
      guarded('GPU', signal, () => collectGpu(signal, opts.nvidiaSmi)),
      guarded('SystemD', signal, () => collectSystemd(signal, opts.systemd)),
      guarded('K8s', signal, () => collectK8s(signal, nodeName)),
    ]);
    return {
      kind: 'Snapshot',
      apiVersion: API_VERSION,
      metadata: { timestamp: (opts.now?.() ?? new Date()).toISOString(), version: gomanVersion(), node: nodeName },
      measurements,
    };
  } finally {
    clearTimeout(timer);
    // Whatever is still running (a hung nvidia-smi, a slow API server) is cancelled now.
    controller.abort();
  }
}
