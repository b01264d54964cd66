// The zod schemas the routes validate with. The OpenAPI document is generated from these very
// objects (openapi.ts), so the contract and the checks cannot drift apart.
import { z } from 'zod';
import {
  CONDITION_STATUSES,
  PHASES,
  clusterNodeSchema,
  clusterSpecSchema,
  controllerRegistrationSchema,
  controllerReportSchema,
  labelsSchema,
  lastErrorSchema,
  nameSchema,
  reportMetadataSchema,
  restoreStatusSchema,
  rolloutStatusSchema,
  ERROR_CODES,
} from '../domain/index.ts';

import { SELECTOR_PATTERN } from '../domain/label-selector.ts';
import { EXPIRES_IN_PATTERN } from './tokens.ts';

/** Named schemas: the OpenAPI document's components (a registry of our own, not zod's global one). */
export const apiSchemas = z.registry<{ id: string }>();

// --- parameters -------------------------------------------------------------------------

/** A cluster id (uuid) or name: anything else cannot exist, so it is a 400, not a 404. */
export const clusterRef = z.union([z.uuid(), nameSchema], { error: 'must be a cluster id (uuid) or a cluster name' });

export const idOrNameParams = z.object({ idOrName: clusterRef });
export const clusterIdParams = z.object({ id: z.uuid() });
export const controllerParams = z.object({ id: z.uuid(), controller: nameSchema });
export const controllerNameParams = z.object({ name: nameSchema });
export const tokenIdParams = z.object({ id: z.uuid() });

const cursor = z.string().min(1).max(512);

export const listClustersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: cursor.optional(),
  phase: z.enum(PHASES).optional(),
  provider: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a provider name such as sim or aws').optional(),
  labelSelector: z.string().max(1024).regex(SELECTOR_PATTERN, 'must be requirements such as a=b,c!=d,e,!f').optional().describe('comma-separated requirements: a=b, a!=b, a (exists), !a (absent)'),
});

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: cursor.optional(),
});

export const watchQuery = z.object({
  resourceVersion: z.coerce.number().int().min(0).optional().describe('resume after this outbox position (the SSE id)'),
});

// --- request bodies ---------------------------------------------------------------------

export const createClusterBody = z.strictObject({
  name: nameSchema,
  labels: labelsSchema.default({}),
  spec: clusterSpecSchema.prefault({}),
});

/** RFC 7386 merge patch of spec and labels; the merged result is validated in full. */
export const patchClusterBody = z.strictObject({
  spec: z.record(z.string(), z.unknown()).optional().describe('merge patch of the spec (null removes a field)'),
  labels: z.record(z.string(), z.string().nullable()).optional().describe('merge patch of the labels (null removes a label)'),
});

export const replaceClusterBody = z.strictObject({
  spec: clusterSpecSchema,
  labels: labelsSchema.optional(),
});

export { controllerRegistrationSchema, controllerReportSchema };

export const TOKEN_ROLES = ['user', 'controller', 'admin'] as const;

export const createTokenBody = z.strictObject({
  subject: z
    .string()
    .min(1)
    .max(254)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/, 'must be a name or e-mail address'),
  role: z.enum(TOKEN_ROLES),
  expiresIn: z.string().regex(EXPIRES_IN_PATTERN, 'must be a duration such as "30m", "24h" or "30d"').optional().describe('lifetime such as "30m", "24h" or "30d"; absent = never expires'),
});

// --- responses --------------------------------------------------------------------------

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .register(apiSchemas, { id: 'Problem' });
export type Problem = z.output<typeof problemSchema>;

const timestamp = z.string().describe('RFC 3339 time');

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(CONDITION_STATUSES),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: timestamp,
  observedGeneration: z.int(),
});

export const controllerStatusSchema = z.object({
  name: z.string(),
  observedGeneration: z.int(),
  conditions: z.array(conditionSchema),
  lastError: lastErrorSchema.optional(),
  metadata: reportMetadataSchema.optional(),
  updatedAt: timestamp,
});

export const clusterStatusSchema = z
  .looseObject({
    phase: z.enum(PHASES),
    observedGeneration: z.int(),
    reason: z.string(),
    message: z.string(),
    conditions: z.array(conditionSchema),
    controllers: z.array(controllerStatusSchema),
    endpoint: z.string().optional(),
    nodes: z.array(clusterNodeSchema),
    rollout: rolloutStatusSchema.optional(),
    restore: restoreStatusSchema.optional(),
  })
  .register(apiSchemas, { id: 'ClusterStatus' });

export const clusterSchema = z
  .looseObject({
    id: z.uuid(),
    name: z.string(),
    labels: z.record(z.string(), z.string()),
    spec: clusterSpecSchema,
    status: clusterStatusSchema,
    generation: z.int(),
    resourceVersion: z.string(),
    createdBy: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
    deletionTimestamp: timestamp.optional(),
    finalizers: z.array(z.string()),
  })
  .register(apiSchemas, { id: 'Cluster' });

export const clusterListSchema = z
  .object({ items: z.array(clusterSchema), nextCursor: z.string().nullable() })
  .register(apiSchemas, { id: 'ClusterList' });

export const reportResponseSchema = clusterStatusSchema
  .extend({ ignored: z.literal('stale').optional().describe('present when the report was older than the last one') })
  .register(apiSchemas, { id: 'ReportResult' });

export const historyEntrySchema = z.object({
  id: z.string(),
  clusterId: z.string(),
  kind: z.enum(['created', 'spec', 'labels', 'phase', 'error', 'deleting', 'finalizer', 'rollout', 'restore']),
  message: z.string(),
  generation: z.int(),
  at: timestamp,
  data: z.record(z.string(), z.unknown()).optional(),
});

export const historyPageSchema = z
  .object({ items: z.array(historyEntrySchema), nextCursor: z.string().nullable() })
  .register(apiSchemas, { id: 'EventList' });

export const controllerRegistrationResponse = z
  .object({
    name: z.string(),
    providers: z.array(z.string()),
    required: z.boolean(),
    registeredAt: timestamp,
    lastHeartbeat: timestamp,
  })
  .register(apiSchemas, { id: 'Controller' });

export const controllerListSchema = z.object({ items: z.array(controllerRegistrationResponse) }).register(apiSchemas, { id: 'ControllerList' });

export const tokenRecordSchema = z
  .object({
    id: z.uuid(),
    subject: z.string(),
    role: z.enum(TOKEN_ROLES),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
  })
  .register(apiSchemas, { id: 'Token' });

export const createdTokenSchema = tokenRecordSchema
  .extend({ token: z.string().describe('the secret; shown only in this response') })
  .register(apiSchemas, { id: 'CreatedToken' });

export const tokenListSchema = z.object({ items: z.array(tokenRecordSchema) }).register(apiSchemas, { id: 'TokenList' });

export const infoSchema = z
  .object({ version: z.string(), topology: z.enum(['embedded', 'service']), providers: z.array(z.string()) })
  .register(apiSchemas, { id: 'Info' });

export const healthSchema = z.object({ status: z.string() });
