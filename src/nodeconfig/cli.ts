// `goman snapshot | recipe | validate | bundle` (DESIGN §9). Each action imports its
// implementation when it runs, so registering these commands costs `goman --version` nothing.
import type { Command } from 'commander';
import { validationFailed } from '../domain/errors.ts';
import type { OutputFormat } from './format.ts';
import type { Toleration } from './bundle.ts';

function outputFormat(value: string | undefined, allowed: readonly OutputFormat[], fallback: OutputFormat): OutputFormat {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw validationFailed(`unknown output format "${value}"; allowed: ${allowed.join(', ')}`);
  return value as OutputFormat;
}

/** "5", "2.5s", "500ms" → milliseconds. */
export function parseTimeout(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > 600_000) throw validationFailed(`invalid --timeout "${value}": use seconds (5, 2.5s) or milliseconds (500ms), at most 10 minutes`);
  return ms;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseNodeSelector(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw validationFailed(`invalid --node-selector "${p}": expected key=value`);
    const key = p.slice(0, eq);
    if (Object.hasOwn(out, key)) throw validationFailed(`--node-selector names "${key}" more than once; give each once`);
    out[key] = p.slice(eq + 1);
  }
  return out;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

/** key[=value][:Effect], as kubectl taint writes taints. */
export function parseToleration(spec: string): Toleration {
  const m = /^([^=:\s]+)(?:=([^:\s]*))?(?::(\w+))?$/.exec(spec);
  if (!m?.[1]) throw validationFailed(`invalid --toleration "${spec}": expected key[=value][:Effect]`);
  const t: Toleration = m[2] === undefined ? { key: m[1], operator: 'Exists' } : { key: m[1], operator: 'Equal', value: m[2] };
  if (m[3] !== undefined) {
    if (!(EFFECTS as readonly string[]).includes(m[3])) throw validationFailed(`invalid toleration effect "${m[3]}"; allowed: ${EFFECTS.join(', ')}`);
    t.effect = m[3] as Toleration['effect'];
  }
  return t;
}

interface SnapshotFlags {
  output?: string;
  file?: string;
  timeout?: string;
}

interface RecipeFlags {
  service?: string;
  accelerator?: string;
  intent?: string;
  os?: string;
  nodes?: string;
  snapshot?: string;
  criteria?: string;
  output?: string;
}

export async function runSnapshot(flags: SnapshotFlags): Promise<void> {
  const [{ collectSnapshot }, fmt, { writeFileAtomic, namingFlag }] = await Promise.all([import('./snapshot/index.ts'), import('./format.ts'), import('../util/files.ts')]);
  const timeoutMs = flags.timeout === undefined ? undefined : parseTimeout(flags.timeout);
  const fallback: OutputFormat = flags.file ? (flags.file.endsWith('.json') ? 'json' : 'yaml') : process.stdout.isTTY ? 'table' : 'yaml';
  const format = outputFormat(flags.output, ['json', 'yaml', 'table'], fallback);
  const snapshot = await collectSnapshot(timeoutMs === undefined ? {} : { timeoutMs });
  const text = format === 'table' ? fmt.snapshotTable(snapshot) : await fmt.serialize(snapshot, format);
  if (flags.file) await namingFlag('--file', writeFileAtomic(flags.file, text));
  else process.stdout.write(text);
}

export async function runRecipe(flags: RecipeFlags): Promise<void> {
  const [criteriaMod, { buildRecipe }, fmt, files] = await Promise.all([
    import('./recipe/criteria.ts'),
    import('./recipe/engine.ts'),
    import('./format.ts'),
    import('./files.ts'),
  ]);
  const format = outputFormat(flags.output, ['json', 'yaml'], 'yaml') === 'json' ? 'json' : 'yaml';
  if (flags.snapshot && flags.criteria) throw validationFailed('use either --snapshot or --criteria, not both');
  const explicit = { service: flags.service, accelerator: flags.accelerator, intent: flags.intent, os: flags.os, nodes: flags.nodes };
  const given = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined));
  let criteria;
  if (flags.snapshot) {
    criteria = criteriaMod.criteriaFromSnapshot(files.parseSnapshot(await files.readDocument(flags.snapshot), `--snapshot ${flags.snapshot}`), given);
  } else if (flags.criteria) {
    const doc = await files.readDocument(flags.criteria);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw validationFailed(`${flags.criteria}: criteria must be a mapping`);
    criteria = criteriaMod.parseCriteria({ ...(doc as Record<string, unknown>), ...given });
  } else {
    criteria = criteriaMod.parseCriteria(given);
  }
  process.stdout.write(await fmt.serialize(buildRecipe(criteria), format));
}

