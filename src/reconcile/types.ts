// The controller-runtime shape (DESIGN §6) and what a controller sees of the control plane.
import type { Cluster, ControllerRegistrationInput, ControllerReport } from '../domain/index.ts';

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

export interface Reconciler {
  /** Controller name: its finalizer, its status key, its durable consumer. */
  readonly name: string;
  readonly registration: ControllerRegistrationInput;
  reconcile(cluster: Cluster, ctx: ReconcileContext): Promise<ReconcileResult>;
}

/** How a controller reaches the control plane: the HTTP API client, the same in every topology. */
export interface ControlPlane {
  getCluster(id: string): Promise<Cluster | null>;
  reportStatus(clusterId: string, controller: string, report: ControllerReport): Promise<{ ignored?: 'stale' }>;
  releaseFinalizer(clusterId: string, controller: string): Promise<void>;
  registerController(name: string, registration: ControllerRegistrationInput): Promise<void>;
}
