// Small display helpers shared by the views.
import { cloneElement } from 'preact';
import type { Cluster } from './types.ts';

export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function readyNodes(c: Cluster): { ready: number; total: number } {
  return { ready: c.status.nodes.filter((n) => n.ready).length, total: c.status.nodes.length };
}

export function PhaseBadge({ phase }: { phase: string }) {
  return <span class={`phase phase-${phase.toLowerCase()}`}>{phase}</span>;
}

/**
 * A control with its own label (`for`/`id`, so its accessible name is the label alone, not the
 * label plus a select's every option) and, when given, its error, tied by aria-describedby.
 */
export function Field({ id, label, error, children }: { id: string; label: preact.ComponentChildren; error?: string | undefined; children: preact.VNode }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {cloneElement(children, { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': error ? `${id}-error` : undefined })}
      {error && (
        <p id={`${id}-error`} class="error">
          {error}
        </p>
      )}
    </div>
  );
}
