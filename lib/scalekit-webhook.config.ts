import { type IdempotencyGateOptions, ScalekitWebhookError, ScalekitWebhookVerifier } from './core/index.js';
import { isScalekitQueue } from './core/queue/index.js';
import { OptionsChecker } from './core/options.js';
import {
  SCALEKIT_WEBHOOK_DEFAULTS as DEFAULTS,
  type ScalekitIdempotencyOptions,
  type ScalekitQueueProcessingOptions,
  type ScalekitWebhookModuleOptions,
} from './interfaces/scalekit-webhook.interfaces.js';

/** How a registration processes accepted events. The queue itself is a provider (`getScalekitQueueToken(name)`). */
export type ScalekitProcessingConfig =
  | { readonly mode: 'inline' }
  | {
      readonly mode: 'queue';
      /** The class of the configured queue, for diagnostics. */
      readonly queueName: string;
      /** Whether this instance runs workers. */
      readonly workers: boolean;
      readonly onFailed: ScalekitQueueProcessingOptions['onFailed'];
    };

/** The module's extras: they shape the route and the module, so they are read before any factory runs. */
const ROUTE_OPTIONS = ['path', 'isGlobal', 'decorators', 'name', 'receiver'] as const;

const check = new OptionsChecker('Scalekit webhook');
/** The largest delay a timer takes: a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Idempotency settings of a registration; the store itself is a provider (`getScalekitIdempotencyStoreToken(name)`). */
export interface ScalekitIdempotencyConfig extends IdempotencyGateOptions {
  /** The class of the configured store, for diagnostics. */
  readonly storeName: string;
}

/**
 * The checked settings of one registration, as plain values. Built once at start-up from the module options, so a
 * bad secret, tolerance or size limit stops the app with a clear message. Holds no secret and no resource: the
 * verifier, store and queue are providers of their own (see `scalekit-webhook.tokens.ts`).
 */
export class ScalekitWebhookConfig {
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  /** Absent when idempotency is off. */
  readonly idempotency: ScalekitIdempotencyConfig | undefined;
  readonly shutdownTimeoutMs: number;
  /** How long a delivery may wait for its processing before it is answered 503 (the work goes on). */
  readonly responseTimeoutMs: number;
  readonly processing: ScalekitProcessingConfig;

  constructor(
    options: ScalekitWebhookModuleOptions,
    /** The registration's `name`, if any. */
    readonly endpoint: string | undefined,
    /** The built-in controller's route, without surrounding slashes. */
    readonly path: string = DEFAULTS.path,
    /** Whether the registration has its HTTP endpoint (the `receiver` extra). */
    readonly receiver: boolean = true,
  ) {
    this.path = path.replace(/^\/+|\/+$/g, '');
    if (options === null || typeof options !== 'object') {
      throw invalid('module needs options: { secret: "whsec_…" }');
    }
    // forRoot strips these before the options get here; only a forRootAsync factory (or class) can return them, and
    // Nest has already built the route by then, so they would be silently ignored.
    const routeOptions = ROUTE_OPTIONS.filter((key) => Object.prototype.hasOwnProperty.call(options, key));
    if (routeOptions.length > 0) {
      throw invalid(
        `route option${routeOptions.length > 1 ? 's' : ''} ${routeOptions.map((key) => `\`${key}\``).join(', ')} returned by the forRootAsync factory would be ignored: routes are built before the factory runs. Pass ${routeOptions.length > 1 ? 'them' : 'it'} to forRootAsync itself, next to useFactory: ScalekitWebhookModule.forRootAsync({ useFactory, inject, ${routeOptions[0]}: … })`,
      );
    }
    // Checks the secret(s) and tolerance; the verifier provider builds its own from the same options.
    this.toleranceSeconds = new ScalekitWebhookVerifier(options).toleranceSeconds;
    // null also takes the default here, as it always has.
    this.maxBodyBytes = check.positiveWholeNumber(
      'maxBodyBytes',
      options.maxBodyBytes ?? undefined,
      DEFAULTS.maxBodyBytes,
      'bytes',
    );
    this.shutdownTimeoutMs =
      check.positiveSeconds('shutdownTimeoutSeconds', options.shutdownTimeoutSeconds, DEFAULTS.shutdownTimeoutSeconds) *
      1000;
    // Capped at the largest delay a timer takes: a longer one would fire at once and answer every delivery 503.
    this.responseTimeoutMs = Math.min(
      check.positiveSeconds('responseTimeoutSeconds', options.responseTimeoutSeconds, DEFAULTS.responseTimeoutSeconds) *
        1000,
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

  private buildGate(options: ScalekitIdempotencyOptions): ScalekitIdempotencyConfig {
    if (options === null || typeof options !== 'object') {
      throw invalid('idempotency must be an options object or false');
    }
    const minimumTtl = 2 * this.toleranceSeconds;
    const ttlSeconds = check.positiveSeconds(
      'idempotency.ttlSeconds',
      options.ttlSeconds,
      Math.max(DEFAULTS.idempotencyTtlSeconds, minimumTtl),
    );
    if (ttlSeconds < minimumTtl) {
      throw invalid(
        `idempotency.ttlSeconds (${ttlSeconds}) must be at least twice toleranceSeconds (${minimumTtl}): a copy replayed inside the timestamp window would otherwise run the handlers again`,
      );
    }
    const leaseSeconds = check.positiveSeconds(
      'idempotency.leaseSeconds',
      options.leaseSeconds,
      DEFAULTS.idempotencyLeaseSeconds,
    );
    const store = options.store ?? undefined; // null takes the default too, as it always has
    if (
      store !== undefined &&
      (typeof store.claim !== 'function' || typeof store.complete !== 'function' || typeof store.release !== 'function')
    ) {
      throw invalid('idempotency.store must implement claim(), complete() and release() (see IdempotencyStore)');
    }
    return {
      storeName: store === undefined ? 'MemoryIdempotencyStore' : store.constructor.name,
      leaseMs: leaseSeconds * 1000,
      ttlMs: ttlSeconds * 1000,
    };
  }

  toJSON(): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      path: this.path,
      toleranceSeconds: this.toleranceSeconds,
      maxBodyBytes: this.maxBodyBytes,
      idempotency: this.idempotency
        ? { store: this.idempotency.storeName, leaseMs: this.idempotency.leaseMs, ttlMs: this.idempotency.ttlMs }
        : false,
      shutdownTimeoutMs: this.shutdownTimeoutMs,
      responseTimeoutMs: this.responseTimeoutMs,
      // Shown only when they differ from the defaults (inline processing, with an endpoint).
      ...(this.processing.mode === 'queue'
        ? {
            processing: {
              mode: 'queue',
              queue: this.processing.queueName,
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
  return { mode: 'queue', queueName: value.queue.constructor.name, workers, onFailed: value.onFailed };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

function invalid(message: string): ScalekitWebhookError {
  return check.error(message);
}
