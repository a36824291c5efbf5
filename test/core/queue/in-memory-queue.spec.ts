import { describe, expect, it } from '@jest/globals';
import {
  BullMqScalekitQueue,
  InMemoryScalekitQueue,
  type ScalekitJobFailureInfo,
  type ScalekitQueueJob,
} from 'nestjs-scalekit-webhooks';
import { isScalekitQueue } from '../../../lib/core/queue/scalekit-queue.js';
import { eventOf } from '../../support/events.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function jobOf(id?: string): ScalekitQueueJob {
  const event = eventOf('user.login', id === undefined ? {} : { id }) as ScalekitQueueJob['event'];
  return {
    event,
    delivery: {
      webhookId: `msg_${event.id}`,
      timestamp: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
      headers: {},
    },
  };
}

interface Recorder {
  runs: Array<{ id: string; attempt: number; at: number }>;
  failures: Array<{ id: string; info: ScalekitJobFailureInfo }>;
  errors: string[];
}

function recorder(): Recorder {
  return { runs: [], failures: [], errors: [] };
}

function hooks(r: Recorder) {
  return {
    onFailed: (job: ScalekitQueueJob, _error: unknown, info: ScalekitJobFailureInfo) => {
      r.failures.push({ id: job.event.id, info });
    },
    onError: (error: unknown) => {
      r.errors.push((error as Error).message);
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await sleep(5);
  }
}

describe('InMemoryScalekitQueue', () => {
  it('is a ScalekitQueue, and not durable', () => {
    const queue = new InMemoryScalekitQueue();
    expect(isScalekitQueue(queue)).toBe(true);
    expect(queue.durable).toBe(false);
  });

  it('runs jobs enqueued before and after the workers start, with a copy of the job (as a real queue stores it)', async () => {
    const queue = new InMemoryScalekitQueue();
    const r = recorder();
    const early = jobOf();
    await queue.enqueue(early);
    const seen: ScalekitQueueJob[] = [];
    await queue.startWorkers(async (job, attempt) => {
      seen.push(job);
      r.runs.push({ id: job.event.id, attempt, at: Date.now() });
    }, hooks(r));
    const late = jobOf();
    await queue.enqueue(late);
    await until(() => r.runs.length === 2);
    expect(r.runs.map((run) => [run.id, run.attempt])).toEqual([
      [early.event.id, 1],
      [late.event.id, 1],
    ]);
    expect(seen[0]).toEqual(early);
    expect(seen[0]).not.toBe(early);
    await queue.close();
  });

  it('a job whose event id is already queued (or running, or waiting for a retry) is a no-op; once done, it is a new job', async () => {
    const queue = new InMemoryScalekitQueue({ backoffMs: 30 });
    const r = recorder();
    let fail = true;
    await queue.startWorkers(async (job, attempt) => {
      r.runs.push({ id: job.event.id, attempt, at: Date.now() });
      await sleep(20);
      if (fail) {
        fail = false;
        throw new Error('once');
      }
    }, hooks(r));
    const job = jobOf();
    await queue.enqueue(job);
    await queue.enqueue(job); // while running
    await until(() => r.failures.length === 1);
    await queue.enqueue(job); // while waiting for the retry
    await until(() => queue.size === 0);
    expect(r.runs.map((run) => run.attempt)).toEqual([1, 2]);
    await queue.enqueue(job); // done: the module's idempotency gate is what deduplicates from here on
    await until(() => r.runs.length === 3);
    await queue.close();
  });

  it('retries with exponential backoff, then reports the last failure as final', async () => {
    const queue = new InMemoryScalekitQueue({ attempts: 3, backoffMs: 40 });
    const r = recorder();
    await queue.startWorkers(async (job, attempt) => {
      r.runs.push({ id: job.event.id, attempt, at: Date.now() });
      throw new Error('always');
    }, hooks(r));
    const job = jobOf();
    await queue.enqueue(job);
    await until(() => r.failures.length === 3);
    expect(r.runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    expect(r.runs[1]!.at - r.runs[0]!.at).toBeGreaterThanOrEqual(38);
    expect(r.runs[2]!.at - r.runs[1]!.at).toBeGreaterThanOrEqual(78);
    expect(r.failures.map((f) => f.info)).toEqual([
      { attemptsMade: 1, final: false },
      { attemptsMade: 2, final: false },
      { attemptsMade: 3, final: true },
    ]);
    expect(queue.size).toBe(0);
    await queue.close();
  });

  it('never runs more than `concurrency` jobs at once', async () => {
    const queue = new InMemoryScalekitQueue({ concurrency: 3 });
    let running = 0;
    let peak = 0;
    let done = 0;
    await queue.startWorkers(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(10);
      running--;
      done++;
    }, hooks(recorder()));
    for (let i = 0; i < 20; i++) {
      await queue.enqueue(jobOf());
    }
    await until(() => done === 20);
    expect(peak).toBe(3);
    await queue.close();
  });

  it('close() drains what it holds; afterwards enqueue rejects', async () => {
    const queue = new InMemoryScalekitQueue({ concurrency: 1 });
    let done = 0;
    await queue.startWorkers(async () => {
      await sleep(20);
      done++;
    }, hooks(recorder()));
    for (let i = 0; i < 5; i++) {
      await queue.enqueue(jobOf());
    }
    await queue.close();
    expect(done).toBe(5);
    await expect(queue.enqueue(jobOf())).rejects.toThrow(/closed/);
  });

  it('close() gives up after its timeout and reports the events it drops', async () => {
    const queue = new InMemoryScalekitQueue({ concurrency: 1 });
    const r = recorder();
    let done = 0;
    await queue.startWorkers(async () => {
      await sleep(200);
      done++;
    }, hooks(r));
    for (let i = 0; i < 4; i++) {
      await queue.enqueue(jobOf());
    }
    const started = Date.now();
    await queue.close({ timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(190);
    expect(r.errors).toEqual([
      'InMemoryScalekitQueue closed with 3 event(s) not processed: they are lost (the queue is not durable)',
    ]);
    await sleep(150);
    expect(done).toBe(1); // the active one finished; nothing else started
  });

  it('checks its options', () => {
    expect(() => new InMemoryScalekitQueue({ concurrency: 0 })).toThrow(/concurrency must be a positive whole number/);
    expect(() => new InMemoryScalekitQueue({ attempts: 1.5 })).toThrow(/attempts must be a positive whole number/);
    expect(() => new InMemoryScalekitQueue({ backoffMs: -1 })).toThrow(/backoffMs must be a number of milliseconds/);
  });
});

describe('BullMqScalekitQueue.jobIdOf', () => {
  it('keeps ids BullMQ accepts, and encodes the others without collisions', () => {
    expect(BullMqScalekitQueue.jobIdOf('evt_123abc')).toBe('evt_123abc');
    expect(BullMqScalekitQueue.jobIdOf('msg_2a-b.c')).toBe('msg_2a-b.c');
    const odd = ['evt:1', '12345', '0', '-5', 'évt', 'a b', '~x', 'evt_1:'];
    const encoded = odd.map((id) => BullMqScalekitQueue.jobIdOf(id));
    for (const id of encoded) {
      expect(id).toMatch(/^~[A-Za-z0-9_-]+$/);
      expect(id).not.toContain(':');
    }
    expect(new Set(encoded).size).toBe(odd.length);
  });
});
