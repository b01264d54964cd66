// The controller-runtime shape (DESIGN §6) and what a controller sees of the control plane.
import type { Cluster, ControllerRegistrationInput, ControllerReport } from '../domain/index.ts';
import { condition } from '../domain/index.ts';

export interface ReconcileResult {
  /** Look again after this long even if nothing changes (e.g. waiting for a boot). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Fencing token of the per-cluster lease held for this reconcile. */
  readonly fence: number;
  /** Aborted when the lease is lost or the process is shutting down. */
  readonly signal: AbortSignal;
  report(report: ControllerReport): Promise<void>;
  /** Release this controller's finalizer (only once its cloud resources are gone). */
  releaseFinalizer(): Promise<void>;
}

/**
 * A provider's "do not retry": what it was asked for cannot be built as it stands (a permanent
 * cloud refusal). Any other error is retried by the host with backoff. On a TerminalError the
 * host reports `lastError.retryable=false` (the cluster becomes Failed) and does not requeue;
 * the next change of the cluster, or the scheduler's resync, looks again.
 */
export class TerminalError extends Error {
  readonly code: string;
  /** What the provider wants kept in its status (e.g. launch attempts), reported with the error. */
  readonly metadata: Record<string, unknown> | undefined;

  constructor(code: string, message: string, opts: { metadata?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'TerminalError';
    this.code = code;
    this.metadata = opts.metadata;
  }
}

/** The report a host makes for a TerminalError, in every topology. */
export function terminalReport(generation: number, err: TerminalError): ControllerReport {
  const report: ControllerReport = {
    observedGeneration: generation,
    conditions: [condition('Ready', 'False', err.code, err.message), condition('Failed', 'True', err.code, err.message)],
    lastError: { code: err.code, message: err.message, retryable: false },
  };
  if (err.metadata) report.metadata = err.metadata;
  return report;
}

export interface Reconciler {
  /** Controller name: its finalizer, its status key, its durable consumer. */
  readonly name: string;
  readonly registration: ControllerRegistrationInput;
  /**
   * False when all a reconciler acts on is the cluster record and goman's own store (the sim):
   * nothing changes behind the cluster's back, so a resync of a cluster that has not changed
   * since this process last settled it stops after reading it (controller-host.ts). Unset or
   * true (a real cloud, where instances die and drift): every resync reconciles in full.
   */
  readonly canDrift?: boolean;
  /** Throws to retry with backoff, or a TerminalError to stop retrying. */
  reconcile(cluster: Cluster, ctx: ReconcileContext): Promise<ReconcileResult>;
}

/** How a controller reaches the control plane: the HTTP API client, the same in every topology. */
export interface ControlPlane {
  getCluster(id: string): Promise<Cluster | null>;
  reportStatus(clusterId: string, controller: string, report: ControllerReport): Promise<{ ignored?: 'stale' }>;
  releaseFinalizer(clusterId: string, controller: string): Promise<void>;
  registerController(name: string, registration: ControllerRegistrationInput): Promise<void>;
}
