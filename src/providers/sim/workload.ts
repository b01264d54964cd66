// The sim's stand-in for what runs on a cluster (what etcd holds): a demo or a test sets it, a
// snapshot captures it, and a restore brings it back, so a restore can be seen to have restored.
import type { ProviderStateStore } from '../../store/port.ts';
import { emptySimState, simStateSchema, type SimWorkload } from './instances.ts';
import { SIM_PROVIDER } from './reconciler.ts';

/** Replaces the workload objects of a cluster's simulated cloud, as `kubectl apply` would. */
export async function putSimWorkload(store: ProviderStateStore, clusterId: string, objects: Record<string, string>): Promise<SimWorkload> {
  const stored = await store.getProviderState(SIM_PROVIDER, clusterId);
  const state = stored === null || stored === undefined ? emptySimState() : simStateSchema.parse(stored);
  state.workload = { revision: state.workload.revision + 1, objects: { ...objects } };
  await store.putProviderState(SIM_PROVIDER, clusterId, state);
  return state.workload;
}
