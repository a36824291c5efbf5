import { ScalekitWebhookError } from '../errors.js';
import { OptionsChecker } from '../options.js';
import { loadRedisClientConstructor } from '../ioredis-loader.js';
import type {
  ScalekitDeadLetter,
  ScalekitDeadLetterBulkOptions,
  ScalekitDeadLetterListOptions,
  ScalekitDeadLetterResult,
  ScalekitDeadLetterTarget,
} from './dead-letters.js';
import {
  type ScalekitJobProcessor,
  type ScalekitQueue,
  type ScalekitQueueCloseOptions,
  type ScalekitQueueJob,
  type ScalekitQueueWorkerHooks,
  scalekitJobKey,
} from './scalekit-queue.js';

export const DEFAULT_BULLMQ_QUEUE_NAME = 'scalekit-webhooks';

/**
 * An ioredis `Redis` (or `Cluster`) instance, described by what this queue uses, so that the published types require
 * neither ioredis nor bullmq (both optional peer dependencies, loaded when the queue first needs them).
 */
export interface BullMqRedisClient {
  duplicate(...args: unknown[]): unknown;
  ping?(): Promise<unknown>;
  readonly options?: object;
  readonly isCluster?: boolean;
}

/** Which finished jobs BullMQ keeps: `true` removes them all, `false` keeps them all, a number keeps the latest n. */
export type BullMqKeepJobs = boolean | number | { age?: number; count?: number };

export interface BullMqBackoffOptions {
  /** `exponential`: `delay`, 2 × `delay`, 4 × `delay`… `fixed`: `delay` each time. */
  type: 'exponential' | 'fixed';
  /** Milliseconds. */
  delay: number;
  /** 0–1: randomises each delay by up to this fraction. */
  jitter?: number;
}

export interface BullMqScalekitQueueOptions {
  /**
   * ioredis connection options or a `redis://` URL: the same value you give `BullModule.forRoot({ connection })` of
   * `@nestjs/bullmq`. The queue opens its own connections (one to enqueue, failing fast while Redis is unreachable;
   * one per worker, plus the blocking one BullMQ adds) and closes them. Give either `connection` or `client`.
   */
  connection?: string | Readonly<Record<string, unknown>>;
  /**
   * An ioredis instance of yours, never closed by the queue. Jobs are enqueued through it as it is; workers use a
   * `duplicate()` of it with `maxRetriesPerRequest: null`, as BullMQ requires (closed by the queue). It must not
   * have a `keyPrefix` (BullMQ refuses it: use `prefix`).
   */
  client?: BullMqRedisClient;
  /**
   * BullMQ queue name, shared by every instance that enqueues or processes.
   * @default 'scalekit-webhooks' (`DEFAULT_BULLMQ_QUEUE_NAME`)
   */
  queueName?: string;
  /** BullMQ key prefix. Default BullMQ's (`bull`). With Redis Cluster, use a hash tag, e.g. `{scalekit}`. */
  prefix?: string;
  /**
   * Attempts per event, the first included.
   * @default 8
   */
  attempts?: number;
  /**
   * Delay between attempts (1 s, 2 s, 4 s … about 2 min in all by default).
   * @default { type: 'exponential', delay: 1000 }
   */
  backoff?: BullMqBackoffOptions;
  /**
   * Jobs each worker runs at the same time.
   * @default 10
   */
  concurrency?: number;
  /**
   * Completed jobs kept (they also make a repeated enqueue of the same event a no-op).
   * @default { age: 86400, count: 10000 }
   */
  removeOnComplete?: BullMqKeepJobs;
  /**
   * Failed jobs kept for inspection (the dead letters); `false` keeps all.
   * @default false
   */
  removeOnFail?: BullMqKeepJobs;
  /** How long a worker's lock on a job lasts without renewal (it is renewed while the job runs). Default BullMQ's 30,000 ms. */
  lockDuration?: number;
  /** How often workers look for jobs whose lock expired (their worker died). Default BullMQ's 30,000 ms. */
  stalledInterval?: number;
  /** How many times a job may be recovered from a dead worker before it fails. Default BullMQ's 1. */
  maxStalledCount?: number;
  /**
   * How long an enqueue may take, in milliseconds, before the delivery is answered 503 (Scalekit then retries).
   * @default 5000
   */
  enqueueTimeoutMs?: number;
}

