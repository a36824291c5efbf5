import { randomUUID } from 'node:crypto';
import { ScalekitWebhookError } from '../errors.js';
import {
  checkDuration,
  checkKey,
  checkToken,
  type ClaimResult,
  type IdempotencyStore,
} from './idempotency-store.js';

export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS = 100_000;

/** How many least recently used entries an insertion looks at to drop them early when they have expired. */
const EXPIRED_SWEEP_PER_INSERT = 2;

export interface MemoryIdempotencyStoreOptions {
  /**
   * Most keys kept. When a claim would exceed it, the least recently used key is forgotten, whatever its state:
   * a forgotten done mark lets a very late duplicate be processed again, so size this above the number of events
   * received during the done TTL. Default 100,000.
   */
  maxKeys?: number;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  /** The claim token while in flight; `undefined` once done. */
  token: string | undefined;
  /** Time (from `now`) at which the entry stops counting. */
  expiresAt: number;
}

/**
 * The embedded default {@link IdempotencyStore}: one process only, bounded in memory.
 *
 * A `Map` kept in least-recently-used order (a key touched is deleted and set again): expiry is checked when a key is
 * accessed, and a claim that would exceed `maxKeys` evicts the least recently used key. Every operation is O(1).
 * Operations are synchronous inside, hence atomic with respect to one another in this process. Use a shared store
 * (for example {@link RedisIdempotencyStore}) when several processes receive webhooks.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS;
    if (typeof maxKeys !== 'number' || !Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `MemoryIdempotencyStore maxKeys must be a positive integer (got ${String(maxKeys)})`,
      );
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new ScalekitWebhookError('invalid_options', 'MemoryIdempotencyStore now must be a function');
    }
    this.#maxKeys = maxKeys;
    this.#now = options.now ?? Date.now;
  }

  /** Keys currently held, expired ones not yet noticed included. Never more than `maxKeys`. */
  get size(): number {
    return this.#entries.size;
  }

  get maxKeys(): number {
    return this.#maxKeys;
  }

  async claim(key: string, leaseMs: number): Promise<ClaimResult> {
    checkKey(key);
    const lease = checkDuration(leaseMs, 'leaseMs');
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry !== undefined) {
      this.#touch(key, entry);
      return entry.token === undefined ? { status: 'done' } : { status: 'in-flight' };
    }
    const token = randomUUID();
    this.#insert(key, { token, expiresAt: now + lease }, now);
    return { status: 'claimed', token };
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const ttl = checkDuration(ttlMs, 'ttlMs');
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry !== undefined) {
      if (entry.token === undefined) {
        this.#touch(key, entry);
        return true;
      }
      if (entry.token !== token) {
        return false;
      }
    }
    this.#insert(key, { token: undefined, expiresAt: now + ttl }, now);
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const entry = this.#live(key, this.#now());
    if (entry === undefined || entry.token !== token) {
      return false;
    }
    this.#entries.delete(key);
    return true;
  }

  /** Forgets every key. */
  clear(): void {
    this.#entries.clear();
  }

  /** The unexpired entry of `key`; an expired one is deleted. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Makes `key` the most recently used. */
  #touch(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  /** Sets `key` as the most recently used, then restores the bound. */
  #insert(key: string, entry: Entry, now: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    // Expired entries that are never accessed again would otherwise wait for eviction: drop a few at the old end.
    for (let i = 0; i < EXPIRED_SWEEP_PER_INSERT; i++) {
      const oldest = this.#entries.entries().next();
      if (oldest.done === true || oldest.value[0] === key || oldest.value[1].expiresAt > now) {
        break;
      }
      this.#entries.delete(oldest.value[0]);
    }
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) {
        break;
      }
      this.#entries.delete(oldest.value);
    }
  }
}
