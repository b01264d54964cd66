// `goman serve` and `goman controller`: settings from flags, then environment (flags win,
// DESIGN §10), handed to the server runtime.
import type { ControllerFlags, ServeFlags } from '../cli/program.ts';

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
    resetAdminToken: flags.resetAdminToken,
  });
}

export async function controller(flags: ControllerFlags): Promise<void> {
  const { runController } = await import('./controller.ts');
  // Flags only, as for serve: the settings read the environment and name what was wrong.
  await runController({ provider: flags.provider, source: flags.source, context: flags.context, databaseUrl: flags.databaseUrl, busUrl: flags.busUrl });
}
