// The provider controllers this binary can run, by provider name (`goman controller
// --provider NAME`, and the embedded engine's built-in set).
import { validationFailed } from '../domain/index.ts';
import { SimReconciler, type SimOptions } from '../providers/sim/reconciler.ts';
import type { ProviderStateStore } from '../store/port.ts';
import type { Reconciler } from './types.ts';

export const RECONCILER_PROVIDERS = ['sim'] as const;
export type ReconcilerProvider = (typeof RECONCILER_PROVIDERS)[number];

export interface ReconcilerDeps {
  store: ProviderStateStore;
  sim?: SimOptions | undefined;
}

export function createReconciler(provider: string, deps: ReconcilerDeps): Reconciler {
  switch (provider) {
    case 'sim':
      return new SimReconciler({ ...deps.sim, store: deps.store });
    default:
      throw validationFailed(`no built-in controller for provider "${provider}" (have: ${RECONCILER_PROVIDERS.join(', ')})`);
  }
}
