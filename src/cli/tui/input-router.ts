// One keyboard listener for the whole TUI, routing keys to the screen that is showing.
// Screens that subscribed to ink's input themselves would miss keys typed right after they
// open (ink subscribes in an effect, after the frame is already visible); here keys that
// arrive before a screen is ready wait in a queue and are delivered when it mounts.
import type { Key } from 'ink';
import React from 'react';

export type KeyHandler = (input: string, key: Key) => void;

export interface InputRouter {
  owner: string | null;
  handler: KeyHandler | null;
  pending: [owner: string, input: string, key: Key][];
}

export const RouterContext = React.createContext<{ current: InputRouter }>({ current: { owner: null, handler: null, pending: [] } });

export function newRouter(): InputRouter {
  return { owner: null, handler: null, pending: [] };
}

/** Deliver a key to `owner`'s handler, or keep it until that screen has mounted. */
export function route(router: InputRouter, owner: string, input: string, key: Key): void {
  if (router.owner === owner && router.handler) router.handler(input, key);
  else router.pending.push([owner, input, key]);
}

/** Receive the keys routed to `owner` while this component is mounted. */
export function useRoutedInput(owner: string, handler: KeyHandler): void {
  const router = React.useContext(RouterContext);
  const latest = React.useRef(handler);
  latest.current = handler;
  React.useLayoutEffect(() => {
    const r = router.current;
    r.owner = owner;
    r.handler = (input, key) => latest.current(input, key);
    // Keys meant for a screen that never opened are dropped, not delivered to this one.
    for (const [to, input, key] of r.pending.splice(0)) if (to === owner) r.handler(input, key);
    return () => {
      if (r.owner === owner) {
        r.owner = null;
        r.handler = null;
      }
    };
  }, [router, owner]);
}
