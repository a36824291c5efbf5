import type { AnyScalekitEvent } from '../envelope.js';
import type { ScalekitTraceCarrier } from '../telemetry/scalekit-telemetry.js';

/**
 * The delivery of a queued event, in JSON form (dates as ISO 8601 strings), as stored with the job. Workers turn it
 * back into the `ScalekitDelivery` handlers receive.
 */
export interface ScalekitQueueJobMetadata {
  /** `webhook-id` of the delivery that was accepted. */
  webhookId: string;
  /** `webhook-timestamp` of that delivery, ISO 8601. */
  timestamp: string;
  /** When the receiving instance got it, ISO 8601. */
  receivedAt: string;
  /** The request's headers as received. */
  headers: Record<string, string | string[] | undefined>;
  /** The `name` of the endpoint that received it, when set. */
  endpoint?: string;
}

/** @deprecated Renamed {@link ScalekitQueueJobMetadata} (only `ScalekitDelivery` is called a delivery); this alias goes in the next minor release. */
export type ScalekitQueuedDelivery = ScalekitQueueJobMetadata;

/** One queued event. JSON-serialisable: a queue may store it anywhere. */
export interface ScalekitQueueJob {
  event: AnyScalekitEvent;
  delivery: ScalekitQueueJobMetadata;
  /** The trace context of the delivery that enqueued it, when telemetry is on. */
  trace?: ScalekitTraceCarrier;
}

/** What a worker knows about a failed attempt. */
export interface ScalekitJobFailureInfo {
  /** Attempts made so far, the failed one included. */
  attemptsMade: number;
  /** `true` when no attempt is left: the event is dead-lettered (a BullMQ queue keeps it in its failed set). */
  final: boolean;
}

/** Runs one attempt of a job (`attempt` counts from 1). Rejecting fails the attempt: the queue retries it, with backoff. */
export type ScalekitJobProcessor = (job: ScalekitQueueJob, attempt: number) => Promise<void>;

/** How a queue reports to the module what its workers do. */
export interface ScalekitQueueWorkerHooks {
  /** After every failed attempt (`info.final` tells whether it will be retried). Errors it throws are ignored. */
  onFailed(job: ScalekitQueueJob, error: unknown, info: ScalekitJobFailureInfo): void | Promise<void>;
  /** A problem outside any job (a lost connection, events dropped on close). */
  onError?(error: unknown): void;
}

export interface ScalekitQueueCloseOptions {
  /**
   * How long active jobs may still run. Past it, a durable queue abandons them to be picked up again elsewhere
   * (BullMQ: once their lock expires); a queue in memory drops what is left.
   */
  timeoutMs?: number;
}

/**
 * Where verified events wait for the workers that run their handlers (queue mode). The module calls `prepare` (if
 * present) and `startWorkers` once at bootstrap (unless `workers: false`), `enqueue` on every accepted delivery, `stopWorkers` (if present)
 * when the application starts shutting down, and `close` last, once the endpoint no longer accepts deliveries.
 * Implemented by {@link BullMqScalekitQueue} (Redis, durable) and {@link InMemoryScalekitQueue} (development).
 */
export interface ScalekitQueue {
  /**
   * Where the queue's jobs live, for clash detection: two registrations of one app whose queues have the same id are
   * refused at start-up (each one's workers would run the other's events). `BullMqScalekitQueue`:
   * `bullmq:<prefix>:<queueName>`. A queue without an id only clashes with itself.
   */
  readonly id?: string;
  /** `false` for a queue that loses its jobs when the process stops (the module warns at start-up). */
  readonly durable?: boolean;
  /**
   * Called once at bootstrap, before anything else: load what the queue needs (optional dependencies), so that a
   * missing one stops the app at start-up rather than failing every delivery. Must not wait for a connection.
   */
  prepare?(): Promise<void>;
  /**
   * Stores a job. Resolves only once it is durably stored; rejects otherwise (the endpoint answers 503 and the sender
   * retries). A job whose event id is already queued is a no-op (it resolves).
   */
  enqueue(job: ScalekitQueueJob): Promise<void>;
  /** Starts taking jobs and running `processor` on them. Called at most once. */
  startWorkers(processor: ScalekitJobProcessor, hooks: ScalekitQueueWorkerHooks): Promise<void>;
  /** Stops taking jobs and lets active ones finish (or returns them), while `enqueue` keeps working. */
  stopWorkers?(options?: ScalekitQueueCloseOptions): Promise<void>;
  /** Stops workers as `stopWorkers` does, then closes what the queue owns. `enqueue` fails afterwards. */
  close(options?: ScalekitQueueCloseOptions): Promise<void>;
  /** Health checks: resolves when the queue's backend answers (BullMQ: a Redis `PING`), rejects otherwise. */
  ping?(): Promise<void>;
  /** Health checks: whether this instance's workers are running (started and not stopped). */
  readonly workersRunning?: boolean;
  /** Health checks and operators: how many events failed their last attempt and are kept (dead letters). */
  countFailed?(): Promise<number>;
}

/** The key of a job: the event id (the same for every copy of an event), or the webhook id for an event without one. */
export function scalekitJobKey(job: ScalekitQueueJob): string {
  return job.event.id || job.delivery.webhookId;
}

/** `true` when `value` has the methods of a {@link ScalekitQueue}. */
export function isScalekitQueue(value: unknown): value is ScalekitQueue {
  const q = value as Partial<ScalekitQueue> | null;
  return (
    typeof q === 'object' &&
    q !== null &&
    typeof q.enqueue === 'function' &&
    typeof q.startWorkers === 'function' &&
    typeof q.close === 'function'
  );
}
