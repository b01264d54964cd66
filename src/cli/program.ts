// The command tree. Only commander is loaded here: each action imports its implementation
// when it runs, so `goman --version` and `goman --help` stay as fast as node itself.
import { Command, Option } from 'commander';
import { collect } from './flags.ts';
import type { GlobalOptions } from './session.ts';

/** What a command's implementation is handed: its positional arguments, then the merged options. */
type Impl = (...args: never[]) => Promise<void>;

/**
 * An action that loads its module only when the command runs and calls the implementation
 * `pick` names. `pick` is a typed property access, so a renamed or missing export fails the
 * type check instead of failing at run time.
 */
function lazy<M>(load: () => Promise<M>, pick: (mod: M) => Impl): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const positional = args.slice(0, -2);
    const impl = pick(await load()) as (...a: unknown[]) => Promise<void>;
    await impl(...positional, cmd.optsWithGlobals());
  };
}

/** Options of `goman serve`, as commander parses them (flags only; the environment is read later). */
export interface ServeFlags extends GlobalOptions {
  listen?: string;
  dataDir?: string;
  databaseUrl?: string;
  busUrl?: string;
  controllers: boolean;
  auth?: string;
  logLevel?: string;
  resetAdminToken?: boolean;
}

export interface ControllerFlags extends GlobalOptions {
  provider: 'sim' | 'aws';
  source?: 'bus' | 'sqs';
  databaseUrl?: string;
  busUrl?: string;
}

/**
 * The commands that start a long-running process. Wiring a process is the composition root's
 * job (src/cmd), so it hands them in; without them (completion, tests) the commands still show
 * in help and say they are not available.
 */
export interface ProcessCommands {
  serve: (flags: ServeFlags) => Promise<void>;
  controller: (flags: ControllerFlags) => Promise<void>;
}

const noProcesses: ProcessCommands = {
  serve: () => unavailable('serve'),
  controller: () => unavailable('controller'),
};

async function unavailable(name: string): Promise<never> {
  const { UsageError } = await import('./errors.ts');
  throw new UsageError(`\`goman ${name}\` is not available in this build`);
}

const clusters = () => import('./commands/clusters.ts');
const wait = (c: Command): Command =>
  c.option('--wait', 'wait until the change is done, showing progress').option('--timeout <duration>', 'give up waiting after this long', '10m');

