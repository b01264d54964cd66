// The command tree. Only commander is loaded here: each action imports its implementation
// when it runs, so `goman --version` and `goman --help` stay as fast as node itself.
import { Command, Option } from 'commander';
import { collect } from './flags.ts';

type Action = (...args: unknown[]) => Promise<void>;

/** An action that loads `module` and calls its export `fn` with the command's positional args and merged options. */
function lazy(load: () => Promise<Record<string, unknown>>, fn: string): Action {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const positional = args.slice(0, -2);
    const mod = await load();
    const impl = mod[fn] as (...a: unknown[]) => Promise<void>;
    await impl(...positional, cmd.optsWithGlobals());
  };
}

const clusters = () => import('./commands/clusters.ts');
const wait = (c: Command): Command =>
  c.option('--wait', 'wait until the change is done, showing progress').option('--timeout <duration>', 'give up waiting after this long', '10m');

export function buildProgram(version: string): Command {
  const program = new Command('goman')
    .description('Manage the whole life of K3s clusters on cloud VMs.\nRun with no arguments on a terminal for the interactive UI.')
    .version(version, '-v, --version')
    .option('--context <name>', 'context to use (default: GOMAN_CONTEXT or the current context)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']))
    .option('--debug', 'print stack traces of errors')
    .showSuggestionAfterError(true);

  program
    .command('serve')
    .description('run the goman server (API, scheduler and built-in controllers)')
    .option('--listen <addr>', 'host:port to listen on (GOMAN_LISTEN, default 127.0.0.1:8080)')
    .option('--data-dir <dir>', 'data directory (GOMAN_DATA_DIR, default ~/.local/share/goman)')
    .option('--database-url <url>', 'PostgreSQL URL instead of SQLite (GOMAN_DATABASE_URL)')
    .option('--bus-url <url>', 'NATS URL instead of the in-process bus (GOMAN_BUS_URL)')
    .option('--no-controllers', 'run the API, relay and scheduler only')
    .addOption(new Option('--auth <mode>', 'authentication (GOMAN_AUTH)').choices(['token', 'gateway']))
    .option('--log-level <level>', 'log level (GOMAN_LOG_LEVEL)')
    .action(lazy(() => import('../cmd/process-commands.ts'), 'serve'));

  program
    .command('controller')
    .description('run a controller worker against a server or queue')
    .addOption(new Option('--provider <provider>', 'provider to act for').choices(['sim', 'aws']).makeOptionMandatory())
    .addOption(new Option('--source <source>', 'where events come from').choices(['bus', 'sqs']))
    .option('--database-url <url>', 'PostgreSQL URL (GOMAN_DATABASE_URL)')
    .option('--bus-url <url>', 'NATS URL (GOMAN_BUS_URL)')
    .action(lazy(() => import('../cmd/process-commands.ts'), 'controller'));

  wait(
    program
      .command('create')
      .description('create a cluster')
      .argument('[name]', 'cluster name (or metadata in -f)')
      .option('-f, --file <path>', 'spec file (YAML or JSON: {name?, labels?, spec} or a bare spec)')
      .addOption(new Option('--provider <provider>', 'provider').choices(['sim', 'aws']))
      .addOption(new Option('--mode <mode>', 'dev: 1 server, ha: 3 servers').choices(['dev', 'ha']))
      .option('--region <region>', 'cloud region')
      .option('--instance-type <type>', 'instance type of the servers')
      .option('--k3s-version <version>', 'K3s version: stable, latest or e.g. v1.31.4+k3s1')
      .option('--pool <NAME=COUNT[:TYPE]>', 'node pool (repeatable)', collect)
      .option('-l, --label <KEY=VALUE>', 'label (repeatable)', collect),
  ).action(lazy(clusters, 'create'));

  program
    .command('list')
    .alias('ls')
    .description('list clusters')
    .option('--phase <phase>', 'only clusters in this phase')
    .addOption(new Option('--provider <provider>', 'only clusters of this provider').choices(['sim', 'aws']))
    .option('-l, --selector <selector>', 'label selector, e.g. team=a,env!=prod')
    .action(lazy(clusters, 'list'));

  program.command('get').description('show one cluster').argument('<name>').action(lazy(clusters, 'get'));

  program
    .command('edit')
    .description('edit a cluster spec and labels in $EDITOR')
    .argument('<name>')
    .action(lazy(() => import('./commands/edit.ts'), 'edit'));

  wait(
    program
      .command('scale')
      .description('change node pool sizes')
      .argument('<name>')
      .requiredOption('--pool <NAME=COUNT>', 'pool size (repeatable)', collect),
  ).action(lazy(clusters, 'scale'));

  wait(program.command('stop').description('stop a cluster (instances stopped, state kept)').argument('<name>')).action(lazy(clusters, 'stop'));
  wait(program.command('start').description('start a stopped cluster').argument('<name>')).action(lazy(clusters, 'start'));
  wait(
    program
      .command('delete')
      .alias('rm')
      .description('delete a cluster and its cloud resources')
      .argument('<name>')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(lazy(clusters, 'remove'));

  program
    .command('events')
    .description('history of a cluster: spec changes, phase transitions, errors')
    .argument('<name>')
    .option('--limit <n>', 'most recent entries to show', '50')
    .action(lazy(clusters, 'events'));

  program.command('watch').description('stream cluster changes as they happen').action(lazy(clusters, 'watch'));

  const token = program.command('token').description('API tokens (admin)');
  const tokens = () => import('./commands/tokens.ts');
  token
    .command('create')
    .description('create a token (shown once)')
    .requiredOption('--subject <subject>', 'who the token is for, e.g. an email')
    .addOption(new Option('--role <role>', 'role').choices(['user', 'controller', 'admin']).default('user'))
    .option('--expires-in <duration>', 'lifetime, e.g. 30d or 12h')
    .action(lazy(tokens, 'createToken'));
  token.command('list').description('list tokens').action(lazy(tokens, 'listTokens'));
  token.command('revoke').description('revoke a token').argument('<id>').action(lazy(tokens, 'revokeToken'));

  const context = program.command('context').description('where commands go: goman servers or S3 buckets');
  const contexts = () => import('./commands/contexts.ts');
  context.command('list').description('list contexts').action(lazy(contexts, 'listContexts'));
  context.command('current').description('print the current context').action(lazy(contexts, 'currentContext'));
  context.command('use').description('make a context current').argument('<name>').action(lazy(contexts, 'useContextCmd'));
  context
    .command('add')
    .description('add or replace a context')
    .argument('<name>')
    .option('--server <url>', 'goman server URL')
    .option('--token <token>', 'API token for the server (or GOMAN_TOKEN)')
    .option('--bucket <bucket>', 'S3 bucket (serverless mode)')
    .option('--region <region>', 'AWS region of the bucket', process.env.GOMAN_REGION ?? 'ap-south-1')
    .option('--no-use', 'do not make it the current context')
    .action(lazy(contexts, 'addContext'));
  context.command('remove').alias('rm').description('remove a context').argument('<name>').action(lazy(contexts, 'removeContextCmd'));

  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Command().createArgument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(lazy(() => import('./commands/completion.ts'), 'completion'));

  // For shell completion: cluster names of the current context, one per line.
  program.command('__names', { hidden: true }).action(lazy(clusters, 'names'));

  registerExternalStubs(program);
  return program;
}

