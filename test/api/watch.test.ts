// GET /api/v1/watch over a real socket: SSE events from the outbox (relay → memory bus → tap),
// resume by id, heartbeats, visibility per user, and a client that never reads is dropped
// without holding up anyone else.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../../src/domain/index.ts';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { startOutboxRelay } from '../../src/events/outbox-relay.ts';
import type { ApiDeps } from '../../src/api/app.ts';
import { consistently, eventually } from '../helpers/eventually.ts';
import { harness, type Harness } from './harness.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data?: { type: string; cluster?: Cluster; id?: string; name?: string };
  comment?: string;
}

/** A reading SSE client: collects events; `next` waits for one that matches. */
function sse(
  url: string,
  token: string,
): { events: SseEvent[]; next(pred: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>; close(): void; status: Promise<number>; ended: Promise<void> } {
  const ctl = new AbortController();
  const events: SseEvent[] = [];
  let wake: () => void = () => {};
  let end: () => void = () => {};
  const ended = new Promise<void>((r) => (end = r));
  const status = fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: ctl.signal }).then((res) => {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body!) {
          buf += decoder.decode(chunk as Uint8Array, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev: SseEvent = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) ev.comment = line.slice(1).trim();
              else if (line.startsWith('id: ')) ev.id = line.slice(4);
              else if (line.startsWith('event: ')) ev.event = line.slice(7);
              else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6)) as SseEvent['data'];
            }
            events.push(ev);
            wake();
          }
        }
      } catch {
        // aborted by close()
      }
      end();
    })();
    return res.status;
  });
  return {
    events,
    status,
    ended,
    close: () => ctl.abort(),
    next: async (pred, ms = 10_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = events.find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(events.map((e) => e.event ?? e.comment))}`);
        await Promise.race([new Promise<void>((r) => (wake = r)), sleep(100)]);
      }
    },
  };
}

async function served(t: TestContext, overrides: Partial<ApiDeps> = {}): Promise<{ h: Harness; url: string }> {
  const bus = createMemoryBus();
  const h = await harness(t, { bus, watch: { heartbeatMs: 100, pollMs: 5000 }, ...overrides });
  const relay = startOutboxRelay({ store: h.store, bus, leases: h.store, owner: 'relay', pollMs: 20 });
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await relay.stop();
    await bus.close();
  });
  return { h, url };
}

const create = async (h: Harness, who: 'alice' | 'bob', name: string, labels: Record<string, string> = {}): Promise<Cluster> =>
  (await h.call(who, { method: 'POST', url: '/api/v1/clusters', payload: { name, labels } })).json<Cluster>();

test('watch: events for the caller\'s clusters, with outbox ids; heartbeats; resume from an id', async (t) => {
  const { h, url } = await served(t);
  const alice = sse(`${url}/api/v1/watch`, h.tokens.alice);
  const bob = sse(`${url}/api/v1/watch`, h.tokens.bob);
  t.after(() => {
    alice.close();
    bob.close();
  });
  assert.equal(await alice.status, 200);
  assert.equal(await bob.status, 200);
  await alice.next((e) => e.comment === 'connected');

  const c = await create(h, 'alice', 'demo');
  const created = await alice.next((e) => e.event === 'created');
  assert.equal(created.data?.cluster?.id, c.id);
  assert.equal(created.id, c.resourceVersion, 'the SSE id is the outbox seq = the resourceVersion');
  await alice.next((e) => e.comment === 'heartbeat');

  await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/demo', payload: { labels: { a: 'b' } } });
  const updated = await alice.next((e) => e.event === 'updated');
  assert.deepEqual(updated.data?.cluster?.labels, { a: 'b' });

  // Resume after the `created` event: what followed arrives, nothing before it, in order.
  const resumed = sse(`${url}/api/v1/watch?resourceVersion=${created.id}`, h.tokens.alice);
  t.after(() => resumed.close());
  const again = await resumed.next((e) => e.event === 'updated');
  assert.equal(again.id, updated.id);
  assert.ok(!resumed.events.some((e) => e.event === 'created'));

  await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/demo' });
  for (const stream of [alice, resumed]) {
    const deleted = await stream.next((e) => e.event === 'deleted');
    assert.deepEqual(deleted.data, { type: 'deleted', id: c.id, name: 'demo' });
  }
  const ids = resumed.events.filter((e) => e.id).map((e) => Number(e.id));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in outbox order');
  assert.ok(ids.every((id) => id > Number(created.id)));

  // Bob saw none of it (his own cluster shows up, so his stream itself works).
  await create(h, 'bob', 'bobs');
  await bob.next((e) => e.event === 'created');
  assert.deepEqual(bob.events.filter((e) => e.data).map((e) => e.data?.cluster?.name ?? e.data?.name), ['bobs']);
});

test('watch: a resume point older than the retained outbox is 410; a bad one 400', async (t) => {
  const { h } = await served(t);
  await create(h, 'alice', 'one');
  await create(h, 'alice', 'two');
  const oldest = await h.store.oldestRetainedSeq();
  // Prune what the relay has sent (the store keeps the newest row), so the oldest seq moves on.
  await eventually('the relay to send every row', async () => (await h.store.readUnsentOutbox(10)).length === 0, { timeoutMs: 5_000 });
  await h.store.pruneOutbox(new Date(Date.now() + 60_000));
  await create(h, 'alice', 'three');
  const after = await h.store.oldestRetainedSeq();
  assert.ok(after > oldest, `pruning moved the oldest seq (${oldest} → ${after})`);
  const gone = await h.call('alice', { method: 'GET', url: '/api/v1/watch?resourceVersion=0' });
  assert.equal(gone.statusCode, 410);
  assert.match(String(gone.headers['content-type']), /problem\+json/);
  const bad = await h.call('alice', { method: 'GET', url: '/api/v1/watch?resourceVersion=abc' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ errors: { path: string }[] }>().errors[0]?.path, 'resourceVersion');
});

test('watch: a client that never reads is dropped and never holds up another', async (t) => {
  const { h, url } = await served(t, { watch: { heartbeatMs: 60_000, clientBufferBytes: 256 * 1024, pollMs: 5000, stallMs: 300 } });
  // One cluster whose every event is ~500 KB, changed 20 times: far more than socket buffers hold.
  const big = await bigBacklog(h, 20);
  assert.ok(big.id);
  const streams = async (): Promise<number> => Number(/goman_watch_streams (\d+)/.exec((await h.app.inject('/metrics')).body)?.[1]);

  // The stuck client: asks for the whole backlog, then never reads a byte.
  const { port } = new URL(url);
  const stuck = net.connect(Number(port), '127.0.0.1');
  stuck.pause();
  stuck.on('error', () => {});
  t.after(() => stuck.destroy());
  stuck.write(`GET /api/v1/watch?resourceVersion=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.alice}\r\nAccept: text/event-stream\r\n\r\n`);

  const reader = sse(`${url}/api/v1/watch`, h.tokens.alice);
  t.after(() => reader.close());
  await reader.next((e) => e.comment === 'connected');
  await eventually('the stuck stream dropped, the reader remaining', async () => (await streams()) === 1, { timeoutMs: 5_000 });

  await create(h, 'alice', 'after');
  const ev = await reader.next((e) => e.event === 'created' && e.data?.cluster?.name === 'after');
  assert.ok(ev.id);
});

/**
 * A cluster whose every event is ~500 KB (a controller's status metadata, within its bound),
 * reported `rounds` times: a backlog of many MiB.
 */
async function bigBacklog(h: Harness, rounds: number): Promise<Cluster> {
  const big = await create(h, 'alice', 'big');
  assert.equal((await h.call('controller', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } })).statusCode, 200);
  const blob = 'v'.repeat(480 * 1024);
  for (let i = 0; i < rounds; i++) {
    const payload = { observedGeneration: 1, conditions: [], metadata: { blob, round: String(i) } };
    const res = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${big.id}/status/sim`, payload });
    assert.equal(res.statusCode, 200);
  }
  return big;
}

