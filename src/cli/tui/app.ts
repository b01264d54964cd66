// The TUI: a live cluster list and the screens reached from it. Each screen is its own
// component; this one holds navigation state and turns actions into backend calls.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import type { Key } from 'ink';
import React from 'react';
import type { CreateClusterBody } from '../../client/backend.ts';
import type { ClusterBackend } from '../../client/backend.ts';
import type { Cluster } from '../../domain/cluster.ts';
import type { NodePool } from '../../domain/spec.ts';
import { describeError } from '../errors.ts';
import { DisconnectedBanner } from './banner.ts';
import { ClusterList } from './cluster-list.ts';
import { ConfirmDelete } from './confirm.ts';
import { CreateForm } from './create-form.ts';
import { Detail } from './detail.ts';
import { Footer, LIST_KEYS } from './footer.ts';
import type { Keys } from './footer.ts';
import { h, ThemeContext, useLiveState } from './h.ts';
import { HelpOverlay } from './help.ts';
import { newRouter, route, RouterContext } from './input-router.ts';
import { ScaleForm } from './scale-form.ts';
import { edited } from './text-field.ts';
import { matchesFilter, useClusters } from './use-clusters.ts';
import { useTerminalRows } from './viewport.ts';

type Screen = 'list' | 'detail' | 'create' | 'scale' | 'delete' | 'help';

export interface AppProps {
  backend: ClusterBackend;
  /** The context's name, shown in the title. */
  contextName: string;
  color: boolean;
}

export function App(props: AppProps) {
  return h(ThemeContext.Provider, { value: { color: props.color } }, h(Main, props));
}

