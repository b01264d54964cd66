// `goman init` and `goman uninit` (DESIGN §8, §10). Heavy modules load only when the command runs.
import type { Command } from 'commander';

export function registerAwsCommands(program: Command): void {
  program
    .command('init')
    .description('create the serverless AWS setup (bucket, queue, Lambda, lock table, IAM) and the CLI context "aws"')
    .option('--dry-run', 'print what would be created, change nothing')
    .option('--region <region>', 'region of the account-level resources (default: GOMAN_REGION or ap-south-1)')
    .option('--namespace <name>', 'an environment of its own in the same bucket: state under state/NAME/, its own queue, function and role, context aws-NAME')
    .action(async (opts: { dryRun?: boolean; region?: string; namespace?: string }) => {
      const [{ initAws }, { lineProgress }] = await Promise.all([import('./init.ts'), import('./progress.ts')]);
      await initAws({
        region: opts.region,
        namespace: opts.namespace,
        dryRun: Boolean(opts.dryRun),
        progress: lineProgress(),
        ...(opts.dryRun ? { configFile: false as const } : {}),
      });
    });
  program
    .command('uninit')
    .description('remove everything goman created in this AWS account (refuses while clusters exist)')
    .option('--force', 'also terminate the instances of clusters that still exist')
    .option('--region <region>', 'region of the account-level resources (default: GOMAN_REGION or ap-south-1)')
    .option('--namespace <name>', "remove only this namespace's queue, function, role, notification and state (the bucket only once no namespace is left)")
    .action(async (opts: { force?: boolean; region?: string; namespace?: string }) => {
      const [{ uninitAws }, { lineProgress }] = await Promise.all([import('./uninit.ts'), import('./progress.ts')]);
      await uninitAws({ region: opts.region, namespace: opts.namespace, force: Boolean(opts.force), progress: lineProgress() });
    });
  program
    .command('kubeconfig')
    .description('write the kubeconfig of an aws cluster to a local file (0600)')
    .argument('<name>', 'cluster name')
    .option('--file <path>', 'where to write it ("-" for stdout; default ~/.kube/goman-NAME.yaml)')
    .action(async (name: string, opts: { file?: string }, cmd: Command) => {
      const [{ openSession }, { readKubeconfig, writeKubeconfig, defaultKubeconfigPath }, { namingFlag }] = await Promise.all([
        import('../session.ts'),
        import('./kubeconfig.ts'),
        import('../../util/files.ts'),
      ]);
      const session = await openSession(cmd.optsWithGlobals());
      const cluster = (await session.backend.get(name)).value;
      const where = await namingFlag('--file', writeKubeconfig(await readKubeconfig(cluster), opts.file ?? defaultKubeconfigPath(cluster.name)));
      if (where !== 'stdout') process.stderr.write(`kubeconfig for ${cluster.name} written to ${where}\nexport KUBECONFIG=${where}\n`);
    });
}
