// Controller metrics (DESIGN §11) on a caller's registry. Several controllers may share one
// registry (the embedded engine), so each metric is created once per registry and the queue
// depth gauge reads every live queue when scraped.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ControllerMetrics {
  reconciles: Counter<'controller' | 'result'>;
  duration: Histogram<'controller'>;
  /** Register a queue's depth under a controller name; the returned function unregisters it. */
  trackDepth(controller: string, depth: () => number): () => void;
}

const byRegistry = new WeakMap<Registry, ControllerMetrics>();

export function controllerMetrics(registry: Registry): ControllerMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const sources = new Map<string, Set<() => number>>();
  const reconciles = new Counter({
    name: 'goman_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, error, lease_busy, gone, aborted).',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'goman_reconcile_duration_seconds',
    help: 'Time spent in one reconcile, lease and control-plane calls included.',
    labelNames: ['controller'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'goman_workqueue_depth',
    help: 'Keys waiting in a controller work queue.',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [controller, fns] of sources) {
        let depth = 0;
        for (const fn of fns) depth += fn();
        this.set({ controller }, depth);
      }
    },
  });
  const metrics: ControllerMetrics = {
    reconciles,
    duration,
    trackDepth(controller, depth) {
      const set = sources.get(controller) ?? new Set();
      sources.set(controller, set);
      set.add(depth);
      return () => {
        set.delete(depth);
        if (set.size === 0) sources.delete(controller);
      };
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