/** Defaults of {@link BullMqScalekitQueueOptions}, declared once (the others are BullMQ's own). */
const DEFAULTS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  concurrency: 10,
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: false,
  enqueueTimeoutMs: 5_000,
} as const satisfies Partial<BullMqScalekitQueueOptions>;
const check = new OptionsChecker('BullMqScalekitQueue', true);

// What this file uses of bullmq, described structurally (bullmq 5 and 6 have it all).
interface BullJob {
  readonly id?: string;
  readonly data: ScalekitQueueJob;
  readonly attemptsMade: number;
  readonly finishedOn?: number;
  readonly failedReason?: string;
  readonly opts: { attempts?: number };
  isFailed(): Promise<boolean>;
  retry(state?: 'failed', opts?: { resetAttemptsMade?: boolean; resetAttemptsStarted?: boolean }): Promise<void>;
  remove(): Promise<void>;
}
interface BullQueue {
  add(name: string, data: ScalekitQueueJob, opts: Record<string, unknown>): Promise<unknown>;
  getFailed(start?: number, end?: number): Promise<Array<BullJob | undefined>>;
  getFailedCount(): Promise<number>;
  getJob(jobId: string): Promise<BullJob | undefined>;
  waitUntilReady?(): Promise<unknown>;
  close(): Promise<void>;
  disconnect(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
interface BullWorker {
  isRunning?(): boolean;
  on(event: 'completed', listener: (job: BullJob | undefined) => void): unknown;
  on(event: 'failed', listener: (job: BullJob | undefined, error: Error) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  pause(doNotWaitActive?: boolean): Promise<void>;
  close(force?: boolean): Promise<void>;
}
interface BullMqModule {
  Queue: new (name: string, options: Record<string, unknown>) => BullQueue;
  Worker: new (
    name: string,
    processor: (job: BullJob) => Promise<void>,
    options: Record<string, unknown>,
  ) => BullWorker;
}
interface OwnedClient {
  readonly status?: string;
  ping(): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

interface Producer {
  readonly queue: BullQueue;
  readonly owned: OwnedClient | undefined;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Bound on closing a connection (for example while Redis is unreachable): past it, the socket is dropped. */
const CONNECTION_CLOSE_TIMEOUT_MS = 2_000;

/**
 * A durable {@link ScalekitQueue} on BullMQ (Redis). Job id = event id, so enqueueing an event that is already in
 * the queue (or kept as completed or failed) is a no-op. Jobs are retried with backoff; a job that fails its last
 * attempt stays in BullMQ's failed set (inspect it with any BullMQ tool) and is reported to the dead-letter hook.
 * A worker that dies mid-job loses its lock after `lockDuration`; another worker then runs the job again.
 *
 * `bullmq` and `ioredis` are optional peer dependencies, imported when the queue is first used.
 */
export class BullMqScalekitQueue implements ScalekitQueue {
  readonly durable = true;
  readonly queueName: string;
  readonly prefix: string | undefined;
  /** `bullmq:<prefix>:<queueName>`: two registrations with the same id would run each other's events. */
  readonly id: string;
  readonly #connection: string | Readonly<Record<string, unknown>> | undefined;
  readonly #client: BullMqRedisClient | undefined;
  readonly #jobOptions: Record<string, unknown>;
  readonly #workerOptions: Record<string, unknown>;
  readonly #enqueueTimeoutMs: number;
  #producer: Promise<Producer> | undefined;
  #worker: { worker: BullWorker; connection: OwnedClient } | undefined;
  #workersStarted = false;
  /** Jobs of our worker that started and whose end BullMQ has not recorded yet (completed or failed). */
  readonly #inFlight = new Set<string>();
  readonly #idleWaiters: Array<() => void> = [];
  #closed = false;

  constructor(options: BullMqScalekitQueueOptions) {
    const o = options ?? ({} as BullMqScalekitQueueOptions);
    if ((o.client === undefined) === (o.connection === undefined)) {
      throw invalid(
        o.client === undefined
          ? 'needs either `connection` (ioredis options or a redis:// URL) or `client` (an ioredis instance of yours)'
          : 'takes either `client` or `connection`, not both',
      );
    }
    if (
      o.client !== undefined &&
      (typeof o.client !== 'object' || o.client === null || typeof o.client.duplicate !== 'function')
    ) {
      throw invalid('`client` must be an ioredis Redis or Cluster instance');
    }
    if (
      o.connection !== undefined &&
      typeof o.connection !== 'string' &&
      (typeof o.connection !== 'object' || o.connection === null)
    ) {
      throw invalid('`connection` must be ioredis options or a redis:// URL');
    }
    const queueName = o.queueName ?? DEFAULT_BULLMQ_QUEUE_NAME;
    if (typeof queueName !== 'string' || queueName.length === 0) {
      throw invalid('`queueName` must be a non-empty string');
    }
    if (o.prefix !== undefined && (typeof o.prefix !== 'string' || o.prefix.length === 0)) {
      throw invalid('`prefix` must be a non-empty string');
    }
    const backoff = o.backoff ?? DEFAULTS.backoff;
    if (
      typeof backoff !== 'object' ||
      backoff === null ||
      (backoff.type !== 'exponential' && backoff.type !== 'fixed') ||
      !isCount(backoff.delay, 0)
    ) {
      throw invalid("`backoff` must be { type: 'exponential' | 'fixed', delay: <ms ≥ 0> }");
    }
    this.queueName = queueName;
    this.prefix = o.prefix;
    this.id = `bullmq:${o.prefix ?? 'bull'}:${queueName}`;
    this.#connection = o.connection;
    this.#client = o.client;
    this.#jobOptions = {
      attempts: check.wholeNumber('attempts', o.attempts, DEFAULTS.attempts, 1),
      backoff: { ...backoff },
      removeOnComplete: keep(o.removeOnComplete, { ...DEFAULTS.removeOnComplete }, 'removeOnComplete'),
      removeOnFail: keep(o.removeOnFail, DEFAULTS.removeOnFail, 'removeOnFail'),
    };
    this.#workerOptions = {
      concurrency: check.wholeNumber('concurrency', o.concurrency, DEFAULTS.concurrency, 1),
      ...(o.lockDuration === undefined
        ? {}
        : { lockDuration: check.wholeNumber('lockDuration', o.lockDuration, 0, 1) }),
      ...(o.stalledInterval === undefined
        ? {}
        : { stalledInterval: check.wholeNumber('stalledInterval', o.stalledInterval, 0, 1) }),
      ...(o.maxStalledCount === undefined
        ? {}
        : { maxStalledCount: check.wholeNumber('maxStalledCount', o.maxStalledCount, 0, 0) }),
    };
    this.#enqueueTimeoutMs = check.wholeNumber('enqueueTimeoutMs', o.enqueueTimeoutMs, DEFAULTS.enqueueTimeoutMs, 1);
  }

  /** The BullMQ job id of an event id: the id itself when BullMQ accepts it, otherwise an encoding of it. */
  static jobIdOf(eventId: string): string {
    // BullMQ refuses ids containing ':' and ids that read as integers.
    if (/^[A-Za-z0-9_.-]+$/.test(eventId) && `${parseInt(eventId, 10)}` !== eventId) {
      return eventId;
    }
    return `~${Buffer.from(eventId, 'utf8').toString('base64url')}`;
  }

  /** Imports bullmq (and ioredis, with `connection`), so that a missing peer dependency is reported at start-up. */
  async prepare(): Promise<void> {
    await loadBullMq();
    if (this.#client === undefined) {
      await loadRedisClientConstructor<OwnedClient>('BullMqScalekitQueue');
    }
  }

  async enqueue(job: ScalekitQueueJob): Promise<void> {
    const { queue } = await this.#getProducer();
    const jobId = BullMqScalekitQueue.jobIdOf(scalekitJobKey(job));
    await withTimeout(
      queue.add(job.event.type, job, { ...this.#jobOptions, jobId }),
      this.#enqueueTimeoutMs,
      () => `enqueue timed out after ${this.#enqueueTimeoutMs} ms (is Redis reachable?)`,
    );
  }

  async startWorkers(processor: ScalekitJobProcessor, hooks: ScalekitQueueWorkerHooks): Promise<void> {
    if (this.#closed) {
      throw new Error('BullMqScalekitQueue is closed');
    }
    if (this.#workersStarted) {
      throw invalid('workers are already started');
    }
    this.#workersStarted = true;
    const { Worker } = await loadBullMq();
    const connection = await this.#openConnection({ maxRetriesPerRequest: null });
    connection.on('error', () => {}); // reported through the worker's 'error' event
    const worker = new Worker(
      this.queueName,
      async (job) => {
        if (job.id !== undefined) {
          this.#inFlight.add(job.id);
        }
        await processor(job.data, job.attemptsMade + 1);
      },
      {
        ...this.#workerOptions,
        connection,
        ...(this.prefix === undefined ? {} : { prefix: this.prefix }),
        autorun: true,
      },
    );
    // Both events come once BullMQ has recorded the outcome in Redis: only then may a closing worker drop its
    // connections without leaving the job active (to be run again once its lock expires).
    worker.on('completed', (job) => this.#settled(job?.id));
    worker.on('failed', (job, error) => {
      this.#settled(job?.id);
      if (!job) {
        return;
      }
      const attempts = job.opts.attempts ?? 1;
      const final = Boolean(job.finishedOn) || job.attemptsMade >= attempts;
      void Promise.resolve()
        .then(() => hooks.onFailed(job.data, error, { attemptsMade: job.attemptsMade, final }))
        .catch(() => {});
    });
    worker.on('error', (error) => hooks.onError?.(error));
    this.#worker = { worker, connection };
  }

  /**
   * Stops taking jobs and waits for active ones for up to `timeoutMs` (default 10 s). Jobs still running then are
   * abandoned: their lock expires and a worker (of this or another instance) runs them again.
   */
  async stopWorkers(options: ScalekitQueueCloseOptions = {}): Promise<void> {
    const current = this.#worker;
    if (!current) {
      return;
    }
    this.#worker = undefined;
    const { worker, connection } = current;
    await worker.pause(true).catch(() => {});
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    // Forced: our own wait above already let the active jobs finish (or gave up on them), and a graceful close would
    // wait for ever for a connection to quit while Redis is unreachable.
    await withTimeout(worker.close(true), CONNECTION_CLOSE_TIMEOUT_MS, () => 'closing the worker timed out').catch(
      () => {},
    );
    await closeConnection(connection);
  }

  #settled(jobId: string | undefined): void {
    if (jobId !== undefined && this.#inFlight.delete(jobId) && this.#inFlight.size === 0) {
      this.#idleWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /** Stops the workers (see {@link stopWorkers}), then closes the connections the queue opened. */
  async close(options: ScalekitQueueCloseOptions = {}): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await this.stopWorkers(options);
    const producer = this.#producer;
    this.#producer = undefined;
    if (!producer) {
      return;
    }
    let p: Producer;
    try {
      p = await producer;
    } catch {
      return; // never created
    }
    await withTimeout(p.queue.close(), CONNECTION_CLOSE_TIMEOUT_MS, () => 'closing the queue timed out').catch(() =>
      p.queue.disconnect().catch(() => {}),
    );
    if (p.owned) {
      await closeConnection(p.owned);
    }
  }

  /** Whether this instance's workers are running. */
  get workersRunning(): boolean {
    const worker = this.#worker?.worker;
    return worker !== undefined && worker.isRunning?.() !== false;
  }

  /** A Redis `PING` on the connection deliveries are enqueued through, bounded by `enqueueTimeoutMs`. */
  async ping(): Promise<void> {
    const { queue, owned } = await this.#getProducer();
    const client = owned ?? this.#client;
    if (typeof client?.ping !== 'function') {
      throw new Error('the Redis client has no ping()');
    }
    // A fresh connection refuses commands until it is ready (no offline queue): wait for it, within the bound.
    await this.#bounded(
      Promise.resolve(queue.waitUntilReady?.()).then(() => client.ping!()),
      'PING',
    );
  }

  /** How many events are dead-lettered (in BullMQ's failed set). */
  async countFailed(): Promise<number> {
    const { queue } = await this.#getProducer();
    return this.#bounded(queue.getFailedCount(), 'counting the failed jobs');
  }

  /**
   * Lists dead-lettered events, newest first: id, type, attempts, the last error and when it failed. Nothing else of
   * the payload is returned.
   */
  async listFailed(options: ScalekitDeadLetterListOptions = {}): Promise<ScalekitDeadLetter[]> {
    const offset = check.wholeNumber('offset', options.offset, 0, 0);
    const limit = check.wholeNumber('limit', options.limit, 100, 1);
    const { queue } = await this.#getProducer();
    const jobs = await this.#bounded(queue.getFailed(offset, offset + limit - 1), 'listing the failed jobs');
    return jobs.filter((job): job is BullJob => job !== undefined).map(toDeadLetter);
  }

  /**
   * Runs dead-lettered events again: each goes back to the waiting jobs with its attempts reset, and a worker runs it
   * through the same handlers (with the module's idempotency rules, as any job). `'all'` retries every event that is
   * dead-lettered when the call starts; an event that fails again meanwhile is not retried twice.
   */
  retryFailed(
    target: ScalekitDeadLetterTarget,
    options: ScalekitDeadLetterBulkOptions = {},
  ): Promise<ScalekitDeadLetterResult> {
    return this.#eachFailed(target, options, 'retrying', (job) =>
      job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }),
    );
  }

  /** Deletes dead-lettered events for good (`'all'`: every one dead-lettered when the call starts). */
  removeFailed(
    target: ScalekitDeadLetterTarget,
    options: ScalekitDeadLetterBulkOptions = {},
  ): Promise<ScalekitDeadLetterResult> {
    return this.#eachFailed(target, options, 'removing', (job) => job.remove());
  }

  async #eachFailed(
    target: ScalekitDeadLetterTarget,
    options: ScalekitDeadLetterBulkOptions,
    what: string,
    act: (job: BullJob) => Promise<void>,
  ): Promise<ScalekitDeadLetterResult> {
    if (target !== 'all' && (!Array.isArray(target) || target.some((id) => typeof id !== 'string' || id === ''))) {
      throw check.error("dead-letter operations take 'all' or an array of event ids");
    }
    const { queue } = await this.#getProducer();
    const result: ScalekitDeadLetterResult = { done: [], notFound: [] };
    // 'all' is a snapshot: the ids failed at the start, read page by page before anything moves.
    const wanted: Array<{ jobId: string; eventId?: string }> =
      target === 'all'
        ? (await this.#failedJobIds(queue)).map((jobId) => ({ jobId }))
        : [...new Set(target)].map((eventId) => ({ jobId: BullMqScalekitQueue.jobIdOf(eventId), eventId }));
    for (const [index, { jobId, eventId: asked }] of wanted.entries()) {
      const job = await this.#bounded(queue.getJob(jobId), `${what} ${jobId}`);
      const eventId = asked ?? (job ? eventIdOf(job, jobId) : jobId);
      if (job && (await this.#bounded(job.isFailed(), `${what} ${eventId}`))) {
        await this.#bounded(act(job), `${what} ${eventId}`);
        result.done.push(eventId);
      } else {
        result.notFound.push(eventId);
      }
      options.onProgress?.(index + 1, wanted.length);
    }
    return result;
  }

  async #failedJobIds(queue: BullQueue): Promise<string[]> {
    const ids: string[] = [];
    const page = 500;
    for (let start = 0; ; start += page) {
      const jobs = await this.#bounded(queue.getFailed(start, start + page - 1), 'listing the failed jobs');
      for (const job of jobs) {
        if (job?.id !== undefined) {
          ids.push(job.id);
        }
      }
      if (jobs.length < page) {
        return [...new Set(ids)];
      }
    }
  }

  /** Operator calls are bounded like an enqueue: Redis unreachable fails them instead of hanging. */
  #bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(
      promise,
      this.#enqueueTimeoutMs,
      () => `${what} timed out after ${this.#enqueueTimeoutMs} ms (is Redis reachable?)`,
    );
  }

