// Property: the plan you review is the plan that runs (DESIGN §13). fast-check drives random
// sequences of spec changes (mode, pools, counts, instance types, stop/start, delete) through
// the sim reconciler with a controlled clock. Before each change the test asks the reconciler
// for its plan; from then on, every action the reconciler carries out must be the next one of
// that plan (a prefix while a change is cut short, all of it once converged), and the live
// instances never exceed what the plan allows at that point.
// The provider state lives in a Map here instead of SQLite: the property is about the
// planner and its executor, and thousands of passes per run would otherwise be disk writes;
// the store-backed behaviour is covered by sim.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Action, Cluster, ClusterSpec } from '../../../src/domain/index.ts';
import { clusterSpecSchema, emptyStatus } from '../../../src/domain/index.ts';
import { isLive } from '../../../src/providers/sim/instances.ts';
import { instanceBounds } from '../../../src/providers/sim/plan.ts';
import { SimReconciler } from '../../../src/providers/sim/reconciler.ts';
import type { ReconcileContext } from '../../../src/reconcile/types.ts';
import type { ProviderStateStore } from '../../../src/store/port.ts';

class MapStore implements ProviderStateStore {
  readonly states = new Map<string, unknown>();
  async getProviderState(_p: string, id: string): Promise<unknown> {
    return structuredClone(this.states.get(id) ?? null);
  }
  async putProviderState(_p: string, id: string, state: unknown): Promise<void> {
    this.states.set(id, structuredClone(state));
  }
  async deleteProviderState(_p: string, id: string): Promise<void> {
    this.states.delete(id);
  }
}

const specArb = fc
  .record({
    mode: fc.constantFrom('dev', 'ha'),
    desiredState: fc.constantFrom('running', 'running', 'stopped'),
    instanceType: fc.constantFrom('t3.medium', 't3.large'),
    pools: fc.uniqueArray(
      fc.record({ name: fc.constantFrom('a', 'b', 'gpu'), count: fc.integer({ min: 0, max: 4 }), instanceType: fc.option(fc.constantFrom('t3.small', 'g5.xlarge'), { nil: undefined }) }),
      { selector: (p) => p.name, maxLength: 3 },
    ),
  })
  .map((r) =>
    clusterSpecSchema.parse({
      provider: 'sim',
      mode: r.mode,
      desiredState: r.desiredState,
      instanceType: r.instanceType,
      nodePools: r.pools.map((p) => (p.instanceType ? p : { name: p.name, count: p.count })),
    }),
  );

/** A change, then how many passes run before the next one (0 cuts it short; 60 lets it converge). */
const stepArb = fc.record({ spec: specArb, passes: fc.constantFrom(0, 1, 2, 3, 60) });

const timingArb = fc.record({ bootMs: fc.constantFrom(0, 1000), installMs: fc.constantFrom(0, 2000), transitionMs: fc.constantFrom(0, 500, 1000) });

let cases = 0;

test('sim: the actions executed are the plan shown before them, and never more instances than it allows (property)', async () => {
  await fc.assert(
    fc.asyncProperty(timingArb, fc.array(stepArb, { minLength: 1, maxLength: 6 }), fc.boolean(), async (timing, steps, deleteAtEnd) => {
      cases++;
      let t = Date.parse('2026-01-01T00:00:00Z');
      const executed: Action[] = [];
      const store = new MapStore();
      const sim = new SimReconciler({ store, now: () => t, env: {}, ...timing, onAction: (a) => executed.push(a) });
      let cluster: Cluster = {
        id: '00000000-0000-4000-8000-000000000001',
        name: 'prop',
        labels: {},
        spec: clusterSpecSchema.parse({ provider: 'sim' }),
        status: emptyStatus(),
        generation: 1,
        resourceVersion: '1',
        createdBy: 'test',
        createdAt: new Date(t).toISOString(),
        updatedAt: new Date(t).toISOString(),
        finalizers: ['sim-controller'],
      };
      let released = false;
      const ctx: ReconcileContext = {
        fence: 1,
        signal: new AbortController().signal,
        report: async () => {},
        releaseFinalizer: async () => {
          released = true;
        },
      };
      const live = async (): Promise<number> => ((await sim.load(cluster.id)).instances.filter(isLive)).length;

      const change = async (spec: ClusterSpec, deleting: boolean, passes: number): Promise<void> => {
        cluster = { ...cluster, spec, generation: cluster.generation + 1, ...(deleting ? { deletionTimestamp: new Date(t).toISOString() } : {}) };
        const plan = await sim.plan(cluster);
        const before = await live();
        const { peak } = instanceBounds(before, plan);
        executed.length = 0;
        for (let i = 0; i < passes && !released; i++) {
          const r = await sim.reconcile(cluster, ctx);
          assert.deepEqual(executed, plan.slice(0, executed.length), 'what ran is a prefix of the plan');
          const n = await live();
          assert.equal(n, instanceBounds(before, executed).end, 'live instances are those the executed prefix leaves');
          assert.ok(n <= peak, `${n} live instances, the plan allows ${peak}`);
          if (r.requeueAfterMs === undefined) {
            assert.deepEqual(executed, plan, 'once converged, all of the plan ran and nothing else');
            if (!released) assert.deepEqual(await sim.plan(cluster), [], 'and nothing is left to do');
            return;
          }
          t += r.requeueAfterMs;
        }
      };

      for (const step of steps) await change(step.spec, false, step.passes);
      if (deleteAtEnd) {
        await change(cluster.spec, true, 60);
        assert.ok(released, 'a delete ends with the finalizer released');
        assert.equal(store.states.size, 0);
      }
    }),
    { numRuns: 500, seed: 20261129 },
  );
  console.log(`# plan = execution property: ${cases} cases`);
  assert.ok(cases >= 500);
});
