// `goman init` and `goman uninit` (DESIGN §8, §10). Heavy modules load only when the command runs.
import type { Command } from 'commander';

export function registerAwsCommands(program: Command): void {
  program
    .command('init')
    .description('create the serverless AWS setup (bucket, queue, Lambda, lock table, IAM) and the CLI context "aws"')
    .option('--dry-run', 'print what would be created, change nothing')
    .option('--region <region>', 'region of the account-level resources (default: GOMAN_REGION or ap-south-1)')
    .action(async (opts: { dryRun?: boolean; region?: string }) => {
      const [{ initAws }, { lineProgress }] = await Promise.all([import('./init.ts'), import('./progress.ts')]);
      await initAws({ region: opts.region, dryRun: Boolean(opts.dryRun), progress: lineProgress(), ...(opts.dryRun ? { configFile: false as const } : {}) });
    });
  program
    .command('uninit')
    .description('remove everything goman created in this AWS account (refuses while clusters exist)')
    .option('--force', 'also terminate the instances of clusters that still exist')
    .option('--region <region>', 'region of the account-level resources (default: GOMAN_REGION or ap-south-1)')
    .action(async (opts: { force?: boolean; region?: string }) => {
      const [{ uninitAws }, { lineProgress }] = await Promise.all([import('./uninit.ts'), import('./progress.ts')]);
      await uninitAws({ region: opts.region, force: Boolean(opts.force), progress: lineProgress() });
    });
}
