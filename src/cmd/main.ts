// `goman` entry point. Kept tiny on purpose: `goman --version` must start about as fast as
// `node -e 0`, so nothing but node built-ins and the version reader loads before the command
// is known.
import module from 'node:module';
import { workerData } from 'node:worker_threads';
import { isRelayThread } from './threads.ts';

// Later imports (command modules, the TUI) reuse their compiled and type-stripped code.
module.enableCompileCache?.();

const argv = process.argv.slice(2);

// `goman serve` runs its outbox relay in a worker thread of this same module (relay-thread.ts).
if (isRelayThread(workerData)) await (await import('./relay-thread.ts')).runRelayThread();
else await cli();

async function cli(): Promise<void> {
  // A reader that went away (`goman watch -o json | head -1`) ends goman quietly, as it ends cat;
  // any other failure to write output is one line, not Node's unhandled-error dump.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') process.stderr.write(`goman: cannot write the output: ${e.message}\n`);
    process.exit(e.code === 'EPIPE' ? 0 : 1);
  });
  process.stderr.on('error', () => process.exit(1));
  const version = (await import('../util/version.ts')).gomanVersion();

  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    process.stdout.write(`goman ${version}\n`);
  } else if (argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY) {
    await run(async () => (await import('../cli/tui/main.ts')).runTui({}));
  } else {
    await run(async () => {
      const { buildProgram, loadExternal } = await import('../cli/program.ts');
      const program = buildProgram(version, {
        serve: async (flags) => (await import('./process-commands.ts')).serve(flags),
        controller: async (flags) => (await import('./process-commands.ts')).controller(flags),
      });
      const word = commandWord(argv);
      if (word) await loadExternal(program, word);
      const { configureErrors } = await import('../cli/commander-errors.ts');
      configureErrors(program);
      await program.parseAsync(argv, { from: 'user' });
    });
  }
}

async function run(body: () => Promise<void>): Promise<void> {
  let code: number;
  try {
    await body();
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    const { report } = await import('../cli/report.ts');
    code = report(e, argv.includes('--debug') || Boolean(process.env.GOMAN_DEBUG));
  }
  await drained(process.stdout);
  await drained(process.stderr);
  process.exit(code);
}

/**
 * process.exit() drops whatever a pipe has not taken yet (64 KiB and more of `-o json` into a
 * slow reader), so exit only once the stream has flushed. A reader that went away (`| head`)
 * is not an error: there is nobody left to tell.
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.on('error', () => resolve());
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

/** The sub-command named on the line, skipping global flags and their values. */
function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--context' || a === '-o' || a === '--output') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}
