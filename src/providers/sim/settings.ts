// Settings of the simulated provider (DESIGN §7): timings and failure injection, from
// constructor options with environment defaults.
import { validationFailed } from '../../domain/index.ts';
import { envSeconds, type Env } from '../../domain/env.ts';

export interface SimSettings {
  /** Launch (or start) to running. */
  bootMs: number;
  /** Running to K3s ready, on first boot. */
  installMs: number;
  /** Each of stop, drain and terminate. Defaults to min(boot, 1 s), so zero boot time means instant. */
  transitionMs: number;
  /** Chance that one launch call fails transiently. */
  failRate: number;
  /** Chance that one launch call fails with InsufficientCapacity (transient). */
  capacityErrorRate: number;
  /** Chance that a launched instance never boots. */
  stuckRate: number;
  /** A pending instance older than this is declared stuck, terminated and replaced. */
  stuckTimeoutMs: number;
  /** Rollout steps on one node: cordon, drain (what PodDisruptionBudgets allow), K3s upgrade until Ready. */
  cordonMs: number;
  drainMs: number;
  upgradeMs: number;
  /** Each restore step (stop K3s, reset the first server, rejoin servers, restart agents). */
  restoreStepMs: number;
  /** Chance that a node being upgraded never comes back. */
  upgradeFailRate: number;
}

function rate(env: Env, name: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!(n >= 0 && n <= 1)) throw validationFailed(`${name} must be a number from 0 to 1 (got "${raw}")`);
  return n;
}

export function simSettings(opts: Partial<SimSettings> = {}, env: Env = process.env): SimSettings {
  const bootMs = opts.bootMs ?? envSeconds(env, 'GOMAN_SIM_BOOT_SECONDS', 2) * 1000;
  const installMs = opts.installMs ?? envSeconds(env, 'GOMAN_SIM_INSTALL_SECONDS', 3) * 1000;
  const settings: SimSettings = {
    bootMs,
    installMs,
    transitionMs: opts.transitionMs ?? Math.min(bootMs, 1000),
    failRate: opts.failRate ?? rate(env, 'GOMAN_SIM_FAIL_RATE'),
    capacityErrorRate: opts.capacityErrorRate ?? rate(env, 'GOMAN_SIM_CAPACITY_ERROR_RATE'),
    stuckRate: opts.stuckRate ?? rate(env, 'GOMAN_SIM_STUCK_RATE'),
    stuckTimeoutMs: opts.stuckTimeoutMs ?? Math.max(3 * bootMs, 1000),
    cordonMs: opts.cordonMs ?? envSeconds(env, 'GOMAN_SIM_CORDON_SECONDS', 0) * 1000,
    drainMs: opts.drainMs ?? envSeconds(env, 'GOMAN_SIM_DRAIN_SECONDS', 1) * 1000,
    upgradeMs: opts.upgradeMs ?? envSeconds(env, 'GOMAN_SIM_UPGRADE_SECONDS', 2) * 1000,
    restoreStepMs: opts.restoreStepMs ?? envSeconds(env, 'GOMAN_SIM_RESTORE_STEP_SECONDS', 1) * 1000,
    upgradeFailRate: opts.upgradeFailRate ?? rate(env, 'GOMAN_SIM_UPGRADE_FAIL_RATE'),
  };
  for (const [k, v] of Object.entries(settings)) {
    if (!(Number.isFinite(v) && v >= 0)) throw validationFailed(`sim setting ${k} must be a non-negative number`);
  }
  return settings;
}
