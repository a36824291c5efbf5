import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { sleep } from '../../support/delivery-pool.js';
import { eventOf, SECRET, signed } from '../../support/events.js';
import { send } from '../../support/http.js';
import { Probe, ProbeHandler } from '../../support/probe.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';

// The lease covers a crashed process, not a slow one: while a handler runs, its claim is renewed, so a retry that
// arrives after `leaseSeconds` gets 409 instead of running the handler a second time, concurrently with the first.

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) {
    await apps.pop()!.close();
  }
});

const STORES: Array<[string, () => IdempotencyStore]> = [
  ['memory', () => new MemoryIdempotencyStore()],
  [
    'redis',
    () => new RedisIdempotencyStore({ connection: server.url, keyPrefix: `lease:${process.pid}:${Date.now()}:` }),
  ],
];

describe.each(PLATFORMS)('lease renewal (%s)', (platform) => {
  it.each(STORES)('a handler three times slower than the lease runs once (%s store)', async (_name, makeStore) => {
    const t = await startApp(platform, {
      imports: [
        ScalekitWebhookModule.forRoot({
          secret: SECRET,
          idempotency: { store: makeStore(), leaseSeconds: 2 },
        }),
      ],
      providers: [Probe, ProbeHandler],
    });
    apps.push(t);
    const probe = t.app.get(Probe);
    probe.delayMs = 6_000;
    const event = eventOf('organization.created');
    const deliver = () => {
      const s = signed(event, { id: 'msg_lease_slow' });
      return send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: { ...s.headers, connection: 'close' } });
    };
    const first = deliver();
    await probe.whenStarted(event.id);
    // Retries after the first lease has run out, twice over.
    for (const wait of [3_000, 2_000]) {
      await sleep(wait);
      const retry = await deliver();
      expect(retry.status).toBe(409);
      expect(retry.headers['retry-after']).toBeDefined();
    }
    expect((await first).status).toBe(200);
    expect(probe.startedCount(event.id)).toBe(1);
    const late = await deliver();
    expect(late.status).toBe(200);
    expect(probe.startedCount(event.id)).toBe(1);
    expect(probe.completedCount(event.id)).toBe(1);
  });
});