const openStreams = async (h: Harness): Promise<number> => Number(/goman_watch_streams (\d+)/.exec((await h.app.inject('/metrics')).body)?.[1]);

test('watch: resuming before a backlog of many MiB streams all of it, at the pace the client reads', async (t) => {
  const { h, url } = await served(t, { watch: { heartbeatMs: 60_000, clientBufferBytes: 256 * 1024, pollMs: 5000, stallMs: 30_000 } });
  const big = await bigBacklog(h, 20);

  // A client that does not read at first (a slow link), then reads everything.
  const { port } = new URL(url);
  const sock = net.connect(Number(port), '127.0.0.1');
  t.after(() => sock.destroy());
  sock.pause();
  sock.write(`GET /api/v1/watch?resourceVersion=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.alice}\r\nAccept: text/event-stream\r\n\r\n`);
  await eventually('the stream is open', async () => (await openStreams(h)) === 1);
  await consistently('the paused stream is waited for, not dropped', async () => (await openStreams(h)) === 1, { timeoutMs: 1000 });

  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => (text += chunk));
  sock.resume();
  const ids = await eventually('the whole backlog', () => {
    const found = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    return found.length >= 21 && found;
  });
  assert.equal(ids.length, 21, 'created + 20 updates, nothing more, nothing lost');
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(ids[0], Number(big.resourceVersion));
  assert.match(text, /"round":"19"/);
});

