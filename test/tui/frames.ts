// Waiting for what an ink app renders: the first frame a predicate accepts, through the shared
// eventually (a timeout shows the last frame).
import { eventually } from '../helpers/eventually.ts';

export async function until(frame: () => string | undefined, pred: (f: string) => boolean, what: string): Promise<string> {
  const found = await eventually(
    what,
    () => {
      const f = frame() ?? '';
      if (!pred(f)) throw new Error(`last frame:\n${f}`);
      return { f }; // wrapped: an empty frame is a frame, not "not yet"
    },
    { timeoutMs: 3000, intervalMs: 10 },
  );
  return found.f;
}
