// `goman` entry point. Kept tiny on purpose: `goman --version` must start about as fast as
// `node -e 0`, so nothing but node built-ins loads before the command is known.
import { readFileSync } from 'node:fs';
import module from 'node:module';

// Later imports (command modules, the TUI) reuse their compiled and type-stripped code.
module.enableCompileCache?.();

const argv = process.argv.slice(2);
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  process.stdout.write(`goman ${version}\n`);
} else if (argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY) {
  await run(async () => (await import('../cli/tui/main.ts')).runTui({}));
} else {
  await run(async () => {
    const { buildProgram, loadExternal } = await import('../cli/program.ts');
    const program = buildProgram(version);
    const word = commandWord(argv);
    if (word) await loadExternal(program, word);
    const { configureErrors } = await import('../cli/commander-errors.ts');
    configureErrors(program);
    await program.parseAsync(argv, { from: 'user' });
  });
}

async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
    process.exit(process.exitCode ?? 0);
  } catch (e) {
    const { report } = await import('../cli/report.ts');
    process.exit(report(e, argv.includes('--debug') || Boolean(process.env.GOMAN_DEBUG)));
  }
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
