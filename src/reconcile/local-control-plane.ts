// The control plane straight over a store, without the HTTP hop. Controllers use the API
// client in every topology (DESIGN §1); this adapter exists so tests and benchmarks can run
// a controller host on a bare store and measure what the HTTP hop costs.
import type { ClusterRecords, ReportStore } from '../store/port.ts';
import type { ControlPlane } from './types.ts';

export function localControlPlane(store: ClusterRecords & ReportStore): ControlPlane {
  return {
    getCluster: (id) => store.getCluster(id),
    reportStatus: async (id, controller, report) => {
      const r = await store.reportStatus(id, controller, report);
      return r.ignored ? { ignored: r.ignored } : {};
    },
    releaseFinalizer: async (id, controller) => {
      await store.removeFinalizer(id, controller);
    },
    registerController: async (name, registration) => {
      await store.registerController(name, registration);
    },
  };
}
