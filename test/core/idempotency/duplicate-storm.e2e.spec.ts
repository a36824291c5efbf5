import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import type { Agent } from 'node:http';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import {
  keepAliveAgent,
  pool,
  sleep,
  post,
  type PooledResponse,
  seededRandom,
  shuffle,
  tally,
} from '../../support/delivery-pool.js';
import { eventOf, nowSeconds, SECRET, signed } from '../../support/events.js';
import { Probe, ProbeHandler } from '../../support/probe.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';

// Duplicate storm: 100 distinct events × 10 copies, concurrency 50, to one app (memory store) and then spread over
// two app instances sharing one Redis. Every event must be handled exactly once, every copy answered 200 or 409,
// and a retry of every copy after the storm answered 200 without running anything.

const EVENTS = 100;
const COPIES = 10;
const CONCURRENCY = 50;
/** Copies 0..SAME_ID_COPIES-1 of an event share one webhook-id (retries); the others have their own (resends). */
const SAME_ID_COPIES = 5;
const TYPES = ['organization.created', 'organization.directory.user_created', 'user.login', 'role.created'];

interface Copy {
  eventId: string;
  webhookId: string;
  payload: Record<string, unknown>;
  /** Index of the app instance the copy goes to. */
  target: number;
}

interface StormResult {
  responses: PooledResponse[];
  elapsedMs: number;
}

function startStormApp(platform: Platform, store: IdempotencyStore, leaseSeconds = 30): Promise<TestApp> {
  return startApp(platform, {
    imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, idempotency: { store, leaseSeconds } })],
    providers: [Probe, ProbeHandler],
  });
}

/** Events whose copies are shuffled together: copies of one event stay within 100 requests of one another. */
const EVENTS_PER_WAVE = 10;

/**
 * 100 events × 10 copies in a fixed shuffled order; each copy goes to one of `instances` apps. The order is shuffled
 * within waves of 10 events, so that copies of an event are close enough to meet runs in flight (409s), and far
 * enough apart that many find the event done (200 without running).
 */
function planCopies(seed: number, instances: number): Copy[] {
  const random = seededRandom(seed);
  const copies: Copy[] = [];
  for (let wave = 0; wave < EVENTS / EVENTS_PER_WAVE; wave++) {
    copies.push(...shuffle(planWave(seed, wave, instances), random));
  }
  return copies;
}

function planWave(seed: number, wave: number, instances: number): Copy[] {
  const copies: Copy[] = [];
  for (let e = wave * EVENTS_PER_WAVE; e < (wave + 1) * EVENTS_PER_WAVE; e++) {
    const payload = eventOf(TYPES[e % TYPES.length]!, { id: `evt_storm_${seed}_${e}` });
    for (let c = 0; c < COPIES; c++) {
      copies.push({
        eventId: payload.id as string,
        webhookId: c < SAME_ID_COPIES ? `msg_storm_${seed}_${e}` : `msg_storm_${seed}_${e}_resend_${c}`,
        payload,
        target: instances === 1 ? 0 : (e + c) % instances,
      });
    }
  }
  return copies;
}

/** Signs every copy separately (each one a new attempt: its own timestamp, hence its own signature), then sends. */
async function storm(
  copies: readonly Copy[],
  urls: readonly string[],
  agent: Agent,
  attempt: number,
): Promise<StormResult> {
  const now = nowSeconds();
  const requests = copies.map((copy, i) => {
    // Same webhook-id, different timestamps within the window: different signatures for the same event.
    const s = signed(copy.payload, { id: copy.webhookId, timestamp: now - ((i + attempt * 7) % 60) });
    return () => post(urls[copy.target]!, s.rawBody, s.headers as unknown as Record<string, string>, agent);
  });
  const started = performance.now();
  const responses = await pool(requests, CONCURRENCY);
  return { responses, elapsedMs: Math.round(performance.now() - started) };
}

/** Handler delay of 5–20 ms, varying by event, so copies overlap with runs in flight. */
function handlerDelay(id: string): number {
  let h = 0;
  for (const ch of id) {
    h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  }
  return 5 + (h % 16);
}

