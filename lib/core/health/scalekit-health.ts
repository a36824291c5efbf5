import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { redactConnectionStrings } from '../redact.js';
import type { ScalekitQueue } from '../queue/scalekit-queue.js';

/** What a health check of one registration looks at. */
export interface ScalekitHealthResources {
  /** The idempotency store, when idempotency is on. */
  store?: IdempotencyStore;
  /** The queue, in queue mode. */
  queue?: ScalekitQueue;
  /** Whether this instance is meant to run the queue's workers (`workers: true`). */
  workers?: boolean;
}

export interface ScalekitHealthCheckOptions {
  /**
   * `down` when more events than this are dead-lettered (queue mode). Unset: dead letters are reported, never
   * `down` on their own.
   */
  maxDeadLetters?: number;
  /** Longest wait for each check (a `PING`, the dead-letter count); past it, that resource is `down`. @default 3000 */
  timeoutMs?: number;
}

export type ScalekitHealthStatus = 'up' | 'down';

/** The details a health check reports: plain JSON, no secret, no connection string. */
export interface ScalekitHealthDetails {
  status: ScalekitHealthStatus;
  /** Absent when idempotency is off. */
  idempotencyStore?: { status: ScalekitHealthStatus; error?: string };
  /** Absent in inline mode. */
  queue?: {
    status: ScalekitHealthStatus;
    /** `running`, `stopped` (they should run here but do not), or `elsewhere` (`workers: false`). */
    workers: 'running' | 'stopped' | 'elsewhere';
    /** Dead-lettered events, when the queue keeps them (BullMQ). */
    deadLetters?: number;
    maxDeadLetters?: number;
    error?: string;
  };
}

/**
 * Checks a registration's resources concurrently: the store and the queue answer (a Redis `PING` for the Redis
 * ones), the workers run where they should, and the dead letters stay within `maxDeadLetters`.
 */
const DEFAULT_HEALTH_TIMEOUT_MS = 3_000;

export async function checkScalekitHealth(
  resources: ScalekitHealthResources,
  options: ScalekitHealthCheckOptions = {},
): Promise<ScalekitHealthDetails> {
  const { store, queue } = resources;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const [storeResult, queueResult] = await Promise.all([
    store ? settle(store.ping?.(), timeoutMs) : undefined,
    queue ? checkQueue(queue, resources.workers ?? true, options.maxDeadLetters, timeoutMs) : undefined,
  ]);
  const details: ScalekitHealthDetails = { status: 'up' };
  if (storeResult) {
    details.idempotencyStore = storeResult;
  }
  if (queueResult) {
    details.queue = queueResult;
  }
  if (storeResult?.status === 'down' || queueResult?.status === 'down') {
    details.status = 'down';
  }
  return details;
}

async function checkQueue(
  queue: ScalekitQueue,
  workers: boolean,
  maxDeadLetters: number | undefined,
  timeoutMs: number,
): Promise<NonNullable<ScalekitHealthDetails['queue']>> {
  const [reachable, deadLetters] = await Promise.all([
    settle(queue.ping?.(), timeoutMs),
    queue.countFailed ? bounded(queue.countFailed(), timeoutMs).catch(() => undefined) : undefined,
  ]);
  const running = queue.workersRunning ?? true;
  const result: NonNullable<ScalekitHealthDetails['queue']> = {
    status: reachable.status,
    workers: !workers ? 'elsewhere' : running ? 'running' : 'stopped',
  };
  if (reachable.error !== undefined) {
    result.error = reachable.error;
  }
  if (deadLetters !== undefined) {
    result.deadLetters = deadLetters;
  }
  if (maxDeadLetters !== undefined) {
    result.maxDeadLetters = maxDeadLetters;
    if (deadLetters !== undefined && deadLetters > maxDeadLetters) {
      result.status = 'down';
      result.error ??= `${deadLetters} dead-lettered events, more than ${maxDeadLetters}`;
    }
  }
  if (result.workers === 'stopped') {
    result.status = 'down';
    result.error ??= 'the workers of this instance are not running';
  }
  return result;
}

async function settle(
  check: Promise<unknown> | undefined,
  timeoutMs: number,
): Promise<{ status: ScalekitHealthStatus; error?: string }> {
  try {
    await bounded(check, timeoutMs);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: redactConnectionStrings(error instanceof Error ? error.message : String(error)) };
  }
}

function bounded<T>(promise: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (promise === undefined) {
    return Promise.resolve(undefined);
  }
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
