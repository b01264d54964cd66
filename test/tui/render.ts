// The TUI as its component tests drive it: the real App over a FakeBackend in
// ink-testing-library's virtual terminal, keys in through stdin, frames out of lastFrame().
// Import it only after setting FORCE_COLOR: chalk decides on colour when ink loads.
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, render } from 'ink-testing-library';
import { App } from '../../src/cli/tui/app.ts';
import { h } from '../../src/cli/tui/h.ts';
import type { FakeBackend } from './fake-backend.ts';
import { until } from './frames.ts';

export { cleanup };

export function start(backend: FakeBackend, color = true) {
  const app = render(h(App, { backend, contextName: 'test', color }));
  const type = async (...keys: string[]): Promise<void> => {
    for (const k of keys) {
      app.stdin.write(k);
      await sleep(15); // one keypress at a time, as a person types
    }
  };
  return { app, type, frame: () => app.lastFrame() };
}

/** The scale form of `name`, opened from the list. */
export async function openScaleForm({ frame, type }: ReturnType<typeof start>, name: string): Promise<void> {
  await until(frame, (x) => x.includes(name), 'list');
  await type('s');
  await until(frame, (x) => x.includes(`Scale ${name}`), 'scale form');
}
