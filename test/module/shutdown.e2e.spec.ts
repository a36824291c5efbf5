import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { sleep } from '../support/delivery-pool.js';
import { eventOf, SECRET, signed } from '../support/events.js';
import { type RawResponse, send } from '../support/http.js';
import { Probe, ProbeHandler } from '../support/probe.js';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';

// Matrix case 44: on app.close(), deliveries in flight finish (or, past the deadline, have their claims released so
// the retry is handled elsewhere); deliveries arriving while the app closes get 503. `app.close()` runs the
// shutdown hooks itself: enableShutdownHooks() only adds the signal listeners.

const apps: TestApp[] = [];

async function start(platform: Platform, store: IdempotencyStore, shutdownTimeoutSeconds?: number): Promise<TestApp> {
  const t = await startApp(platform, {
    imports: [
      ScalekitWebhookModule.forRoot({
        secret: SECRET,
        idempotency: { store },
        ...(shutdownTimeoutSeconds === undefined ? {} : { shutdownTimeoutSeconds }),
      }),
    ],
    providers: [Probe, ProbeHandler],
  });
  apps.push(t);
  return t;
}

afterEach(async () => {
  while (apps.length) {
    await apps.pop()!.close();
  }
});

function deliver(
  t: TestApp,
  event: unknown,
  options: Parameters<typeof signed>[1] = {},
  extraHeaders: Record<string, string> = {},
): Promise<RawResponse> {
  const s = signed(event, options);
  return send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: { ...s.headers, ...extraHeaders } });
}

/**
 * For the slow deliveries: without it, the connection stays open (keep-alive) after the response, and the HTTP
 * server's close() waits for it to time out, which only makes the test slower.
 */
const CLOSE_CONNECTION = { connection: 'close' };

/** Nest's static Logger writes to the logger of the app created last: look in every app's captured lines. */
function logged(pattern: RegExp): boolean {
  return apps.some((a) => a.logger.matching(pattern).length > 0);
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(5);
  }
}

/** Settles to the response, or to the connection error's message. */
function settle(response: Promise<RawResponse>): Promise<RawResponse | string> {
  return response.catch((error: Error) => `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`);
}

