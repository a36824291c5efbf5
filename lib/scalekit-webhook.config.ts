import {
  IdempotencyGate,
  MemoryIdempotencyStore,
  ScalekitWebhookError,
  ScalekitWebhookVerifier,
} from './core/index.js';
import { isScalekitQueue, type ScalekitQueue } from './core/queue/index.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_WEBHOOK_PATH } from './scalekit-webhook.constants.js';
import type {
  ScalekitIdempotencyOptions,
  ScalekitQueueProcessingOptions,
  ScalekitWebhookModuleOptions,
} from './scalekit-webhook.interfaces.js';

/** How a registration processes accepted events. */
export type ScalekitProcessingConfig =
  | { readonly mode: 'inline' }
  | {
      readonly mode: 'queue';
      readonly queue: ScalekitQueue;
      /** Whether this instance runs workers. */
      readonly workers: boolean;
      readonly onFailed: ScalekitQueueProcessingOptions['onFailed'];
    };

const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;
const DEFAULT_IDEMPOTENCY_LEASE_SECONDS = 60;
/**
 * Scalekit counts a delivery as failed when it has no answer within 10 seconds. 8 leaves 2 seconds for the network,
 * the verification before and the answer after, so that a slow delivery gets a 503 it can act on rather than a
 * timeout that Scalekit would also count against the endpoint.
 */
const DEFAULT_RESPONSE_TIMEOUT_SECONDS = 8;
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The checked settings of one registration. Built once at start-up from the module options, so a bad secret,
 * tolerance or size limit stops the app with a clear message. Holds no secret in readable form.
 */
export class ScalekitWebhookConfig {
  readonly verifier: ScalekitWebhookVerifier;
  readonly maxBodyBytes: number;
  /** Absent when idempotency is off. */
  readonly idempotency: IdempotencyGate | undefined;
  readonly shutdownTimeoutMs: number;
  /** How long a delivery may wait for its processing before it is answered 503 (the work goes on). */
  readonly responseTimeoutMs: number;
  readonly processing: ScalekitProcessingConfig;

  constructor(
    options: ScalekitWebhookModuleOptions,
    /** The registration's `name`, if any. */
    readonly endpoint: string | undefined,
    /** The built-in controller's route, without surrounding slashes. */
    readonly path: string = DEFAULT_WEBHOOK_PATH,
    /** Whether the registration has its HTTP endpoint (the `receiver` extra). */
    readonly receiver: boolean = true,
  ) {
    this.path = path.replace(/^\/+|\/+$/g, '');
    if (options === null || typeof options !== 'object') {
      throw invalid('module needs options: { secret: "whsec_…" }');
    }
    this.verifier = new ScalekitWebhookVerifier(options);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isSafeInteger(this.maxBodyBytes) || this.maxBodyBytes <= 0) {
      throw invalid(`maxBodyBytes must be a positive whole number of bytes (got ${String(options.maxBodyBytes)})`);
    }
    this.shutdownTimeoutMs = seconds(options.shutdownTimeoutSeconds, 10, 'shutdownTimeoutSeconds') * 1000;
    // Capped at the largest delay a timer takes: a longer one would fire at once and answer every delivery 503.
    this.responseTimeoutMs = Math.min(
      seconds(options.responseTimeoutSeconds, DEFAULT_RESPONSE_TIMEOUT_SECONDS, 'responseTimeoutSeconds') * 1000,
      MAX_TIMER_MS,
    );
    this.idempotency = options.idempotency === false ? undefined : this.buildGate(options.idempotency ?? {});
    this.processing = buildProcessing(options.processing);
    if (!receiver && (this.processing.mode !== 'queue' || !this.processing.workers)) {
      throw invalid(
        "registration with `receiver: false` has no endpoint, so it must run workers: give it `processing: { mode: 'queue', queue }` (with `workers` left true)",
      );
    }
  }

  private buildGate(options: ScalekitIdempotencyOptions): IdempotencyGate {
    if (options === null || typeof options !== 'object') {
      throw invalid('idempotency must be an options object or false');
    }
    const minimumTtl = 2 * this.verifier.toleranceSeconds;
    const ttlSeconds = seconds(
      options.ttlSeconds,
      Math.max(DEFAULT_IDEMPOTENCY_TTL_SECONDS, minimumTtl),
      'idempotency.ttlSeconds',
    );
    if (ttlSeconds < minimumTtl) {
      throw invalid(
        `idempotency.ttlSeconds (${ttlSeconds}) must be at least twice toleranceSeconds (${minimumTtl}): a copy replayed inside the timestamp window would otherwise run the handlers again`,
      );
    }
    const leaseSeconds = seconds(options.leaseSeconds, DEFAULT_IDEMPOTENCY_LEASE_SECONDS, 'idempotency.leaseSeconds');
    const store = options.store ?? new MemoryIdempotencyStore();
    if (
      typeof store.claim !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.release !== 'function'
    ) {
      throw invalid('idempotency.store must implement claim(), complete() and release() (see IdempotencyStore)');
    }
    return new IdempotencyGate(store, { leaseMs: leaseSeconds * 1000, ttlMs: ttlSeconds * 1000 });
  }

  toJSON(): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      path: this.path,
      toleranceSeconds: this.verifier.toleranceSeconds,
      maxBodyBytes: this.maxBodyBytes,
      idempotency: this.idempotency
        ? { store: this.idempotency.store.constructor.name, ...this.idempotency.options }
        : false,
      shutdownTimeoutMs: this.shutdownTimeoutMs,
      responseTimeoutMs: this.responseTimeoutMs,
      // Shown only when they differ from the defaults (inline processing, with an endpoint).
      ...(this.processing.mode === 'queue'
        ? {
            processing: {
              mode: 'queue',
              queue: this.processing.queue.constructor.name,
              workers: this.processing.workers,
            },
          }
        : {}),
      ...(this.receiver ? {} : { receiver: false }),
      secret: '[hidden]',
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ScalekitWebhookConfig ${JSON.stringify(this.toJSON())}`;
  }
}

function buildProcessing(value: ScalekitWebhookModuleOptions['processing']): ScalekitProcessingConfig {
  if (value === undefined || value === 'inline') {
    return { mode: 'inline' };
  }
  if (value === null || typeof value !== 'object' || value.mode !== 'queue') {
    throw invalid(`processing must be 'inline' or { mode: 'queue', queue } (got ${describe(value)})`);
  }
  if (!isScalekitQueue(value.queue)) {
    throw invalid(
      'processing.queue must be a ScalekitQueue (new BullMqScalekitQueue({ connection }) or new InMemoryScalekitQueue())',
    );
  }
  const workers = value.workers ?? true;
  if (typeof workers !== 'boolean') {
    throw invalid(`processing.workers must be true or false (got ${describe(workers)})`);
  }
  if (!workers && value.queue.durable === false) {
    throw invalid(
      'processing.workers is false, but the queue lives in this process only: nothing would ever process its events',
    );
  }
  if (value.onFailed !== undefined && typeof value.onFailed !== 'function') {
    throw invalid('processing.onFailed must be a function');
  }
  return { mode: 'queue', queue: value.queue, workers, onFailed: value.onFailed };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

function invalid(message: string): ScalekitWebhookError {
  return new ScalekitWebhookError('invalid_options', `Scalekit webhook ${message}`);
}

function seconds(value: unknown, fallback: number, name: string): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`${name} must be a positive number of seconds (got ${String(value)})`);
  }
  return value;
}
