// What init/uninit tell the user, one resource at a time. The CLI renders these (live on a
// terminal, plain lines when piped); tests collect them.
export type ProgressAction = 'created' | 'updated' | 'exists' | 'deleted' | 'absent' | 'would create' | 'would delete' | 'waiting';

export interface Progress {
  step(action: ProgressAction, resource: string, detail?: string): void;
}

export function lineProgress(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Progress {
  return {
    step: (action, resource, detail) => write(`${action.padEnd(12)} ${resource}${detail ? `  (${detail})` : ''}`),
  };
}

export const silentProgress: Progress = { step: () => {} };
