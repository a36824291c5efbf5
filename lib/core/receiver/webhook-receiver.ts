import type { IncomingHttpHeaders } from 'node:http';
import { describeError, stackOf } from '../describe-error.js';
import { type AnyScalekitEvent, parseScalekitEventPayload } from '../envelope.js';
import { ScalekitWebhookError } from '../errors.js';
import type { IdempotencyGate, IdempotencyTicket } from '../idempotency/idempotency-gate.js';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { LogLimiter } from '../log-limiter.js';
import type { ScalekitQueue } from '../queue/scalekit-queue.js';
import { redactScalekitPayload } from '../redact.js';
import {
  NOOP_SCALEKIT_TELEMETRY,
  type ScalekitDeliveryOutcome,
  type ScalekitDeliveryTelemetry,
  type ScalekitTelemetry,
} from '../telemetry/scalekit-telemetry.js';
import { ScalekitClaimKeeper } from './claim-keeper.js';
import type { ScalekitDelivery } from './delivery.js';
import type { ScalekitEventDispatchPort, ScalekitHandlerScope } from './handler-port.js';
import { scalekitOutcome, scalekitOutcomeOfError, type ScalekitReceiverOutcome } from './outcome.js';
import { encodeScalekitQueueJob } from './queue-codec.js';
import type { ScalekitReceiverLogger } from './receiver-logger.js';
import { ScalekitResponseDeadlines } from './response-deadlines.js';

/** The body of every 2xx: `{"received":true}` (200, inline), `{"received":true,"queued":true}` (202, queue mode). */
export interface ScalekitWebhookReceipt {
  received: true;
  /** Queue mode: the event is durably queued; workers run its handlers. */
  queued?: true;
}

/** What checks a signature: `ScalekitWebhookVerifier`, or (the CLI without a secret) something that only reads ids. */
export interface ScalekitDeliveryVerifier {
  verify(payload: Buffer, headers: IncomingHttpHeaders): { webhookId: string; timestamp: number };
}

/** The checked settings and the resources of one receiver. */
export interface ScalekitWebhookReceiverOptions {
  verifier: ScalekitDeliveryVerifier;
  /** Larger bodies get 413 before any signature work. */
  maxBodyBytes: number;
  /** Deduplication by event id; absent when off. */
  idempotency?: IdempotencyGate;
  /** Queue mode: accepted events are enqueued here (202) instead of dispatched (200). */
  queue?: ScalekitQueue;
  /** How long a delivery may wait for its processing before it is answered 503 (the work goes on). */
  responseTimeoutMs: number;
  /** On shutdown, how long in-flight deliveries may still run before their claims are released. */
  shutdownTimeoutMs: number;
  /** The registration's `name`, if any: set on every delivery. */
  endpoint?: string;
  dispatcher: ScalekitEventDispatchPort;
  logger: ScalekitReceiverLogger;
  /** Whether debug lines are wanted (the payload is only redacted and serialised then). */
  debugEnabled?: () => boolean;
  /** The message of `raw_body_missing`: how to make the adapter keep the raw body. */
  rawBodyMissing?: string;
  telemetry?: ScalekitTelemetry;
}

/** One request as an adapter read it. `rawBody` is undefined when the framework kept no raw body. */
export interface ScalekitReceiverRequest {
  headers: IncomingHttpHeaders;
  rawBody: Buffer | undefined;
  receivedAt?: Date;
}

/** A verified request, handed to {@link ScalekitWebhookReceiver.receive}. */
export interface ScalekitVerifiedRequest {
  rawBody: Buffer;
  delivery: ScalekitDelivery;
  /** Where request-scoped handlers get their instances (inline mode). */
  scope?: ScalekitHandlerScope;
}

/** A delivery waiting for its answer; `answer` answers it at once with the given error. */
interface OpenDelivery {
  readonly event: AnyScalekitEvent;
  readonly delivery: ScalekitDelivery;
  readonly answer: (error: ScalekitWebhookError) => void;
}