describe.each(PLATFORMS)('graceful shutdown (%s)', (platform) => {
  it('finishes the delivery in flight during app.close() with 200; deliveries arriving meanwhile get 503', async () => {
    const store = new MemoryIdempotencyStore();
    const t = await start(platform, store);
    const probe = t.app.get(Probe);
    probe.delayMs = 500;
    const inFlight = eventOf('organization.created');
    const first = deliver(t, inFlight, {}, CLOSE_CONNECTION);
    await probe.whenStarted(inFlight.id);

    const closing = t.app.close();
    await waitUntil('the shutdown to start draining', () =>
      logged(/Shutting down: waiting up to 10000 ms for 1 delivery/),
    );

    const late = eventOf('organization.updated');
    const refused = await deliver(t, late);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toMatchObject({ statusCode: 503 });
    // A copy of the event in flight is refused the same way (not a 409, not a 2xx).
    const copy = await deliver(t, inFlight);
    expect(copy.status).toBe(503);
    expect(probe.completedCount(inFlight.id)).toBe(0); // still sleeping: close() really is waiting for it

    const response = await first;
    expect(response.status).toBe(200);
    await closing;
    apps.splice(apps.indexOf(t), 1);
    expect(probe.startedCount(inFlight.id)).toBe(1);
    expect(probe.completedCount(inFlight.id)).toBe(1);
    expect(probe.startedCount(late.id)).toBe(0);
    // The refused delivery left nothing behind; the finished one is marked done.
    expect((await store.claim(inFlight.id, 1000)).status).toBe('done');
    expect((await store.claim(late.id, 1000)).status).toBe('claimed');
    // And the server is gone.
    await expect(deliver(t, late)).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);
  });

  it('past shutdownTimeoutSeconds, releases the claim so another instance sharing the store handles the retry', async () => {
    const store = new MemoryIdempotencyStore(); // no close(): the shutdown of one app leaves it usable by the other
    expect((store as IdempotencyStore).close).toBeUndefined();
    const t1 = await start(platform, store, 0.3);
    const t2 = await start(platform, store);
    const p1 = t1.app.get(Probe);
    const p2 = t2.app.get(Probe);
    p1.delayMs = 3_000;
    const event = eventOf('organization.directory.user_created');
    const first = settle(deliver(t1, event, { id: 'msg_shutdown_release' }, CLOSE_CONNECTION));
    await p1.whenStarted(event.id);
    expect((await deliver(t2, event, { id: 'msg_shutdown_release' })).status).toBe(409);

    const began = Date.now();
    const closing = t1.app.close();
    await waitUntil('the claim to be released', () => logged(new RegExp(`Released the claim on event ${event.id}`)));
    const releasedAfter = Date.now() - began;
    expect(releasedAfter).toBeGreaterThanOrEqual(250);
    expect(releasedAfter).toBeLessThan(2_000);
    expect(p1.completedCount(event.id)).toBe(0); // released while its handler was still running

    // The key is claimable again...
    const claim = await store.claim(event.id, 1000);
    expect(claim.status).toBe('claimed');
    await store.release(event.id, (claim as { token: string }).token);
    // ...so Scalekit's retry, landing on the other instance, is handled there.
    const retry = await deliver(t2, event, { id: 'msg_shutdown_release' });
    expect(retry.status).toBe(200);
    expect(p2.completedCount(event.id)).toBe(1);
    expect((await store.claim(event.id, 1000)).status).toBe('done');

    await closing;
    apps.splice(apps.indexOf(t1), 1);
    // The sender of the first copy was answered 503 at the shutdown deadline (so that the server could close), not
    // left waiting for a handler that may never end.
    const outcome = await first;
    expect(typeof outcome === 'string' ? outcome : [outcome.status, outcome.body.error]).toEqual([
      503,
      'shutting_down',
    ]);
    // The first instance's handler did run on to the end (at least once, never lost): its late end changes nothing.
    await waitUntil('the abandoned handler to finish', () => p1.completedCount(event.id) === 1);
    expect((await store.claim(event.id, 1000)).status).toBe('done');
  });
});

describe('graceful shutdown with the Redis store', () => {
  let server: RedisServerHandle;
  let raw: Redis;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
    client = new Redis(server.url);
    await raw.ping();
  }, 30_000);
  afterAll(async () => {
    await client?.quit();
    await raw?.quit();
    await server?.stop();
  });

  it('past the deadline the key is deleted in Redis and the other instance handles the retry', async () => {
    const keyPrefix = `shutdown:${process.pid}:`;
    const t1 = await start('express', new RedisIdempotencyStore({ connection: server.url, keyPrefix }), 0.3);
    const t2 = await start('fastify', new RedisIdempotencyStore({ client, keyPrefix }));
    const p1 = t1.app.get(Probe);
    const p2 = t2.app.get(Probe);
    p1.delayMs = 3_000;
    const event = eventOf('user.login');
    const key = `${keyPrefix}${event.id}`;
    const first = settle(deliver(t1, event, {}, CLOSE_CONNECTION));
    await p1.whenStarted(event.id);
    expect(await raw.get(key)).toMatch(/^in-flight:/);

    const closing = t1.app.close();
    await waitUntil('the key to be deleted', async () => (await raw.exists(key)) === 0);
    expect(p1.completedCount(event.id)).toBe(0);

    const retry = await deliver(t2, event);
    expect(retry.status).toBe(200);
    expect(p2.completedCount(event.id)).toBe(1);
    expect(await raw.get(key)).toBe('done');

    await closing;
    apps.splice(apps.indexOf(t1), 1);
    await first;
    expect(await raw.get(key)).toBe('done');
  });
});
