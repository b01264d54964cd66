// `goman serve` and `goman controller`: settings from flags, then environment (flags win,
// DESIGN §10), handed to the server runtime.
import type { ControllerFlags, ServeFlags } from '../cli/program.ts';

const env = (name: string): string | undefined => process.env[name] || undefined;

export async function serve(flags: ServeFlags): Promise<void> {
  const { runServe } = await import('./serve.ts');
  await runServe({
    listen: flags.listen ?? env('GOMAN_LISTEN'),
    dataDir: flags.dataDir ?? env('GOMAN_DATA_DIR'),
    databaseUrl: flags.databaseUrl ?? env('GOMAN_DATABASE_URL'),
    busUrl: flags.busUrl ?? env('GOMAN_BUS_URL'),
    controllers: flags.controllers,
    auth: flags.auth ?? env('GOMAN_AUTH'),
    logLevel: flags.logLevel ?? env('GOMAN_LOG_LEVEL'),
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
