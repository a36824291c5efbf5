import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryIdempotencyStore, ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { ScalekitWebhookConfig } from '../../../lib/scalekit-webhook.config.js';
import { buildChildApp, type BuiltChildApp, startChildApp } from '../../support/crash-harness.js';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { sleep } from '../../support/delivery-pool.js';
import { eventOf, SECRET, signed } from '../../support/events.js';
import { type RawResponse, send } from '../../support/http.js';
import { Probe, ProbeHandler } from '../../support/probe.js';

// Scalekit wants an answer within 10 seconds. A delivery whose handlers are still running at the response deadline
// is answered 503 with Retry-After; the handlers go on with their claim renewed, and once they succeed the event is
// done, so the retry is acknowledged without a second run. On app.close(), deliveries still open at the shutdown
// deadline are answered 503 too, so that the HTTP server can close even when a handler never settles.

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) {
    await apps.pop()!.close();
  }
});

async function start(
  platform: Platform,
  options: { responseTimeoutSeconds?: number; shutdownTimeoutSeconds?: number; store?: MemoryIdempotencyStore },
): Promise<TestApp> {
  const { store = new MemoryIdempotencyStore(), ...rest } = options;
  const t = await startApp(platform, {
    imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, idempotency: { store, leaseSeconds: 1 }, ...rest })],
    providers: [Probe, ProbeHandler],
  });
  apps.push(t);
  return t;
}

function deliver(t: TestApp, event: Record<string, unknown>): Promise<RawResponse> {
  const s = signed(event, { id: `msg_${event.id as string}` });
  return send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: { ...s.headers, connection: 'close' } });
}

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const began = performance.now();
  const value = await work;
  return [value, performance.now() - began];
}

describe.each(PLATFORMS)('response deadline (%s)', (platform) => {
  it('answers 503 + Retry-After at the deadline; the handler finishes once and the retry is acknowledged', async () => {
    const t = await start(platform, { responseTimeoutSeconds: 1 });
    const probe = t.app.get(Probe);
    probe.delayMs = 3_000;
    const event = eventOf('organization.created');
    const [first, ms] = await timed(deliver(t, event));
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
    expect(first.body).toMatchObject({ statusCode: 503, error: 'handler_timeout' });
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2_500);
    expect(probe.completedCount(event.id)).toBe(0);
    // Still running, past its first lease: the claim was renewed.
    await sleep(700);
    expect((await deliver(t, event)).status).toBe(409);
    // Once it finished, the retry is acknowledged without running it again.
    await sleep(2_000);
    expect(probe.completedCount(event.id)).toBe(1);
    const retry = await deliver(t, event);
    expect(retry.status).toBe(200);
    expect(probe.startedCount(event.id)).toBe(1);
    expect(t.logger.matching(new RegExp(`${event.id}.*still running after 1000 ms`))).toHaveLength(1);
  });

  it('a handler that fails after the deadline releases the claim: the retry runs it again', async () => {
    const t = await start(platform, { responseTimeoutSeconds: 1 });
    const probe = t.app.get(Probe);
    probe.delayMs = 1_500;
    const event = eventOf('organization.created');
    probe.failOnce.add(event.id);
    expect((await deliver(t, event)).status).toBe(503);
    await sleep(1_000);
    expect(probe.startedCount(event.id)).toBe(1);
    probe.delayMs = 0;
    expect((await deliver(t, event)).status).toBe(200);
    expect(probe.startedCount(event.id)).toBe(2);
    expect(probe.completedCount(event.id)).toBe(1);
  });

  it('app.close() completes within shutdownTimeoutSeconds plus a small bound with a handler that never settles', async () => {
    const store = new MemoryIdempotencyStore();
    const t = await start(platform, { responseTimeoutSeconds: 30, shutdownTimeoutSeconds: 1, store });
    const probe = t.app.get(Probe);
    const event = eventOf('organization.created');
    probe.hold(event.id); // never released
    const open = deliver(t, event);
    await probe.whenStarted(event.id);
    const [, ms] = await timed(t.app.close());
    apps.splice(apps.indexOf(t), 1);
    const answer = await open;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
    expect(answer.body).toMatchObject({ error: 'shutting_down' });
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4_000);
    // Its claim was released: the retry, wherever it lands, runs the handler.
    expect((await store.claim(event.id, 1000)).status).toBe('claimed');
    console.log(
      `app.close() with a handler that never settles (${platform}, shutdownTimeoutSeconds 1): ${Math.round(ms)} ms`,
    );
  });

  it('defaults to an 8 s deadline (Scalekit waits 10 s), and refuses a bad value at start-up', async () => {
    const t = await start(platform, {});
    expect(JSON.parse(JSON.stringify(t.app.get(ScalekitWebhookConfig)))).toMatchObject({ responseTimeoutMs: 8_000 });
    await expect(start(platform, { responseTimeoutSeconds: 0 })).rejects.toThrow(
      /responseTimeoutSeconds must be a positive number of seconds \(got 0\)/,
    );
  });
});

describe('SIGTERM with a handler that never settles (child process)', () => {
  let built: BuiltChildApp;
  beforeAll(async () => {
    built = await buildChildApp('test/support/hang-child-app.ts');
  }, 120_000);
  afterAll(() => built?.cleanup());

  it.each(PLATFORMS)(
    '%s: the process exits within shutdownTimeoutSeconds plus a small bound',
    async (platform) => {
      const child = startChildApp(built, {
        PLATFORM: platform,
        SECRET,
        SHUTDOWN_TIMEOUT_SECONDS: '2',
        RESPONSE_TIMEOUT_SECONDS: '30',
      });
      try {
        const port = (await child.waitFor(/listening (\d+)/))[1];
        const event = eventOf('organization.created');
        const s = signed(event);
        const open = send(`http://127.0.0.1:${port}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
        await child.waitFor(new RegExp(`started ${event.id}`));
        const [exit, ms] = await timed(child.kill('SIGTERM'));
        const answer = await open.catch((error: Error) => error.message);
        expect(child.output()).toMatch(/closed/);
        expect(exit.signal === 'SIGTERM' || exit.code !== null).toBe(true);
        expect(ms).toBeLessThan(2_000 + 5_000);
        expect(typeof answer === 'string' ? answer : answer.status).toBe(503);
        console.log(
          `SIGTERM with a handler that never settles (${platform}, shutdownTimeoutSeconds 2): exited after ${Math.round(ms)} ms`,
        );
      } finally {
        await child.kill('SIGKILL');
      }
    },
    60_000,
  );
});
