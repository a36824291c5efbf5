import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { BullMqScalekitQueue } from 'nestjs-scalekit-webhooks';
import type { TestApp } from '../../support/app.js';
import {
  keepAliveAgent,
  pool,
  post,
  type PooledResponse,
  seededRandom,
  shuffle,
  sleep,
  tally,
} from '../../support/delivery-pool.js';
import { eventOf, nowSeconds, signed } from '../../support/events.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';
import { JobProbe, PATH, startQueueApp, uniquePrefix } from '../../support/queue-test-kit.js';

// Two app instances (Express and Fastify) share one BullMQ queue on one Redis. 1,000 deliveries of 800 distinct
// events (200 are copies: Scalekit retries, with the same webhook-id and a new timestamp) are posted, shuffled, to
// either instance. Each instance deduplicates only its own copies (default in-memory idempotency store), so copies
// that reach the other instance are deduplicated by the queue (job id = event id). Every event must be handled
// exactly once, and both instances' workers must have taken a share.

const DISTINCT = 800;
const COPIES = 200;

describe('two instances share one queue', () => {
  let server: RedisServerHandle;
  let a: TestApp;
  let b: TestApp;
  const prefix = uniquePrefix('two');

  beforeAll(async () => {
    server = await startRedisServer();
    const queue = () => new BullMqScalekitQueue({ connection: server.url, prefix, concurrency: 8 });
    a = await startQueueApp('express', { processing: { mode: 'queue', queue: queue() } });
    b = await startQueueApp('fastify', { processing: { mode: 'queue', queue: queue() } });
    for (const t of [a, b]) {
      t.app.get(JobProbe).delayMs = 2; // a little I/O-like work, so that both workers get jobs
    }
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it(`${DISTINCT} events, ${DISTINCT + COPIES} deliveries with copies, posted to either: each handled exactly once, work shared`, async () => {
    const random = seededRandom(7);
    const events = Array.from({ length: DISTINCT }, (_, i) =>
      eventOf(i % 2 === 0 ? 'organization.directory.user_created' : 'user.login'),
    );
    const deliveries = events.map((event, i) => ({ event, webhookId: `msg_two_${i}` }));
    for (let i = 0; i < COPIES; i++) {
      deliveries.push(deliveries[Math.floor(random() * DISTINCT)]!);
    }
    shuffle(deliveries, random);

    const agent = keepAliveAgent(32);
    const urls = [a.url, b.url];
    const statuses: number[] = [];
    // Like Scalekit: each delivery is retried (here at once, up to 50 times) until it gets a 2xx.
    const tasks = deliveries.map(({ event, webhookId }) => async (): Promise<PooledResponse> => {
      let response!: PooledResponse;
      for (let attempt = 0; attempt < 50; attempt++) {
        const s = signed(event, { id: webhookId, timestamp: nowSeconds() });
        response = await post(`${urls[Math.floor(random() * 2)]}${PATH}`, s.rawBody, s.headers, agent);
        statuses.push(response.status);
        if (response.status >= 200 && response.status < 300) {
          break;
        }
        await sleep(10);
      }
      return response;
    });
    const finals = await pool(tasks, 32);
    agent.destroy();
    expect(tally(finals)).toEqual({ 202: DISTINCT + COPIES });
    // The only non-2xx answers allowed on the way are 409s (a copy while the first is being enqueued).
    expect(statuses.filter((s) => s !== 202 && s !== 409)).toEqual([]);

    const pa = a.app.get(JobProbe);
    const pb = b.app.get(JobProbe);
    const deadline = Date.now() + 30_000;
    while (pa.totalCompleted + pb.totalCompleted < DISTINCT) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(50);
    }
    await sleep(500); // anything extra would show up now
    for (const event of events) {
      expect({ id: event.id, runs: pa.completedCount(event.id) + pb.completedCount(event.id) }).toEqual({
        id: event.id,
        runs: 1,
      });
    }
    expect(pa.runs.length + pb.runs.length).toBe(DISTINCT);
    expect(pa.totalCompleted).toBeGreaterThan(0);
    expect(pb.totalCompleted).toBeGreaterThan(0);

    const inspect = new Queue('scalekit-webhooks', { connection: { host: '127.0.0.1', port: server.port }, prefix });
    try {
      expect(await inspect.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed')).toEqual({
        completed: DISTINCT,
        failed: 0,
        wait: 0,
        active: 0,
        delayed: 0,
      });
    } finally {
      await inspect.close();
    }
    process.stdout.write(`two instances: express processed ${pa.totalCompleted}, fastify ${pb.totalCompleted}\n`);
  }, 90_000);
});
