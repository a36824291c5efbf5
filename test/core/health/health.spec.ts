import { describe, expect, it } from '@jest/globals';
import { checkScalekitHealth } from '../../../lib/core/health/scalekit-health.js';
import type { IdempotencyStore } from '../../../lib/core/idempotency/idempotency-store.js';
import type { ScalekitQueue } from '../../../lib/core/queue/scalekit-queue.js';
import { redactConnectionStrings } from '../../../lib/core/redact.js';

// The framework-free health check over resources that answer, fail, hang or report dead letters.

const store = (ping?: () => Promise<void>): IdempotencyStore =>
  ({
    claim: async () => ({ status: 'done' }),
    complete: async () => true,
    release: async () => true,
    ping,
  }) as IdempotencyStore;

const queue = (parts: Partial<ScalekitQueue>): ScalekitQueue =>
  ({ enqueue: async () => {}, startWorkers: async () => {}, close: async () => {}, ...parts }) as ScalekitQueue;

describe('checkScalekitHealth', () => {
  it('nothing to check (inline, idempotency off): up', async () => {
    expect(await checkScalekitHealth({})).toEqual({ status: 'up' });
  });

  it('a store without ping() is up; one whose ping rejects is down with the message, connection strings redacted', async () => {
    expect(await checkScalekitHealth({ store: store() })).toEqual({ status: 'up', idempotencyStore: { status: 'up' } });
    const failing = store(async () => {
      throw new Error('connect ECONNREFUSED for redis://app:pa55word@10.0.0.1:6379');
    });
    expect(await checkScalekitHealth({ store: failing })).toEqual({
      status: 'down',
      idempotencyStore: { status: 'down', error: 'connect ECONNREFUSED for redis://app:***@10.0.0.1:6379' },
    });
  });

  it('a check that never answers is down after timeoutMs', async () => {
    const started = Date.now();
    const result = await checkScalekitHealth({ store: store(() => new Promise(() => {})) }, { timeoutMs: 100 });
    expect(result).toEqual({ status: 'down', idempotencyStore: { status: 'down', error: 'no answer within 100 ms' } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('workers: running, stopped (down) where they should run, elsewhere with workers: false', async () => {
    expect((await checkScalekitHealth({ queue: queue({ workersRunning: true }) })).queue).toEqual({
      status: 'up',
      workers: 'running',
    });
    expect(await checkScalekitHealth({ queue: queue({ workersRunning: false }), workers: true })).toEqual({
      status: 'down',
      queue: { status: 'down', workers: 'stopped', error: 'the workers of this instance are not running' },
    });
    expect((await checkScalekitHealth({ queue: queue({ workersRunning: false }), workers: false })).queue).toEqual({
      status: 'up',
      workers: 'elsewhere',
    });
  });

  it('dead letters are reported, and down only above maxDeadLetters; a failing count does not hide reachability', async () => {
    const three = queue({ workersRunning: true, countFailed: async () => 3 });
    expect((await checkScalekitHealth({ queue: three })).queue).toEqual({
      status: 'up',
      workers: 'running',
      deadLetters: 3,
    });
    expect((await checkScalekitHealth({ queue: three }, { maxDeadLetters: 3 })).status).toBe('up');
    expect(await checkScalekitHealth({ queue: three }, { maxDeadLetters: 2 })).toEqual({
      status: 'down',
      queue: {
        status: 'down',
        workers: 'running',
        deadLetters: 3,
        maxDeadLetters: 2,
        error: '3 dead-lettered events, more than 2',
      },
    });
    const noCount = queue({
      countFailed: async () => {
        throw new Error('nope');
      },
    });
    expect((await checkScalekitHealth({ queue: noCount }, { maxDeadLetters: 0 })).queue).toEqual({
      status: 'up',
      workers: 'running',
      maxDeadLetters: 0,
    });
  });

  it('redactConnectionStrings hides passwords of redis:// and rediss:// URLs only', () => {
    expect(redactConnectionStrings('a rediss://:secret@h:1 and redis://u:p@h b redis://h:6379')).toBe(
      'a rediss://:***@h:1 and redis://u:***@h b redis://h:6379',
    );
  });
});
