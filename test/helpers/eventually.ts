// The one way tests wait. `eventually` polls until a probe yields a value (or true); `consistently`
// polls for a whole window and fails the moment a probe breaks its promise. Neither relies on a
// fixed sleep being "long enough": a slow machine only makes a passing test slower.
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep trying (eventually) or to keep checking (consistently). */
  timeoutMs?: number;
  /** Pause between probes. */
  intervalMs?: number;
}

type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Resolves with the first truthy value the probe returns. A probe that throws is retried; its last
 * error is reported if time runs out, so a failing test says what it last saw.
 */
export async function eventually<T>(what: string, probe: Probe<T>, opts: PollOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/**
 * Checks the probe repeatedly for the whole window and throws at the first failed check. Use it for
 * negative assertions ("nothing else happens"): it fails fast when something does.
 */
export async function consistently(what: string, probe: () => boolean | Promise<boolean>, opts: PollOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 500;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await probe())) throw new Error(`expected ${what} to hold throughout ${timeoutMs} ms, but it did not`);
    if (Date.now() >= deadline) return;
    await sleep(intervalMs);
  }
}
