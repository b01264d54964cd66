// The controller's side of the bucket: fold a report into status/{name}.json with the domain's
// applyReport/aggregateStatus, only while the writer's lease (fencing token) still holds.
// The status object never triggers the controller (the notification filters clusters/).
import { randomUUID } from 'node:crypto';
import type { ControllerReport, FieldError } from '../../domain/index.ts';
import { aggregateStatus, applyReport, conflict, day2History, emptyStatus, fitReport } from '../../domain/index.ts';
import { statusKey } from '../../aws/names.ts';
import type { HistoryEntry } from '../../domain/index.ts';
import type { LeaseStore } from '../../lease/port.ts';
import type { DesiredDoc, StatusDoc } from './documents.ts';
import { HISTORY_LIMIT, parseStatusDoc, S3_REGISTRY } from './documents.ts';
import type { JsonObjects } from './objects.ts';
import { WriteConflict } from './objects.ts';

export interface Fence {
  leases: LeaseStore;
  leaseName: string;
  token: number;
}

const ATTEMPTS = 5;

export class StatusWriter {
  private readonly objects: JsonObjects;
  private readonly fence: Fence;

  constructor(objects: JsonObjects, fence: Fence) {
    this.objects = objects;
    this.fence = fence;
  }

  /** Read-modify-write of the status object; CONFLICT once the fence no longer holds. */
  async update(name: string, clusterId: string, change: (doc: StatusDoc) => StatusDoc | null): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const got = await this.objects.get(statusKey(name));
      const parsed = got ? parseStatusDoc(got.body) : null;
      const current: StatusDoc =
        parsed && parsed.clusterId === clusterId
          ? parsed
          : { clusterId, fence: 0, controllers: [], status: emptyStatus(), history: [] };
      // A newer holder has written: this writer's lease is gone even if the lock item says otherwise.
      if (parsed && parsed.fence > this.fence.token) throw conflict(`status of ${name} is held by a newer lease`);
      if (!(await this.fence.leases.checkFence(this.fence.leaseName, this.fence.token))) throw conflict(`lease ${this.fence.leaseName} lost`);
      const next = change(current);
      if (!next) return;
      next.fence = this.fence.token;
      try {
        await this.objects.put(statusKey(name), next, got ? got.etag : null);
        return;
      } catch (e) {
        if (!(e instanceof WriteConflict)) throw e;
      }
    }
    throw conflict(`status of ${name} kept changing`);
  }

  report(desired: DesiredDoc, controller: string, given: ControllerReport): Promise<void> {
    const report = fitReport(given);
    return this.update(desired.name, desired.id, (doc) => {
      const now = new Date().toISOString();
      const previous = doc.controllers.find((c) => c.name === controller);
      const outcome = applyReport(previous, controller, report, desired.generation, now);
      if (outcome.kind === 'future') throw conflict(`report for generation ${report.observedGeneration} is ahead of ${desired.generation}`);
      if (outcome.kind === 'stale') return null;
      const controllers = [...doc.controllers.filter((c) => c.name !== controller), outcome.status];
      const status = aggregateStatus({
        generation: desired.generation,
        spec: desired.spec,
        deletionTimestamp: desired.deletionTimestamp,
        previous: doc.status,
        controllers,
        registry: S3_REGISTRY,
        now,
      });
      const history = [...doc.history];
      const entry = (kind: HistoryEntry['kind'], message: string): void => {
        history.push({ id: randomUUID(), clusterId: desired.id, kind, message, generation: desired.generation, at: now });
      };
      if (status.phase !== doc.status.phase) entry('phase', `${doc.status.phase} -> ${status.phase}: ${status.message}`);
      for (const d of day2History(doc.status, status)) entry(d.kind, d.message);
      const err = report.lastError;
      if (err && (err.code !== previous?.lastError?.code || err.message !== previous.lastError.message)) entry('error', `${controller}: ${err.code}: ${err.message}`);
      return { ...doc, controllers, status, history: history.slice(-HISTORY_LIMIT) };
    });
  }

  /** A desired object that fails validation: say so in its status, touch nothing else. */
  invalid(name: string, clusterId: string, message: string, errors: FieldError[]): Promise<void> {
    return this.update(name, clusterId, (doc) => {
      if (doc.status.reason === 'InvalidSpec' && doc.status.message === message) return null;
      const now = new Date().toISOString();
      const history: HistoryEntry[] = [...doc.history, { id: randomUUID(), clusterId, kind: 'error', message, generation: 0, at: now, data: { errors } }];
      return {
        ...doc,
        status: { ...doc.status, phase: 'Failed', reason: 'InvalidSpec', message },
        history: history.slice(-HISTORY_LIMIT),
      };
    });
  }

  setRequeueId(name: string, clusterId: string, requeueId: string): Promise<void> {
    return this.update(name, clusterId, (doc) => ({ ...doc, requeueId }));
  }
}
