import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createNatsBus } from '../../src/events/nats-bus.ts';
import { openBus } from '../../src/events/open.ts';
import { privateNatsServer } from '../helpers/nats-server.ts';
import { NATS_URL, needPeer } from '../helpers/peers.ts';
import { busContract } from './bus-contract.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../helpers/eventually.ts';
import { makeEvent, uniq } from './helpers.ts';

/** A stream and subject space of its own, so test files and tests never see each other's events. */
function isolated(): { stream: string; subjectPrefix: string } {
  const id = uniq();
  return { stream: `GOMAN_T_${id}`, subjectPrefix: `goman_t_${id}` };
}

/** Removes a test's stream from the shared server, whatever state its bus is in. */
async function deleteStream(stream: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

busContract('nats bus', async (t, opts) => {
  if (!(await needPeer(t, 'NATS', NATS_URL))) return null;
  const names = isolated();
  const bus = await createNatsBus({ url: NATS_URL, ...names, ...opts });
  return {
    bus,
    dispose: async () => {
      await bus.close();
      await deleteStream(names.stream);
    },
  };
});

test('nats bus: a republished eventId is stored once (outbox relay crash between publish and mark)', async (t) => {
  if (!(await needPeer(t, 'NATS', NATS_URL))) return;
  const names = isolated();
  const bus = await createNatsBus({ url: NATS_URL, ...names });
  try {
    const event = makeEvent(randomUUID());
    await bus.publish(event);
    await bus.publish(event);
    const marker = makeEvent(randomUUID());
    await bus.publish(marker);
    const seen: string[] = [];
    await bus.subscribe(`ctl-${uniq()}`, async (e) => {
      seen.push(e.eventId);
    });
    await eventually('the marker', () => seen.includes(marker.eventId));
    assert.deepEqual(seen, [event.eventId, marker.eventId]);
  } finally {
    await bus.close();
    await deleteStream(names.stream);
  }
});

test('openBus: nats:// opens the JetStream bus; stream creation is idempotent', async (t) => {
  if (!(await needPeer(t, 'NATS', NATS_URL))) return;
  const names = isolated();
  const a = await openBus(NATS_URL, names);
  const b = await openBus(NATS_URL, names);
  assert.equal(a.kind, 'nats');
  await a.ping();
  await b.ping();
  await b.close();
  await a.close();
  await deleteStream(names.stream);
});

test('nats bus: survives a NATS server restart (publish waits, consumers resume)', async (t: TestContext) => {
  const server = await privateNatsServer(t);
  if (server === null) return;
  const bus = await createNatsBus({ url: server.url, publishDeadlineMs: 20_000 });
  try {
    const seen = new Set<string>();
    await bus.subscribe('ctl-restart', async (e) => {
      seen.add(e.eventId);
    });
    const before = makeEvent(randomUUID());
    await bus.publish(before);
    await eventually('event before the restart', () => seen.has(before.eventId));

    await server.stop();
    const during = makeEvent(randomUUID());
    const publishing = bus.publish(during);
    await sleep(500); // the outage lasts a while: the publish must wait it out, not fail
    await server.start();
    await publishing;
    await eventually('event published across the restart', () => seen.has(during.eventId), { timeoutMs: 20_000 });
    const after = makeEvent(randomUUID());
    await bus.publish(after);
    await eventually('event after the restart', () => seen.has(after.eventId), { timeoutMs: 20_000 });
  } finally {
    await bus.close();
    await server.dispose();
  }
});
