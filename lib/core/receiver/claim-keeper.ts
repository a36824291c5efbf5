import { describeError } from '../describe-error.js';
import type { AnyScalekitEvent } from '../envelope.js';
import { ScalekitWebhookError } from '../errors.js';
import type { IdempotencyGate, IdempotencyTicket } from '../idempotency/idempotency-gate.js';
import type { ScalekitDelivery } from './delivery.js';
import type { ScalekitReceiverLogger } from './receiver-logger.js';

/** A claim held while its delivery is processed: renewed until it ends. */
export interface ScalekitHeldClaim {
  /** Stops renewing and ends the claim. A store failure here is logged, not thrown. */
  end(how: 'complete' | 'release'): Promise<void>;
}

/**
 * The receiver's claims on event ids: claims through the idempotency gate (logging a store outage once when it starts
 * and once when it ends), renews each claim while its delivery is processed, ends it, and on shutdown releases those
 * still held.
 */
export class ScalekitClaimKeeper {
  private readonly held = new Set<IdempotencyTicket>();
  /** When the idempotency store stopped answering (undefined while it answers), and deliveries refused since. */
  private storeDownSince: number | undefined;
  private refusedWhileDown = 0;

  constructor(
    readonly gate: IdempotencyGate,
    private readonly logger: ScalekitReceiverLogger,
  ) {}

  /** Claims the event: `'duplicate'` when it is already done; throws `in_flight` or `store_unavailable`. */
  async claim(event: AnyScalekitEvent, delivery: ScalekitDelivery): Promise<ScalekitHeldClaim | 'duplicate'> {
    let ticket: IdempotencyTicket | 'duplicate';
    try {
      ticket = await this.gate.enter(event.id || delivery.webhookId);
      this.storeAnswered();
    } catch (error) {
      if (error instanceof ScalekitWebhookError && error.code === 'store_unavailable') {
        this.storeFailed(error, event.id);
      } else {
        this.storeAnswered(); // in_flight: the store did answer
      }
      throw error;
    }
    if (ticket === 'duplicate') {
      return 'duplicate';
    }
    const held = ticket;
    this.held.add(held);
    const stopRenewing = this.keepAlive(held);
    return {
      end: async (how) => {
        stopRenewing();
        await this.end(held, how, event);
      },
    };
  }

  /** Shutdown: releases the claims still held (their deliveries were answered 503), so a retry runs elsewhere. */
  async releaseAll(): Promise<void> {
    for (const ticket of [...this.held]) {
      this.held.delete(ticket);
      await ticket.release().then(
        () =>
          this.logger.warn(
            `Released the claim on event ${ticket.key}: its handlers did not finish before shutdown; Scalekit will retry it`,
          ),
        (error: unknown) =>
          this.logger.error(`Could not release the claim on event ${ticket.key}: ${describeError(error)}`),
      );
    }
  }

  /**
   * Renews the claim every third of the lease while its delivery is processed, so that the lease only runs out for a
   * process that died: a retry arriving while a slow handler still runs gets 409, not a second run. Returns the stop
   * function. A renewal that fails (store unreachable) is retried at the next tick; one that finds the claim lost
   * stops and says so.
   */
  private keepAlive(ticket: IdempotencyTicket): () => void {
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
              this.logger.warn(`Could not renew the claim on event ${ticket.key}: ${describeError(error)}`);
            }
          },
        );
      },
      Math.max(50, Math.floor(this.gate.options.leaseMs / 3)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Ends a claim. A store failure here is logged, not thrown: the handlers' outcome is what the sender must see. */
  private async end(ticket: IdempotencyTicket, how: 'complete' | 'release', event: AnyScalekitEvent): Promise<void> {
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
          ? `Event ${event.id} was handled but could not be marked done (${describeError(error)}); a retry would run its handlers again`
          : `Could not release the claim on event ${event.id} (${describeError(error)}); its retry waits for the lease to expire`,
      );
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
        `Idempotency store unreachable (${describeError(error)}): deliveries are answered 503 store_unavailable with Retry-After until it is back (first refused: event ${JSON.stringify(eventId.slice(0, 100))})`,
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
}
