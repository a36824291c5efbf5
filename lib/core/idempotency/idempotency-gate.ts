import { describeError } from '../describe-error.js';
import { ScalekitWebhookError } from '../errors.js';
import type { IdempotencyStore } from './idempotency-store.js';

export interface IdempotencyGateOptions {
  /** How long an in-flight claim lives if its process dies. */
  leaseMs: number;
  /** How long a processed event is remembered. */
  ttlMs: number;
}

/**
 * A held claim on one event: end it with `complete()` after success or `release()` after failure. Each resolves
 * whether it took effect: `false` means another claimer holds the key now (this claim's lease had expired).
 */
export interface IdempotencyTicket {
  readonly key: string;
  complete(): Promise<boolean>;
  release(): Promise<boolean>;
  /**
   * Extends the claim by another lease while it is held: `false` once it was completed or released here, or lost in
   * the store (expired, claimed by another). `true` without doing anything when the store cannot renew.
   */
  renew(): Promise<boolean>;
}

/**
 * The idempotency semantics, in one place:
 * - already done → `'duplicate'` (answer 2xx without running handlers);
 * - in flight elsewhere → throws `in_flight` (409 with `Retry-After`);
 * - otherwise → a ticket: `complete()` marks the event done, `release()` frees it so the retry runs it again;
 * - while the ticket is held, `renew()` (called every third of the lease) keeps the claim alive;
 * - the process dies while holding it → renewals stop, the lease expires and a later retry claims it.
 * Store failures surface as `store_unavailable` (503), so the sender retries.
 */
export class IdempotencyGate {
  readonly #retryAfterSeconds: string;

  constructor(
    readonly store: IdempotencyStore,
    readonly options: IdempotencyGateOptions,
  ) {
    this.#retryAfterSeconds = String(Math.max(1, Math.min(10, Math.ceil(options.leaseMs / 1000))));
  }

  async enter(key: string): Promise<IdempotencyTicket | 'duplicate'> {
    const claim = await this.#call('claim', () => this.store.claim(key, this.options.leaseMs));
    if (claim.status === 'done') {
      return 'duplicate';
    }
    if (claim.status === 'in-flight') {
      throw new ScalekitWebhookError('in_flight', `event ${key} is already being processed`, {
        headers: { 'Retry-After': this.#retryAfterSeconds },
      });
    }
    // held → completed, or held → released (→ completed, if the work still finished: the store only writes the done
    // mark when nobody re-claimed the key in between).
    let state: 'held' | 'released' | 'completed' = 'held';
    const complete = async () => {
      if (state === 'completed') {
        return true;
      }
      state = 'completed';
      return this.#call('complete', () => this.store.complete(key, claim.token, this.options.ttlMs));
    };
    const release = async () => {
      if (state !== 'held') {
        return false;
      }
      state = 'released';
      return this.#call('release', () => this.store.release(key, claim.token));
    };
    const renew = async () => {
      if (state !== 'held') {
        return false;
      }
      if (typeof this.store.renew !== 'function') {
        return true;
      }
      return this.#call('renew', () => this.store.renew!(key, claim.token, this.options.leaseMs));
    };
    return { key, complete, release, renew };
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ScalekitWebhookError) {
        throw error;
      }
      throw new ScalekitWebhookError(
        'store_unavailable',
        `idempotency store ${operation} failed: ${describeError(error)}`,
        { cause: error, headers: { 'Retry-After': this.#retryAfterSeconds } },
      );
    }
  }
}
