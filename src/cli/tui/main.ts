// `goman` on a terminal: the full-screen TUI against the current context.
import { render } from 'ink';
import type { GlobalOptions } from '../session.ts';
import { openSession } from '../session.ts';
import { colorEnabled } from '../output.ts';
import { App } from './app.ts';
import { h } from './h.ts';

export async function runTui(opts: GlobalOptions): Promise<void> {
  const s = await openSession(opts);
  // The alternate screen keeps the user's scrollback as it was once the TUI quits.
  process.stdout.write('\x1b[?1049h\x1b[H');
  try {
    const app = render(h(App, { backend: s.backend, contextName: s.context.name, color: colorEnabled(process.stdout) }), { exitOnCtrlC: true });
    await app.waitUntilExit();
  } finally {
    process.stdout.write('\x1b[?1049l');
  }
}
