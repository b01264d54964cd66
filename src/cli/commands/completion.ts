// `goman completion bash|zsh|fish`: generated from the live command tree (program.ts loads the
// commands other modules register first), so it never drifts from the real flags. Completes commands, flags, the
// values of flags with a fixed set (-o, --provider, --role, …), files for path flags, cluster
// names for every command that takes one (`goman __names`) and context names for `--context`,
// `context use` and `context remove` (`goman __contexts`).
import type { Command, Option } from 'commander';

/** What a positional argument or a flag's value completes to. */
type Values = { kind: 'words'; words: readonly string[] } | { kind: 'clusters' } | { kind: 'contexts' } | { kind: 'files' } | { kind: 'none' };

interface FlagSpec {
  names: string[];
  long: string | undefined;
  short: string | undefined;
  description: string;
  value: Values | undefined;
}

interface Spec {
  /** "get", or "context use" for a subcommand. */
  path: string;
  name: string;
  names: string[];
  description: string;
  flags: FlagSpec[];
  subcommands: Spec[];
  argument: Values;
}

/** Placeholders of flags that name a file or folder. */
const PATH_VALUE = /<(path|file|dir)>/;

function flagSpec(o: Option): FlagSpec {
  let value: Values | undefined;
  if (o.required || o.optional) {
    if (o.argChoices?.length) value = { kind: 'words', words: o.argChoices };
    else if (o.long === '--context') value = { kind: 'contexts' };
    else if (PATH_VALUE.test(o.flags)) value = { kind: 'files' };
    else value = { kind: 'none' };
  }
  return { names: [o.long, o.short].filter((f): f is string => Boolean(f)), long: o.long, short: o.short, description: o.description, value };
}

/**
 * A top-level command whose first argument is a required `<name>` acts on a cluster;
 * under `context`, on a context. `create [name]` names a new cluster: nothing to complete.
 */
function argumentOf(cmd: Command): Values {
  const first = cmd.registeredArguments[0];
  if (first?.argChoices?.length) return { kind: 'words', words: first.argChoices };
  if (!first || !first.required || first.name() !== 'name') return { kind: 'none' };
  return cmd.parent?.name() === 'context' ? { kind: 'contexts' } : cmd.parent?.parent ? { kind: 'none' } : { kind: 'clusters' };
}

function spec(cmd: Command, parentPath = ''): Spec {
  const path = parentPath ? `${parentPath} ${cmd.name()}` : cmd.name();
  return {
    path,
    name: cmd.name(),
    names: [cmd.name(), ...cmd.aliases()],
    description: cmd.description().split('\n')[0] ?? '',
    flags: cmd.options.filter((o) => !o.hidden).map(flagSpec),
    subcommands: cmd.commands.filter((c) => !c.name().startsWith('__')).map((c) => spec(c, parentPath || cmd.parent ? path : '')),
    argument: argumentOf(cmd),
  };
}

/** The script for `shell`, from the program's own command tree (external commands loaded). */
export function completionScript(shell: 'bash' | 'zsh' | 'fish', program: Command): string {
  const root = spec(program);
  return shell === 'fish' ? fish(root) : bash(root, shell === 'zsh');
}

/** The words that select `c` on a line: "delete" and "rm", or "context use" and "context rm". */
function keysOf(c: Spec): string[] {
  const parent = c.path.includes(' ') ? `${c.path.split(' ')[0]} ` : '';
  return c.names.map((n) => `${parent}${n}`);
}

/** Every command a completion acts in: top-level ones and the subcommands of groups. */
function leaves(root: Spec): Spec[] {
  return root.subcommands.flatMap((c) => [c, ...c.subcommands]);
}

const shellWords = (words: readonly string[]): string => words.join(' ');

/** Bash: words for a value, as the body of a case branch that sets `words` (or asks for files). */
function bashValues(v: Values): string {
  switch (v.kind) {
    case 'words':
      return `words="${shellWords(v.words)}"`;
    case 'clusters':
      return 'words=$(goman __names $ctx 2>/dev/null)';
    case 'contexts':
      return 'words=$(goman __contexts 2>/dev/null)';
    case 'files':
      return 'files=1';
    case 'none':
      return 'return 0';
  }
}