  #getProducer(): Promise<Producer> {
    if (this.#closed) {
      return Promise.reject(new Error('BullMqScalekitQueue is closed'));
    }
    if (this.#producer === undefined) {
      const created = (async (): Promise<Producer> => {
        const { Queue } = await loadBullMq();
        // Our own connection fails fast while Redis is unreachable (no offline queue, one retry), so that a delivery
        // is answered 503 at once instead of waiting for a reconnection.
        const owned =
          this.#client === undefined
            ? await this.#openConnection({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
            : undefined;
        owned?.on('error', () => {}); // failures surface as rejected enqueues
        const queue = new Queue(this.queueName, {
          connection: owned ?? this.#client,
          ...(this.prefix === undefined ? {} : { prefix: this.prefix }),
        });
        queue.on('error', () => {});
        return { queue, owned };
      })();
      // A failed import is not cached: installing bullmq and retrying must work without a restart.
      created.catch(() => {
        if (this.#producer === created) {
          this.#producer = undefined;
        }
      });
      this.#producer = created;
    }
    return this.#producer;
  }

  /** A connection of our own: from `connection`, or a duplicate of the user's `client`. */
  async #openConnection(overrides: Record<string, unknown>): Promise<OwnedClient> {
    if (this.#client !== undefined) {
      const client = this.#client;
      if (client.isCluster) {
        const redisOptions = ((client.options as { redisOptions?: object } | undefined)?.redisOptions ?? {}) as Record<
          string,
          unknown
        >;
        return client.duplicate(undefined, { redisOptions: { ...redisOptions, ...overrides } }) as OwnedClient;
      }
      return client.duplicate(overrides) as OwnedClient;
    }
    const Redis = await loadRedisClientConstructor<OwnedClient>('BullMqScalekitQueue');
    const connection = this.#connection!;
    return typeof connection === 'string'
      ? new Redis(connection, overrides)
      : new Redis({ ...connection, ...overrides });
  }
}

