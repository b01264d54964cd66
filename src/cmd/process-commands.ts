// `goman serve` and `goman controller`: settings from flags, then environment (flags win,
// DESIGN §10), handed to the server runtime.
import type { ControllerFlags, ServeFlags } from '../cli/program.ts';

const env = (name: string): string | undefined => process.env[name] || undefined;

export async function serve(flags: ServeFlags): Promise<void> {
  const { runServe } = await import('./serve.ts');
  // Flags only: the settings read the environment themselves, so their errors can say which one was wrong.
  await runServe({
    listen: flags.listen,
    dataDir: flags.dataDir,
    databaseUrl: flags.databaseUrl,
    busUrl: flags.busUrl,
    controllers: flags.controllers,
    auth: flags.auth,
    logLevel: flags.logLevel,
  });
}

export async function controller(flags: ControllerFlags): Promise<void> {
  const { runController } = await import('./controller.ts');
  await runController({
    provider: flags.provider,
    source: flags.source,
    context: flags.context ?? env('GOMAN_CONTEXT'),
    databaseUrl: flags.databaseUrl ?? env('GOMAN_DATABASE_URL'),
    busUrl: flags.busUrl ?? env('GOMAN_BUS_URL'),
  });
}
