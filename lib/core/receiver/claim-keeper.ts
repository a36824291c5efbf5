import { performance } from 'node:perf_hooks';
import { describeError } from '../describe-error.js';
import type { AnyScalekitEvent } from '../envelope.js';
import { ScalekitWebhookError } from '../errors.js';
import type { IdempotencyGate, IdempotencyTicket } from '../idempotency/idempotency-gate.js';
import type { ScalekitDelivery } from './delivery.js';
import type { ScalekitReceiverLogger } from './receiver-logger.js';

/** When a held claim is renewed next, and how its renewals go. */
interface Renewal {
  dueAt: number;
  renewing: boolean;
  /** The last renewal failed (logged once until one succeeds). */
  failing: boolean;
}

/**
 * The receiver's claims on event ids: claims through the idempotency gate (logging a store outage once when it starts
 * and once when it ends), renews each claim while its delivery is processed, ends it, and on shutdown releases those
 * still held.
 */
export class ScalekitClaimKeeper {
  /** The claims held, with their renewal state. */
  private readonly held = new Map<IdempotencyTicket, Renewal>();
  /** How often a claim is renewed: every third of the lease. */
  private readonly renewEveryMs: number;
  /** One timer renews every claim held (none while no claim is held). */
  private renewals: NodeJS.Timeout | undefined;
  /** When the idempotency store stopped answering (undefined while it answers), and deliveries refused since. */
  private storeDownSince: number | undefined;
  private refusedWhileDown = 0;

  constructor(
    readonly gate: IdempotencyGate,
    private readonly logger: ScalekitReceiverLogger,
  ) {
    this.renewEveryMs = Math.max(50, Math.floor(gate.options.leaseMs / 3));
  }

  /**
   * Claims the event: `'duplicate'` when it is already done; throws `in_flight` or `store_unavailable`. Answered at
   * once when the store answers at once (the memory store), else through a promise. {@link keep} the claim while its
   * work is pending (renewed then), and end it with {@link end}.
   */
  claim(
    event: AnyScalekitEvent,
    delivery: ScalekitDelivery,
  ): IdempotencyTicket | 'duplicate' | Promise<IdempotencyTicket | 'duplicate'> {
    let entered: IdempotencyTicket | 'duplicate' | Promise<IdempotencyTicket | 'duplicate'>;
    try {
      entered = this.gate.enterSoon(event.id || delivery.webhookId);
    } catch (error) {
      throw this.claimFailed(error, event);
    }
    if (entered instanceof Promise) {
      return entered.then(
        (ticket) => this.claimed(ticket),
        (error: unknown) => {
          throw this.claimFailed(error, event);
        },
      );
    }
    return this.claimed(entered);
  }

  private claimed(ticket: IdempotencyTicket | 'duplicate'): IdempotencyTicket | 'duplicate' {
    this.storeAnswered();
    return ticket;
  }

  /** Notes a failed claim (a store outage is logged once) and gives the error back to throw. */
  private claimFailed(error: unknown, event: AnyScalekitEvent): unknown {
    if (error instanceof ScalekitWebhookError && error.code === 'store_unavailable') {
      this.storeFailed(error, event.id);
    } else {
      this.storeAnswered(); // in_flight: the store did answer
    }
    return error;
  }

  /** Shutdown: releases the claims still held (their deliveries were answered 503), so a retry runs elsewhere. */
  async releaseAll(): Promise<void> {
    for (const ticket of [...this.held.keys()]) {
      this.unhold(ticket);
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
   * Keeps a claim alive while its delivery's work is pending, so that the lease only runs out for a process that
   * died: a retry arriving while a slow handler still runs gets 409, not a second run. (Work done within the tick of
   * its claim needs no renewal, and is never kept.) One timer, ticking every sixth of the lease while any claim is
   * held, renews each claim a third of the lease after it was kept or last renewed (so at most half a lease after
   * it). A renewal that fails (store unreachable) is retried at the next tick; one that finds the claim lost stops
   * renewing it and says so.
   */
  keep(ticket: IdempotencyTicket): void {
    this.held.set(ticket, { dueAt: performance.now() + this.renewEveryMs, renewing: false, failing: false });
    if (this.renewals === undefined) {
      this.renewals = setInterval(() => this.renewDue(), Math.max(25, Math.floor(this.renewEveryMs / 2)));
      this.renewals.unref();
    }
  }

  private unhold(ticket: IdempotencyTicket): void {
    this.held.delete(ticket);
  }

  /** Stops the renewal timer if no claim is held (shutdown, once the deliveries in flight are done). */
  stopIfIdle(): void {
    if (this.held.size === 0 && this.renewals !== undefined) {
      clearInterval(this.renewals);
      this.renewals = undefined;
    }
  }

  private renewDue(): void {
    // The timer stops at the first tick with no claim held, not when the last claim ends: a receiver whose deliveries
    // finish within a tick (most of them) would otherwise start and stop a timer for each one.
    if (this.held.size === 0) {
      this.stopIfIdle();
      return;
    }
    const now = performance.now();
    for (const [ticket, renewal] of this.held) {
      if (renewal.renewing || renewal.dueAt > now) {
        continue;
      }
      renewal.renewing = true;
      ticket.renew().then(
        (held) => {
          renewal.renewing = false;
          renewal.failing = false;
          renewal.dueAt = performance.now() + this.renewEveryMs;
          if (!held && this.held.get(ticket) === renewal) {
            this.unhold(ticket);
            this.logger.warn(
              `Lost the claim on event ${ticket.key} while its handlers run: a retry may run them again`,
            );
          }
        },
        (error: unknown) => {
          renewal.renewing = false;
          if (!renewal.failing) {
            renewal.failing = true;
            this.logger.warn(`Could not renew the claim on event ${ticket.key}: ${describeError(error)}`);
          }
        },
      );
    }
  }

  /**
   * Stops renewing a claim and ends it. A store failure here is logged, not thrown: the handlers' outcome is what the
   * sender must see. Done at once when the store answers at once, else the promise settles when it is done.
   */
  end(ticket: IdempotencyTicket, how: 'complete' | 'release', event: AnyScalekitEvent): void | Promise<void> {
    this.unhold(ticket);
    let ended: boolean | Promise<boolean>;
    try {
      ended = ticket.end(how);
    } catch (error) {
      this.endFailed(error, how, event);
      return;
    }
    if (ended instanceof Promise) {
      return ended.then(
        (took) => this.ended(took, how, event),
        (error: unknown) => this.endFailed(error, how, event),
      );
    }
    this.ended(ended, how, event);
  }

  private ended(took: boolean, how: 'complete' | 'release', event: AnyScalekitEvent): void {
    if (!took && how === 'complete') {
      this.logger.warn(
        `Event ${event.id} finished after its claim was lost (not renewed for a whole lease: the store was unreachable or the event loop blocked) and another delivery claimed it: it may run twice`,
      );
    }
  }

  private endFailed(error: unknown, how: 'complete' | 'release', event: AnyScalekitEvent): void {
    this.logger.error(
      how === 'complete'
        ? `Event ${event.id} was handled but could not be marked done (${describeError(error)}); a retry would run its handlers again`
        : `Could not release the claim on event ${event.id} (${describeError(error)}); its retry waits for the lease to expire`,
    );
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