function eventIdOf(job: BullJob, jobId: string): string {
  const id = job.data?.event?.id;
  return typeof id === 'string' && id !== '' ? id : jobId;
}

function toDeadLetter(job: BullJob): ScalekitDeadLetter {
  const jobId = job.id ?? '';
  return {
    eventId: eventIdOf(job, jobId),
    jobId,
    type: typeof job.data?.event?.type === 'string' ? job.data.event.type : 'unknown',
    attemptsMade: job.attemptsMade,
    lastError: job.failedReason ?? '',
    failedAt: job.finishedOn === undefined ? undefined : new Date(job.finishedOn),
  };
}

async function closeConnection(client: OwnedClient): Promise<void> {
  if (client.status === 'end') {
    return;
  }
  try {
    await withTimeout(client.quit(), CONNECTION_CLOSE_TIMEOUT_MS, () => 'quit timed out');
  } catch {
    if (client.status !== 'end') {
      client.disconnect();
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function keep(value: unknown, fallback: BullMqKeepJobs, name: string): BullMqKeepJobs {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value === 'boolean' || isCount(value, 0)) {
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const { age, count: n } = value as { age?: unknown; count?: unknown };
    if (
      (age === undefined || isCount(age, 0)) &&
      (n === undefined || isCount(n, 0)) &&
      (age !== undefined || n !== undefined)
    ) {
      return { ...(value as object) } as BullMqKeepJobs;
    }
  }
  throw invalid(`\`${name}\` must be true, false, a number of jobs, or { age?: seconds, count?: jobs }`);
}

function invalid(message: string): ScalekitWebhookError {
  return check.error(message);
}

/**
 * Imports bullmq on demand. `import()` stays an `import()` in the ES module build and becomes a `require` in the
 * CommonJS build; bullmq is CommonJS for Node, so its classes may sit on the namespace or on `default`.
 */
async function loadBullMq(): Promise<BullMqModule> {
  let mod: unknown;
  try {
    mod = await import('bullmq');
  } catch (error) {
    throw new ScalekitWebhookError(
      'invalid_options',
      'BullMqScalekitQueue needs the optional peer dependency "bullmq" (npm install bullmq)',
      { cause: error },
    );
  }
  const m = mod as Partial<BullMqModule> & { default?: Partial<BullMqModule> };
  const Queue = m.Queue ?? m.default?.Queue;
  const Worker = m.Worker ?? m.default?.Worker;
  if (typeof Queue !== 'function' || typeof Worker !== 'function') {
    throw new ScalekitWebhookError(
      'invalid_options',
      'BullMqScalekitQueue: the installed "bullmq" exports no Queue or Worker class',
    );
  }
  return { Queue, Worker };
}
