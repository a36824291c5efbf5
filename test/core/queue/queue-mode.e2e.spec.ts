import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  type AnyScalekitEvent,
  BullMqScalekitQueue,
  type BullMqScalekitQueueOptions,
  InMemoryScalekitQueue,
  OnScalekitEvent,
  type ScalekitDeadLetterInfo,
  type ScalekitDelivery,
  type ScalekitJobRequest,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { eventOf, nowSeconds, SECRET, signed } from '../../support/events.js';
import { send } from '../../support/http.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';
import { deliver, JobProbe, JobProbeHandler, PATH, startQueueApp, uniquePrefix } from '../../support/queue-test-kit.js';

// Queue mode over real HTTP (Express and Fastify) with a real redis-server: fast 202, handlers in workers, retries
// with backoff, dead letters, request scope, worker-only instances, graceful shutdown, and the in-memory queue.

const QUEUED = { received: true, queued: true };

let server: RedisServerHandle;
let raw: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  raw = new Redis(server.url);
  await raw.ping();
}, 30_000);

afterAll(async () => {
  await raw?.quit();
  await server?.stop();
});

function bullQueue(prefix: string, options: Partial<BullMqScalekitQueueOptions> = {}): BullMqScalekitQueue {
  return new BullMqScalekitQueue({ connection: server.url, prefix, ...options });
}

/** A plain BullMQ Queue on the same queue, to look at it as an operator would. */
function inspector(prefix: string, queueName = 'scalekit-webhooks'): Queue {
  return new Queue(queueName, { connection: { host: '127.0.0.1', port: server.port }, prefix });
}

