// GET /api/v1/clusters/{idOrName}/kubeconfig: an aws cluster's kubeconfig, for its owner or an
// admin (the console's "Download kubeconfig"). It is a credential: never cached, never logged.
import { GomanError, isGomanError, noKubeconfigYet } from '../../domain/index.ts';
import type { ClusterRecords } from '../../store/port.ts';
import { ownerFilter } from '../auth.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { idOrNameParams } from '../schemas.ts';

export function kubeconfigRoutes(store: ClusterRecords): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/clusters/:idOrName/kubeconfig',
      operationId: 'getKubeconfig',
      summary: "An aws cluster's kubeconfig (its owner or an admin)",
      description: 'Read from the SecureString the aws controller keeps in the cluster\'s region. 400 for providers without a real Kubernetes API (sim); 404 when the cluster does not exist; 409 until it has a kubeconfig; 503 when AWS cannot be reached.',
      tag: 'clusters',
      auth: ['user', 'admin'],
      params: idOrNameParams,
      responses: { 200: { description: 'the kubeconfig (YAML)', contentType: 'application/yaml', headers: { 'cache-control': 'no-store' } } },
      problems: [404, 409, 503],
      handler: async ({ reply, params, identity }) => {
        // Another user's cluster is a 404, as everywhere in the API.
        const cluster = await store.getCluster(params.idOrName, ownerFilter(identity));
        if (!cluster) throw new GomanError('NOT_FOUND', `cluster "${params.idOrName}" not found`);
        // The controller stores the kubeconfig just before it reports the endpoint: until then
        // there is nothing to read, and no reason to ask AWS (or to fail when it cannot be reached).
        if (cluster.spec.provider === 'aws' && !cluster.status.endpoint) {
          throw noKubeconfigYet(cluster.name, cluster.status.phase);
        }
        // Loaded on use: the AWS SDK stays out of the server's start-up.
        const { readKubeconfig } = await import('../../aws/kubeconfig.ts');
        const kubeconfig = await readKubeconfig(cluster).catch((e: unknown) => {
          // AWS unreachable or refusing (no credentials, throttled): the client may retry later.
          if (isGomanError(e)) throw e;
          throw new GomanError('UNAVAILABLE', `could not read the kubeconfig of ${cluster.name} from AWS SSM in ${cluster.spec.region}`);
        });
        return reply
          .header('cache-control', 'no-store')
          .header('content-disposition', `attachment; filename="${cluster.name}.kubeconfig"`)
          .type('application/yaml')
          .send(kubeconfig);
      },
    }),
  ];
}
