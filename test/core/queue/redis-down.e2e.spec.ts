import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BullMqScalekitQueue } from 'nestjs-scalekit-webhooks';
import type { TestApp } from '../../support/app.js';
import { sleep } from '../../support/delivery-pool.js';
import { eventOf, nowSeconds } from '../../support/events.js';
import type { RawResponse } from '../../support/http.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';
import { deliver, JobProbe, startQueueApp, uniquePrefix } from '../../support/queue-test-kit.js';
import { startRedisOnPort } from '../../support/redis-on-port.js';

// Matrix case 35 in queue mode: while Redis is down nothing is acknowledged (503 queue_unavailable, fast, with
// Retry-After); once it is back, Scalekit's retries are accepted and handled, each exactly once.

describe('Redis stopped and started again', () => {
  let server: RedisServerHandle;
  let restarted: { stop(): Promise<void> } | undefined;
  let before: TestApp;
  let during: TestApp | undefined;
  const prefix = uniquePrefix('down');

  const queue = () => new BullMqScalekitQueue({ connection: server.url, prefix, enqueueTimeoutMs: 1_000 });

  beforeAll(async () => {
    server = await startRedisServer();
    before = await startQueueApp('express', { processing: { mode: 'queue', queue: queue() } });
  }, 30_000);

  afterAll(async () => {
    await before?.close();
    await during?.close();
    await restarted?.stop();
    await server?.stop();
  });

  const retryUntil2xx = async (
    target: TestApp,
    event: unknown,
    webhookId: string,
    timeoutMs: number,
  ): Promise<RawResponse[]> => {
    const answers: RawResponse[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await deliver(target, event, { id: webhookId, timestamp: nowSeconds() });
      answers.push(res);
      if (res.status < 300 || Date.now() > deadline) {
        return answers;
      }
      await sleep(100);
    }
  };

  it('35: 503 queue_unavailable while Redis is down (nothing acknowledged); retries succeed once it is back', async () => {
    const probe = before.app.get(JobProbe);
    const first = eventOf('organization.created');
    expect((await deliver(before, first)).status).toBe(202);
    await probe.until(() => probe.completedCount(first.id) === 1, 10_000, 'the first event');

    await server.stop();

    // Redis is down: every attempt is refused at once, with Retry-After; nothing is handled.
    const lost = eventOf('organization.directory.user_created');
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await deliver(before, lost, { id: 'msg_down', timestamp: nowSeconds() });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'queue_unavailable' });
      expect(res.headers['retry-after']).toBe('5');
      expect(Date.now() - started).toBeLessThan(1_500);
    }
    expect(before.logger.matching(new RegExp(`Could not enqueue event ${lost.id}`)).length).toBe(3);

    // An instance started while Redis is down has never connected: its enqueue waits for enqueueTimeoutMs, then 503.
    during = await startQueueApp('fastify', { processing: { mode: 'queue', queue: queue() } });
    const late = eventOf('user.login');
    const started = Date.now();
    const res = await deliver(during, late, { id: 'msg_late' });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'queue_unavailable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(probe.runsOf(lost.id)).toHaveLength(0);

    // Redis is back on the same port (empty: this test server keeps nothing on disk).
    restarted = await startRedisOnPort(server.port);

    const lostAnswers = await retryUntil2xx(before, lost, 'msg_down', 15_000);
    expect(lostAnswers.at(-1)!.status).toBe(202);
    expect(lostAnswers.slice(0, -1).every((r) => r.status === 503)).toBe(true);
    const lateAnswers = await retryUntil2xx(during, late, 'msg_late', 15_000);
    expect(lateAnswers.at(-1)!.status).toBe(202);

    const duringProbe = during.app.get(JobProbe);
    const handled = (id: string) => probe.completedCount(id) + duringProbe.completedCount(id);
    await probe.until(() => handled(lost.id) === 1 && handled(late.id) === 1, 15_000, 'both events after the restart');
    // Later copies are acknowledged without running the handlers again.
    expect((await deliver(before, lost, { id: 'msg_down' })).status).toBe(202);
    expect((await deliver(during, late, { id: 'msg_late' })).status).toBe(202);
    await sleep(500);
    expect([handled(lost.id), handled(late.id)]).toEqual([1, 1]);
    expect(probe.runs.length + duringProbe.runs.length).toBe(3);
  }, 60_000);

  it('44: app.close() completes in bounded time while Redis is down', async () => {
    await restarted!.stop();
    await sleep(200);
    const started = Date.now();
    await during!.close();
    during = undefined;
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 20_000);
});
