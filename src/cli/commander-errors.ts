// commander prints multi-line errors and exits by itself; goman wants one line and exit 2.
import type { Command } from 'commander';

export function configureErrors(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: () => undefined });
  for (const sub of cmd.commands) configureErrors(sub);
}
