import { describeError } from '../describe-error.js';
import { ScalekitWebhookError } from '../errors.js';
import {
  type ClaimResult,
  IMMEDIATE_IDEMPOTENCY_STORE,
  type IdempotencyStore,
  type ImmediateIdempotencyStore,
} from './idempotency-store.js';

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
  /**
   * `complete()` or `release()`, answered at once when the store answers at once (the memory store): a boolean, or
   * throws; otherwise the same promise.
   */
  end(how: 'complete' | 'release'): boolean | Promise<boolean>;
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

  /** @internal The store's synchronous operations, when it has them (the memory store, none overridden). */
  immediate(): ImmediateIdempotencyStore | undefined {
    return (this.store as { [IMMEDIATE_IDEMPOTENCY_STORE]?: () => ImmediateIdempotencyStore | undefined })[
      IMMEDIATE_IDEMPOTENCY_STORE
    ]?.();
  }

  async enter(key: string): Promise<IdempotencyTicket | 'duplicate'> {
    let claim: ClaimResult;
    try {
      claim = await this.store.claim(key, this.options.leaseMs);
    } catch (error) {
      throw this.storeError('claim', error);
    }
    return this.#ticketOf(key, claim);
  }

  /**
   * {@link enter}, answered at once when the store answers at once (the memory store): a ticket or `'duplicate'`, or
   * throws; otherwise the promise `enter` gives.
   */
  enterSoon(key: string): IdempotencyTicket | 'duplicate' | Promise<IdempotencyTicket | 'duplicate'> {
    const immediate = this.immediate();
    if (immediate === undefined) {
      return this.enter(key);
    }
    let claim: ClaimResult;
    try {
      claim = immediate.claim(key, this.options.leaseMs);
    } catch (error) {
      throw this.storeError('claim', error);
    }
    return this.#ticketOf(key, claim);
  }

  #ticketOf(key: string, claim: ClaimResult): IdempotencyTicket | 'duplicate' {
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
    return this.end('complete');
  }

  async release(): Promise<boolean> {
    return this.end('release');
  }

  end(how: 'complete' | 'release'): boolean | Promise<boolean> {
    if (how === 'complete') {
      if (this.#state === 'completed') {
        return true;
      }
      this.#state = 'completed';
    } else {
      if (this.#state !== 'held') {
        return false;
      }
      this.#state = 'released';
    }
    const gate = this.#gate;
    try {
      const immediate = gate.immediate();
      if (immediate !== undefined) {
        return how === 'complete'
          ? immediate.complete(this.key, this.#token, gate.options.ttlMs)
          : immediate.release(this.key, this.#token);
      }
      const ended =
        how === 'complete'
          ? gate.store.complete(this.key, this.#token, gate.options.ttlMs)
          : gate.store.release(this.key, this.#token);
      return Promise.resolve(ended).then(undefined, (error: unknown) => {
        throw gate.storeError(how, error);
      });
    } catch (error) {
      throw gate.storeError(how, error);
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
