// What the state bucket holds (DESIGN §8): `clusters/{name}.json` is the desired state the CLI
// writes; `status/{name}.json` is what the controller observed. The cluster a reader sees is
// both combined, with the phase computed by the domain's aggregation (pure, nothing written).
import { z } from 'zod';
import type { Cluster, ClusterStatus, ControllerRegistration, ControllerStatus } from '../../domain/index.ts';
import { aggregateStatus, clusterSpecSchema, emptyStatus, labelsSchema, nameSchema, validationFailed } from '../../domain/index.ts';
import { CONTROLLER_NAME } from '../../aws/names.ts';
import { etagValue } from '../../domain/etag.ts';
import { fieldErrorsText, zodFieldErrors } from '../../domain/zod-errors.ts';
import type { HistoryEntry } from '../../domain/index.ts';

export const DOC_API_VERSION = 'goman.io/v1';

export const desiredDocSchema = z.object({
  apiVersion: z.literal(DOC_API_VERSION),
  kind: z.literal('Cluster'),
  id: z.uuid(),
  name: nameSchema,
  labels: labelsSchema.default({}),
  spec: clusterSpecSchema,
  generation: z.int().min(1),
  createdBy: z.string().max(256),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletionTimestamp: z.string().optional(),
});
export type DesiredDoc = z.output<typeof desiredDocSchema>;

/** Written only by the controller holding the cluster's lease. */
export interface StatusDoc {
  clusterId: string;
  /** Fencing token of the last writer: a lower token never overwrites a higher one. */
  fence: number;
  controllers: ControllerStatus[];
  status: ClusterStatus;
  history: HistoryEntry[];
  /** The one live requeue chain; requeue messages carrying another id are superseded. */
  requeueId?: string;
}

const statusDocSchema = z.object({
  clusterId: z.string(),
  fence: z.number(),
  controllers: z.array(z.object({ name: z.string() }).loose()),
  status: z.object({ phase: z.string() }).loose(),
  history: z.array(z.object({ id: z.string() }).loose()).default([]),
  requeueId: z.string().optional(),
});

/** The status document as written by goman; anything else reads as absent. */
export function parseStatusDoc(body: unknown): StatusDoc | null {
  const parsed = statusDocSchema.safeParse(body);
  // The inner shapes are goman's own output (ControllerStatus, ClusterStatus, HistoryEntry).
  return parsed.success ? (parsed.data as unknown as StatusDoc) : null;
}

export const HISTORY_LIMIT = 100;

/** In the serverless mode the AWS controller is the one required controller. */
export const S3_REGISTRY: readonly ControllerRegistration[] = [
  { name: CONTROLLER_NAME, providers: ['aws'], required: true, registeredAt: '1970-01-01T00:00:00.000Z', lastHeartbeat: '1970-01-01T00:00:00.000Z' },
];

export function parseDesired(body: unknown, key: string): DesiredDoc {
  const parsed = desiredDocSchema.safeParse(body);
  if (!parsed.success) {
    const errors = zodFieldErrors(parsed.error);
    throw validationFailed(`${key} is invalid: ${fieldErrorsText(errors)}`, errors);
  }
  return parsed.data;
}


export function composeCluster(doc: DesiredDoc, etag: string, statusDoc: StatusDoc | null, now = new Date().toISOString()): Cluster {
  const own = statusDoc && statusDoc.clusterId === doc.id ? statusDoc : null;
  const controllers = own?.controllers ?? [];
  const status = aggregateStatus({
    generation: doc.generation,
    spec: doc.spec,
    deletionTimestamp: doc.deletionTimestamp,
    previous: own?.status ?? emptyStatus(),
    controllers,
    registry: S3_REGISTRY,
    now,
  });
  const cluster: Cluster = {
    id: doc.id,
    name: doc.name,
    labels: doc.labels,
    spec: doc.spec,
    status,
    generation: doc.generation,
    resourceVersion: etagValue(etag),
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    finalizers: controllers.map((c) => c.name),
  };
  if (doc.deletionTimestamp) cluster.deletionTimestamp = doc.deletionTimestamp;
  return cluster;
}

