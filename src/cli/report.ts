// Turns whatever a command threw into one line on stderr and an exit code.
import { CommanderError } from 'commander';
import { describeError, exitCodeFor, EXIT } from './errors.ts';
import { target } from './session.ts';

export function report(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // --help and --version end this way too, successfully.
    if (e.exitCode === 0) return EXIT.ok;
    // A command group without its subcommand (`goman token`): commander has just printed the
    // group's help, which lists them; its "(outputHelp)" message says nothing more.
    if (e.code === 'commander.help') return EXIT.usage;
    const text = e.message.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').trim();
    process.stderr.write(`goman: ${text} (see \`goman --help\`)\n`);
    return EXIT.usage;
  }
  process.stderr.write(`goman: ${describeError(e, target)}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return exitCodeFor(e);
}