const EMPTY = Buffer.alloc(0);
const RETRY_SOON = { 'Retry-After': '5' } as const;

/**
 * The framework-free webhook receiver: size and media checks and signature verification (`verify`), then parse and
 * validate, claim, dispatch (inline) or enqueue (queue mode), and the status decision (`receive`), answered as plain
 * data. It tracks deliveries in flight, answers 503 at the response deadline while the work goes on (its claim
 * renewed), and on `drain()` refuses new deliveries and answers or releases those still running at the deadline.
 * Adapters (the Nest guard and controller, the CLI's `serve`) only read the request and write the outcome.
 */
export class ScalekitWebhookReceiver {
  /** Deliveries being processed, and what to call when the last one ends (set while draining). */
  private active = 0;
  private onDrained: (() => void) | undefined;
  private closing = false;
  /** Absent when idempotency is off. */
  private readonly claims: ScalekitClaimKeeper | undefined;
  /** Deliveries not answered yet, under their response deadline: answered 503 at the deadline or on shutdown. */
  private readonly open: ScalekitResponseDeadlines<OpenDelivery>;
  private readonly refusals = new LogLimiter();
  private readonly telemetry: ScalekitTelemetry;
  /** The telemetry of each verified delivery, from `verify` to the answer of `receive`. */
  private readonly timings = new WeakMap<ScalekitDelivery, ScalekitDeliveryTelemetry>();

  constructor(private readonly options: ScalekitWebhookReceiverOptions) {
    this.telemetry = options.telemetry ?? NOOP_SCALEKIT_TELEMETRY;
    this.claims = options.idempotency && new ScalekitClaimKeeper(options.idempotency, options.logger);
    this.open = new ScalekitResponseDeadlines(options.responseTimeoutMs, (delivery) =>
      delivery.answer(this.stillRunning(delivery.event, delivery.delivery)),
    );
  }

  /** The registration's `name`, if any. */
  get endpoint(): string | undefined {
    return this.options.endpoint;
  }

  /** The idempotency store claims go to (health checks); absent when idempotency is off. */
  get store(): IdempotencyStore | undefined {
    return this.options.idempotency?.store;
  }

  /** Queue mode: where accepted events are enqueued (health checks). */
  get queue(): ScalekitQueue | undefined {
    return this.options.queue;
  }

  /**
   * Size limit first, then media type, headers, timestamp window and HMAC. Returns the verified delivery; throws a
   * {@link ScalekitWebhookError} (its status is the answer) otherwise.
   */
  verify(request: ScalekitReceiverRequest): ScalekitDelivery {
    const receivedAt = request.receivedAt ?? new Date();
    const timing = this.telemetry.delivery(this.options.endpoint);
    try {
      const rawBody = this.rawBodyOf(request);
      const { webhookId, timestamp } = this.options.verifier.verify(rawBody, request.headers);
      const delivery: ScalekitDelivery = {
        webhookId,
        timestamp: new Date(timestamp * 1000),
        receivedAt,
        headers: request.headers,
      };
      if (this.options.endpoint !== undefined) {
        delivery.endpoint = this.options.endpoint;
      }
      // Its span starts at `verified`, once the event's ids are known (in `receive`); its clock started here.
      if (this.telemetry.enabled) {
        this.timings.set(delivery, timing);
      }
      return delivery;
    } catch (error) {
      const outcome = scalekitOutcomeOfError(error);
      timing.finish(telemetryOutcome(outcome.status, error), outcome.status, error);
      throw error;
    }
  }

