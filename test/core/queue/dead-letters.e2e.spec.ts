import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BullMqScalekitQueue, type ScalekitDeadLetter } from 'nestjs-scalekit-webhooks';
import { PLATFORMS, type TestApp } from '../../support/app.js';
import { eventOf } from '../../support/events.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';
import { deliver, JobProbe, startQueueApp, uniquePrefix } from '../../support/queue-test-kit.js';

// Dead-letter tooling over a real redis-server: events that failed their last attempt are listed, retried through
// the same handlers (attempts reset) and removed, by id or all at once.

let server: RedisServerHandle;

beforeAll(async () => {
  server = await startRedisServer();
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

describe.each(PLATFORMS)('dead letters in BullMQ (%s)', (platform) => {
  const prefix = uniquePrefix(`dead-${platform}`);
  let t: TestApp;
  let probe: JobProbe;
  let queue: BullMqScalekitQueue;

  beforeAll(async () => {
    queue = new BullMqScalekitQueue({
      connection: server.url,
      prefix,
      attempts: 2,
      backoff: { type: 'fixed', delay: 50 },
    });
    t = await startQueueApp(platform, { processing: { mode: 'queue', queue } });
    probe = t.app.get(JobProbe);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Delivers events whose handler always fails, and waits until each is dead-lettered. */
  async function deadLetter(...types: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const type of types) {
      const event = eventOf(type);
      probe.failures.set(event.id, Infinity);
      expect((await deliver(t, event)).status).toBe(202);
      ids.push(event.id);
    }
    const deadline = Date.now() + 15_000;
    for (;;) {
      const failed = new Set((await queue.listFailed({ limit: 1000 })).map((d) => d.eventId));
      if (ids.every((id) => failed.has(id))) {
        return ids;
      }
      if (Date.now() > deadline) {
        throw new Error(`events were not dead-lettered in time: ${ids.filter((id) => !failed.has(id)).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('lists a dead-lettered event with its id, type, attempts, last error and failure time, and nothing of the payload', async () => {
    const before = Date.now();
    const [id] = await deadLetter('organization.directory.user_created');
    const letters = await queue.listFailed();
    const letter = letters.find((d) => d.eventId === id) as ScalekitDeadLetter;
    expect(letter).toEqual({
      eventId: id,
      jobId: id,
      type: 'organization.directory.user_created',
      attemptsMade: 2,
      lastError: `1 of 1 handler(s) failed for event ${id} (organization.directory.user_created)`,
      failedAt: expect.any(Date),
    });
    expect(letter.failedAt!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(JSON.stringify(letters)).not.toContain('@'); // no email or other payload field
    expect(await queue.countFailed()).toBeGreaterThanOrEqual(1);
    expect(probe.runsOf(id!)).toHaveLength(2);
  });

  it('retries one event after the fix: it runs through the same handler once more, with its attempts reset, and leaves the failed set', async () => {
    const [id, other] = await deadLetter('user.login', 'user.logout');
    probe.failures.delete(id!);
    const result = await queue.retryFailed([id!, 'evt_not_a_dead_letter']);
    expect(result).toEqual({ done: [id], notFound: ['evt_not_a_dead_letter'] });
    await probe.until(() => probe.completedCount(id!) === 1, 10_000, 'the retried event to complete');
    const runs = probe.runsOf(id!);
    expect(runs).toHaveLength(3);
    expect(runs[2]!.attempt).toBe(1); // attempts were reset
    const failed = (await queue.listFailed({ limit: 1000 })).map((d) => d.eventId);
    expect(failed).not.toContain(id);
    expect(failed).toContain(other); // only the one asked for
    // A completed event is no dead letter: retrying it again runs nothing.
    expect(await queue.retryFailed([id!])).toEqual({ done: [], notFound: [id] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(probe.runsOf(id!)).toHaveLength(3);
    expect(probe.completedCount(id!)).toBe(1);
  });

  it('a retried event that fails again is dead-lettered again, with a full set of attempts', async () => {
    const [id] = await deadLetter('organization.created');
    expect((await queue.retryFailed([id!])).done).toEqual([id]);
    await probe.until(() => probe.runsOf(id!).length === 4, 10_000, 'two more attempts');
    const deadline = Date.now() + 10_000;
    while (!(await queue.listFailed({ limit: 1000 })).some((d) => d.eventId === id)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(probe.runsOf(id!).map((r) => r.attempt)).toEqual([1, 2, 1, 2]);
  });

  it('removes dead letters for good, reports ids that are not dead letters, and retries all the rest with progress', async () => {
    const [gone, ...rest] = await deadLetter('user.signup', 'organization.updated', 'organization.deleted');
    expect(await queue.removeFailed([gone!, 'evt_unknown'])).toEqual({ done: [gone], notFound: ['evt_unknown'] });
    expect((await queue.listFailed({ limit: 1000 })).map((d) => d.eventId)).not.toContain(gone);

    for (const id of rest) {
      probe.failures.delete(id);
    }
    const total = await queue.countFailed();
    const progress: Array<[number, number]> = [];
    const result = await queue.retryFailed('all', { onProgress: (done, of) => progress.push([done, of]) });
    expect(result.notFound).toEqual([]);
    expect(result.done).toEqual(expect.arrayContaining(rest));
    expect(result.done).toHaveLength(total);
    expect(progress).toHaveLength(total);
    expect(progress.at(-1)).toEqual([total, total]);
    await probe.until(() => rest.every((id) => probe.completedCount(id) === 1), 10_000, 'the retried events');
    expect(probe.runsOf(gone!)).toHaveLength(2); // removed: never run again
  });

  it('lists with offset and limit, newest first, and refuses bad arguments with a clear error', async () => {
    const all = await queue.listFailed({ limit: 1000 });
    const page = await queue.listFailed({ offset: 1, limit: 1 });
    expect(page).toEqual(all.length > 1 ? [all[1]] : []);
    await expect(queue.listFailed({ limit: 0 })).rejects.toThrow('`limit` must be a whole number ≥ 1 (got 0)');
    await expect(queue.retryFailed([''])).rejects.toThrow("take 'all' or an array of event ids");
    await expect(queue.removeFailed('everything' as never)).rejects.toThrow("take 'all' or an array of event ids");
  });
});

describe('dead-letter calls while Redis is unreachable', () => {
  it('fail within the enqueue timeout instead of hanging', async () => {
    const stopped = await startRedisServer();
    const url = stopped.url;
    await stopped.stop();
    const queue = new BullMqScalekitQueue({ connection: url, enqueueTimeoutMs: 500 });
    try {
      const started = Date.now();
      await expect(queue.listFailed()).rejects.toThrow();
      await expect(queue.retryFailed('all')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await queue.close();
    }
  });
});