function summarise(label: string, first: StormResult, retry: StormResult): string {
  const counts = tally(first.responses);
  const retryCounts = tally(retry.responses);
  return (
    `storm ${label}: ${first.responses.length} requests (${EVENTS} events × ${COPIES} copies, concurrency ${CONCURRENCY}), ` +
    `${counts[200] ?? 0} × 200, ${counts[409] ?? 0} × 409, other ${first.responses.length - (counts[200] ?? 0) - (counts[409] ?? 0)}, ` +
    `${first.elapsedMs} ms; retry of every copy: ${retryCounts[200] ?? 0} × 200 in ${retry.elapsedMs} ms`
  );
}

/** Asserts the storm's guarantees given the probes of every instance. */
function checkStorm(copies: readonly Copy[], result: StormResult, probes: readonly Probe[]): void {
  const eventIds = [...new Set(copies.map((c) => c.eventId))];
  expect(eventIds).toHaveLength(EVENTS);
  const unexpected = result.responses
    .map((r, i) => ({ status: r.status, error: r.error, text: r.text, eventId: copies[i]!.eventId }))
    .filter((r) => r.status !== 200 && r.status !== 409);
  expect(unexpected).toEqual([]);

  const completed = (id: string) => probes.reduce((sum, p) => sum + p.completedCount(id), 0);
  const started = (id: string) => probes.reduce((sum, p) => sum + p.startedCount(id), 0);
  const notOnce = eventIds
    .map((id) => ({ id, started: started(id), completed: completed(id) }))
    .filter((c) => c.started !== 1 || c.completed !== 1);
  expect(notOnce).toEqual([]);

  // Each event got at least one 200: the copy that ran its handlers.
  const acknowledged = new Set(copies.filter((_, i) => result.responses[i]!.status === 200).map((c) => c.eventId));
  expect(acknowledged.size).toBe(EVENTS);
  // More 200s than events: some copies found their event done and were acknowledged without running it.
  expect(result.responses.filter((r) => r.status === 200).length).toBeGreaterThan(EVENTS);

  const conflicts = result.responses.filter((r) => r.status === 409);
  // Without in-flight races the storm would prove nothing about them.
  expect(conflicts.length).toBeGreaterThan(0);
  for (const r of conflicts) {
    expect(r.retryAfter).toMatch(/^[1-9][0-9]*$/);
  }
}

function checkRetry(
  copies: readonly Copy[],
  retry: StormResult,
  probes: readonly Probe[],
  before: Map<string, number>,
): void {
  expect(tally(retry.responses)).toEqual({ [200]: copies.length });
  const after = totals(probes);
  expect(after).toEqual(before);
}

function totals(probes: readonly Probe[]): Map<string, number> {
  const all = new Map<string, number>();
  for (const probe of probes) {
    for (const [id, n] of probe.started) {
      all.set(id, (all.get(id) ?? 0) + n);
    }
  }
  return all;
}

describe.each(PLATFORMS)('duplicate storm, one app, memory store (%s)', (platform) => {
  let t: TestApp;
  let store: MemoryIdempotencyStore;
  let agent: Agent;

  beforeAll(async () => {
    store = new MemoryIdempotencyStore();
    t = await startStormApp(platform, store);
    t.app.get(Probe).delayMs = handlerDelay;
    agent = keepAliveAgent(CONCURRENCY);
  });
  afterAll(async () => {
    agent?.destroy();
    await t?.close();
  });

  it('handles every event exactly once; copies get 200 or 409; retries after the storm get 200', async () => {
    const seed = platform === 'express' ? 1 : 2;
    const copies = planCopies(seed, 1);
    const probe = t.app.get(Probe);
    const first = await storm(copies, [`${t.url}/webhooks/scalekit`], agent, 0);
    checkStorm(copies, first, [probe]);
    expect(store.size).toBe(EVENTS);
    for (const id of new Set(copies.map((c) => c.eventId))) {
      expect((await store.claim(id, 1000)).status).toBe('done');
    }

    const before = totals([probe]);
    const retry = await storm(copies, [`${t.url}/webhooks/scalekit`], agent, 1);
    checkRetry(copies, retry, [probe], before);
    console.log(summarise(`memory store, one ${platform} app`, first, retry));
  });
});