describe.each(PLATFORMS)('queue mode with BullMQ (%s)', (platform) => {
  const prefix = uniquePrefix(`mode-${platform}`);
  let t: TestApp;
  let probe: JobProbe;
  let inspect: Queue;
  const deadLetters: Array<{ event: AnyScalekitEvent; error: unknown; info: ScalekitDeadLetterInfo }> = [];

  beforeAll(async () => {
    t = await startQueueApp(platform, {
      processing: {
        mode: 'queue',
        queue: bullQueue(prefix, { attempts: 3, backoff: { type: 'exponential', delay: 300 } }),
        onFailed: (event, error, info) => {
          deadLetters.push({ event, error, info });
        },
      },
    });
    probe = t.app.get(JobProbe);
    inspect = inspector(prefix);
  });
  afterAll(async () => {
    await t?.close();
    await inspect?.close();
  });

  it('37: answers 202 {"received":true,"queued":true} at once while the handler sleeps for 2 s; the handler then runs exactly once', async () => {
    probe.delayMs = 2_000;
    try {
      const event = eventOf('organization.directory.user_created');
      const started = Date.now();
      const res = await deliver(t, event);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(202);
      expect(res.body).toEqual(QUEUED);
      expect(elapsed).toBeLessThan(1_000);
      expect(probe.completedCount(event.id)).toBe(0);

      await probe.until(() => probe.completedCount(event.id) === 1, 10_000, 'the handler to complete');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      const [run] = probe.runsOf(event.id);
      expect(run!.attempt).toBe(1);
      // The handler gets the same (event, delivery) as inline: the delivery of the accepted request, dates restored.
      expect(run!.delivery.webhookId).toMatch(/^msg_/);
      expect(run!.delivery.timestamp).toBeInstanceOf(Date);
      expect(run!.delivery.receivedAt).toBeInstanceOf(Date);
      expect(run!.delivery.headers['webhook-id']).toBe(run!.delivery.webhookId);

      // Copies (retries, manual resends) are acknowledged with 202 and never run it again.
      expect((await deliver(t, event)).status).toBe(202);
      expect((await deliver(t, event, { id: 'msg_manual_resend' })).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(probe.runsOf(event.id)).toHaveLength(1);
      expect(await inspect.getJobCounts('completed')).toMatchObject({ completed: 1 });
    } finally {
      probe.delayMs = 0;
    }
  });

  it('the job id is the event id; events whose id BullMQ refuses (":" or an integer) are encoded, not refused', async () => {
    const plain = eventOf('user.login');
    const colon = eventOf('user.login', { id: `evt:with:colons:${Date.now()}` });
    const integer = eventOf('user.login', { id: String(Date.now()) });
    for (const event of [plain, colon, integer]) {
      expect((await deliver(t, event)).status).toBe(202);
    }
    await probe.until(
      () => [plain, colon, integer].every((e) => probe.completedCount(e.id) === 1),
      10_000,
      'three events',
    );
    expect(await inspect.getJob(plain.id)).toBeDefined();
    expect((await inspect.getJob(plain.id))!.data.event.id).toBe(plain.id);
    const encoded = BullMqScalekitQueue.jobIdOf(colon.id);
    expect(encoded).not.toContain(':');
    expect((await inspect.getJob(encoded))!.data.event.id).toBe(colon.id);
    expect((await inspect.getJob(BullMqScalekitQueue.jobIdOf(integer.id)))!.data.event.id).toBe(integer.id);
  });

  it('a handler that fails twice then succeeds is retried with exponential backoff and handled once', async () => {
    const event = eventOf('organization.updated');
    probe.failures.set(event.id, 2);
    expect((await deliver(t, event)).status).toBe(202);
    await probe.until(() => probe.completedCount(event.id) === 1, 15_000, 'the third attempt');
    const runs = probe.runsOf(event.id);
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // Backoff 300 ms, then 600 ms (exponential), measured between attempt starts.
    expect(runs[1]!.startedAt - runs[0]!.startedAt).toBeGreaterThanOrEqual(300);
    expect(runs[2]!.startedAt - runs[1]!.startedAt).toBeGreaterThanOrEqual(600);
    expect(probe.completedCount(event.id)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(probe.runsOf(event.id)).toHaveLength(3);
    expect(deadLetters.filter((d) => d.event.id === event.id)).toEqual([]);
    expect(t.logger.matching(new RegExp(`Event ${event.id} .*failed attempt 1`))).toHaveLength(1);
    expect(t.logger.matching(new RegExp(`Event ${event.id} .*failed attempt 2`))).toHaveLength(1);
    expect((await inspect.getJob(event.id))!.attemptsMade).toBe(3); // BullMQ counts the successful attempt too
  });

  it('a handler that always fails ends in the failed set and triggers the dead-letter hook once', async () => {
    const event = eventOf('permission.created');
    probe.failures.set(event.id, Infinity);
    expect((await deliver(t, event)).status).toBe(202);
    await probe.until(() => deadLetters.some((d) => d.event.id === event.id), 15_000, 'the dead letter');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(probe.runsOf(event.id).map((r) => r.attempt)).toEqual([1, 2, 3]);
    const letters = deadLetters.filter((d) => d.event.id === event.id);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.info).toMatchObject({ attemptsMade: 3, final: true });
    expect(letters[0]!.info.delivery.webhookId).toMatch(/^msg_/);
    expect(letters[0]!.event).toEqual(event);
    expect(String((letters[0]!.error as Error).message)).toMatch(/handler\(s\) failed/);

    const failed = await inspect.getFailed();
    const job = failed.find((j) => j.id === event.id);
    expect(job).toBeDefined();
    expect(job!.attemptsMade).toBe(3);
    expect(job!.failedReason).toMatch(/handler\(s\) failed for event/);
    expect(job!.data.event).toEqual(event);
    expect(
      t.logger.matching(new RegExp(`Event ${event.id} .*failed its last attempt \\(3\\).*Dead-lettered`)),
    ).toHaveLength(1);
    // A copy of the dead-lettered event is acknowledged, not run again (the idempotency claim is done).
    expect((await deliver(t, event)).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(probe.runsOf(event.id)).toHaveLength(3);
  });

  it('verification still comes first: a bad signature is 401 and enqueues nothing', async () => {
    const event = eventOf('organization.created');
    const s = signed(event, { timestamp: nowSeconds() - 301 });
    const res = await send(`${t.url}${PATH}`, { body: s.rawBody, headers: s.headers });
    expect(res.status).toBe(401);
    expect(await inspect.getJob(event.id)).toBeUndefined();
  });
});

describe.each(PLATFORMS)('queue mode, request-scoped handlers (%s)', (platform) => {
  interface ScopedRun {
    instance: number;
    eventId: string;
    requestAttempt: number;
    requestEventId: string;
    deliveryAttempt: number | undefined;
  }
  const runs: ScopedRun[] = [];
  let constructed = 0;

  @Injectable({ scope: Scope.REQUEST })
  class ScopedHandlers {
    private readonly instance = ++constructed;
    constructor(@Inject(REQUEST) private readonly request: ScalekitJobRequest) {}

    @OnScalekitEvent('user.*')
    async first(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      this.record(event, delivery);
    }

    @OnScalekitEvent('user.login')
    second(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
      this.record(event, delivery);
      if (delivery.job?.attempt === 1 && event.type === 'user.login') {
        throw new Error('first attempt fails');
      }
    }

    private record(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
      runs.push({
        instance: this.instance,
        eventId: event.id,
        requestAttempt: this.request.scalekitJob.attempt,
        requestEventId: this.request.scalekitJob.eventId,
        deliveryAttempt: delivery.job?.attempt,
      });
    }
  }

  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(platform, {
      imports: [
        ScalekitWebhookModule.forRoot({
          secret: SECRET,
          processing: {
            mode: 'queue',
            queue: bullQueue(uniquePrefix(`scope-${platform}`), { backoff: { type: 'fixed', delay: 50 } }),
          },
        }),
      ],
      providers: [ScopedHandlers],
    });
  });
  afterAll(() => t?.close());

  it('42: each job (and each attempt) gets a fresh instance, shared by its handler methods; REQUEST describes the job', async () => {
    const login = eventOf('user.login');
    const logout = eventOf('user.logout');
    expect((await deliver(t, login)).status).toBe(202);
    expect((await deliver(t, logout)).status).toBe(202);
    const deadline = Date.now() + 10_000;
    while (
      runs.filter((r) => r.eventId === login.id).length < 4 ||
      runs.filter((r) => r.eventId === logout.id).length < 1
    ) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ofLogin = runs.filter((r) => r.eventId === login.id);
    const attempt1 = ofLogin.filter((r) => r.deliveryAttempt === 1);
    const attempt2 = ofLogin.filter((r) => r.deliveryAttempt === 2);
    expect(attempt1).toHaveLength(2);
    expect(attempt2).toHaveLength(2);
    expect(new Set(attempt1.map((r) => r.instance)).size).toBe(1);
    expect(new Set(attempt2.map((r) => r.instance)).size).toBe(1);
    expect(attempt1[0]!.instance).not.toBe(attempt2[0]!.instance);
    for (const r of ofLogin) {
      expect(r.requestAttempt).toBe(r.deliveryAttempt);
      expect(r.requestEventId).toBe(login.id);
    }
    const ofLogout = runs.filter((r) => r.eventId === logout.id);
    expect(ofLogout).toHaveLength(1);
    expect([attempt1[0]!.instance, attempt2[0]!.instance]).not.toContain(ofLogout[0]!.instance);
  });
});

