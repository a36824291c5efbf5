import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  RedisIdempotencyStore,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { startApp, type TestApp } from '../../support/app.js';
import {
  buildCrashChildApp,
  type BuiltChildApp,
  type RunningChildApp,
  startChildApp,
} from '../../support/crash-harness.js';
import { sleep } from '../../support/delivery-pool.js';
import { eventOf, nowSeconds, SECRET, signed } from '../../support/events.js';
import { type RawResponse, send } from '../../support/http.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';

// Crash: a child process running a Nest app with the Redis store is killed with SIGKILL while its handler sleeps.
// Its claim stays until the lease expires (retries meanwhile: 409), then a retry to a second instance, sharing the
// same Redis, runs the handler: exactly one completed run. Nothing is lost.

const LEASE_SECONDS = 2;
const COUNTERS = Symbol('counters');
const COUNTER_PREFIX = `crash:${process.pid}:count:`;
const KEY_PREFIX = `crash:${process.pid}:idem:`;

/** The second instance's handler: counts started and completed runs in the same Redis counters as the child's. */
@Injectable()
class CountingHandler {
  constructor(@Inject(COUNTERS) private readonly counters: Redis) {}

  @OnScalekitEvent('*')
  async handle(event: AnyScalekitEvent): Promise<void> {
    await this.counters.incr(`${COUNTER_PREFIX}started:${event.id}`);
    await sleep(10);
    await this.counters.incr(`${COUNTER_PREFIX}completed:${event.id}`);
  }
}

let built: BuiltChildApp;
let server: RedisServerHandle;
let raw: Redis;
let storeClient: Redis;
let child: RunningChildApp | undefined;
let second: TestApp;

beforeAll(async () => {
  [built, server] = await Promise.all([buildCrashChildApp(), startRedisServer()]);
  raw = new Redis(server.url);
  storeClient = new Redis(server.url);
  await raw.ping();
  second = await startApp('fastify', {
    imports: [
      ScalekitWebhookModule.forRoot({
        secret: SECRET,
        idempotency: {
          store: new RedisIdempotencyStore({ client: storeClient, keyPrefix: KEY_PREFIX }),
          leaseSeconds: LEASE_SECONDS,
        },
      }),
    ],
    providers: [CountingHandler, { provide: COUNTERS, useValue: raw }],
  });
}, 60_000);

afterAll(async () => {
  await child?.kill('SIGKILL');
  await second?.close();
  await storeClient?.quit();
  await raw?.quit();
  await server?.stop();
  built?.cleanup();
});

const count = async (what: 'started' | 'completed', id: string) =>
  Number((await raw.get(`${COUNTER_PREFIX}${what}:${id}`)) ?? 0);

function deliver(url: string, event: unknown, timestamp: number): Promise<RawResponse> {
  // Every attempt: the same event and webhook-id, a new timestamp and signature (what Scalekit's retries look like).
  const s = signed(event, { id: 'msg_crash_retry', timestamp });
  return send(`${url}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
}

describe('crash mid-handler (SIGKILL) with the Redis store', () => {
  it('the claim outlives the process until the lease expires; then a retry to another instance runs it, once', async () => {
    child = startChildApp(built, {
      REDIS_URL: server.url,
      KEY_PREFIX,
      COUNTER_PREFIX,
      LEASE_SECONDS: String(LEASE_SECONDS),
      SECRET,
    });
    const [, port] = await child.waitFor(/listening (\d+)/);
    const childUrl = `http://127.0.0.1:${port}`;
    const event = eventOf('organization.directory.user_created');
    const key = `${KEY_PREFIX}${event.id}`;

    const toChild = deliver(childUrl, event, nowSeconds() - 3).then(
      (response) => ({ response }),
      (error: NodeJS.ErrnoException) => ({ error }),
    );
    await child.waitFor(new RegExp(`started ${event.id}`));
    expect(await count('started', event.id)).toBe(1);
    expect(await raw.get(key)).toMatch(/^in-flight:/);

    // While the child works on it, the other instance refuses the retry.
    const whileAlive = await deliver(second.url, event, nowSeconds() - 2);
    expect(whileAlive.status).toBe(409);
    expect(whileAlive.headers['retry-after']).toBe(String(LEASE_SECONDS));

    const exit = await child.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const lost = await toChild;
    expect('error' in lost).toBe(true); // the sender saw no answer at all (connection reset), so it will retry
    expect(String((lost as { error: Error }).error.message)).toMatch(/socket hang up|ECONNRESET/);

    // The dead process's claim is still there until its lease runs out: a retry now is refused.
    const pttl = await raw.pttl(key);
    expect(pttl).toBeGreaterThan(200);
    const beforeExpiry = await deliver(second.url, event, nowSeconds() - 1);
    expect(beforeExpiry.status).toBe(409);
    expect(await count('started', event.id)).toBe(1);

    // Once the lease has expired, the retry is handled by the second instance.
    const deadline = Date.now() + LEASE_SECONDS * 1000 + 3_000;
    while ((await raw.exists(key)) === 1) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(20);
    }
    const afterExpiry = await deliver(second.url, event, nowSeconds());
    expect(afterExpiry.status).toBe(200);
    expect(await raw.get(key)).toBe('done');

    // And later retries are acknowledged without running anything.
    expect((await deliver(second.url, event, nowSeconds() + 1)).status).toBe(200);
    expect(await count('started', event.id)).toBe(2); // the killed run and the retry
    expect(await count('completed', event.id)).toBe(1); // exactly one completed run
  });
});
