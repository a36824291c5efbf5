import { ScalekitWebhookError } from '../errors.js';
import type { IdempotencyStore } from './idempotency-store.js';

export interface IdempotencyGateOptions {
  /** How long an in-flight claim lives if its process dies. */
  leaseMs: number;
  /** How long a processed event is remembered. */
  ttlMs: number;
}

/** A held claim on one event: end it with `complete()` after success or `release()` after failure. */
export interface IdempotencyTicket {
  readonly key: string;
  complete(): Promise<void>;
  release(): Promise<void>;
}

/**
 * The idempotency semantics, in one place:
 * - already done → `'duplicate'` (answer 2xx without running handlers);
 * - in flight elsewhere → throws `in_flight` (409 with `Retry-After`);
 * - otherwise → a ticket: `complete()` marks the event done, `release()` frees it so the retry runs it again;
 * - the process dies while holding it → the lease expires and a later retry claims it.
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
    let ended = false;
    const end = async (how: 'complete' | 'release') => {
      if (ended) {
        return;
      }
      ended = true;
      await this.#call(how, () =>
        how === 'complete' ? this.store.complete(key, claim.token, this.options.ttlMs) : this.store.release(key, claim.token),
      );
    };
    return { key, complete: () => end('complete'), release: () => end('release') };
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
        `idempotency store ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, headers: { 'Retry-After': this.#retryAfterSeconds } },
      );
    }
  }
}
