import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  ScalekitWebhookModule,
  type ScalekitWebhookModuleOptions,
} from 'nestjs-scalekit-webhooks';
import { PLATFORMS, type Platform, startApp, type TestApp } from '../../support/app.js';
import { eventOf, nowSeconds, OTHER_SECRET, signed } from '../../support/events.js';
import { send } from '../../support/http.js';
import { Probe, ProbeHandler } from '../../support/probe.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';

// Matrix cases 29–33 (and the idempotency options) over real HTTP.

const PATH = '/webhooks/scalekit';

function startProbeApp(platform: Platform, options: Partial<ScalekitWebhookModuleOptions> = {}): Promise<TestApp> {
  return startApp(platform, {
    imports: [ScalekitWebhookModule.forRoot({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ...options })],
    providers: [Probe, ProbeHandler],
  });
}

/** Sends one signed copy of `event` (fresh signature; `id` = webhook-id, `timestamp` = attempt time). */
function deliver(t: TestApp, event: unknown, options: Parameters<typeof signed>[1] = {}) {
  const s = signed(event, options);
  return send(`${t.url}${PATH}`, { body: s.rawBody, headers: s.headers });
}

describe.each(PLATFORMS)('idempotency over HTTP, memory store (%s)', (platform) => {
  let t: TestApp;
  let probe: Probe;
  let store: MemoryIdempotencyStore;

  beforeAll(async () => {
    store = new MemoryIdempotencyStore();
    t = await startProbeApp(platform, { idempotency: { store } });
    probe = t.app.get(Probe);
  });
  afterAll(() => t.close());
  beforeEach(() => probe.reset());

  it('29: the same delivery replayed inside the window is answered 2xx and handled once; after the window it is 401', async () => {
    const event = eventOf('organization.created');
    const copy = signed(event, { id: 'msg_replay_inside' });
    const sizeBefore = store.size;
    const first = await send(`${t.url}${PATH}`, { body: copy.rawBody, headers: copy.headers });
    const replay = await send(`${t.url}${PATH}`, { body: copy.rawBody, headers: copy.headers });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ received: true });
    expect(probe.startedCount(event.id)).toBe(1);
    expect(probe.completedCount(event.id)).toBe(1);
    expect(store.size).toBe(sizeBefore + 1);

    // A delivery whose timestamp has left the window (the same bytes, signed 301 s ago) is refused before the store.
    const late = eventOf('organization.created');
    const old = signed(late, { id: 'msg_replay_after', timestamp: nowSeconds() - 301 });
    expect((await send(`${t.url}${PATH}`, { body: old.rawBody, headers: old.headers })).status).toBe(401);
    expect(probe.startedCount(late.id)).toBe(0);
    expect(store.size).toBe(sizeBefore + 1);
  });

  it('30: a retry after success (same event and webhook-id, new timestamp and signature) is 2xx without running handlers', async () => {
    const event = eventOf('organization.directory.user_created');
    const first = signed(event, { id: 'msg_retry_after_success', timestamp: nowSeconds() - 20 });
    const retry = signed(event, { id: 'msg_retry_after_success', timestamp: nowSeconds() });
    expect(retry.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
    expect((await send(`${t.url}${PATH}`, { body: first.rawBody, headers: first.headers })).status).toBe(200);
    const res = await send(`${t.url}${PATH}`, { body: retry.rawBody, headers: retry.headers });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true });
    // A manual resend under another webhook-id is the same event id: still not run again (the key is the event id).
    expect((await deliver(t, event, { id: 'msg_manual_resend' })).status).toBe(200);
    expect(probe.startedCount(event.id)).toBe(1);
    expect(probe.completedCount(event.id)).toBe(1);
    expect((await store.claim(event.id, 1000)).status).toBe('done');
  });

  it('31: a duplicate while the first copy is in flight gets 409 with Retry-After; after success, copies get 200 without reprocessing', async () => {
    const event = eventOf('user.login');
    const release = probe.hold(event.id);
    const first = deliver(t, event, { id: 'msg_in_flight', timestamp: nowSeconds() - 1 });
    await probe.whenStarted(event.id);

    const duplicate = await deliver(t, event, { id: 'msg_in_flight' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers['retry-after']).toBe('10'); // default lease 60 s, capped at 10 s
    expect(duplicate.body).toMatchObject({ statusCode: 409 });
    const other = await deliver(t, event, { id: 'msg_in_flight_other' });
    expect(other.status).toBe(409);
    expect(probe.completedCount(event.id)).toBe(0);

    release();
    expect((await first).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const later = await deliver(t, event, { id: 'msg_in_flight', timestamp: nowSeconds() + i });
      expect(later.status).toBe(200);
    }
    expect(probe.startedCount(event.id)).toBe(1);
    expect(probe.completedCount(event.id)).toBe(1);
  });

  it('31: the 409 Retry-After follows a short lease', async () => {
    const s = new MemoryIdempotencyStore();
    const short = await startProbeApp(platform, { idempotency: { store: s, leaseSeconds: 2 } });
    try {
      const p = short.app.get(Probe);
      const event = eventOf('user.logout');
      const release = p.hold(event.id);
      const first = deliver(short, event);
      await p.whenStarted(event.id);
      const duplicate = await deliver(short, event);
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers['retry-after']).toBe('2');
      release();
      expect((await first).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it('32: a handler that fails answers 500 and releases the claim; the retry runs it to completion, exactly once', async () => {
    const event = eventOf('organization.updated');
    probe.failOnce.add(event.id);
    const sizeBefore = store.size;

    const failed = await deliver(t, event, { id: 'msg_fail_then_succeed', timestamp: nowSeconds() - 30 });
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ statusCode: 500 });
    expect(failed.text).not.toContain('told to fail'); // the handler's error stays in the log
    expect(store.size).toBe(sizeBefore); // released, not left in flight nor marked done
    expect(probe.completedCount(event.id)).toBe(0);

    const retry = await deliver(t, event, { id: 'msg_fail_then_succeed', timestamp: nowSeconds() });
    expect(retry.status).toBe(200);
    const again = await deliver(t, event, { id: 'msg_fail_then_succeed', timestamp: nowSeconds() + 1 });
    expect(again.status).toBe(200);
    expect(probe.startedCount(event.id)).toBe(2);
    expect(probe.completedCount(event.id)).toBe(1);
    expect(store.size).toBe(sizeBefore + 1);
  });

  it('33: requests that fail verification (or validation) record nothing in the store', async () => {
    const event = eventOf('organization.directory.user_created');
    const good = signed(event, { id: 'msg_verification' });
    const url = `${t.url}${PATH}`;
    const sizeBefore = store.size;
    const attempts: Array<[string, Promise<{ status: number }>, number]> = [
      [
        'wrong signature',
        send(url, {
          body: good.rawBody,
          headers: { ...good.headers, 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=' },
        }),
        401,
      ],
      [
        'other secret',
        (() => {
          const s = signed(event, { secret: OTHER_SECRET });
          return send(url, { body: s.rawBody, headers: s.headers });
        })(),
        401,
      ],
      [
        'too old',
        (() => {
          const s = signed(event, { timestamp: nowSeconds() - 301 });
          return send(url, { body: s.rawBody, headers: s.headers });
        })(),
        401,
      ],
      [
        'too new',
        (() => {
          const s = signed(event, { timestamp: nowSeconds() + 301 });
          return send(url, { body: s.rawBody, headers: s.headers });
        })(),
        401,
      ],
      [
        'body changed',
        send(url, { body: Buffer.concat([good.rawBody, Buffer.from(' ')]), headers: good.headers }),
        401,
      ],
      [
        'signature missing',
        send(url, {
          body: good.rawBody,
          headers: {
            'content-type': 'application/json',
            'webhook-id': 'msg_verification',
            'webhook-timestamp': String(nowSeconds()),
          },
        }),
        400,
      ],
      [
        'valid signature, invalid envelope',
        (() => {
          const s = signed({ ...event, type: 42 });
          return send(url, { body: s.rawBody, headers: s.headers });
        })(),
        400,
      ],
    ];
    for (const [label, response, status] of attempts) {
      expect({ label, status: (await response).status }).toEqual({ label, status });
    }
    expect(store.size).toBe(sizeBefore);
    expect(probe.startedCount(event.id)).toBe(0);
    // Nothing was claimed nor marked done for the event: its authentic delivery runs the handlers.
    expect((await send(url, { body: good.rawBody, headers: good.headers })).status).toBe(200);
    expect(probe.completedCount(event.id)).toBe(1);
    expect(store.size).toBe(sizeBefore + 1);
  });
});

describe.each(PLATFORMS)('idempotency: false (%s)', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startProbeApp(platform, { idempotency: false });
  });
  afterAll(() => t.close());

  it('runs the handlers for every copy, including concurrent ones', async () => {
    const probe = t.app.get(Probe);
    const event = eventOf('organization.created');
    for (let i = 0; i < 3; i++) {
      expect((await deliver(t, event, { id: 'msg_no_dedupe', timestamp: nowSeconds() - i })).status).toBe(200);
    }
    expect(probe.completedCount(event.id)).toBe(3);

    const release = probe.hold(event.id);
    const first = deliver(t, event);
    await probe.whenStarted(event.id);
    const second = deliver(t, event); // no 409: nothing tracks copies
    while (probe.startedCount(event.id) < 5) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    release();
    expect([(await first).status, (await second).status]).toEqual([200, 200]);
    expect(probe.completedCount(event.id)).toBe(5);
  });
});

