import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type AnyScalekitEvent, type IdempotencyTicket, redactScalekitPayload, ScalekitWebhookError } from './core/index.js';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import type { ScalekitDelivery } from './scalekit-webhook.interfaces.js';

export type ScalekitProcessingOutcome = 'processed' | 'duplicate';

/**
 * Runs a verified, validated event through idempotency and dispatch, and drains in-flight deliveries on
 * shutdown: deliveries arriving while the app closes get 503; those still running at the deadline have their
 * claims released, so Scalekit's retry is handled by another instance (or this one after restart).
 */
@Injectable()
export class ScalekitEventProcessor implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);
  private readonly running = new Set<Promise<ScalekitProcessingOutcome>>();
  private readonly held = new Set<IdempotencyTicket>();
  private closing = false;

  constructor(
    @Inject(ScalekitEventDispatcher) private readonly dispatcher: ScalekitEventDispatcher,
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
  ) {}

  process(event: AnyScalekitEvent, delivery: ScalekitDelivery, request?: object): Promise<ScalekitProcessingOutcome> {
    if (this.closing) {
      return Promise.reject(
        new ScalekitWebhookError('shutting_down', `refused ${event.id}: the application is shutting down`, {
          headers: { 'Retry-After': '5' },
        }),
      );
    }
    const run = this.run(event, delivery, request);
    this.running.add(run);
    const forget = () => this.running.delete(run);
    run.then(forget, forget);
    return run;
  }

  private async run(event: AnyScalekitEvent, delivery: ScalekitDelivery, request?: object): Promise<ScalekitProcessingOutcome> {
    if (Logger.isLevelEnabled('debug')) {
      this.logger.debug(`Received ${event.type} ${event.id}: ${JSON.stringify(redactScalekitPayload(event))}`);
    }
    const ticket = this.config.idempotency ? await this.config.idempotency.enter(event.id || delivery.webhookId) : undefined;
    if (ticket === 'duplicate') {
      this.logger.debug(`Event ${event.id} (${event.type}) was already processed: acknowledged without running handlers`);
      return 'duplicate';
    }
    if (ticket) {
      this.held.add(ticket);
    }
    try {
      await this.dispatcher.dispatch(event, delivery, request);
    } catch (error) {
      await this.end(ticket, 'release', event);
      throw error;
    }
    await this.end(ticket, 'complete', event);
    return 'processed';
  }

  /** Ends a claim. A store failure here is logged, not thrown: the handlers' outcome is what the sender must see. */
  private async end(ticket: IdempotencyTicket | undefined, how: 'complete' | 'release', event: AnyScalekitEvent): Promise<void> {
    if (!ticket) {
      return;
    }
    this.held.delete(ticket);
    try {
      if (!(await ticket[how]()) && how === 'complete') {
        this.logger.warn(
          `Event ${event.id} finished after its claim expired and another delivery claimed it: it may run twice. Raise idempotency.leaseSeconds above your slowest handler`,
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

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.running.size === 0) {
      return;
    }
    this.logger.log(`Shutting down: waiting up to ${this.config.shutdownTimeoutMs} ms for ${this.running.size} delivery(ies)`);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled([...this.running]).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.config.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (drained) {
      return;
    }
    for (const ticket of [...this.held]) {
      this.held.delete(ticket);
      await ticket.release().then(
        () => this.logger.warn(`Released the claim on event ${ticket.key}: its handlers did not finish before shutdown; Scalekit will retry it`),
        (error: unknown) => this.logger.error(`Could not release the claim on event ${ticket.key}: ${errorMessage(error)}`),
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.config.idempotency?.store.close?.();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
