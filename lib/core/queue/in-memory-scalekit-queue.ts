import type { ScalekitWebhookError } from '../errors.js';
import { OptionsChecker } from '../options.js';
import {
  type ScalekitJobProcessor,
  type ScalekitQueue,
  type ScalekitQueueCloseOptions,
  type ScalekitQueueJob,
  type ScalekitQueueWorkerHooks,
  scalekitJobKey,
} from './scalekit-queue.js';

export interface InMemoryScalekitQueueOptions {
  /**
   * Jobs run at the same time.
   * @default 10
   */
  concurrency?: number;
  /**
   * Attempts per job, the first included.
   * @default 3
   */
  attempts?: number;
  /**
   * Delay before the first retry, in milliseconds, doubled for each later one.
   * @default 1000
   */
  backoffMs?: number;
}

/** Defaults of {@link InMemoryScalekitQueueOptions}, declared once. */
const DEFAULTS = { concurrency: 10, attempts: 3, backoffMs: 1000 } as const;
const check = new OptionsChecker('InMemoryScalekitQueue:');

interface Entry {
  readonly key: string;
  readonly job: ScalekitQueueJob;
  attemptsMade: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/**
 * A {@link ScalekitQueue} in the process's memory, for local development and tests: the same behaviour as a real
 * queue (fast acknowledgement, concurrency, retries with exponential backoff, a dead-letter hook) but **not
 * durable**: events still queued when the process stops are lost, although Scalekit was told they were received. Use
 * {@link BullMqScalekitQueue} in production. On close it keeps processing until it is empty, for up to the timeout.
 */
export class InMemoryScalekitQueue implements ScalekitQueue {
  readonly durable = false;
  readonly #concurrency: number;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #waiting: Entry[] = [];
  /** Keys of every job not finished yet (waiting, active or waiting for a retry): a second enqueue is a no-op. */
  readonly #keys = new Set<string>();
  readonly #retryTimers = new Map<NodeJS.Timeout, Entry>();
  readonly #idleWaiters: Array<() => void> = [];
  #active = 0;
  #processor: ScalekitJobProcessor | undefined;
  #hooks: ScalekitQueueWorkerHooks | undefined;
  #closed = false;
  #stopped = false;

  constructor(options: InMemoryScalekitQueueOptions = {}) {
    const { concurrency, attempts, backoffMs } = options ?? {};
    this.#concurrency = check.positiveWholeNumber('concurrency', concurrency, DEFAULTS.concurrency);
    this.#attempts = check.positiveWholeNumber('attempts', attempts, DEFAULTS.attempts);
    this.#backoffMs = check.nonNegativeMilliseconds('backoffMs', backoffMs, DEFAULTS.backoffMs);
  }

  /** Whether workers were started and the queue is not stopped. */
  get workersRunning(): boolean {
    return this.#processor !== undefined && !this.#stopped;
  }

  /** Always answers: the queue lives in this process. */
  async ping(): Promise<void> {}

  /** Jobs not finished yet: waiting, running, or waiting for a retry. */
  get size(): number {
    return this.#keys.size;
  }

  async enqueue(job: ScalekitQueueJob): Promise<void> {
    if (this.#closed) {
      throw new Error('InMemoryScalekitQueue is closed');
    }
    // A copy through JSON, as a real queue would store it: the handler never shares objects with the request.
    const copy = JSON.parse(JSON.stringify(job)) as ScalekitQueueJob;
    const key = scalekitJobKey(copy);
    if (this.#keys.has(key)) {
      return;
    }
    this.#keys.add(key);
    this.#waiting.push({ key, job: copy, attemptsMade: 0 });
    this.#pump();
  }

  async startWorkers(processor: ScalekitJobProcessor, hooks: ScalekitQueueWorkerHooks): Promise<void> {
    if (this.#processor) {
      throw invalid('workers are already started');
    }
    this.#processor = processor;
    this.#hooks = hooks;
    this.#pump();
  }

  /**
   * Stops accepting jobs, keeps processing (retries included) until nothing is left or `timeoutMs` (default 10 s)
   * has passed, then drops what is left and reports it through `onError`.
   */
  async close(options: ScalekitQueueCloseOptions = {}): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (this.#processor && this.#keys.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#stopped = true;
    for (const timer of this.#retryTimers.keys()) {
      clearTimeout(timer);
    }
    this.#retryTimers.clear();
    const dropped = this.#keys.size - this.#active;
    this.#waiting.length = 0;
    if (dropped > 0) {
      this.#hooks?.onError?.(
        new Error(
          `InMemoryScalekitQueue closed with ${dropped} event(s) not processed: they are lost (the queue is not durable)`,
        ),
      );
    }
  }

  #pump(): void {
    while (this.#processor && !this.#stopped && this.#active < this.#concurrency && this.#waiting.length > 0) {
      const entry = this.#waiting.shift()!;
      this.#active++;
      void this.#run(entry, this.#processor).finally(() => {
        this.#active--;
        this.#pump();
        this.#notifyIdle();
      });
    }
  }

  async #run(entry: Entry, processor: ScalekitJobProcessor): Promise<void> {
    try {
      await processor(entry.job, entry.attemptsMade + 1);
      this.#keys.delete(entry.key);
      return;
    } catch (error) {
      entry.attemptsMade++;
      const final = entry.attemptsMade >= this.#attempts;
      try {
        await this.#hooks?.onFailed(entry.job, error, { attemptsMade: entry.attemptsMade, final });
      } catch {
        // A failing hook must not stop the queue.
      }
      if (final || this.#stopped) {
        this.#keys.delete(entry.key);
        return;
      }
      const delay = this.#backoffMs * 2 ** (entry.attemptsMade - 1);
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        this.#waiting.push(entry);
        this.#pump();
      }, delay);
      this.#retryTimers.set(timer, entry);
    }
  }

  #notifyIdle(): void {
    if (this.#keys.size === 0) {
      for (const wake of this.#idleWaiters.splice(0)) {
        wake();
      }
    }
  }
}

function invalid(message: string): ScalekitWebhookError {
  return check.error(message);
}