  /**
   * Parses and validates the verified body, then claims, dispatches or enqueues it within the response deadline.
   * Never throws: failures are outcomes too (4xx/5xx with the public body and `Retry-After` where it helps).
   */
  async receive(request: ScalekitVerifiedRequest): Promise<ScalekitReceiverOutcome<unknown>> {
    const timing =
      (this.telemetry.enabled && this.timings.get(request.delivery)) || this.telemetry.delivery(this.options.endpoint);
    try {
      const parsed = parseScalekitEventPayload(request.rawBody);
      timing.verified({ webhookId: request.delivery.webhookId, eventId: parsed.id, eventType: parsed.type });
      let result = this.telemetry.enabled
        ? timing.within(() => this.process(parsed, request.delivery, request.scope, timing))
        : this.process(parsed, request.delivery, request.scope, timing);
      if (result instanceof Promise) {
        result = await result;
      }
      const outcome = this.options.queue
        ? scalekitOutcome<ScalekitWebhookReceipt>(202, { received: true, queued: true })
        : scalekitOutcome<ScalekitWebhookReceipt>(200, { received: true });
      timing.finish(result, outcome.status);
      return outcome;
    } catch (error) {
      if (!(error instanceof ScalekitWebhookError)) {
        this.options.logger.error(`Unexpected error on the webhook route: ${describeError(error)}`, stackOf(error));
      }
      this.reportRefusal(error, request.delivery, eventIdOf(request.rawBody));
      const outcome = scalekitOutcomeOfError(error);
      timing.finish(telemetryOutcome(outcome.status, error), outcome.status, error);
      return outcome;
    }
  }