export function buildProgram(version: string, processes: ProcessCommands = noProcesses): Command {
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
    .option('--reset-admin-token', 'issue a new admin token in this data dir or database, print it, write it to the CLI config, and exit')
    .action(lazy(async () => processes, (p) => p.serve));

  program
    .command('controller')
    .description('run a controller worker against a server or queue')
    .addOption(new Option('--provider <provider>', 'provider to act for').choices(['sim', 'aws']).makeOptionMandatory())
    .addOption(new Option('--source <source>', 'where events come from').choices(['bus', 'sqs']))
    .option('--database-url <url>', 'PostgreSQL URL (GOMAN_DATABASE_URL)')
    .option('--bus-url <url>', 'NATS URL (GOMAN_BUS_URL)')
    .action(lazy(async () => processes, (p) => p.controller));

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
  ).action(lazy(clusters, (m) => m.create));

  program
    .command('list')
    .alias('ls')
    .description('list clusters')
    .option('--phase <phase>', 'only clusters in this phase')
    .addOption(new Option('--provider <provider>', 'only clusters of this provider').choices(['sim', 'aws']))
    .option('-l, --selector <selector>', 'label selector, e.g. team=a,env!=prod')
    .action(lazy(clusters, (m) => m.list));

  program.command('get').description('show one cluster').argument('<name>').action(lazy(clusters, (m) => m.get));

  // Declarative clusters (DESIGN §13): manifests in, plans and costs out.
  const manifests = (c: Command): Command =>
    c
      .requiredOption('-f, --filename <path...>', 'manifest files or folders (YAML or JSON; - for stdin)')
      .option('-R, --recursive', 'also read the folders inside -f folders');
  wait(
    manifests(program.command('apply').description('create and update clusters to match manifests'))
      .option('--prune', 'delete clusters that carry the -l selector and are in no file')
      .option('-l, --selector <selector>', 'with --prune: the clusters these files own, e.g. team=a')
      .option('--dry-run', 'print what would change; change nothing')
      .option('-y, --yes', 'do not ask before draining, replacing or deleting'),
  ).action(lazy(() => import('./commands/apply.ts'), (m) => m.apply));
  manifests(program.command('diff').description('what apply would change: spec diff, plan and cost (exit 1 when something differs)')).action(
    lazy(() => import('./commands/diff.ts'), (m) => m.diff),
  );
  program
    .command('plan')
    .description('the plan of a change, without making it')
    .argument('<name>')
    .option('--set <PATH=VALUE>', 'change a spec field, e.g. nodePools.workers.count=3 (repeatable)', collect)
    .action(lazy(() => import('./commands/plan.ts'), (m) => m.plan));
  program.command('cost').description('hourly and monthly cost of clusters, and the total').argument('[name]').action(lazy(() => import('./commands/cost.ts'), (m) => m.cost));

  program
    .command('edit')
    .description('edit a cluster spec and labels in $EDITOR')
    .argument('<name>')
    .action(lazy(() => import('./commands/edit.ts'), (m) => m.edit));

  wait(
    program
      .command('scale')
      .description('change node pool sizes')
      .argument('<name>')
      .requiredOption('--pool <NAME=COUNT>', 'pool size (repeatable)', collect),
  ).action(lazy(clusters, (m) => m.scale));

  wait(program.command('stop').description('stop a cluster (instances stopped, state kept)').argument('<name>')).action(lazy(clusters, (m) => m.stop));
  wait(program.command('start').description('start a stopped cluster').argument('<name>')).action(lazy(clusters, (m) => m.start));
  wait(
    program
      .command('delete')
      .alias('rm')
      .description('delete a cluster and its cloud resources')
      .argument('<name>')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(lazy(clusters, (m) => m.remove));

  // Day 2 (DESIGN §14): rollouts, snapshots and restore.
  const day2 = () => import('./commands/day2.ts');
  wait(
    program
      .command('upgrade')
      .description('roll the cluster to another K3s version, node by node (servers first, then agents)')
      .argument('<name>')
      .requiredOption('--k3s-version <version>', 'K3s release, e.g. v1.31.4+k3s1 (one minor version at a time)'),
  ).action(lazy(day2, (m) => m.upgrade));
  const rollout = program.command('rollout').description('follow and control a K3s rollout');
  wait(rollout.command('status').description('per-node progress of the rollout').argument('<name>')).action(lazy(day2, (m) => m.rolloutStatus));
  rollout.command('pause').description('start no further node').argument('<name>').action(lazy(day2, (m) => m.rolloutPause));
  rollout.command('resume').description('carry on after a pause (retries a node that did not come back)').argument('<name>').action(lazy(day2, (m) => m.rolloutResume));
  wait(rollout.command('undo').description('go back to the version the last rollout came from, under the same rules').argument('<name>')).action(
    lazy(day2, (m) => m.rolloutUndo),
  );
  wait(program.command('backup').description('take an etcd snapshot now').argument('<name>')).action(lazy(day2, (m) => m.backup));
  program.command('backups').description('list etcd snapshots: time, size, K3s version, location').argument('<name>').action(lazy(day2, (m) => m.backups));
  wait(
    program
      .command('restore')
      .description('restore an etcd snapshot at the K3s version it was taken at')
      .argument('<name>')
      .requiredOption('--snapshot <id>', 'snapshot id (goman backups NAME)')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(lazy(day2, (m) => m.restore));

  program
    .command('events')
    .description('history of a cluster: spec changes, phase transitions, errors')
    .argument('<name>')
    .option('--limit <n>', 'most recent entries to show', '50')
    .action(lazy(clusters, (m) => m.events));

  program.command('watch').description('stream cluster changes as they happen').action(lazy(clusters, (m) => m.watch));

  program
    .command('logs')
    .description("the controller's logs: CloudWatch for an S3 context, the server's controller events otherwise")
    .option('--follow', 'keep printing new lines')
    .option('--since <duration>', 'from this long ago, e.g. 10m or 1h', '1h')
    .option('--cluster <name>', 'only lines about this cluster')
    .action(lazy(() => import('./commands/logs.ts'), (m) => m.logs));

  const token = program.command('token').description('API tokens (admin)');
  const tokens = () => import('./commands/tokens.ts');
  token
    .command('create')
    .description('create a token (shown once)')
    .requiredOption('--subject <subject>', 'who the token is for, e.g. an email')
    .addOption(new Option('--role <role>', 'role').choices(['user', 'controller', 'admin']).default('user'))
    .option('--expires-in <duration>', 'lifetime, e.g. 30d or 12h')
    .action(lazy(tokens, (m) => m.createToken));
  token.command('list').description('list tokens').action(lazy(tokens, (m) => m.listTokens));
  token.command('revoke').description('revoke a token').argument('<id>').action(lazy(tokens, (m) => m.revokeToken));

  // Plural: `goman controller` runs a worker; these manage the server's registry (admin).
  const registry = program.command('controllers').description('controllers registered with the server (admin)');
  const controllers = () => import('./commands/controllers.ts');
  registry.command('list').description('list registered controllers and their last heartbeat').action(lazy(controllers, (m) => m.listControllers));
  registry
    .command('remove')
    .description('deregister a controller that is gone: its finalizers are released, so clusters stop waiting for it')
    .argument('<name>', 'controller name')
    .action(lazy(controllers, (m) => m.removeController));

  const context = program.command('context').description('where commands go: goman servers or S3 buckets');
  const contexts = () => import('./commands/contexts.ts');
  context.command('list').description('list contexts').action(lazy(contexts, (m) => m.listContexts));
  context.command('current').description('print the current context').action(lazy(contexts, (m) => m.currentContext));
  context.command('use').description('make a context current').argument('<name>').action(lazy(contexts, (m) => m.useContextCmd));
  context
    .command('add')
    .description('add or replace a context')
    .argument('<name>')
    .option('--server <url>', 'goman server URL')
    .option('--token <token>', 'API token for the server (or GOMAN_TOKEN)')
    .option('--bucket <bucket>', 'S3 bucket (serverless mode)')
    .option('--region <region>', 'AWS region of the bucket (default: GOMAN_REGION or ap-south-1)')
    .option('--no-use', 'do not make it the current context')
    .action(lazy(contexts, (m) => m.addContext));
  context.command('remove').alias('rm').description('remove a context').argument('<name>').action(lazy(contexts, (m) => m.removeContextCmd));

  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Command().createArgument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish', _opts: unknown, cmd: Command) => {
      const { completion } = await import('./commands/completion.ts');
      const root = cmd.parent ?? cmd;
      // The real commands of every external module, so their flags and arguments complete too.
      const loaded = new Set<Registrar>();
      for (const [name, ext] of Object.entries(EXTERNAL_COMMANDS)) {
        if (loaded.has(ext.load)) continue;
        loaded.add(ext.load);
        await loadExternal(root, name);
      }
      await completion(shell, root);
    });

  // For shell completion: cluster names of the current context, and context names, one per line.
  program.command('__names', { hidden: true }).action(lazy(clusters, (m) => m.names));
  program.command('__contexts', { hidden: true }).action(lazy(contexts, (m) => m.contextNames));

  registerExternalStubs(program);
  return program;
}

