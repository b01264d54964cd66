// `goman completion bash|zsh|fish`: generated from the command tree, so it never drifts from
// the real flags. Cluster names complete from `goman __names` (the current context).
import type { Command } from 'commander';

interface Spec {
  name: string;
  description: string;
  flags: string[];
  subcommands: Spec[];
  takesCluster: boolean;
}

const CLUSTER_COMMANDS = new Set(['get', 'edit', 'scale', 'stop', 'start', 'delete', 'events']);

function spec(cmd: Command): Spec {
  return {
    name: cmd.name(),
    description: cmd.description().split('\n')[0] ?? '',
    flags: cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))),
    subcommands: cmd.commands.filter((c) => !c.name().startsWith('__')).map(spec),
    takesCluster: CLUSTER_COMMANDS.has(cmd.name()),
  };
}

/** The script for `shell`, from the program's own command tree. */
export function completionScript(shell: 'bash' | 'zsh' | 'fish', program: Command): string {
  const root = spec(program);
  return shell === 'fish' ? fish(root) : bash(root, shell === 'zsh');
}

function bash(root: Spec, zsh: boolean): string {
  const global = root.flags.join(' ');
  const cases = root.subcommands
    .map((c) => {
      const subs = c.subcommands.map((s) => s.name).join(' ');
      const flags = [...c.flags, ...c.subcommands.flatMap((s) => s.flags)].join(' ');
      const names = c.takesCluster ? 'names=$(goman __names 2>/dev/null);' : '';
      return `    ${c.name})\n      ${names}words_="${subs} ${flags} ${global}";;`;
    })
    .join('\n');
  const body = `_goman_complete() {
  local cur cmd words_ names
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${root.subcommands.map((c) => c.name).join(' ')} ${global}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$words_ $names" -- "$cur") )
}
complete -F _goman_complete goman
`;
  return zsh ? `#compdef goman\nautoload -U +X bashcompinit && bashcompinit\n${body}` : `# bash completion for goman\n${body}`;
}

function fish(root: Spec): string {
  const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# fish completion for goman', 'complete -c goman -f'];
  for (const f of root.flags) lines.push(`complete -c goman ${flag(f)}`);
  for (const c of root.subcommands) {
    lines.push(`complete -c goman -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`);
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const s of c.subcommands) lines.push(`complete -c goman ${when} -a ${s.name} -d ${q(s.description)}`);
    for (const f of [...c.flags, ...c.subcommands.flatMap((s) => s.flags)]) lines.push(`complete -c goman ${when} ${flag(f)}`);
    if (c.takesCluster) lines.push(`complete -c goman ${when} -a '(goman __names 2>/dev/null)'`);
  }
  return lines.join('\n') + '\n';
}

function flag(f: string): string {
  return f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`;
}

export async function completion(shell: 'bash' | 'zsh' | 'fish', program: Command): Promise<void> {
  process.stdout.write(completionScript(shell, program));
}