/**
 * Commands other parts of goman implement (node configuration, serverless AWS set-up). Their
 * modules register the real commands; until one is needed, a stub stands in for help output.
 */
export const EXTERNAL_COMMANDS: Record<string, { module: string; register: string; description: string }> = {
  snapshot: { module: '../nodeconfig/cli.ts', register: 'registerNodeConfigCommands', description: "capture this node's OS, GPU, systemd and Kubernetes configuration" },
  recipe: { module: '../nodeconfig/cli.ts', register: 'registerNodeConfigCommands', description: 'recommended component versions for a platform' },
  validate: { module: '../nodeconfig/cli.ts', register: 'registerNodeConfigCommands', description: 'check a snapshot against a recipe' },
  bundle: { module: '../nodeconfig/cli.ts', register: 'registerNodeConfigCommands', description: 'write a Helm umbrella chart for a recipe' },
  init: { module: './aws/register.ts', register: 'registerAwsCommands', description: 'create the serverless AWS resources (bucket, queue, Lambda, locks)' },
  uninit: { module: './aws/register.ts', register: 'registerAwsCommands', description: 'remove the serverless AWS resources' },
  kubeconfig: { module: './aws/register.ts', register: 'registerAwsCommands', description: 'write the kubeconfig of an aws cluster to a local file (0600)' },
};

function registerExternalStubs(program: Command): void {
  for (const [name, ext] of Object.entries(EXTERNAL_COMMANDS)) {
    program
      .command(name)
      .description(ext.description)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async () => {
        const { UsageError } = await import('./errors.ts');
        throw new UsageError(`\`goman ${name}\` is not available in this build`);
      });
  }
}

/**
 * Replace the stub of `name` by the real commands from its module. Returns false when the
 * module is not part of this build (the stub then reports it).
 */
export async function loadExternal(program: Command, name: string): Promise<boolean> {
  const ext = EXTERNAL_COMMANDS[name];
  if (!ext) return false;
  const url = new URL(ext.module, import.meta.url);
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  if (!existsSync(fileURLToPath(url))) return false;
  const mod = (await import(url.href)) as Record<string, unknown>;
  const register = mod[ext.register];
  if (typeof register !== 'function') return false;
  const siblings = Object.entries(EXTERNAL_COMMANDS).filter(([, e]) => e.module === ext.module).map(([n]) => n);
  // commander has no removeCommand: drop the stubs from its list before the module adds the real ones.
  const list = program.commands as Command[];
  for (let i = list.length - 1; i >= 0; i--) if (siblings.includes(list[i]?.name() ?? '')) list.splice(i, 1);
  (register as (p: Command) => void)(program);
  return true;
}
