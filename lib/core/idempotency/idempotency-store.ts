import { ScalekitWebhookError } from '../errors.js';

/** The state a key was found in by {@link IdempotencyStore.claim}. */
export type ClaimStatus = 'claimed' | 'in-flight' | 'done';

/**
 * What {@link IdempotencyStore.claim} answers.
 *
 * - `claimed`: the key was absent or expired; the caller now holds a lease on it and must later call
 *   {@link IdempotencyStore.complete} (success) or {@link IdempotencyStore.release} (failure) with `token`.
 * - `in-flight`: another claimer holds an unexpired lease (answer 409 with `Retry-After`).
 * - `done`: the key was completed and its done mark has not expired (answer 2xx without processing again).
 */
export type ClaimResult = { status: 'claimed'; token: string } | { status: 'in-flight' } | { status: 'done' };

/**
 * Records which events are being processed or were processed, so that each is handled once.
 *
 * A key is in one of three states: absent (or expired), in flight (claimed, for `leaseMs`), or done (for `ttlMs`).
 *
 * **Claim tokens.** Each successful claim gets a fresh token that no other claim of the store gets. `complete` and `release` take it back, so a
 * claimer whose lease expired while it was still working cannot disturb the claimer that re-claimed the key after
 * it: a stale `release` deletes nothing, and a stale `complete` does not overwrite another claimer's lease. Both
 * report with their boolean result whether they took effect, which is worth logging when it is `false`.
 *
 * Every operation is atomic with respect to every other claimer of the same store (for a shared store such as
 * Redis: across processes). Durations are in milliseconds and must be positive; fractions are rounded up.
 * Errors of the backing store reject the returned promise unchanged (the HTTP layer answers 5xx, and the sender
 * retries).
 */
export interface IdempotencyStore {
  /**
   * Claims `key` for `leaseMs` if it is absent or expired (`{ status: 'claimed', token }`); otherwise reports
   * `in-flight` or `done` and changes nothing.
   */
  claim(key: string, leaseMs: number): Promise<ClaimResult>;

  /**
   * Marks `key` done for `ttlMs`, ending the claim identified by `token`.
   *
   * Writes the done mark when `key` is still held by `token`, and also when the lease expired and nobody
   * re-claimed the key (the work did succeed). Resolves `false`, writing nothing, only when another claimer holds
   * the key now. If the key is already done, it stays done as it is (`true`).
   */
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;

  /**
   * Deletes the claim on `key` if it is still held by `token`, so that a retry can claim it at once. Never removes
   * a done mark nor another claimer's lease. Resolves `true` when the claim was deleted.
   */
  release(key: string, token: string): Promise<boolean>;

  /**
   * Extends the claim on `key` held by `token` to `leaseMs` from now, so that a process that is alive keeps its
   * claim for as long as its handlers run (the module renews every third of the lease); only a process that stops
   * renewing (it crashed) lets the lease expire. Resolves `true` when extended; `false`, changing nothing, when the
   * key is not held by `token` any more (completed, released, expired, or claimed by another): a renewal never
   * revives a claim. Atomic like the other operations.
   *
   * Optional for stores written before it existed: without it, a claim lasts `leaseMs` whatever its handlers do, and
   * a handler slower than the lease can run twice.
   */
  renew?(key: string, token: string, leaseMs: number): Promise<boolean>;

  /** Frees resources the store owns (connections it opened). Called once, after the last operation. */
  close?(): Promise<void>;
  /** Health checks: resolves when the store answers (Redis: a `PING`), rejects otherwise. */
  ping?(): Promise<void>;
}

/**
 * @internal The method of a store that answers within the calling tick (the memory store) that gives its operations
 * in synchronous form, or `undefined` when they cannot stand for its methods (one was overridden). The gate asks for
 * them at each operation, so that a delivery's claim and completion cost no promise and no turn of the microtask
 * queue; every other store is awaited.
 */
export const IMMEDIATE_IDEMPOTENCY_STORE: unique symbol = Symbol(
  'nestjs-scalekit-webhooks.immediate-idempotency-store',
);

/** @internal {@link IdempotencyStore}'s operations, answered (or thrown) at once; same arguments and meaning. */
export interface ImmediateIdempotencyStore {
  claim(key: string, leaseMs: number): ClaimResult;
  complete(key: string, token: string, ttlMs: number): boolean;
  release(key: string, token: string): boolean;
  renew(key: string, token: string, leaseMs: number): boolean;
}

/** @internal Checks a key argument. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ScalekitWebhookError('invalid_options', 'Idempotency key must be a non-empty string');
  }
  return key;
}

/** @internal Checks a lease or TTL argument and rounds it up to whole milliseconds. */
export function checkDuration(value: unknown, label: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ScalekitWebhookError(
      'invalid_options',
      `Idempotency ${label} must be a positive number of milliseconds (got ${String(value)})`,
    );
  }
  return Math.ceil(value);
}

/** @internal Checks a claim token argument. */
export function checkToken(token: unknown): string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new ScalekitWebhookError(
      'invalid_options',
      'Idempotency claim token must be the non-empty string returned by claim()',
    );
  }
  return token;
}
