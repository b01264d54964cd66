// The provider controllers this binary can run, by provider name (`goman controller
// --provider NAME`, and the embedded engine's built-in set).
import { validationFailed } from '../domain/index.ts';
import { SimReconciler, type SimOptions } from '../providers/sim/reconciler.ts';
import type { ProviderStateStore } from '../store/port.ts';
import type { Reconciler } from '../reconcile/types.ts';

export const RECONCILER_PROVIDERS = ['sim', 'aws'] as const;
export type ReconcilerProvider = (typeof RECONCILER_PROVIDERS)[number];

export interface ReconcilerDeps {
  store: ProviderStateStore;
  sim?: SimOptions | undefined;
}

/** Async so the AWS SDK is loaded only by processes that run the aws controller. */
export async function createReconciler(provider: string, deps: ReconcilerDeps): Promise<Reconciler> {
  switch (provider) {
    case 'sim':
      return new SimReconciler({ ...deps.sim, store: deps.store });
    case 'aws': {
      const [{ AwsReconciler }, { createAwsClients }] = await Promise.all([import('../providers/aws/reconciler.ts'), import('../aws/clients.ts')]);
      return new AwsReconciler({ clients: createAwsClients() });
    }
    default:
      throw validationFailed(`no built-in controller for provider "${provider}" (have: ${RECONCILER_PROVIDERS.join(', ')})`);
  }
}
