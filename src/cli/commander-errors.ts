// commander prints multi-line errors and exits by itself; goman wants one line and exit 2.
// Before any action runs, flags that would be silently ignored are refused (see checkFlags).
import type { Command } from 'commander';
import { UsageError } from './errors.ts';

export function configureErrors(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: () => undefined });
  if (!cmd.parent) cmd.hook('preAction', (_root, action) => checkFlags(action));
  for (const sub of cmd.commands) configureErrors(sub);
}

/** The command and its ancestors: global options live on the program. */
function lineage(cmd: Command): Command[] {
  const out: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) out.push(c);
  return out;
}

/**
 * Refuses what a command would accept and then ignore: an empty value (`--instance-type ''`
 * would otherwise mean "not given"), and `--timeout` without `--wait`.
 */
export function checkFlags(cmd: Command): void {
  for (const c of lineage(cmd)) {
    for (const option of c.options) {
      const value: unknown = c.getOptionValue(option.attributeName());
      const values = Array.isArray(value) ? (value as unknown[]) : [value];
      if (values.some((v) => typeof v === 'string' && v.trim() === '')) {
        throw new UsageError(`${option.long ?? option.short ?? option.flags}: the value is empty; give one, or leave the flag out`);
      }
    }
  }
  const waits = cmd.options.some((o) => o.attributeName() === 'wait');
  if (waits && cmd.getOptionValueSource('timeout') === 'cli' && !cmd.getOptionValue('wait')) {
    throw new UsageError('--timeout only applies with --wait; add --wait or leave --timeout out');
  }
}
