import { afterEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Injectable } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  type ClaimResult,
  getScalekitIdempotencyStoreToken,
  getScalekitQueueToken,
  getScalekitVerifierToken,
  type IdempotencyStore,
  InjectScalekitIdempotencyStore,
  InjectScalekitQueue,
  InjectScalekitVerifier,
  InMemoryScalekitQueue,
  MemoryIdempotencyStore,
  type ScalekitQueue,
  type ScalekitQueueCloseOptions,
  type ScalekitQueueJob,
  ScalekitWebhookModule,
  type ScalekitWebhookModuleOptions,
  ScalekitWebhookVerifier,
} from 'nestjs-scalekit-webhooks';
import { CapturingLogger, type Platform, PLATFORMS } from '../support/app.js';
import { eventOf, OTHER_SECRET, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';
import { Probe, ProbeHandler } from '../support/probe.js';

// The store, the queue and the verifier of a registration are providers: tests replace them with overrideProvider,
// users inject them, and the module closes whatever instance it was given, in the stated order.

const PATH = '/webhooks/scalekit';

/** Every call, in order, across the store and the queue. */
type Journal = string[];

class RecordingStore extends MemoryIdempotencyStore {
  constructor(private readonly journal: Journal) {
    super();
  }
  override async claim(key: string, leaseMs: number): Promise<ClaimResult> {
    this.journal.push(`store.claim ${key}`);
    return super.claim(key, leaseMs);
  }
  async close(): Promise<void> {
    this.journal.push('store.close');
  }
}

class RecordingQueue extends InMemoryScalekitQueue {
  readonly jobs: ScalekitQueueJob[] = [];
  constructor(private readonly journal: Journal) {
    super();
  }
  override async enqueue(job: ScalekitQueueJob): Promise<void> {
    this.jobs.push(job);
    this.journal.push(`queue.enqueue ${job.event.id}`);
    return super.enqueue(job);
  }
  async stopWorkers(): Promise<void> {
    this.journal.push('queue.stopWorkers');
  }
  override async close(options?: ScalekitQueueCloseOptions): Promise<void> {
    this.journal.push('queue.close');
    return super.close(options);
  }
}

@Injectable()
class ResourceUser {
  constructor(
    @InjectScalekitIdempotencyStore() readonly store: IdempotencyStore | null,
    @InjectScalekitQueue() readonly queue: ScalekitQueue | null,
    @InjectScalekitVerifier() readonly verifier: ScalekitWebhookVerifier,
  ) {}
}

interface Started {
  app: INestApplication;
  url: string;
  logger: CapturingLogger;
}

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(
  platform: Platform,
  options: ScalekitWebhookModuleOptions,
  override: (builder: ReturnType<typeof Test.createTestingModule>) => ReturnType<typeof Test.createTestingModule>,
  name?: string,
): Promise<Started> {
  const builder = Test.createTestingModule({
    imports: [ScalekitWebhookModule.forRoot({ ...options, ...(name === undefined ? {} : { name }) })],
    providers: [Probe, ProbeHandler, ...(name === undefined ? [ResourceUser] : [])],
  });
  const moduleRef = await override(builder).compile();
  const logger = new CapturingLogger();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    rawBody: true,
    logger,
  });
  await app.listen(0, '127.0.0.1');
  apps.push(app);
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, logger };
}

function deliver(url: string, event: unknown, options: Parameters<typeof signed>[1] = {}) {
  const s = signed(event, options);
  return send(`${url}${PATH}`, { body: s.rawBody, headers: s.headers });
}

describe.each(PLATFORMS)('resources are providers (%s)', (platform) => {
  it('overrideProvider replaces the store and the queue; the module uses, exposes and closes the overrides in order', async () => {
    const journal: Journal = [];
    const store = new RecordingStore(journal);
    const queue = new RecordingQueue(journal);
    const configured = new InMemoryScalekitQueue(); // what the options name: never used once overridden
    const t = await start(platform, { secret: SECRET, processing: { mode: 'queue', queue: configured } }, (b) =>
      b
        .overrideProvider(getScalekitIdempotencyStoreToken())
        .useValue(store)
        .overrideProvider(getScalekitQueueToken())
        .useValue(queue),
    );
    const user = t.app.get(ResourceUser);
    expect(user.store).toBe(store);
    expect(user.queue).toBe(queue);

    const event = eventOf('organization.created');
    const first = await deliver(t.url, event);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ received: true, queued: true });
    const again = await deliver(t.url, event);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ received: true, queued: true });
    const probe = t.app.get(Probe);
    for (let i = 0; i < 100 && probe.completedCount(event.id as string) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(probe.completedCount(event.id as string)).toBe(1);
    // One job, encoded with its delivery (dates as ISO strings), and one claim per copy.
    expect(queue.jobs).toHaveLength(1);
    expect(queue.jobs[0]!.event.id).toBe(event.id);
    expect(typeof queue.jobs[0]!.delivery.timestamp).toBe('string');
    expect(journal.filter((entry) => entry.startsWith('store.claim'))).toEqual([
      `store.claim ${event.id}`,
      `store.claim ${event.id}`,
    ]);

    await t.app.close();
    apps.splice(apps.indexOf(t.app), 1);
    const shutdown = journal.filter((entry) => !entry.startsWith('store.claim') && !entry.startsWith('queue.enqueue'));
    // Workers stop first; the store and the queue are closed last, once (their order between them is not fixed).
    expect(shutdown[0]).toBe('queue.stopWorkers');
    expect(shutdown.slice(1).sort()).toEqual(['queue.close', 'store.close']);
    await configured.close();
  });

  it('overrideProvider replaces the verifier: a delivery signed with the override secret is accepted, one with the configured secret refused', async () => {
    const t = await start(platform, { secret: SECRET }, (b) =>
      b.overrideProvider(getScalekitVerifierToken()).useValue(new ScalekitWebhookVerifier({ secret: OTHER_SECRET })),
    );
    const accepted = await deliver(t.url, eventOf('organization.created'), { secret: OTHER_SECRET });
    expect(accepted.status).toBe(200);
    const refused = await deliver(t.url, eventOf('organization.created'), { secret: SECRET });
    expect(refused.status).toBe(401);
  });

  it('a named registration has its own tokens; idempotency off provides null', async () => {
    const journal: Journal = [];
    const store = new RecordingStore(journal);
    const t = await start(
      platform,
      { secret: SECRET },
      (b) => b.overrideProvider(getScalekitIdempotencyStoreToken('prod')).useValue(store),
      'prod',
    );
    expect(t.app.get(getScalekitIdempotencyStoreToken('prod'))).toBe(store);
    expect(t.app.get(getScalekitQueueToken('prod'))).toBeNull();
    expect(getScalekitQueueToken('prod')).not.toBe(getScalekitQueueToken());
    const event = eventOf('organization.created');
    expect((await deliver(t.url, event)).status).toBe(200);
    expect(journal).toEqual([`store.claim ${event.id}`]);

    const off = await start(platform, { secret: SECRET, idempotency: false }, (b) => b);
    expect(off.app.get(ResourceUser).store).toBeNull();
    expect(off.app.get(ResourceUser).queue).toBeNull();
  });
});