describe('duplicate storm, two app instances sharing one Redis', () => {
  let server: RedisServerHandle;
  let raw: Redis;
  const ownClients: Redis[] = [];
  let agent: Agent;

  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
    await raw.ping();
    agent = keepAliveAgent(CONCURRENCY);
  }, 30_000);
  afterAll(async () => {
    agent?.destroy();
    await Promise.all(ownClients.map((c) => c.quit()));
    await raw?.quit();
    await server?.stop();
  });

  it('handlers slower than the lease (1 s lease, 2.5 s handlers): still exactly once across both instances', async () => {
    const keyPrefix = `storm:slow:${process.pid}:`;
    const client = new Redis(server.url);
    ownClients.push(client);
    const apps = [
      await startStormApp('express', new RedisIdempotencyStore({ connection: server.url, keyPrefix }), 1),
      await startStormApp('fastify', new RedisIdempotencyStore({ client, keyPrefix }), 1),
    ];
    try {
      const probes = apps.map((a) => a.app.get(Probe));
      for (const p of probes) {
        p.delayMs = 2_500;
      }
      const urls = apps.map((a) => `${a.url}/webhooks/scalekit`);
      const events = Array.from({ length: 20 }, (_, e) => eventOf(TYPES[e % TYPES.length]!, { id: `evt_slow_${e}` }));
      // Copies of every event to both instances: at once, then twice more after the first lease has run out (while the
      // handlers still run), then once more after they finished.
      const wave = (attempt: number) =>
        storm(
          events.flatMap((payload, e) =>
            [0, 1].map((target) => ({ eventId: payload.id as string, webhookId: `msg_slow_${e}`, payload, target })),
          ),
          urls,
          agent,
          attempt,
        );
      const results: StormResult[] = [];
      const firstWave = wave(0);
      await sleep(1_300);
      results.push(await wave(1));
      await sleep(700);
      results.push(await wave(2));
      results.unshift(await firstWave);
      results.push(await wave(3));
      const statuses = results.map((r) => tally(r.responses));
      // While a handler runs, every copy gets 409 (a copy sent together with the first one may also have waited for it
      // and got 200); once all are done, every copy gets 200.
      expect(statuses[1]).toEqual({ [409]: 40 });
      expect(statuses[2]).toEqual({ [409]: 40 });
      expect(statuses[3]).toEqual({ [200]: 40 });
      expect(statuses[0]![200]).toBe(20);
      for (const payload of events) {
        const id = payload.id as string;
        expect([id, probes.reduce((n, p) => n + p.startedCount(id), 0)]).toEqual([id, 1]);
        expect([id, probes.reduce((n, p) => n + p.completedCount(id), 0)]).toEqual([id, 1]);
      }
    } finally {
      for (const a of apps) {
        await a.close();
      }
    }
  });

  const pairs: Array<[Platform, Platform]> = [
    ['express', 'express'],
    ['fastify', 'fastify'],
    ['express', 'fastify'],
  ];

  it.each(pairs)('%s + %s: every event handled exactly once across both instances', async (first, second) => {
    const keyPrefix = `storm:${first}:${second}:${process.pid}:`;
    // Separate clients: one the store creates from connection options, one of ours passed as `client`.
    const client = new Redis(server.url);
    ownClients.push(client);
    const apps = [
      await startStormApp(first, new RedisIdempotencyStore({ connection: server.url, keyPrefix })),
      await startStormApp(second, new RedisIdempotencyStore({ client, keyPrefix })),
    ];
    try {
      const probes = apps.map((a) => a.app.get(Probe));
      for (const p of probes) {
        p.delayMs = handlerDelay;
      }
      const urls = apps.map((a) => `${a.url}/webhooks/scalekit`);
      const seed = 10 + pairs.findIndex(([a, b]) => a === first && b === second);
      const copies = planCopies(seed, 2);

      const storm1 = await storm(copies, urls, agent, 0);
      checkStorm(copies, storm1, probes);
      // Both instances did part of the work: the load really was spread.
      expect(probes.every((p) => p.completed.size > 0)).toBe(true);
      const keys = await raw.keys(`${keyPrefix}*`);
      expect(keys).toHaveLength(EVENTS);
      expect(new Set(await raw.mget(...keys))).toEqual(new Set(['done']));

      const before = totals(probes);
      const retry = await storm(copies, urls, agent, 1);
      checkRetry(copies, retry, probes, before);
      console.log(
        summarise(`Redis store, ${first} + ${second} instances`, storm1, retry) +
          ` (handled per instance: ${probes.map((p) => p.completed.size).join(' + ')})`,
      );
    } finally {
      for (const a of apps) {
        await a.close();
      }
    }
  });
});