  /** Refuses new deliveries (503), waits for those in flight up to the shutdown deadline, then answers the rest. */
  async drain(): Promise<void> {
    this.closing = true;
    if (this.active === 0) {
      this.claims?.stopIfIdle();
      return;
    }
    this.options.logger.log(
      `Shutting down: waiting up to ${this.options.shutdownTimeoutMs} ms for ${this.active} delivery(ies)`,
    );
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<true>((resolve) => {
        this.onDrained = () => resolve(true);
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.options.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (drained) {
      this.claims?.stopIfIdle();
      return;
    }
    // An HTTP server only closes once every open request is answered: answer those still waiting (503, Scalekit
    // retries), even when their handlers never settle.
    for (const delivery of this.open.takeAll()) {
      delivery.answer(
        new ScalekitWebhookError('shutting_down', 'the application shut down before the delivery was processed', {
          headers: RETRY_SOON,
        }),
      );
    }
    await this.claims?.releaseAll();
    this.claims?.stopIfIdle();
  }

  /**
   * Logs a verified delivery that is answered with an error: its status, reason and the ids known (the event id
   * once parsed), at most a few lines per reason and minute; never the payload. Handler failures and failed
   * enqueues are logged where they happen, so they are not repeated here.
   */
  private reportRefusal(error: unknown, delivery: ScalekitDelivery, eventId: string | undefined): void {
    if (
      !(error instanceof ScalekitWebhookError) ||
      error.code === 'handler_failed' ||
      error.code === 'handler_timeout' ||
      error.code === 'store_unavailable' ||
      error.code === 'queue_unavailable'
    ) {
      return;
    }
    const suppressed = this.refusals.take(error.code);
    if (suppressed === undefined) {
      return;
    }
    const event = eventId === undefined ? '' : ` (event ${JSON.stringify(eventId.slice(0, 100))})`;
    const more = suppressed > 0 ? ` [${suppressed} more ${error.code} refusal(s) not logged]` : '';
    this.options.logger.warn(
      `Refused delivery ${JSON.stringify(delivery.webhookId.slice(0, 100))}${event} with ${error.status} ${error.code}: ${describeError(error)}${more}`,
    );
  }

  private rawBodyOf(request: ScalekitReceiverRequest): Buffer {
    const { headers, rawBody } = request;
    const declared = Number(headers['content-length']);
    const size = Buffer.isBuffer(rawBody) ? rawBody.length : declared;
    if (size > this.options.maxBodyBytes) {
      throw new ScalekitWebhookError(
        'payload_too_large',
        `body of ${size} bytes exceeds maxBodyBytes (${this.options.maxBodyBytes})`,
      );
    }
    const hasBody =
      (Buffer.isBuffer(rawBody) && rawBody.length > 0) || headers['transfer-encoding'] !== undefined || declared > 0;
    if (!hasBody) {
      return EMPTY; // nothing was sent: body parsers leave rawBody unset, which is not a misconfiguration
    }
    const type = String(headers['content-type'] ?? '');
    // Scalekit sends JSON. A signed body is verifiable whatever its type, but only application/json is accepted, as
    // the status table says. (What Scalekit sends is matched first without splitting the header.)
    if (type !== 'application/json' && type.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw new ScalekitWebhookError(
        'unsupported_media_type',
        `content-type ${JSON.stringify(type.slice(0, 100))} is not application/json`,
      );
    }
    if (Buffer.isBuffer(rawBody)) {
      return rawBody;
    }
    throw new ScalekitWebhookError(
      'raw_body_missing',
      this.options.rawBodyMissing ?? 'the adapter kept no raw body, so the signature cannot be verified',
    );
  }

  /**
   * Runs one delivery. Work that is done at once (a synchronous claim, handlers and completion) is answered at once;
   * pending work is answered by whichever comes first: the work settling, or its response deadline (or shutdown)
   * through `this.open`. The work counts as active until it settles, and it completes or releases its claim itself;
   * after an early answer, its failure is logged where it happens.
   */
  private process(
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
    scope: ScalekitHandlerScope | undefined,
    timing: ScalekitDeliveryTelemetry,
  ): ScalekitDeliveryOutcome | Promise<ScalekitDeliveryOutcome> {
    if (this.closing) {
      throw new ScalekitWebhookError('shutting_down', `refused ${event.id}: the application is shutting down`, {
        headers: RETRY_SOON,
      });
    }
    this.active++;
    let work: ScalekitDeliveryOutcome | Promise<ScalekitDeliveryOutcome>;
    try {
      work = this.run(event, delivery, scope, timing);
    } catch (error) {
      this.finished();
      throw error;
    }
    if (!(work instanceof Promise)) {
      this.finished();
      return work;
    }
    return new Promise<ScalekitDeliveryOutcome>((resolve, reject) => {
      const open: OpenDelivery = { event, delivery, answer: reject };
      this.open.add(open);
      work.then(
        (outcome) => {
          this.settled(open);
          resolve(outcome);
        },
        (error: unknown) => {
          this.settled(open);
          reject(error);
        },
      );
    });
  }

  private settled(open: OpenDelivery): void {
    this.open.delete(open);
    this.finished();
  }

  private finished(): void {
    if (--this.active === 0) {
      this.onDrained?.();
    }
  }

  /** The answer to a delivery still being processed at the response deadline: 503, Scalekit retries it. */
  private stillRunning(event: AnyScalekitEvent, delivery: ScalekitDelivery): ScalekitWebhookError {
    const { idempotency, responseTimeoutMs } = this.options;
    const retryAfter = String(Math.max(1, Math.min(10, Math.ceil((idempotency?.options.leaseMs ?? 5000) / 1000))));
    const what = this.options.queue ? 'its enqueue' : 'its handlers';
    this.options.logger.warn(
      `Event ${event.id} (${event.type}) still running after ${responseTimeoutMs} ms (responseTimeoutSeconds): answered 503, Scalekit will retry; ${what} go on${idempotency ? ' with the claim kept, so the retry is acknowledged once they succeed' : ''}`,
    );
    return new ScalekitWebhookError(
      'handler_timeout',
      `delivery ${delivery.webhookId} of event ${event.id} still running after ${responseTimeoutMs} ms`,
      { headers: { 'Retry-After': retryAfter } },
    );
  }

  /**
   * Claims, dispatches or enqueues, then completes the claim (releases it on failure). Synchronous for as long as its
   * steps are (the memory store, handlers that return no promise), else a promise from the first pending step on.
   */
  private run(
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
    scope: ScalekitHandlerScope | undefined,
    timing: ScalekitDeliveryTelemetry,
  ): ScalekitDeliveryOutcome | Promise<ScalekitDeliveryOutcome> {
    if (this.options.debugEnabled?.()) {
      this.options.logger.debug(`Received ${event.type} ${event.id}: ${JSON.stringify(redactScalekitPayload(event))}`);
    }
    const claimed = this.claims?.claim(event, delivery);
    if (claimed instanceof Promise) {
      return claimed.then((claim) => this.work(claim, event, delivery, scope, timing));
    }
    return this.work(claimed, event, delivery, scope, timing);
  }

  /** The handlers (or the enqueue) of a claimed event, then the end of its claim. */
  private work(
    claim: IdempotencyTicket | 'duplicate' | undefined,
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
    scope: ScalekitHandlerScope | undefined,
    timing: ScalekitDeliveryTelemetry,
  ): ScalekitDeliveryOutcome | Promise<ScalekitDeliveryOutcome> {
    if (claim === 'duplicate') {
      this.options.logger.debug(
        `Event ${event.id} (${event.type}) was already processed: acknowledged without running handlers`,
      );
      return 'duplicate';
    }
    const { queue } = this.options;
    let pending: void | Promise<void>;
    try {
      pending = queue
        ? this.enqueue(queue, event, delivery, timing)
        : this.options.dispatcher.dispatch(event, delivery, scope);
    } catch (error) {
      return this.failed(claim, event, error);
    }
    if (pending instanceof Promise) {
      if (claim !== undefined) {
        this.claims!.keep(claim);
      }
      return pending.then(
        () => this.succeeded(claim, event),
        (error: unknown) => this.failed(claim, event, error),
      );
    }
    return this.succeeded(claim, event);
  }

  /** Completes the claim of work that succeeded. */
  private succeeded(
    claim: IdempotencyTicket | undefined,
    event: AnyScalekitEvent,
  ): ScalekitDeliveryOutcome | Promise<ScalekitDeliveryOutcome> {
    const outcome = this.options.queue ? 'queued' : 'processed';
    const ended = claim && this.claims!.end(claim, 'complete', event);
    return ended instanceof Promise ? ended.then(() => outcome) : outcome;
  }

  /** Releases the claim of work that failed, so that the retry runs it, then throws its error. */
  private failed(claim: IdempotencyTicket | undefined, event: AnyScalekitEvent, error: unknown): Promise<never> {
    const ended = claim && this.claims!.end(claim, 'release', event);
    if (ended instanceof Promise) {
      return ended.then(() => {
        throw error;
      });
    }
    throw error;
  }

  private async enqueue(
    queue: ScalekitQueue,
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
    timing: ScalekitDeliveryTelemetry,
  ): Promise<void> {
    try {
      await queue.enqueue(encodeScalekitQueueJob(event, delivery, timing.carrier()));
    } catch (error) {
      const suppressed = this.refusals.take('queue_unavailable');
      if (suppressed !== undefined) {
        this.options.logger.error(
          `Could not enqueue event ${event.id} (${event.type}): ${describeError(error)}; answered 503, Scalekit will retry${suppressed > 0 ? ` [${suppressed} more failed enqueue(s) not logged]` : ''}`,
        );
      }
      throw new ScalekitWebhookError('queue_unavailable', `enqueue of ${event.id} failed: ${describeError(error)}`, {
        cause: error,
        headers: RETRY_SOON,
      });
    }
  }
}

/** How telemetry names an answer. */
function telemetryOutcome(status: number, error: unknown): ScalekitDeliveryOutcome {
  if (error instanceof ScalekitWebhookError && error.code === 'in_flight') {
    return 'in_flight';
  }
  return status === 503 ? 'unavailable' : status >= 500 ? 'failed' : 'rejected';
}

/** The event id of a body, if it has one, for log lines about a refused delivery (its envelope may be invalid). */
function eventIdOf(rawBody: Buffer): string | undefined {
  try {
    const id = (JSON.parse(rawBody.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
