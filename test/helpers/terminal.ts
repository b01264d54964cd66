// A real terminal for end-to-end tests: a tmux session on its own server socket, a screen to
// read and keys to send. `see` polls the screen with a deadline; nothing sleeps blindly.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { eventually } from './eventually.ts';

export interface Terminal {
  screen: () => string;
  keys: (...k: string[]) => void;
  /** Types `s` literally. */
  text: (s: string) => void;
  /** Waits until the screen matches, and returns it; fails with the last screen. */
  see: (what: RegExp | ((screen: string) => boolean), label: string, timeoutMs?: number) => Promise<string>;
}

/** True when tmux is here; in CI its absence fails the test rather than skipping it. */
export function needTmux(t: TestContext): boolean {
  if (spawnSync('tmux', ['-V']).status === 0) return true;
  if (process.env.CI) throw new Error('tmux is required in CI');
  t.skip('tmux is not installed');
  return false;
}

/**
 * Runs `command` in a fresh tmux server of `cols`x`rows`, with only the environment given (env -i:
 * the tmux server would otherwise pass on the runner's, CI=true included, and ink renders only
 * the last frame under CI). The server goes when the test ends.
 */
export function openTerminal(t: TestContext, command: string, env: Record<string, string | undefined>, size = { cols: 160, rows: 45 }): Terminal {
  const socket = `goman-term-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const vars = Object.entries({ ...env, TERM: 'xterm-256color' })
    .filter(([k, v]) => v !== undefined && /^(GOMAN_|XDG_CONFIG_HOME|NO_COLOR|TERM|PATH|HOME)/.test(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  const started = tmux('new-session', '-d', '-s', 'main', '-x', String(size.cols), '-y', String(size.rows), `env -i ${vars} ${command}`);
  if (started.status !== 0) throw new Error(`tmux did not start: ${started.stderr}`);
  t.after(() => void tmux('kill-server'));
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'main').stdout ?? '';
  return {
    screen,
    keys: (...k) => void tmux('send-keys', '-t', 'main', ...k),
    text: (s) => void tmux('send-keys', '-t', 'main', '-l', s),
    see: async (what, label, timeoutMs = 30_000) => {
      const pred = typeof what === 'function' ? what : (s: string) => what.test(s);
      const found = await eventually(
        label,
        () => {
          const s = screen();
          if (!pred(s)) throw new Error(`screen:\n${s}`);
          return { s };
        },
        { timeoutMs, intervalMs: 100 },
      );
      return found.s;
    },
  };
}