/** A module that registers real commands in place of stubs. */
type Registrar = () => Promise<(program: Command) => void>;

const nodeConfigCommands: Registrar = async () => (await import('../nodeconfig/cli.ts')).registerNodeConfigCommands;
const awsCommands: Registrar = async () => (await import('./aws/register.ts')).registerAwsCommands;

/**
 * Commands other parts of goman implement (node configuration, serverless AWS set-up). Their
 * modules register the real commands; until one is needed, a stub stands in for help output.
 */
export const EXTERNAL_COMMANDS: Record<string, { load: Registrar; description: string }> = {
  snapshot: { load: nodeConfigCommands, description: "capture this node's OS, GPU, systemd and Kubernetes configuration" },
  recipe: { load: nodeConfigCommands, description: 'recommended component versions for a platform' },
  validate: { load: nodeConfigCommands, description: 'check a snapshot against a recipe' },
  bundle: { load: nodeConfigCommands, description: 'write a Helm umbrella chart for a recipe' },
  init: { load: awsCommands, description: 'create the serverless AWS resources (bucket, queue, Lambda, locks)' },
  uninit: { load: awsCommands, description: 'remove the serverless AWS resources' },
  kubeconfig: { load: awsCommands, description: 'write the kubeconfig of an aws cluster to a local file (0600)' },
};

function registerExternalStubs(program: Command): void {
  for (const [name, ext] of Object.entries(EXTERNAL_COMMANDS)) {
    program
      .command(name)
      .description(ext.description)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => unavailable(name));
  }
}

/**
 * Replace the stub of `name` by the real commands from its module. Returns false when the
 * module is not part of this build (the stub then reports it).
 */
export async function loadExternal(program: Command, name: string): Promise<boolean> {
  const ext = EXTERNAL_COMMANDS[name];
  if (!ext) return false;
  let register: (program: Command) => void;
  try {
    register = await ext.load();
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') return false;
    throw e;
  }
  const siblings = Object.entries(EXTERNAL_COMMANDS).filter(([, e]) => e.load === ext.load).map(([n]) => n);
  // commander has no removeCommand: drop the stubs from its list before the module adds the real ones.
  const list = program.commands as Command[];
  for (let i = list.length - 1; i >= 0; i--) if (siblings.includes(list[i]?.name() ?? '')) list.splice(i, 1);
  register(program);
  return true;
}