describe.each(PLATFORMS)('invalid idempotency options stop the app at start-up (%s)', (platform) => {
  const cases: Array<[string, Partial<ScalekitWebhookModuleOptions>, RegExp]> = [
    [
      'ttlSeconds below twice the default tolerance',
      { idempotency: { ttlSeconds: 599 } },
      /idempotency\.ttlSeconds \(599\) must be at least twice toleranceSeconds \(600\)/,
    ],
    [
      'ttlSeconds below twice a custom tolerance',
      { toleranceSeconds: 10, idempotency: { ttlSeconds: 19 } },
      /idempotency\.ttlSeconds \(19\) must be at least twice toleranceSeconds \(20\)/,
    ],
    [
      'ttlSeconds zero',
      { idempotency: { ttlSeconds: 0 } },
      /idempotency\.ttlSeconds must be a positive number of seconds \(got 0\)/,
    ],
    [
      'leaseSeconds zero',
      { idempotency: { leaseSeconds: 0 } },
      /idempotency\.leaseSeconds must be a positive number of seconds \(got 0\)/,
    ],
    [
      'leaseSeconds negative',
      { idempotency: { leaseSeconds: -5 } },
      /idempotency\.leaseSeconds must be a positive number of seconds \(got -5\)/,
    ],
    [
      'leaseSeconds not a number',
      { idempotency: { leaseSeconds: '60' as unknown as number } },
      /idempotency\.leaseSeconds must be a positive number/,
    ],
    [
      'a store without claim()',
      {
        idempotency: {
          store: { complete: async () => true, release: async () => true } as unknown as IdempotencyStore,
        },
      },
      /idempotency\.store must implement claim\(\), complete\(\) and release\(\)/,
    ],
    ['idempotency: true', { idempotency: true as unknown as false }, /idempotency must be an options object or false/],
    [
      'shutdownTimeoutSeconds negative',
      { shutdownTimeoutSeconds: -1 },
      /shutdownTimeoutSeconds must be a positive number of seconds \(got -1\)/,
    ],
  ];

  it.each(cases)('%s', async (_label, options, message) => {
    await expect(startProbeApp(platform, options)).rejects.toThrow(message);
  });

  it('accepts ttlSeconds of exactly twice the tolerance', async () => {
    const t = await startProbeApp(platform, {
      toleranceSeconds: 10,
      idempotency: { ttlSeconds: 20, leaseSeconds: 0.5 },
    });
    await t.close();
  });
});