describe('worker-only instances (receiver: false) and receive-only instances (workers: false)', () => {
  const prefix = uniquePrefix('split');
  let receiver: TestApp;
  let worker: TestApp;

  beforeAll(async () => {
    receiver = await startQueueApp('express', {
      processing: { mode: 'queue', queue: bullQueue(prefix), workers: false },
    });
    worker = await startQueueApp('fastify', {
      receiver: false,
      processing: { mode: 'queue', queue: bullQueue(prefix) },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await worker?.close();
  });

  it('the receiver enqueues only; the worker has no route and runs the handlers', async () => {
    const event = eventOf('organization.directory.user_created');
    expect((await deliver(receiver, event)).status).toBe(202);
    const workerProbe = worker.app.get(JobProbe);
    await workerProbe.until(() => workerProbe.completedCount(event.id) === 1, 10_000, 'the worker');
    expect(receiver.app.get(JobProbe).runs).toHaveLength(0);

    const toWorker = await deliver(worker, eventOf('user.login'));
    expect(toWorker.status).toBe(404);
    expect(receiver.logger.matching(/enqueues only, workers run elsewhere/)).toHaveLength(1);
    expect(worker.logger.matching(/worker only, no endpoint/)).toHaveLength(1);
  });
});

describe('connections: your own ioredis client, or connection options', () => {
  it('a client of yours (default ioredis options) works, and stays open after the app closes', async () => {
    const prefix = uniquePrefix('own-client');
    const client = new Redis(server.url); // maxRetriesPerRequest 20: workers get a duplicate with null, as BullMQ requires
    const t = await startQueueApp('express', {
      processing: { mode: 'queue', queue: new BullMqScalekitQueue({ client, prefix }) },
    });
    try {
      const probe = t.app.get(JobProbe);
      const event = eventOf('organization.created');
      expect((await deliver(t, event)).status).toBe(202);
      await probe.until(() => probe.completedCount(event.id) === 1, 10_000, 'the handler');
    } finally {
      await t.close();
    }
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('connection options as an object (as given to BullModule.forRoot of @nestjs/bullmq)', async () => {
    const prefix = uniquePrefix('options');
    const connection = { host: '127.0.0.1', port: server.port };
    const connections = async () =>
      String(await raw.client('LIST'))
        .trim()
        .split('\n').length;
    const before = await connections();
    const t = await startQueueApp('fastify', {
      processing: { mode: 'queue', queue: new BullMqScalekitQueue({ connection, prefix }) },
    });
    try {
      const probe = t.app.get(JobProbe);
      const event = eventOf('organization.created');
      expect((await deliver(t, event)).status).toBe(202);
      await probe.until(() => probe.completedCount(event.id) === 1, 10_000, 'the handler');
    } finally {
      await t.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await connections()).toBe(before); // every connection the queue opened is closed
  });
});

describe.each(PLATFORMS)('InMemoryScalekitQueue (%s)', (platform) => {
  let t: TestApp;
  let probe: JobProbe;
  const deadLetters: string[] = [];

  beforeAll(async () => {
    t = await startQueueApp(platform, {
      processing: {
        mode: 'queue',
        queue: new InMemoryScalekitQueue({ attempts: 2, backoffMs: 50 }),
        onFailed: (event) => {
          deadLetters.push(event.id);
        },
      },
    });
    probe = t.app.get(JobProbe);
  });
  afterAll(() => t?.close());

  it('warns at start-up that it is not durable', () => {
    const warnings = t.logger.lines.filter(
      (l) => l.level === 'warn' && /InMemoryScalekitQueue is not durable/.test(l.message),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(
      /not durable: queued events are lost if the process stops; use BullMqScalekitQueue in production/,
    );
  });

  it('answers 202 at once; the handler runs in the background, once; failures are retried, then dead-lettered', async () => {
    probe.delayMs = 1_000;
    const slow = eventOf('organization.created');
    const started = Date.now();
    const res = await deliver(t, slow);
    expect(res.status).toBe(202);
    expect(res.body).toEqual(QUEUED);
    expect(Date.now() - started).toBeLessThan(500);
    await probe.until(() => probe.completedCount(slow.id) === 1, 5_000, 'the slow handler');
    probe.delayMs = 0;
    expect((await deliver(t, slow)).status).toBe(202);

    const flaky = eventOf('organization.updated');
    probe.failures.set(flaky.id, 1);
    const broken = eventOf('role.created');
    probe.failures.set(broken.id, Infinity);
    expect((await deliver(t, flaky)).status).toBe(202);
    expect((await deliver(t, broken)).status).toBe(202);
    await probe.until(() => probe.completedCount(flaky.id) === 1 && deadLetters.includes(broken.id), 5_000, 'retries');
    expect(probe.runsOf(flaky.id).map((r) => r.attempt)).toEqual([1, 2]);
    expect(probe.runsOf(broken.id).map((r) => r.attempt)).toEqual([1, 2]);
    expect(probe.runsOf(slow.id)).toHaveLength(1);
  });
});

describe.each(PLATFORMS)('queue mode from forRootAsync (%s)', (platform) => {
  it('processing comes from the factory; receiver: false is an extra of forRootAsync', async () => {
    const prefix = uniquePrefix(`async-${platform}`);
    const receiver = await startApp(platform, {
      imports: [
        ScalekitWebhookModule.forRootAsync({
          useFactory: async () => ({
            secret: SECRET,
            processing: { mode: 'queue' as const, queue: bullQueue(prefix), workers: false },
          }),
        }),
      ],
      providers: [JobProbe, JobProbeHandler],
    });
    const worker = await startApp(platform, {
      imports: [
        ScalekitWebhookModule.forRootAsync({
          receiver: false,
          useFactory: () => ({ secret: SECRET, processing: { mode: 'queue' as const, queue: bullQueue(prefix) } }),
        }),
      ],
      providers: [JobProbe, JobProbeHandler],
    });
    try {
      const event = eventOf('organization.created');
      const res = await deliver(receiver, event);
      expect(res.status).toBe(202);
      expect(res.body).toEqual(QUEUED);
      const probe = worker.app.get(JobProbe);
      await probe.until(() => probe.completedCount(event.id) === 1, 10_000, 'the worker');
      expect((await deliver(worker, event)).status).toBe(404);
    } finally {
      await receiver.close();
      await worker.close();
    }
  });
});

describe('graceful shutdown in queue mode', () => {
  it('44: app.close() lets an active job finish and leaves waiting jobs in the queue for the next worker', async () => {
    const prefix = uniquePrefix('shutdown');
    const first = await startQueueApp('express', {
      processing: { mode: 'queue', queue: bullQueue(prefix, { concurrency: 1 }) },
    });
    const probe = first.app.get(JobProbe);
    probe.delayMs = 1_000;
    const active = eventOf('organization.created');
    const waiting = eventOf('organization.updated');
    expect((await deliver(first, active)).status).toBe(202);
    await probe.until(() => probe.runsOf(active.id).length === 1, 5_000, 'the first job to start');
    expect((await deliver(first, waiting)).status).toBe(202); // concurrency 1: it waits in the queue

    await first.close();
    expect(probe.completedCount(active.id)).toBe(1); // finished before close() resolved
    expect(probe.runsOf(waiting.id)).toHaveLength(0);

    const inspect = inspector(prefix);
    try {
      expect(await inspect.getJobCounts('completed', 'wait', 'active')).toEqual({ completed: 1, wait: 1, active: 0 });
      // The next instance picks up what was left.
      const next = await startQueueApp('fastify', { processing: { mode: 'queue', queue: bullQueue(prefix) } });
      try {
        const nextProbe = next.app.get(JobProbe);
        await nextProbe.until(() => nextProbe.completedCount(waiting.id) === 1, 10_000, 'the waiting job');
        expect(nextProbe.runsOf(active.id)).toHaveLength(0);
      } finally {
        await next.close();
      }
    } finally {
      await inspect.close();
    }
  });

  it('44: a job still running at the shutdown deadline is returned to the queue (lock expiry) and run again elsewhere', async () => {
    const prefix = uniquePrefix('shutdown-deadline');
    const options = { lockDuration: 1_000, stalledInterval: 500 };
    const first = await startQueueApp('express', {
      shutdownTimeoutSeconds: 0.3,
      processing: { mode: 'queue', queue: bullQueue(prefix, options) },
    });
    const probe = first.app.get(JobProbe);
    probe.delayMs = 3_000;
    const event = eventOf('organization.created');
    expect((await deliver(first, event)).status).toBe(202);
    await probe.until(() => probe.runsOf(event.id).length === 1, 5_000, 'the job to start');
    const closing = Date.now();
    await first.close();
    expect(Date.now() - closing).toBeLessThan(2_500);

    const next = await startQueueApp('fastify', { processing: { mode: 'queue', queue: bullQueue(prefix, options) } });
    try {
      const nextProbe = next.app.get(JobProbe);
      await nextProbe.until(() => nextProbe.completedCount(event.id) === 1, 10_000, 'the returned job');
    } finally {
      await next.close();
    }
  });

  it('the in-memory queue finishes what it holds on close', async () => {
    const t = await startQueueApp('fastify', {
      processing: { mode: 'queue', queue: new InMemoryScalekitQueue({ concurrency: 1 }) },
    });
    const probe = t.app.get(JobProbe);
    probe.delayMs = 200;
    const events = [eventOf('user.login'), eventOf('user.logout'), eventOf('user.signup')];
    for (const event of events) {
      expect((await deliver(t, event)).status).toBe(202);
    }
    await t.close();
    expect(events.map((e) => probe.completedCount(e.id))).toEqual([1, 1, 1]);
  });
});

describe('queue options are checked at start-up', () => {
  const cases: Array<[string, () => Parameters<typeof startQueueApp>[1], RegExp]> = [
    ['receiver: false without queue mode', () => ({ receiver: false }), /receiver: false.*must run workers/],
    [
      'receiver: false with workers: false',
      () => ({ receiver: false, processing: { mode: 'queue', queue: bullQueue('x'), workers: false } }),
      /receiver: false.*must run workers/,
    ],
    [
      'an in-memory queue without workers',
      () => ({ processing: { mode: 'queue', queue: new InMemoryScalekitQueue(), workers: false } }),
      /nothing would ever process its events/,
    ],
    [
      'a queue that is not one',
      () => ({ processing: { mode: 'queue', queue: {} as never } }),
      /processing\.queue must be a ScalekitQueue/,
    ],
    [
      'an unknown mode',
      () => ({ processing: 'async' as never }),
      /processing must be 'inline' or \{ mode: 'queue', queue \}/,
    ],
    [
      'onFailed that is not a function',
      () => ({ processing: { mode: 'queue', queue: new InMemoryScalekitQueue(), onFailed: 'log' as never } }),
      /processing\.onFailed must be a function/,
    ],
  ];

  it.each(cases)('%s', async (_label, options, message) => {
    await expect(startQueueApp('express', options())).rejects.toThrow(message);
  });

  it('two registrations of one app on the same queue', async () => {
    const queue = new InMemoryScalekitQueue();
    await expect(
      startApp('express', {
        imports: [
          ScalekitWebhookModule.forRoot({ secret: SECRET, name: 'a', path: 'a', processing: { mode: 'queue', queue } }),
          ScalekitWebhookModule.forRoot({ secret: SECRET, name: 'b', path: 'b', processing: { mode: 'queue', queue } }),
        ],
        providers: [JobProbe, JobProbeHandler],
      }),
    ).rejects.toThrow(/Two ScalekitWebhookModule registrations use the same queue/);
    await expect(
      startApp('express', {
        imports: [
          ScalekitWebhookModule.forRoot({
            secret: SECRET,
            name: 'a',
            path: 'a',
            processing: { mode: 'queue', queue: bullQueue('same') },
          }),
          ScalekitWebhookModule.forRoot({
            secret: SECRET,
            name: 'b',
            path: 'b',
            processing: { mode: 'queue', queue: bullQueue('same') },
          }),
        ],
        providers: [JobProbe, JobProbeHandler],
      }),
    ).rejects.toThrow(/its own `queueName`/);
  });

  it('a queue whose prepare() fails (e.g. bullmq not installed) stops the app at start-up', async () => {
    const queue = new InMemoryScalekitQueue();
    Object.assign(queue, {
      prepare: async () => Promise.reject(new Error('needs the optional peer dependency "bullmq"')),
    });
    await expect(startQueueApp('express', { processing: { mode: 'queue', queue } })).rejects.toThrow(
      /optional peer dependency "bullmq"/,
    );
  });

  it('BullMqScalekitQueue options', () => {
    expect(() => new BullMqScalekitQueue({} as never)).toThrow(/needs either `connection`/);
    expect(
      () => new BullMqScalekitQueue({ connection: 'redis://x', client: new Redis({ lazyConnect: true }) }),
    ).toThrow(/not both/);
    expect(() => new BullMqScalekitQueue({ connection: 'redis://x', attempts: 0 })).toThrow(
      /`attempts` must be a whole number ≥ 1/,
    );
    expect(
      () => new BullMqScalekitQueue({ connection: 'redis://x', backoff: { type: 'linear' as never, delay: 1 } }),
    ).toThrow(/`backoff`/);
    expect(() => new BullMqScalekitQueue({ connection: 'redis://x', removeOnFail: 'no' as never })).toThrow(
      /`removeOnFail`/,
    );
    expect(() => new BullMqScalekitQueue({ connection: 'redis://x', queueName: '' })).toThrow(/`queueName`/);
  });
});
