import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  BullMqScalekitQueue,
  RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { sleep } from '../../support/delivery-pool.js';
import { eventOf, SECRET, signed } from '../../support/events.js';
import { type RawResponse, send } from '../../support/http.js';
import { Probe, ProbeHandler } from '../../support/probe.js';
import { startRedisServer } from '../../support/redis-server.js';
import { startRedisOnPort } from '../../support/redis-on-port.js';

// Redis stops while the app runs, then comes back on the same port. With the store configured as the README shows
// (`{ connection }` or `{ client }`), every delivery is answered 503 store_unavailable with Retry-After within the
// store's operation time limit (not after ioredis's offline queue and reconnection backoff), the outage is logged
// once when it starts and once when it ends, no client of the module prints unhandled error events, and deliveries
// are handled again once Redis is back.

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) {
    await cleanups.pop()!();
  }
  jest.restoreAllMocks();
});

function deliver(t: TestApp, event: Record<string, unknown>): Promise<RawResponse> {
  const s = signed(event, { id: `msg_${event.id as string}` });
  return send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
}

async function timedDeliver(t: TestApp, event: Record<string, unknown>): Promise<[RawResponse, number]> {
  const began = performance.now();
  const response = await deliver(t, event);
  return [response, Math.round(performance.now() - began)];
}

interface Setup {
  store: (url: string) => RedisIdempotencyStoreOptions;
  queue?: boolean;
  /** Upper bound asserted for each answer while Redis is down (generous: the machine is loaded). */
  boundMs: number;
}

const SETUPS: Array<[string, Setup]> = [
  ['{ connection } (defaults)', { store: (url) => ({ connection: url }), boundMs: 3_500 }],
  [
    '{ client } with ioredis defaults (offline queue on)',
    {
      store: (url) => {
        const client = new Redis(url);
        client.on('error', () => {}); // the user's client: its listener is the user's business
        cleanups.push(() => client.disconnect());
        return { client };
      },
      boundMs: 3_500,
    },
  ],
  [
    '{ client, operationTimeoutMs: 300 }',
    {
      store: (url) => {
        const client = new Redis(url);
        client.on('error', () => {});
        cleanups.push(() => client.disconnect());
        return { client, operationTimeoutMs: 300 };
      },
      boundMs: 2_000,
    },
  ],
  ["queue mode, the README's snippet", { store: (url) => ({ connection: url }), queue: true, boundMs: 3_500 }],
];

async function startOutageApp(platform: Platform, url: string, setup: Setup): Promise<TestApp> {
  const keyPrefix = `outage:${process.pid}:${Date.now()}:`;
  const t = await startApp(platform, {
    imports: [
      ScalekitWebhookModule.forRoot({
        secret: SECRET,
        idempotency: { store: new RedisIdempotencyStore({ ...setup.store(url), keyPrefix }) },
        ...(setup.queue
          ? {
              processing: {
                mode: 'queue' as const,
                queue: new BullMqScalekitQueue({ connection: url, prefix: `{outage${process.pid}}` }),
              },
            }
          : {}),
      }),
    ],
    providers: [Probe, ProbeHandler],
  });
  return t;
}

describe.each(PLATFORMS)('Redis outage (%s)', (platform) => {
  it.each(SETUPS)(
    '%s: 503 within the time limit, one line per outage edge, recovers',
    async (label, setup) => {
      const consoleError = jest.spyOn(console, 'error');
      const server = await startRedisServer();
      cleanups.push(() => server.stop());
      const t = await startOutageApp(platform, server.url, setup);
      cleanups.push(() => t.close());
      const ok = setup.queue ? 202 : 200;
      expect((await deliver(t, eventOf('organization.created'))).status).toBe(ok);

      await server.stop();
      const times: number[] = [];
      for (let i = 0; i < 4; i++) {
        const [response, ms] = await timedDeliver(t, eventOf('organization.created'));
        expect([response.status, response.body?.error]).toEqual([503, expect.stringMatching(/_unavailable$/)]);
        expect(response.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
        expect(ms).toBeLessThan(setup.boundMs);
        times.push(ms);
      }
      expect(t.logger.matching(/Idempotency store unreachable/)).toHaveLength(1);
      expect(t.logger.matching(/Idempotency store unreachable/)[0]!.level).toBe('error');

      const restarted = await startRedisOnPort(server.port);
      cleanups.push(() => restarted.stop());
      const back = eventOf('organization.created');
      const deadline = Date.now() + 15_000;
      let answer: RawResponse;
      do {
        await sleep(200);
        answer = await deliver(t, back);
      } while (answer.status !== ok && Date.now() < deadline);
      expect(answer.status).toBe(ok);
      expect(t.logger.matching(/Idempotency store reachable again/)).toHaveLength(1);
      const unhandled = consoleError.mock.calls.filter((call) => String(call[0]).includes('Unhandled error event'));
      expect(unhandled).toEqual([]);
      console.log(`Redis down, ${label}, ${platform}: answers in ${times.join(', ')} ms`);
    },
    60_000,
  );
});
