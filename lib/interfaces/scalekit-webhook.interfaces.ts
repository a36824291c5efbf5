import type { ScalekitDelivery } from '../core/receiver/delivery.js';
import type { AnyScalekitEvent, IdempotencyStore } from '../core/index.js';
import { DEFAULT_TOLERANCE_SECONDS, DEFAULT_WEBHOOK_PATH } from '../core/protocol.js';
import type { ScalekitJobFailureInfo, ScalekitQueue } from '../core/queue/index.js';

/** Handle each event once: see the README's "Exactly once" section. */
export interface ScalekitIdempotencyOptions {
  /** Where claims and done marks live. Default: a bounded in-process `MemoryIdempotencyStore`. Use
   * `RedisIdempotencyStore` when the app runs on more than one instance. The module closes it on shutdown. */
  store?: IdempotencyStore;
  /**
   * How long a processed event id is remembered; at least twice `toleranceSeconds`.
   * @default 86400 (24 h), or twice `toleranceSeconds` when that is longer
   */
  ttlSeconds?: number;
  /**
   * How long an in-flight claim lives if the process dies mid-handler.
   * @default 60
   */
  leaseSeconds?: number;
}

/** Defaults of {@link ScalekitWebhookModuleOptions}, {@link ScalekitIdempotencyOptions} and the route, declared once. */
export const SCALEKIT_WEBHOOK_DEFAULTS = {
  toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
  maxBodyBytes: 1_048_576,
  shutdownTimeoutSeconds: 10,
  // Scalekit counts a delivery as failed when it has no answer within 10 seconds: 8 leaves 2 for the network, the
  // verification before and the answer after, so a slow delivery gets a 503 it can act on rather than a timeout.
  responseTimeoutSeconds: 8,
  idempotencyTtlSeconds: 86_400,
  idempotencyLeaseSeconds: 60,
  path: DEFAULT_WEBHOOK_PATH,
} as const;

/** What the dead-letter hook learns about an event that failed its last attempt. */
export interface ScalekitDeadLetterInfo extends ScalekitJobFailureInfo {
  /** The delivery as the handlers received it. */
  delivery: ScalekitDelivery;
}

/**
 * Queue mode: the endpoint verifies, validates, claims the event id, enqueues the event and answers 202; workers run
 * the handlers. See the README's "Scaling out" section.
 */
export interface ScalekitQueueProcessingOptions {
  mode: 'queue';
  /** Where events wait: `new BullMqScalekitQueue({ connection })` in production, `new InMemoryScalekitQueue()` in development. */
  queue: ScalekitQueue;
  /** Whether this instance also runs workers. Default true; `false` for an instance that only receives. */
  workers?: boolean;
  /**
   * Dead letter: called once when an event failed its last attempt (it is also logged as an error, and a BullMQ queue
   * keeps it in its failed set). Errors it throws are logged.
   */
  onFailed?: (event: AnyScalekitEvent, error: unknown, info: ScalekitDeadLetterInfo) => void | Promise<void>;
}

/** Options that may come from configuration (`forRoot`, or the factory of `forRootAsync`). */
export interface ScalekitWebhookModuleOptions {
  /** Endpoint signing secret (`whsec_…`), or several during rotation: any of them verifies. Required. */
  secret: string | readonly string[];
  /**
   * Accepted distance between `webhook-timestamp` and now, in seconds.
   * @default 300
   */
  toleranceSeconds?: number;
  /**
   * Largest accepted body, in bytes; larger deliveries get 413 before any signature work.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /** Deduplication by event id (on by default, in memory), or `false` to run handlers for every copy. */
  idempotency?: ScalekitIdempotencyOptions | false;
  /**
   * On `app.close()`, how long in-flight deliveries may still run before their claims are released (queue mode: also
   * how long workers may finish their active jobs before returning them), in seconds.
   * @default 10
   */
  shutdownTimeoutSeconds?: number;
  /**
   * Longest time a delivery waits for its handlers (inline) or its claim and enqueue (queue mode) before it is
   * answered `503` with `Retry-After` (Scalekit wants an answer within 10 seconds). Handlers still running then go
   * on, their claim renewed; once they succeed the event is done and Scalekit's retry gets `200` without a second run.
   * @default 8
   */
  responseTimeoutSeconds?: number;
  /** `'inline'` (default): handlers run before the answer (200). Queue mode: answer 202 at once, handlers run in workers. */
  processing?: 'inline' | ScalekitQueueProcessingOptions;
}

/** Options fixed when the module is imported (also for `forRootAsync`), because they shape routes. */
export interface ScalekitWebhookModuleExtras {
  /**
   * Route of the built-in controller.
   * @default 'webhooks/scalekit'
   */
  path?: string;
  /** Register the module globally, so `ScalekitWebhookGuard` works in every module. Default false. */
  isGlobal?: boolean;
  /** Class decorators for the built-in controller, e.g. `[Public(), SkipThrottle()]`. */
  decorators?: ClassDecorator[];
  /** Name of this endpoint, when several Scalekit environments post to one app (see `@OnScalekitEvent`). */
  name?: string;
  /**
   * Whether this registration has its HTTP endpoint. Default true. `false` makes a worker-only instance (no
   * controller, no route), which requires queue mode with workers.
   */
  receiver?: boolean;
}

export type { ScalekitDelivery, ScalekitDeliveryJob, ScalekitJobAttempt } from '../core/receiver/delivery.js';

/** Options of `@OnScalekitEvent()`. */
export interface OnScalekitEventOptions {
  /** Only for deliveries to the endpoint registered with this `name`; all endpoints when absent. */
  endpoint?: string;
}

/** For `forRootAsync({ useClass })` / `useExisting`: a provider that builds the options. */
export interface ScalekitWebhookOptionsFactory {
  createScalekitWebhookOptions(): ScalekitWebhookModuleOptions | Promise<ScalekitWebhookModuleOptions>;
}