function Main({ backend, contextName }: AppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const width = stdout.columns || 100;
  const rows = useTerminalRows();
  const feed = useClusters(backend);
  const [screen, setScreen, screenNow] = useLiveState<Screen>('list');
  const [filter, setFilter, filterNow] = useLiveState('');
  const [filtering, setFiltering, filteringNow] = useLiveState(false);
  const [selectedId, setSelectedId, selectedNow] = useLiveState<string | undefined>(undefined);
  const [message, setMessage] = React.useState<{ text: string; error: boolean } | undefined>(undefined);
  const [formError, setFormError] = React.useState<string | undefined>(undefined);
  const [busy, setBusy] = React.useState(false);
  const router = React.useRef(newRouter());
  // The title, the list's header, the footer (a blank line, a message, the keys), while
  // disconnected the banner's three lines, and one spare row (a frame as tall as the terminal
  // makes ink clear the screen) take their rows; the list gets the rest.
  const listHeight = Math.max(3, rows - 5 - (message ? 1 : 0) - (feed.connected ? 0 : 3));
  const listHeightNow = React.useRef(listHeight);
  listHeightNow.current = listHeight;

  // The handler may run before ink has swapped in this render's closure: read clusters by ref.
  const clustersNow = React.useRef(feed.clusters);
  clustersNow.current = feed.clusters;
  const visibleFor = (f: string): Cluster[] => clustersNow.current.filter((c) => matchesFilter(c, f));
  const indexIn = (list: readonly Cluster[], id: string | undefined): number => Math.max(0, list.findIndex((c) => c.id === id));
  const visible = visibleFor(filter);
  const index = indexIn(visible, selectedId);
  const selected: Cluster | undefined = visible[index];

  const fail = (e: unknown): string => describeError(e, { server: backend.target, context: contextName });
  const act = async (what: () => Promise<string>): Promise<void> => {
    try {
      setMessage({ text: await what(), error: false });
    } catch (e) {
      setMessage({ text: fail(e), error: true });
    }
  };
  // Forms stay open on failure so the user can correct and retry.
  const submit = async (what: () => Promise<string>): Promise<void> => {
    setBusy(true);
    setFormError(undefined);
    try {
      const text = await what();
      setMessage({ text, error: false });
      setScreen('list');
    } catch (e) {
      setFormError(fail(e));
    } finally {
      setBusy(false);
    }
  };

  // A paste or keys typed faster than the terminal is read arrive as one input ("jjj", "3\r"):
  // each character is a key press of its own, as the help says, and a return or tab in it is
  // that key (ink flags only a chunk that is nothing else).
  useInput((input, key) => {
    if (input.length > 1 && !key.ctrl && !key.meta) for (const ch of input) onKey(ch, { ...key, return: ch === '\r' || ch === '\n', tab: ch === '\t' });
    else onKey(input, key);
  });

  function onKey(input: string, key: Key): void {
    // Read the live values: several keys may arrive before the next render.
    const current = screenNow.current;
    if (current === 'create' || current === 'scale' || current === 'delete') return route(router.current, current, input, key);
    if (current === 'help') return setScreen('list');
    if (filteringNow.current) {
      if (key.escape) {
        setFilter('');
        setFiltering(false);
      } else if (key.return) setFiltering(false);
      else setFilter(edited(filterNow.current, input, key));
      return;
    }
    if (input === 'q') return exit();
    if (input === '?') return setScreen('help');
    if (current === 'detail') {
      if (key.escape || key.leftArrow || key.return) setScreen('list');
      return;
    }
    if (key.escape) {
      setFilter('');
      setMessage(undefined);
      return;
    }
    const list = visibleFor(filterNow.current);
    const at = indexIn(list, selectedNow.current);
    const target = list[at];
    const move = (step: number): void => {
      const next = list[Math.min(list.length - 1, Math.max(0, at + step))];
      if (next) setSelectedId(next.id);
    };
    if (key.downArrow || input === 'j') return move(1);
    if (key.upArrow || input === 'k') return move(-1);
    if (key.pageDown) return move(listHeightNow.current - 1);
    if (key.pageUp) return move(1 - listHeightNow.current);
    if (key.home || input === 'g') return move(-list.length);
    if (key.end || input === 'G') return move(list.length);
    if (input === '/') return setFiltering(true);
    if (input === 'c') {
      setFormError(undefined);
      return setScreen('create');
    }
    if (!target) return;
    setSelectedId(target.id);
    if (key.return) return setScreen('detail');
    if (input === 's') {
      setFormError(undefined);
      return setScreen('scale');
    }
    if (input === 'd') return setScreen('delete');
    if (input === 't') {
      const stop = target.spec.desiredState === 'running';
      void act(async () => {
        await backend.patch(target.name, { spec: { desiredState: stop ? 'stopped' : 'running' } });
        return `${stop ? 'stopping' : 'starting'} ${target.name}`;
      });
    }
  }

  let body: React.ReactNode;
  let keys: Keys = LIST_KEYS;
  if (screen === 'help') body = h(HelpOverlay);
  else if (screen === 'create') {
    keys = [['tab', 'next field'], ['enter', 'create'], ['esc', 'cancel']];
    body = h(CreateForm, {
      busy,
      error: formError,
      onCancel: () => setScreen('list'),
      onSubmit: (b: CreateClusterBody) =>
        void submit(async () => {
          const c = await backend.create(b);
          setSelectedId(c.id);
          return `created ${c.name}`;
        }),
    });
  } else if (screen === 'scale' && selected) {
    keys = [['↑↓', 'pool'], ['enter', 'apply'], ['esc', 'cancel']];
    body = h(ScaleForm, {
      key: selected.id,
      cluster: selected,
      backend,
      busy,
      error: formError,
      onCancel: () => setScreen('list'),
      onSubmit: (nodePools: NodePool[]) =>
        void submit(async () => {
          const { value, etag } = await backend.get(selected.name);
          // Say what changes, as `goman scale` does; nothing to change sends nothing.
          const changes = nodePools.flatMap((p) => {
            const was = value.spec.nodePools.find((q) => q.name === p.name)?.count;
            return was === p.count ? [] : [`${p.name} ${was ?? 0}→${p.count}`];
          });
          if (changes.length === 0) return `${selected.name} unchanged`;
          await backend.patch(selected.name, { spec: { nodePools } }, etag);
          return `scaling ${selected.name}: ${changes.join(', ')}`;
        }),
    });
  } else if (screen === 'delete' && selected) {
    keys = [['y', 'delete'], ['any other key', 'keep']];
    body = h(ConfirmDelete, {
      name: selected.name,
      onNo: () => setScreen('list'),
      onYes: () => {
        setScreen('list');
        void act(async () => {
          await backend.delete(selected.name);
          return `deleting ${selected.name}`;
        });
      },
    });
  } else if (screen === 'detail' && selected) {
    keys = [['esc', 'back'], ['?', 'help'], ['q', 'quit']];
    body = h(Detail, { cluster: selected, backend, width, height: listHeight + 1 });
  } else {
    body = h(ClusterList, { clusters: visible, selected: index, width, loaded: feed.loaded, filter, height: listHeight });
  }

  return h(
    RouterContext.Provider,
    { value: router },
    h(
    Box,
    { flexDirection: 'column', width },
    h(
      Text,
      { wrap: 'truncate' },
      h(Text, { bold: true }, 'goman'),
      `  ${contextName} · ${backend.target} · ${feed.clusters.length} cluster${feed.clusters.length === 1 ? '' : 's'}`,
      filter || filtering ? `  ·  filter: /${filter}${filtering ? '▏' : ''}` : '',
    ),
    feed.connected ? null : h(DisconnectedBanner, { target: backend.target, reason: feed.reason }),
    body,
    h(Footer, { keys: filtering ? [['enter', 'keep filter'], ['esc', 'clear']] : keys, message }),
    ),
  );
}
