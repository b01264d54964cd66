// Day 2 routes (DESIGN §14): etcd snapshots (take, list, restore) and rollout control (pause,
// resume, undo). Each write is a spec change made by the shared domain rules and written through
// the update-with-retry use case, like PATCH, so the provider sees it as any other change.
import { z } from 'zod';
import { newId } from '../../util/ids.ts';
import type { Cluster, SpecChange } from '../../domain/index.ts';
import { GomanError, pauseRollout, requestBackup, restoreSnapshot, resumeRollout, snapshotSchema, snapshotsOf, undoRollout } from '../../domain/index.ts';
import type { ClusterRecords } from '../../store/port.ts';
import { ownerFilter, type Identity } from '../auth.ts';
import { storeTarget, updateWithRetry } from '../../usecases/update-cluster.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { apiSchemas, clusterSchema, idOrNameParams } from '../schemas.ts';

const WRITERS = ['user', 'admin'] as const;
const READERS = ['user', 'controller', 'admin'] as const;

export const snapshotListSchema = z.object({ items: z.array(snapshotSchema) }).register(apiSchemas, { id: 'SnapshotList' });
export const backupAcceptedSchema = z
  .object({ snapshot: z.string().describe('the id the snapshot will have once taken'), cluster: clusterSchema })
  .register(apiSchemas, { id: 'BackupAccepted' });
const restoreBody = z.strictObject({ snapshot: z.string().min(1).max(64).describe('a snapshot id from GET …/backups') });
const rolloutParams = idOrNameParams.extend({ action: z.enum(['pause', 'resume', 'undo']) });

/** A request id that sorts by time and never repeats: the provider carries out each id once. */
const requestId = (prefix: string): string => `${prefix}-${newId()}`;

export function day2Routes(store: ClusterRecords): RouteDef[] {
  const find = async (idOrName: string, identity: Identity): Promise<Cluster> => {
    const cluster = await store.getCluster(idOrName, ownerFilter(identity));
    if (!cluster) throw new GomanError('NOT_FOUND', `cluster "${idOrName}" not found`);
    return cluster;
  };
  const write = async (idOrName: string, identity: Identity, change: (c: Cluster) => SpecChange): Promise<Cluster> => {
    const target = storeTarget(store, idOrName, ownerFilter(identity));
    // The change is decided on the cluster as read (its status: rollout, snapshots), then applied to each retry's spec.
    const cluster = await find(idOrName, identity);
    const specChange = change(cluster);
    return updateWithRetry(target, (current) => ({ spec: specChange(current.spec), labels: current.labels }));
  };
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/clusters/:idOrName/backups',
      operationId: 'backupCluster',
      summary: 'Take an on-demand etcd snapshot',
      description: 'The snapshot is taken by the provider on the first server; it appears in `GET …/backups` under the returned id.',
      tag: 'clusters',
      auth: WRITERS,
      params: idOrNameParams,
      responses: { 202: { description: 'requested', schema: backupAcceptedSchema } },
      problems: [404, 409],
      handler: async ({ reply, params, identity }) => {
        const id = requestId('snap');
        const cluster = await write(params.idOrName, identity, () => requestBackup(id));
        void reply.code(202);
        return { snapshot: id, cluster };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/clusters/:idOrName/backups',
      operationId: 'listClusterBackups',
      summary: 'List etcd snapshots, newest first',
      tag: 'clusters',
      auth: READERS,
      params: idOrNameParams,
      responses: { 200: { description: 'the snapshots', schema: snapshotListSchema } },
      problems: [404],
      handler: async ({ params, identity }) => ({ items: snapshotsOf(await find(params.idOrName, identity)) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/clusters/:idOrName/restore',
      operationId: 'restoreCluster',
      summary: 'Restore an etcd snapshot, at the K3s version it was taken at',
      description:
        'Stops K3s on the agents and the other servers, resets the first server from the snapshot, rejoins the other servers ' +
        'with a wiped datastore and restarts the agents; the phase is `Restoring` meanwhile. 409 while a rollout runs.',
      tag: 'clusters',
      auth: WRITERS,
      params: idOrNameParams,
      body: restoreBody,
      responses: { 202: { description: 'restore requested', schema: clusterSchema } },
      problems: [404, 409, 422],
      handler: async ({ reply, params, body, identity }) => {
        const at = requestId('restore');
        const cluster = await write(params.idOrName, identity, (c) => restoreSnapshot(c, body.snapshot, at));
        void reply.code(202);
        return cluster;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/clusters/:idOrName/rollout/:action',
      operationId: 'controlRollout',
      summary: 'Pause, resume or undo the K3s rollout',
      description:
        '`pause` starts no further node; `resume` clears a pause and retries a node that did not come back; `undo` goes back to the ' +
        'version the last rollout came from, under the same rules.',
      tag: 'clusters',
      auth: WRITERS,
      params: rolloutParams,
      responses: { 200: { description: 'the cluster', schema: clusterSchema } },
      problems: [404, 409, 422],
      handler: async ({ params, identity }) =>
        write(params.idOrName, identity, (c) =>
          params.action === 'pause' ? pauseRollout : params.action === 'resume' ? resumeRollout(requestId('resume')) : undoRollout(c),
        ),
    }),
  ];
}
