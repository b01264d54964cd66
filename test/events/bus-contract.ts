// The one contract every EventBus adapter passes (DESIGN §1: "every adapter of a port passes
// one shared contract test suite"). Run by memory-bus.test.ts and nats-bus.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { EventBus } from '../../src/events/port.ts';
import type { ClusterEvent } from '../../src/domain/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { consistently, eventually } from '../helpers/eventually.ts';
import { makeEvent, uniq } from './helpers.ts';

export interface BusUnderTest {
  bus: EventBus;
  /** Closes the bus and removes whatever it created on a server. */
  dispose(): Promise<void>;
}

export interface ContractOpenOptions {
  concurrency?: number;
  redeliveryDelayMs?: number;
}

/** Returns null when the adapter's peer is missing (the test has been skipped). */
export type OpenBus = (t: TestContext, opts: ContractOpenOptions) => Promise<BusUnderTest | null>;

export function busContract(label: string, open: OpenBus): void {
  async function withBus(t: TestContext, opts: ContractOpenOptions, body: (bus: EventBus) => Promise<void>): Promise<void> {
    const opened = await open(t, opts);
    if (opened === null) return;
    try {
      await body(opened.bus);
    } finally {
      await opened.dispose();
    }
  }

  test(`${label}: every consumer name gets every event`, (t) =>
    withBus(t, {}, async (bus) => {
      const seen: Record<string, string[]> = { a: [], b: [] };
      for (const name of ['a', 'b'] as const) {
        await bus.subscribe(`ctl-${name}-${uniq()}`, async (e) => {
          seen[name]?.push(e.eventId);
        });
      }
      const events = Array.from({ length: 5 }, () => makeEvent(randomUUID()));
      for (const e of events) await bus.publish(e);
      const want = events.map((e) => e.eventId).sort();
      await eventually('both consumers saw all events', () => seen.a?.length === 5 && seen.b?.length === 5);
      assert.deepEqual([...(seen.a ?? [])].sort(), want);
      assert.deepEqual([...(seen.b ?? [])].sort(), want);
    }));

  test(`${label}: subscribers sharing a consumer name share the work`, (t) =>
    withBus(t, { concurrency: 1 }, async (bus) => {
      const consumer = `ctl-${uniq()}`;
      const handled = new Map<string, string[]>();
      const record = (who: string) => async (e: ClusterEvent) => {
        handled.set(e.eventId, [...(handled.get(e.eventId) ?? []), who]);
        await sleep(15); // handling takes a while, so the two subscribers overlap
      };
      await bus.subscribe(consumer, record('one'));
      await bus.subscribe(consumer, record('two'));
      const events = Array.from({ length: 20 }, () => makeEvent(randomUUID()));
      for (const e of events) await bus.publish(e);
      await eventually('every event handled', () => handled.size === 20);
      await consistently('no event handled twice', () => [...handled.values()].every((who) => who.length === 1), { timeoutMs: 100 });
      for (const e of events) assert.equal(handled.get(e.eventId)?.length, 1, 'each event is handled by one subscriber');
      const by = [...handled.values()].flat();
      assert.ok(by.includes('one') && by.includes('two'), 'both subscribers took part');
    }));

  test(`${label}: events published while no subscriber exists are delivered later`, (t) =>
    withBus(t, {}, async (bus) => {
      const consumer = `ctl-${uniq()}`;
      const early = [makeEvent(randomUUID()), makeEvent(randomUUID())];
      for (const e of early) await bus.publish(e);
      const seen = new Set<string>();
      const sub = await bus.subscribe(consumer, async (e) => {
        seen.add(e.eventId);
      });
      await eventually('events from before the first subscription', () => early.every((e) => seen.has(e.eventId)));
      await sub.close();
      const whileAway = makeEvent(randomUUID());
      await bus.publish(whileAway);
      await consistently('a closed subscription to receive nothing', () => !seen.has(whileAway.eventId), { timeoutMs: 100 });
      await bus.subscribe(consumer, async (e) => {
        seen.add(e.eventId);
      });
      await eventually('the event published while away', () => seen.has(whileAway.eventId));
    }));

  test(`${label}: a rejected event is redelivered`, (t) =>
    withBus(t, { redeliveryDelayMs: 100 }, async (bus) => {
      const event = makeEvent(randomUUID());
      let attempts = 0;
      let done = false;
      await bus.subscribe(`ctl-${uniq()}`, async (e) => {
        if (e.eventId !== event.eventId) return;
        attempts++;
        if (attempts === 1) throw new Error('transient failure');
        done = true;
      });
      await bus.publish(event);
      await eventually('redelivery after rejection', () => done);
      assert.equal(attempts, 2);
    }));

  test(`${label}: taps see new events, and a throwing tap harms no other`, (t) =>
    withBus(t, {}, async (bus) => {
      const seen: string[] = [];
      await bus.tap(() => {
        throw new Error('bad tap');
      });
      const tap = await bus.tap((e) => seen.push(e.eventId));
      const events = [makeEvent(randomUUID()), makeEvent(randomUUID())];
      for (const e of events) await bus.publish(e);
      await eventually('tap saw both events', () => seen.length === 2);
      assert.deepEqual(seen, events.map((e) => e.eventId));
      await tap.close();
      await bus.publish(makeEvent(randomUUID()));
      await consistently('a closed tap to receive nothing', () => seen.length === 2, { timeoutMs: 100 });
    }));

  test(`${label}: one subscriber at concurrency 1 sees each cluster's events in order`, (t) =>
    withBus(t, { concurrency: 1 }, async (bus) => {
      const clusters = [randomUUID(), randomUUID(), randomUUID()];
      const got = new Map<string, number[]>();
      await bus.subscribe(`ctl-${uniq()}`, async (e) => {
        got.set(e.clusterId, [...(got.get(e.clusterId) ?? []), e.generation]);
      });
      for (let g = 1; g <= 10; g++) for (const c of clusters) await bus.publish(makeEvent(c, g));
      await eventually('all 30 events', () => [...got.values()].flat().length === 30);
      for (const c of clusters) assert.deepEqual(got.get(c), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }));

  test(`${label}: ping answers while open; publish after close is UNAVAILABLE`, (t) =>
    withBus(t, {}, async (bus) => {
      await bus.ping();
      await bus.close();
      await assert.rejects(bus.publish(makeEvent(randomUUID())), { code: 'UNAVAILABLE' });
    }));
}
