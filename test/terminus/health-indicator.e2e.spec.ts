import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Inject } from '@nestjs/common';
import { Redis } from 'ioredis';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  BullMqScalekitQueue,
  InMemoryScalekitQueue,
  RedisIdempotencyStore,
  type ScalekitWebhookForRootOptions,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { ScalekitWebhookHealthIndicator } from 'nestjs-scalekit-webhooks/terminus';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, SECRET } from '../support/events.js';
import { send } from '../support/http.js';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';
import { deliver, JobProbe, JobProbeHandler, uniquePrefix } from '../support/queue-test-kit.js';

// The terminus health indicator in real apps, with a real HealthCheckService and a real redis-server.

let maxDeadLetters: number | undefined;

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(ScalekitWebhookHealthIndicator) private readonly scalekit: ScalekitWebhookHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.scalekit.isHealthy('scalekit', { maxDeadLetters })]);
  }
}

function startHealthApp(platform: (typeof PLATFORMS)[number], options: Omit<ScalekitWebhookForRootOptions, 'secret'>) {
  return startApp(platform, {
    imports: [
      TerminusModule,
      ScalekitWebhookModule.forRoot({ secret: SECRET, ...options } as ScalekitWebhookForRootOptions),
    ],
    controllers: [HealthController],
    providers: [ScalekitWebhookHealthIndicator, JobProbe, JobProbeHandler],
  });
}

async function health(t: TestApp) {
  const res = await send(`${t.url}/health`, { method: 'GET' });
  return { status: res.status, body: res.body as any };
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

describe.each(PLATFORMS)('ScalekitWebhookHealthIndicator (%s)', (platform) => {
  it('inline mode with the memory store: up, with the store reported', async () => {
    const t = await startHealthApp(platform, {});
    try {
      const res = await health(t);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        info: { scalekit: { status: 'up', idempotencyStore: { status: 'up' } } },
      });
      expect(res.body.info.scalekit.queue).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('the in-memory queue: workers running', async () => {
    const t = await startHealthApp(platform, {
      idempotency: false,
      processing: { mode: 'queue', queue: new InMemoryScalekitQueue() },
    });
    try {
      const res = await health(t);
      expect(res.status).toBe(200);
      expect(res.body.info.scalekit).toEqual({ status: 'up', queue: { status: 'up', workers: 'running' } });
    } finally {
      await t.close();
    }
  });

  it('Redis store and BullMQ queue: up while Redis answers; 503 with the store and queue down once it is gone, within the time limit', async () => {
    const own = await startRedisServer();
    // A client of the test's own, so that closing the app does not wait for a Redis that is gone.
    const client = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    const t = await startHealthApp(platform, {
      idempotency: { store: new RedisIdempotencyStore({ client }) },
      processing: {
        mode: 'queue',
        queue: new BullMqScalekitQueue({
          connection: own.url,
          prefix: uniquePrefix('health'),
          enqueueTimeoutMs: 1_000,
        }),
      },
    });
    try {
      const up = await health(t);
      expect(up.status).toBe(200);
      expect(up.body.info.scalekit).toEqual({
        status: 'up',
        idempotencyStore: { status: 'up' },
        queue: { status: 'up', workers: 'running', deadLetters: 0 },
      });
      await own.stop();
      const started = Date.now();
      const down = await health(t);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('error');
      expect(down.body.error.scalekit.status).toBe('down');
      expect(down.body.error.scalekit.queue.status).toBe('down');
      expect(down.body.error.scalekit.idempotencyStore.status).toBe('down');
      expect(JSON.stringify(down.body)).not.toContain(own.url);
    } finally {
      await t.close();
      client.disconnect();
    }
  });

  it('down when dead letters exceed maxDeadLetters', async () => {
    const queue = new BullMqScalekitQueue({
      connection: redis.url,
      prefix: uniquePrefix(`health-dl-${platform}`),
      attempts: 1,
    });
    const t = await startHealthApp(platform, { processing: { mode: 'queue', queue } });
    try {
      const probe = t.app.get(JobProbe);
      const event = eventOf('user.login');
      probe.failures.set(event.id, Infinity);
      expect((await deliver(t, event)).status).toBe(202);
      const deadline = Date.now() + 10_000;
      while ((await queue.countFailed()) < 1) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      maxDeadLetters = 1;
      const within = await health(t);
      expect(within.status).toBe(200);
      expect(within.body.info.scalekit.queue).toEqual({
        status: 'up',
        workers: 'running',
        deadLetters: 1,
        maxDeadLetters: 1,
      });
      maxDeadLetters = 0;
      const over = await health(t);
      expect(over.status).toBe(503);
      expect(over.body.error.scalekit.queue).toEqual({
        status: 'down',
        workers: 'running',
        deadLetters: 1,
        maxDeadLetters: 0,
        error: '1 dead-lettered events, more than 0',
      });
    } finally {
      maxDeadLetters = undefined;
      await t.close();
    }
  });
});
