import { describeError } from '../describe-error.js';
import { ScalekitWebhookError } from '../errors.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

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
    let claim: ClaimResult;
    try {
      claim = await this.store.claim(key, this.options.leaseMs);
    } catch (error) {
      throw this.storeError('claim', error);
    }
    if (claim.status === 'done') {
      return 'duplicate';
    }
    if (claim.status === 'in-flight') {
      throw new ScalekitWebhookError('in_flight', `event ${key} is already being processed`, {
        headers: { 'Retry-After': this.#retryAfterSeconds },
      });
    }
    return new HeldClaim(this, key, claim.token);
  }

  /** @internal A store failure as the HTTP layer answers it: `store_unavailable` (503 with `Retry-After`). */
  storeError(operation: string, error: unknown): ScalekitWebhookError {
    if (error instanceof ScalekitWebhookError) {
      return error;
    }
    return new ScalekitWebhookError(
      'store_unavailable',
      `idempotency store ${operation} failed: ${describeError(error)}`,
      {
        cause: error,
        headers: { 'Retry-After': this.#retryAfterSeconds },
      },
    );
  }
}

/**
 * A claim held by this process: held → completed, or held → released (→ completed, if the work still finished: the
 * store only writes the done mark when nobody re-claimed the key in between). One object per delivery, its methods
 * on the prototype (no closures per delivery); call them as methods.
 */
class HeldClaim implements IdempotencyTicket {
  #state: 'held' | 'released' | 'completed' = 'held';
  readonly #gate: IdempotencyGate;
  readonly #token: string;

  constructor(
    gate: IdempotencyGate,
    readonly key: string,
    token: string,
  ) {
    this.#gate = gate;
    this.#token = token;
  }

  async complete(): Promise<boolean> {
    if (this.#state === 'completed') {
      return true;
    }
    this.#state = 'completed';
    const { store, options } = this.#gate;
    try {
      return await store.complete(this.key, this.#token, options.ttlMs);
    } catch (error) {
      throw this.#gate.storeError('complete', error);
    }
  }

  async release(): Promise<boolean> {
    if (this.#state !== 'held') {
      return false;
    }
    this.#state = 'released';
    try {
      return await this.#gate.store.release(this.key, this.#token);
    } catch (error) {
      throw this.#gate.storeError('release', error);
    }
  }

  async renew(): Promise<boolean> {
    if (this.#state !== 'held') {
      return false;
    }
    const { store, options } = this.#gate;
    if (typeof store.renew !== 'function') {
      return true;
    }
    try {
      return await store.renew(this.key, this.#token, options.leaseMs);
    } catch (error) {
      throw this.#gate.storeError('renew', error);
    }
  }
}
