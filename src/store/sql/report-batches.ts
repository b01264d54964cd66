// Status reports that arrive together are read and saved together (PostgreSQL, reports.ts): one
// statement reads every row of a batch and one saves them, where each report alone would take two
// round trips of its own. A batch leaves as soon as the event loop has taken in what arrived with
// it (setImmediate), so a lone report waits for nothing; while two batches are out, the next one
// fills. A batch takes every waiting report on a cluster, in the order they came, and a
// cluster is in one batch at a time: a report that arrives while its cluster's batch is out waits
// for the next. So one process applies the reports on a cluster in order, and its batches never
// race each other for a row (which would send one of them the locking way).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ControllerReport } from '../../domain/index.ts';
import type { ReportOptions, ReportResult } from '../port.ts';

/** A status report as it waits for its batch. */
export interface QueuedReport {
  controller: string;
  report: ControllerReport;
  opts: ReportOptions;
}

/** The store's queue of reports (reports.ts settles them). */
export type ReportQueue = ReportBatches<QueuedReport, ReportResult>;

/** One report waiting for its batch; `inContext` runs code in the context it was submitted from (its trace). */
export interface Queued<I, R> {
  readonly item: I;
  readonly clusterId: string;
  readonly inContext: <T>(fn: () => T) => T;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/** Bounds one statement's size and how many rows it holds locked at once. */
export const MAX_BATCH = 64;
/** One batch in PostgreSQL while the next is decided; the pool (10) keeps room for every other request. */
const PARALLEL = 2;

export class ReportBatches<I, R> {
  readonly #run: (batch: readonly Queued<I, R>[]) => Promise<void>;
  #queue: Queued<I, R>[] = [];
  /** Clusters in a batch that is out. */
  readonly #busy = new Set<string>();
  #out = 0;
  #scheduled = false;

  /** `run` settles every report it is handed, and does not throw. */
  constructor(run: (batch: readonly Queued<I, R>[]) => Promise<void>) {
    this.#run = run;
  }

  submit(clusterId: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, clusterId, inContext: AsyncLocalStorage.snapshot(), resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#out >= PARALLEL || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#send();
    });
  }

  #send(): void {
    const batch: Queued<I, R>[] = [];
    const later: Queued<I, R>[] = [];
    const taken = new Set<string>();
    for (const queued of this.#queue) {
      const free = taken.has(queued.clusterId) || !this.#busy.has(queued.clusterId);
      if (batch.length < MAX_BATCH && free) {
        taken.add(queued.clusterId);
        this.#busy.add(queued.clusterId);
        batch.push(queued);
      } else {
        later.push(queued);
      }
    }
    this.#queue = later;
    if (batch.length === 0) return;
    this.#out++;
    void this.#run(batch).finally(() => {
      for (const queued of batch) this.#busy.delete(queued.clusterId);
      this.#out--;
      this.#schedule();
    });
    this.#schedule();
  }
}