function bash(root: Spec, zsh: boolean): string {
  const globalFlags = root.flags;
  const valueFlags = (flags: FlagSpec[]): FlagSpec[] => flags.filter((f) => f.value);
  const flagCases: string[] = [];
  for (const c of leaves(root)) {
    for (const f of valueFlags(c.flags)) flagCases.push(`    ${keysOf(c).flatMap((k) => f.names.map((n) => `"${k}:${n}"`)).join('|')}) ${bashValues(f.value as Values)};;`);
  }
  for (const f of valueFlags(globalFlags)) flagCases.push(`    ${f.names.map((n) => `*:${n}`).join('|')}) ${bashValues(f.value as Values)};;`);
  const takesValue = [...new Set([...globalFlags, ...leaves(root).flatMap((c) => c.flags)].filter((f) => f.value).flatMap((f) => f.names))];
  const groups = root.subcommands.filter((c) => c.subcommands.length > 0);
  const commandCases = leaves(root).map((c) => {
    const flags = shellWords([...c.flags, ...globalFlags].flatMap((f) => f.names));
    const words = c.subcommands.length ? shellWords(c.subcommands.flatMap((s) => s.names)) : '';
    const arg = c.subcommands.length ? `words="${words}"` : bashValues(c.argument).replace('return 0', 'words=""');
    return `    ${keysOf(c).map((k) => `"${k}"`).join('|')}) flags="${flags}"; ${arg};;`;
  });
  const body = `_goman_complete() {
  local cur prev cmd key ctx words flags files i w skip
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  # The command (and a group's subcommand) on the line so far, skipping flags and their values.
  cmd=""; key=""; ctx=""; skip=0
  for (( i=1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    if (( skip )); then skip=0; continue; fi
    case " ${takesValue.join(' ')} " in *" $w "*) skip=1; [ "$w" = --context ] && ctx="--context \${COMP_WORDS[i+1]}"; continue;; esac
    case "$w" in -*) continue;; esac
    if [ -z "$cmd" ]; then cmd="$w"; key="$w"
    elif [ "$key" = "$cmd" ]; then case " ${groups.flatMap((g) => g.names).join(' ')} " in *" $cmd "*) key="$cmd $w";; *) break;; esac
    else break; fi
  done
  words=""; files=0
  case "$key:$prev" in
${flagCases.join('\n')}
  esac
  if [ -n "$words" ] || (( files )); then
    if (( files )); then COMPREPLY=( $(compgen -f -- "$cur") ); else COMPREPLY=( $(compgen -W "$words" -- "$cur") ); fi
    return 0
  fi
  if [ -z "$cmd" ]; then
    COMPREPLY=( $(compgen -W "${shellWords(root.subcommands.flatMap((c) => c.names))} ${shellWords(globalFlags.flatMap((f) => f.names))}" -- "$cur") )
    return 0
  fi
  flags="${shellWords(globalFlags.flatMap((f) => f.names))}"
  case "$key" in
${commandCases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then words="$flags"; fi
  if (( files )); then COMPREPLY=( $(compgen -f -- "$cur") ); else COMPREPLY=( $(compgen -W "$words" -- "$cur") ); fi
}
complete -F _goman_complete goman
`;
  return zsh ? `#compdef goman\nautoload -U +X bashcompinit && bashcompinit\n${body}` : `# bash completion for goman\n${body}`;
}

function fish(root: Spec): string {
  const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const values = (v: Values | undefined): string => {
    switch (v?.kind) {
      case 'words':
        return ` -x -a ${q(shellWords(v.words))}`;
      case 'clusters':
        return " -x -a '(goman __names 2>/dev/null)'";
      case 'contexts':
        return " -x -a '(goman __contexts 2>/dev/null)'";
      case 'files':
        return ' -r -F';
      case 'none':
        return ' -x';
      default:
        return '';
    }
  };
  const flag = (f: FlagSpec): string => `${f.long ? ` -l ${f.long.slice(2)}` : ''}${f.short ? ` -s ${f.short.slice(1)}` : ''} -d ${q(f.description)}${values(f.value)}`;
  const lines = ['# fish completion for goman', 'complete -c goman -f'];
  for (const f of root.flags) lines.push(`complete -c goman${flag(f)}`);
  for (const c of root.subcommands) {
    for (const n of c.names) lines.push(`complete -c goman -n __fish_use_subcommand -a ${n} -d ${q(c.description)}`);
    const inCommand = `__fish_seen_subcommand_from ${c.names.join(' ')}`;
    for (const f of c.flags) lines.push(`complete -c goman -n ${q(inCommand)}${flag(f)}`);
    if (c.subcommands.length) {
      const anySub = c.subcommands.flatMap((s) => s.names).join(' ');
      for (const s of c.subcommands) {
        lines.push(`complete -c goman -n ${q(`${inCommand}; and not __fish_seen_subcommand_from ${anySub}`)} -a ${s.name} -d ${q(s.description)}`);
        const inSub = `${inCommand}; and __fish_seen_subcommand_from ${s.names.join(' ')}`;
        for (const f of s.flags) lines.push(`complete -c goman -n ${q(inSub)}${flag(f)}`);
        if (s.argument.kind !== 'none') lines.push(`complete -c goman -n ${q(inSub)}${values(s.argument).replace(/^ -[xr]/, '')}`);
      }
    } else if (c.argument.kind !== 'none') {
      lines.push(`complete -c goman -n ${q(inCommand)}${values(c.argument).replace(/^ -[xr]/, '')}`);
    }
  }
  return lines.join('\n') + '\n';
}

export async function completion(shell: 'bash' | 'zsh' | 'fish', program: Command): Promise<void> {
  process.stdout.write(completionScript(shell, program));
}
