import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  type AnyScalekitEvent,
  type IdempotencyTicket,
  redactScalekitPayload,
  ScalekitWebhookError,
} from './core/index.js';
import { describeError } from './core/describe-error.js';
import { LogLimiter } from './core/log-limiter.js';
import type { ScalekitQueue, ScalekitQueuedDelivery } from './core/queue/index.js';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import type { ScalekitDelivery } from './scalekit-webhook.interfaces.js';

/** `processed`: handlers ran (inline mode). `queued`: durably enqueued (queue mode). `duplicate`: already done or queued. */
export type ScalekitProcessingOutcome = 'processed' | 'queued' | 'duplicate';

/**
 * Runs a verified, validated event through idempotency and then, inline, dispatch, or in queue mode, the queue; and
 * drains in-flight deliveries on shutdown: deliveries arriving while the app closes get 503; those still running at
 * the deadline have their claims released, so Scalekit's retry is handled by another instance (or this one after
 * restart).
 *
 * In queue mode the claim is completed once the event is durably enqueued (the queue, not the claim, now holds it),
 * and released when the enqueue fails (503 `queue_unavailable`, so Scalekit retries).
 */
@Injectable()
export class ScalekitEventProcessor implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);
  /** Deliveries being processed, and what to call when the last one ends (set while shutting down). */
  private active = 0;
  private onDrained: (() => void) | undefined;
  private readonly held = new Set<IdempotencyTicket>();
  private closing = false;
  /** When the idempotency store stopped answering (undefined while it answers), and deliveries refused since. */
  private storeDownSince: number | undefined;
  private refusedWhileDown = 0;
  /** Deliveries not answered yet: each entry answers its delivery at once with the given error. */
  private readonly open = new Set<(error: ScalekitWebhookError) => void>();
  private readonly refusals = new LogLimiter();

  constructor(
    @Inject(ScalekitEventDispatcher) private readonly dispatcher: ScalekitEventDispatcher,
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
  ) {}

  /** Whether accepted events go to a queue (queue mode) rather than to the handlers at once. */
  get queued(): boolean {
    return this.config.processing.mode === 'queue';
  }

  async process(
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
    request?: object,
  ): Promise<ScalekitProcessingOutcome> {
    if (this.closing) {
      throw new ScalekitWebhookError('shutting_down', `refused ${event.id}: the application is shutting down`, {
        headers: { 'Retry-After': '5' },
      });
    }
    this.active++;
    // The work goes on after an early answer (deadline, shutdown): it counts as active until it settles, and it
    // completes or releases its claim itself.
    const work = this.run(event, delivery, request).finally(() => {
      if (--this.active === 0) {
        this.onDrained?.();
      }
    });
    let answerNow!: (error: ScalekitWebhookError) => void;
    const early = new Promise<never>((_, reject) => (answerNow = reject));
    const timer = setTimeout(() => answerNow(this.stillRunning(event, delivery)), this.config.responseTimeoutMs);
    timer.unref();
    this.open.add(answerNow);
    try {
      return await Promise.race([work, early]);
    } finally {
      clearTimeout(timer);
      this.open.delete(answerNow);
      work.catch(() => {}); // its failure was answered, or logged where it happened
    }
  }

  /** The answer to a delivery still being processed at the response deadline: 503, Scalekit retries it. */
  private stillRunning(event: AnyScalekitEvent, delivery: ScalekitDelivery): ScalekitWebhookError {
    const retryAfter = String(
      Math.max(1, Math.min(10, Math.ceil((this.config.idempotency?.options.leaseMs ?? 5000) / 1000))),
    );
    const what = this.queued ? 'its enqueue' : 'its handlers';
    this.logger.warn(
      `Event ${event.id} (${event.type}) still running after ${this.config.responseTimeoutMs} ms (responseTimeoutSeconds): answered 503, Scalekit will retry; ${what} go on${this.config.idempotency ? ' with the claim kept, so the retry is acknowledged once they succeed' : ''}`,
    );
    return new ScalekitWebhookError(
      'handler_timeout',
      `delivery ${delivery.webhookId} of event ${event.id} still running after ${this.config.responseTimeoutMs} ms`,
      { headers: { 'Retry-After': retryAfter } },
    );
  }

  private async run(
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
    request?: object,
  ): Promise<ScalekitProcessingOutcome> {
    if (Logger.isLevelEnabled('debug')) {
      this.logger.debug(`Received ${event.type} ${event.id}: ${JSON.stringify(redactScalekitPayload(event))}`);
    }
    const ticket = this.config.idempotency ? await this.enter(event, delivery) : undefined;
    if (ticket === 'duplicate') {
      this.logger.debug(
        `Event ${event.id} (${event.type}) was already processed: acknowledged without running handlers`,
      );
      return 'duplicate';
    }
    if (ticket) {
      this.held.add(ticket);
    }
    const processing = this.config.processing;
    const stopRenewing = ticket ? this.keepAlive(ticket) : undefined;
    try {
      if (processing.mode === 'queue') {
        await this.enqueue(processing.queue, event, delivery);
      } else {
        await this.dispatcher.dispatch(event, delivery, request);
      }
    } catch (error) {
      stopRenewing?.();
      await this.end(ticket, 'release', event);
      throw error;
    }
    stopRenewing?.();
    await this.end(ticket, 'complete', event);
    return processing.mode === 'queue' ? 'queued' : 'processed';
  }

  /**
   * Renews the claim every third of the lease while its delivery is processed, so that the lease only runs out for a
   * process that died: a retry arriving while a slow handler still runs gets 409, not a second run. Returns the stop
   * function. A renewal that fails (store unreachable) is retried at the next tick; one that finds the claim lost
   * stops and says so.
   */
  private keepAlive(ticket: IdempotencyTicket): () => void {
    const leaseMs = this.config.idempotency!.options.leaseMs;
    let failing = false;
    const timer = setInterval(
      () => {
        ticket.renew().then(
          (held) => {
            failing = false;
            if (!held) {
              clearInterval(timer);
              if (this.held.has(ticket)) {
                this.logger.warn(
                  `Lost the claim on event ${ticket.key} while its handlers run: a retry may run them again`,
                );
              }
            }
          },
          (error: unknown) => {
            if (!failing) {
              failing = true;
              this.logger.warn(`Could not renew the claim on event ${ticket.key}: ${errorMessage(error)}`);
            }
          },
        );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Claims the event, noting whether the store answered (for the outage log lines). */
  private async enter(event: AnyScalekitEvent, delivery: ScalekitDelivery): Promise<IdempotencyTicket | 'duplicate'> {
    try {
      const ticket = await this.config.idempotency!.enter(event.id || delivery.webhookId);
      this.storeAnswered();
      return ticket;
    } catch (error) {
      if (error instanceof ScalekitWebhookError && error.code === 'store_unavailable') {
        this.storeFailed(error, event.id);
      } else {
        this.storeAnswered(); // in_flight: the store did answer
      }
      throw error;
    }
  }

  /**
   * One error line when the idempotency store stops answering, one line when it answers again (with how many
   * deliveries were refused meanwhile): not one per delivery.
   */
  private storeFailed(error: unknown, eventId: string): void {
    if (this.storeDownSince === undefined) {
      this.storeDownSince = Date.now();
      this.refusedWhileDown = 0;
      this.logger.error(
        `Idempotency store unreachable (${errorMessage(error)}): deliveries are answered 503 store_unavailable with Retry-After until it is back (first refused: event ${JSON.stringify(eventId.slice(0, 100))})`,
      );
    }
    this.refusedWhileDown++;
  }

  private storeAnswered(): void {
    if (this.storeDownSince === undefined) {
      return;
    }
    const seconds = ((Date.now() - this.storeDownSince) / 1000).toFixed(1);
    this.storeDownSince = undefined;
    this.logger.log(
      `Idempotency store reachable again after ${seconds} s; ${this.refusedWhileDown} delivery(ies) were answered 503 meanwhile (Scalekit retries them)`,
    );
  }

  private async enqueue(queue: ScalekitQueue, event: AnyScalekitEvent, delivery: ScalekitDelivery): Promise<void> {
    try {
      await queue.enqueue({ event, delivery: toQueuedDelivery(delivery) });
    } catch (error) {
      const suppressed = this.refusals.take('queue_unavailable');
      if (suppressed !== undefined) {
        this.logger.error(
          `Could not enqueue event ${event.id} (${event.type}): ${errorMessage(error)}; answered 503, Scalekit will retry${suppressed > 0 ? ` [${suppressed} more failed enqueue(s) not logged]` : ''}`,
        );
      }
      throw new ScalekitWebhookError('queue_unavailable', `enqueue of ${event.id} failed: ${errorMessage(error)}`, {
        cause: error,
        headers: { 'Retry-After': '5' },
      });
    }
  }

  /** Ends a claim. A store failure here is logged, not thrown: the handlers' outcome is what the sender must see. */
  private async end(
    ticket: IdempotencyTicket | undefined,
    how: 'complete' | 'release',
    event: AnyScalekitEvent,
  ): Promise<void> {
    if (!ticket) {
      return;
    }
    this.held.delete(ticket);
    try {
      if (!(await ticket[how]()) && how === 'complete') {
        this.logger.warn(
          `Event ${event.id} finished after its claim was lost (not renewed for a whole lease: the store was unreachable or the event loop blocked) and another delivery claimed it: it may run twice`,
        );
      }
    } catch (error) {
      this.logger.error(
        how === 'complete'
          ? `Event ${event.id} was handled but could not be marked done (${errorMessage(error)}); a retry would run its handlers again`
          : `Could not release the claim on event ${event.id} (${errorMessage(error)}); its retry waits for the lease to expire`,
      );
    }
  }

  /**
   * Logs a verified delivery that is answered with an error: its status, reason and the ids known (the event id
   * once parsed), at most a few lines per reason and minute; never the payload. Handler failures and failed
   * enqueues are logged where they happen, so they are not repeated here.
   */
  reportRefusal(error: unknown, delivery: ScalekitDelivery, eventId: string | undefined): void {
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
    this.logger.warn(
      `Refused delivery ${JSON.stringify(delivery.webhookId.slice(0, 100))}${event} with ${error.status} ${error.code}: ${describeError(error)}${more}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.active === 0) {
      return;
    }
    this.logger.log(
      `Shutting down: waiting up to ${this.config.shutdownTimeoutMs} ms for ${this.active} delivery(ies)`,
    );
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<true>((resolve) => {
        this.onDrained = () => resolve(true);
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.config.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (drained) {
      return;
    }
    // The HTTP server only closes once every open request is answered: answer those still waiting (503, Scalekit
    // retries), even when their handlers never settle.
    for (const answerNow of [...this.open]) {
      answerNow(
        new ScalekitWebhookError('shutting_down', 'the application shut down before the delivery was processed', {
          headers: { 'Retry-After': '5' },
        }),
      );
    }
    this.open.clear();
    for (const ticket of [...this.held]) {
      this.held.delete(ticket);
      await ticket.release().then(
        () =>
          this.logger.warn(
            `Released the claim on event ${ticket.key}: its handlers did not finish before shutdown; Scalekit will retry it`,
          ),
        (error: unknown) =>
          this.logger.error(`Could not release the claim on event ${ticket.key}: ${errorMessage(error)}`),
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.config.idempotency?.store.close?.();
  }
}

/** The JSON form of a delivery, as stored with a queued job. */
function toQueuedDelivery(delivery: ScalekitDelivery): ScalekitQueuedDelivery {
  return {
    webhookId: delivery.webhookId,
    timestamp: delivery.timestamp.toISOString(),
    receivedAt: delivery.receivedAt.toISOString(),
    headers: { ...delivery.headers },
    ...(delivery.endpoint === undefined ? {} : { endpoint: delivery.endpoint }),
  };
}

function errorMessage(error: unknown): string {
  return describeError(error);
}