test('watch: a resume point newer than the latest event is 410, not a silent skip', async (t) => {
  const { h, url } = await served(t);
  const c = await create(h, 'alice', 'one');
  const ahead = await h.call('alice', { method: 'GET', url: `/api/v1/watch?resourceVersion=${Number(c.resourceVersion) + 5}` });
  assert.equal(ahead.statusCode, 410);
  assert.match(String(ahead.headers['content-type']), /problem\+json/);
  assert.equal(ahead.json<{ errors: { path: string }[] }>().errors[0]?.path, 'resourceVersion');

  // The latest event itself is a fine resume point: what follows it arrives.
  const stream = sse(`${url}/api/v1/watch?resourceVersion=${c.resourceVersion}`, h.tokens.alice);
  t.after(() => stream.close());
  assert.equal(await stream.status, 200);
  await create(h, 'alice', 'two');
  const next = await stream.next((e) => e.event === 'created');
  assert.equal(next.data?.cluster?.name, 'two');
});

test('watch: a stream ends within the token cache TTL once its token is revoked or expires', async (t) => {
  const { h, url } = await served(t, { tokenCacheMs: 400 });
  const { issueToken } = await import('../../src/api/tokens.ts');
  const shortLived = await issueToken(h.store, { subject: 'carol@example.com', role: 'user', expiresInMs: 1500 });
  const alice = sse(`${url}/api/v1/watch`, h.tokens.alice);
  const carol = sse(`${url}/api/v1/watch`, shortLived.token);
  const bob = sse(`${url}/api/v1/watch`, h.tokens.bob);
  t.after(() => [alice, carol, bob].forEach((s) => s.close()));
  for (const s of [alice, carol, bob]) assert.equal(await s.status, 200);

  const tokens = (await h.call('admin', { method: 'GET', url: '/api/v1/tokens' })).json<{ items: { id: string; subject: string }[] }>();
  const aliceId = tokens.items.find((r) => r.subject === 'alice@example.com')!.id;
  const revokedAt = Date.now();
  assert.equal((await h.call('admin', { method: 'DELETE', url: `/api/v1/tokens/${aliceId}` })).statusCode, 204);
  await eventually('the revoked stream ends', async () => (await Promise.race([alice.ended.then(() => true), sleep(25).then(() => false)])));
  // Within the TTL, plus slack for a loaded test machine (without the re-check it never ends).
  assert.ok(Date.now() - revokedAt < 400 + 1000, `ended ${Date.now() - revokedAt} ms after revocation (TTL 400 ms)`);
  await carol.ended; // expired at 1.5 s
  assert.ok(Date.now() - Date.parse(shortLived.expiresAt!) < 400 + 1000, 'the expired stream ended within the TTL');

  // Bob's token is good: his stream stays and still delivers.
  await create(h, 'bob', 'bobs');
  const ev = await bob.next((e) => e.event === 'created');
  assert.equal(ev.data?.cluster?.name, 'bobs');
});
