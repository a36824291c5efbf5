import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BullMqScalekitQueue, type ScalekitQueueJob } from 'nestjs-scalekit-webhooks';
import { buildScalekitEvent } from 'nestjs-scalekit-webhooks/testing';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';
import { type BuiltCli, buildCli, closedPort, runCli } from '../support/cli-harness.js';

// `queue failed|retry|remove`, run as a user runs them, against a real redis-server holding real BullMQ dead letters.

let cli: BuiltCli;
let server: RedisServerHandle;
let queue: BullMqScalekitQueue;
const prefix = `skq-cli-${process.pid}-${Date.now().toString(36)}`;
/** Event id → whether the handler now succeeds. */
const fixed = new Set<string>();
const ran: string[] = [];

beforeAll(async () => {
  [cli, server] = await Promise.all([buildCli(), startRedisServer()]);
  queue = new BullMqScalekitQueue({ connection: server.url, prefix, attempts: 1 });
  await queue.startWorkers(
    async (job) => {
      ran.push(job.event.id);
      if (!fixed.has(job.event.id)) {
        throw new Error(`handler failed for ${job.event.id}`);
      }
    },
    { onFailed: () => {} },
  );
}, 60_000);

afterAll(async () => {
  await queue?.close();
  await server?.stop();
  cli?.cleanup();
});

function jobOf(type: string): ScalekitQueueJob {
  const event = buildScalekitEvent(type as never) as unknown as ScalekitQueueJob['event'];
  const now = new Date().toISOString();
  return { event, delivery: { webhookId: `msg_${event.id}`, timestamp: now, receivedAt: now, headers: {} } };
}

async function deadLetters(...types: string[]): Promise<string[]> {
  const jobs = types.map(jobOf);
  for (const job of jobs) {
    await queue.enqueue(job);
  }
  const ids = jobs.map((j) => j.event.id);
  const deadline = Date.now() + 10_000;
  while (!ids.every((id) => ran.includes(id)) || (await queue.countFailed()) < ids.length) {
    expect(Date.now()).toBeLessThan(deadline);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return ids;
}

const queueCli = (...args: string[]) =>
  runCli(cli, ['queue', ...args, '--prefix', prefix], { env: { REDIS_URL: server.url } });

describe('queue', () => {
  it('failed: lists dead letters as a table and as JSON', async () => {
    const [id] = await deadLetters('user.login');
    const text = await queueCli('failed');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/EVENT ID\s+TYPE\s+ATTEMPTS\s+FAILED AT\s+LAST ERROR/);
    expect(text.stdout).toContain(id);
    expect(text.stdout).toContain(`handler failed for ${id}`);

    const json = await queueCli('failed', '--json', '--connection', server.url);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { total: number; deadLetters: Array<Record<string, unknown>> };
    expect(parsed.total).toBeGreaterThanOrEqual(1);
    expect(parsed.deadLetters).toContainEqual(
      expect.objectContaining({
        eventId: id,
        type: 'user.login',
        attemptsMade: 1,
        lastError: `handler failed for ${id}`,
      }),
    );
  });

  it('retry <id>: runs the event again through the handler; an id that is not a dead letter exits 1 and is named', async () => {
    const [id] = await deadLetters('organization.created');
    fixed.add(id!);
    const res = await queueCli('retry', id!, 'evt_nope');
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`retried 1 dead-lettered event: ${id}`);
    expect(res.stdout).toContain('not dead-lettered (unknown, already retried, completed or running): evt_nope');
    const deadline = Date.now() + 10_000;
    while (ran.filter((r) => r === id).length < 2) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await queue.listFailed({ limit: 1000 })).map((d) => d.eventId)).not.toContain(id);
  });

  it('remove --all and retry --all: every dead letter, with a progress line, exit 0', async () => {
    await deadLetters('user.logout', 'organization.updated');
    const total = await queue.countFailed();
    const res = await queueCli('remove', '--all', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).removed).toHaveLength(total);
    expect(res.stderr).toContain(`removing ${total}/${total}`);
    expect(await queue.countFailed()).toBe(0);

    const empty = await queueCli('retry', '--all');
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('retried 0 dead-lettered events');
    expect((await queueCli('failed')).stdout).toContain('no dead-lettered events');
  });

  it('bad usage exits 2 with a pointer to --help', async () => {
    for (const args of [
      [],
      ['purge'],
      ['retry'],
      ['retry', 'evt_1', '--all'],
      ['failed', 'evt_1'],
      ['remove', '--all', '--limit', '3'],
      ['failed', '--limit', '0'],
    ]) {
      const res = await queueCli(...args);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toContain('Run `scalekit-webhooks queue --help` for usage.');
    }
    const noConnection = await runCli(cli, ['queue', 'failed']);
    expect(noConnection.code).toBe(2);
    expect(noConnection.stderr).toContain('pass --connection redis://… or set REDIS_URL');
  });

  it('Redis unreachable: exits 1 within the time limit, and never prints the password', async () => {
    const port = await closedPort();
    const started = Date.now();
    const res = await runCli(cli, [
      'queue',
      'failed',
      '--connection',
      `redis://user:s3cr3t-pw@127.0.0.1:${port}`,
      '--timeout',
      '500',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`queue failed failed on redis://user:***@127.0.0.1:${port}`);
    expect(`${res.stdout}${res.stderr}`).not.toContain('s3cr3t-pw');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