export async function runValidate(flags: { recipe: string; snapshot: string; output?: string }): Promise<boolean> {
  const [{ validate }, fmt, files] = await Promise.all([import('./validate.ts'), import('./format.ts'), import('./files.ts')]);
  const format = outputFormat(flags.output, ['json', 'yaml', 'table'], 'table');
  const recipe = files.parseRecipe(await files.readDocument(flags.recipe), `--recipe ${flags.recipe}`);
  const snapshot = files.parseSnapshot(await files.readDocument(flags.snapshot), `--snapshot ${flags.snapshot}`);
  const report = validate(recipe, snapshot);
  process.stdout.write(format === 'table' ? fmt.validationTable(report) : await fmt.serialize(report, format));
  return report.summary.failed === 0;
}

export async function runBundle(flags: { recipe: string; dir: string; name?: string; nodeSelector?: string[]; toleration?: string[] }): Promise<void> {
  const [{ bundleFiles, writeBundle }, files, { namingFlag }] = await Promise.all([import('./bundle.ts'), import('./files.ts'), import('../util/files.ts')]);
  const recipe = files.parseRecipe(await files.readDocument(flags.recipe), `--recipe ${flags.recipe}`);
  const opts: Parameters<typeof bundleFiles>[1] = {};
  if (flags.name) opts.name = flags.name;
  if (flags.nodeSelector?.length) opts.nodeSelector = parseNodeSelector(flags.nodeSelector);
  if (flags.toleration?.length) opts.tolerations = flags.toleration.map(parseToleration);
  const written = await namingFlag('--dir', writeBundle(flags.dir, bundleFiles(recipe, opts)));
  process.stdout.write(`wrote ${written.length} files to ${flags.dir}\n`);
}

/**
 * The command's options with the program's: goman's CLI declares -o/--output on the program
 * itself, and commander hands a global option to the program, not to the subcommand.
 */
function flagsOf<T>(cmd: Command): T {
  return cmd.optsWithGlobals<T & object>();
}

export function registerNodeConfigCommands(program: Command): void {
  program
    .command('snapshot')
    .description("record this node's OS, GPU, systemd and Kubernetes configuration")
    .option('-o, --output <format>', 'json, yaml or table (table on a terminal, else yaml)')
    .option('--file <path>', 'write to a file instead of stdout')
    .option('--timeout <duration>', 'deadline for all collectors, e.g. 5s or 500ms', '5s')
    .action((_flags: unknown, cmd: Command) => runSnapshot(flagsOf<SnapshotFlags>(cmd)));

  program
    .command('recipe')
    .description('recommended components, versions and constraints for a kind of GPU cluster')
    .option('--service <service>', 'eks, gke, aks, oke or any')
    .option('--accelerator <gpu>', 'h100, gb200, a100, l40 or any')
    .option('--intent <intent>', 'training, inference or any')
    .option('--os <os>', 'ubuntu, rhel, cos, amazonlinux or any')
    .option('--nodes <n>', 'number of GPU nodes')
    .option('--snapshot <file>', 'read the criteria from a snapshot (flags still win)')
    .option('--criteria <file>', 'read the criteria from a YAML or JSON file (flags still win)')
    .option('-o, --output <format>', 'json or yaml (default yaml)')
    .action((_flags: unknown, cmd: Command) => runRecipe(flagsOf<RecipeFlags>(cmd)));

  program
    .command('validate')
    .description("check a snapshot against a recipe's constraints (exit 1 on any failure)")
    .requiredOption('--recipe <file>', 'recipe (from goman recipe)')
    .requiredOption('--snapshot <file>', 'snapshot (from goman snapshot)')
    .option('-o, --output <format>', 'table, json or yaml (default table)')
    .action(async (_flags: unknown, cmd: Command) => {
      if (!(await runValidate(flagsOf<{ recipe: string; snapshot: string; output?: string }>(cmd)))) process.exitCode = 1;
    });

  program
    .command('bundle')
    .description('write a recipe as a Helm umbrella chart')
    .requiredOption('--recipe <file>', 'recipe (from goman recipe)')
    .requiredOption('--dir <dir>', 'output directory')
    .option('--name <name>', 'chart name', 'goman-recipe')
    .option('--node-selector <key=value>', 'schedule every component onto matching nodes (repeatable)', collect)
    .option('--toleration <key[=value][:Effect]>', 'tolerate one taint in every component (repeatable)', collect)
    .action((_flags: unknown, cmd: Command) => runBundle(flagsOf<{ recipe: string; dir: string; name?: string; nodeSelector?: string[]; toleration?: string[] }>(cmd)));
}
