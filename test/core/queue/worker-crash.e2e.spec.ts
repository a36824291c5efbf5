import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { BullMqScalekitQueue } from 'nestjs-scalekit-webhooks';
import type { TestApp } from '../../support/app.js';
import { type BuiltChildApp, type RunningChildApp, startChildApp } from '../../support/crash-harness.js';
import { sleep } from '../../support/delivery-pool.js';
import { eventOf, SECRET } from '../../support/events.js';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';
import { deliver, JobProbe, startQueueApp, uniquePrefix } from '../../support/queue-test-kit.js';
import { buildWorkerChild } from '../../support/worker-child-harness.js';

// A worker-only process (a compiled Nest application context, `receiver: false`) is killed with SIGKILL while its
// handler runs. Its job stays active, locked, until the lock expires; then another worker (here, in this process)
// finds it stalled and runs it. One completed run in the end, nothing lost.

const LOCK_MS = 1_500;

describe('worker killed with SIGKILL mid-job', () => {
  let built: BuiltChildApp;
  let server: RedisServerHandle;
  let child: RunningChildApp | undefined;
  let receiver: TestApp;
  let second: TestApp | undefined;
  let inspect: Queue;
  const prefix = uniquePrefix('crash');

  beforeAll(async () => {
    [built, server] = await Promise.all([buildWorkerChild(), startRedisServer()]);
    receiver = await startQueueApp('fastify', {
      processing: { mode: 'queue', queue: new BullMqScalekitQueue({ connection: server.url, prefix }), workers: false },
    });
    inspect = new Queue('scalekit-webhooks', { connection: { host: '127.0.0.1', port: server.port }, prefix });
  }, 60_000);

  afterAll(async () => {
    await child?.kill('SIGKILL');
    await receiver?.close();
    await second?.close();
    await inspect?.close();
    await server?.stop();
    built?.cleanup();
  });

  it('the job is picked up again once its lock expires, and completed exactly once', async () => {
    child = startChildApp(built, { REDIS_URL: server.url, PREFIX: prefix, LOCK_MS: String(LOCK_MS), SECRET });
    await child.waitFor(/ready/);

    const event = eventOf('organization.directory.user_created');
    expect((await deliver(receiver, event)).status).toBe(202);
    await child.waitFor(new RegExp(`started ${event.id}`));
    expect(await inspect.getJobCounts('active', 'wait', 'completed')).toEqual({ active: 1, wait: 0, completed: 0 });

    // A second worker joins while the child is alive: the child renews its lock, so the job is not taken from it.
    second = await startQueueApp('express', {
      receiver: false,
      processing: {
        mode: 'queue',
        queue: new BullMqScalekitQueue({ connection: server.url, prefix, lockDuration: LOCK_MS, stalledInterval: 500 }),
      },
    });
    const probe = second.app.get(JobProbe);
    await sleep(LOCK_MS * 2);
    expect(probe.runsOf(event.id)).toHaveLength(0);

    const exit = await child.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const killedAt = Date.now();
    expect(await inspect.getJobCounts('active')).toEqual({ active: 1 }); // still active, with a lock nobody renews

    await probe.until(() => probe.completedCount(event.id) === 1, 15_000, 'the second worker to run the stalled job');
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LOCK_MS - 500); // not before the lock could expire
    const runs = probe.runsOf(event.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.attempt).toBe(1); // recovering a stalled job does not use up an attempt
    await sleep(500);
    expect(await inspect.getJobCounts('completed', 'active', 'wait', 'failed')).toEqual({
      completed: 1,
      active: 0,
      wait: 0,
      failed: 0,
    });
    expect(child.output()).not.toMatch(/completed/);
  }, 60_000);
});