describe('idempotency over HTTP, Redis store shared by two instances', () => {
  let server: RedisServerHandle;
  let raw: Redis;
  let a: TestApp;
  let b: TestApp;
  let bClient: Redis;
  const keyPrefix = `e2e:idem:${process.pid}:`;

  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
    await raw.ping();
    // One instance with a client of its own, the other with a client the store creates: nothing shared but Redis.
    a = await startProbeApp('express', {
      idempotency: { store: new RedisIdempotencyStore({ connection: server.url, keyPrefix }), leaseSeconds: 3 },
    });
    bClient = new Redis(server.url);
    b = await startProbeApp('fastify', {
      idempotency: { store: new RedisIdempotencyStore({ client: bClient, keyPrefix }), leaseSeconds: 3 },
    });
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await bClient?.quit(); // a client passed as `client` stays open after the app closes: it is ours to close
    await raw?.quit();
    await server?.stop();
  });

  const keys = () => raw.keys(`${keyPrefix}*`);

  it('33: failed verification writes no key; the authentic copy writes one done mark', async () => {
    const event = eventOf('organization.created');
    const wrong = signed(event, { secret: OTHER_SECRET });
    const old = signed(event, { timestamp: nowSeconds() - 400 });
    const tampered = signed(event);
    expect((await send(`${a.url}${PATH}`, { body: wrong.rawBody, headers: wrong.headers })).status).toBe(401);
    expect((await send(`${b.url}${PATH}`, { body: old.rawBody, headers: old.headers })).status).toBe(401);
    expect(
      (
        await send(`${a.url}${PATH}`, {
          body: Buffer.concat([tampered.rawBody, Buffer.from('\n')]),
          headers: tampered.headers,
        })
      ).status,
    ).toBe(401);
    expect(await keys()).toEqual([]);

    expect((await deliver(a, event)).status).toBe(200);
    expect(await keys()).toEqual([`${keyPrefix}${event.id}`]);
    expect(await raw.get(`${keyPrefix}${event.id}`)).toBe('done');
    expect((await deliver(b, event)).status).toBe(200); // 30 across instances
    expect(a.app.get(Probe).completedCount(event.id) + b.app.get(Probe).completedCount(event.id)).toBe(1);
  });

  it('31 and 32 across instances: 409 from the other instance while in flight; a failure releases the key', async () => {
    const event = eventOf('organization.updated');
    const pa = a.app.get(Probe);
    const pb = b.app.get(Probe);
    const release = pa.hold(event.id);
    pa.failOnce.add(event.id);
    const first = deliver(a, event, { id: 'msg_cross', timestamp: nowSeconds() - 1 });
    await pa.whenStarted(event.id);
    expect(await raw.get(`${keyPrefix}${event.id}`)).toMatch(/^in-flight:/);
    const duplicate = await deliver(b, event, { id: 'msg_cross' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers['retry-after']).toBe('3');

    release();
    expect((await first).status).toBe(500);
    expect(await raw.exists(`${keyPrefix}${event.id}`)).toBe(0); // released at once, no wait for the lease

    expect((await deliver(b, event, { id: 'msg_cross' })).status).toBe(200);
    expect((await deliver(a, event, { id: 'msg_cross' })).status).toBe(200);
    expect(pa.completedCount(event.id)).toBe(0);
    expect(pb.completedCount(event.id)).toBe(1);
    expect(pa.startedCount(event.id) + pb.startedCount(event.id)).toBe(2);
  });
});
