import { randomUUID } from 'node:crypto';
import { ScalekitWebhookError } from '../errors.js';
import { checkDuration, checkKey, checkToken, type ClaimResult, type IdempotencyStore } from './idempotency-store.js';

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

/** A key's record, linked in least-recently-used order (head: least recently used). */
interface Entry {
  readonly key: string;
  /** The claim token while in flight; `undefined` once done. */
  token: string | undefined;
  /** Time (from `now`) at which the entry stops counting. */
  expiresAt: number;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * The embedded default {@link IdempotencyStore}: one process only, bounded in memory.
 *
 * A `Map` from key to entry, plus a doubly linked list of the entries in least-recently-used order (a key touched
 * moves to the tail). Expiry is checked when a key is accessed, each claim drops up to two expired entries at the
 * least recently used end, and a claim that would exceed `maxKeys` evicts the least recently used key. Every
 * operation is O(1). (A `Map` alone, evicting `keys().next()`, is not: V8 skips the holes left by deletions at the
 * front of a `Map` on every such call, which made 1,000,000 keys 40 times slower.)
 *
 * Operations are synchronous inside, hence atomic with respect to one another in this process. Use a shared store
 * (for example `RedisIdempotencyStore`) when several processes receive webhooks.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;
  #head: Entry | undefined;
  #tail: Entry | undefined;

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
      this.#touch(entry);
      return entry.token === undefined ? { status: 'done' } : { status: 'in-flight' };
    }
    const token = randomUUID();
    this.#add(key, token, now + lease, now);
    return { status: 'claimed', token };
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const ttl = checkDuration(ttlMs, 'ttlMs');
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry === undefined) {
      // The lease expired and nobody claimed the key since: the work did succeed, so record it.
      this.#add(key, undefined, now + ttl, now);
      return true;
    }
    if (entry.token === undefined) {
      this.#touch(entry);
      return true;
    }
    if (entry.token !== token) {
      return false;
    }
    entry.token = undefined;
    entry.expiresAt = now + ttl;
    this.#touch(entry);
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const entry = this.#live(key, this.#now());
    if (entry === undefined || entry.token !== token) {
      return false;
    }
    this.#remove(entry);
    return true;
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const lease = checkDuration(leaseMs, 'leaseMs');
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry === undefined || entry.token !== token) {
      return false;
    }
    entry.expiresAt = now + lease;
    this.#touch(entry);
    return true;
  }

  /** Forgets every key. */
  clear(): void {
    this.#entries.clear();
    this.#head = undefined;
    this.#tail = undefined;
  }

  /** The unexpired entry of `key`; an expired one is removed. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.#remove(entry);
      return undefined;
    }
    return entry;
  }

  /** Adds a new entry as the most recently used, then restores the bound. */
  #add(key: string, token: string | undefined, expiresAt: number, now: number): void {
    // Expired entries that are never accessed again would otherwise wait for eviction: drop a few at the old end.
    for (let i = 0; i < EXPIRED_SWEEP_PER_INSERT && this.#head !== undefined && this.#head.expiresAt <= now; i++) {
      this.#remove(this.#head);
    }
    const entry: Entry = { key, token, expiresAt, prev: this.#tail, next: undefined };
    this.#entries.set(key, entry);
    this.#linkLast(entry);
    while (this.#entries.size > this.#maxKeys && this.#head !== undefined) {
      this.#remove(this.#head);
    }
  }

  /** Makes `entry` the most recently used. */
  #touch(entry: Entry): void {
    if (entry !== this.#tail) {
      this.#unlink(entry);
      entry.prev = this.#tail;
      this.#linkLast(entry);
    }
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#unlink(entry);
  }

  /** Appends `entry`, whose `prev` is already the current tail. */
  #linkLast(entry: Entry): void {
    entry.next = undefined;
    if (this.#tail === undefined) {
      this.#head = entry;
    } else {
      this.#tail.next = entry;
    }
    this.#tail = entry;
  }

  #unlink(entry: Entry): void {
    if (entry.prev === undefined) {
      this.#head = entry.next;
    } else {
      entry.prev.next = entry.next;
    }
    if (entry.next === undefined) {
      this.#tail = entry.prev;
    } else {
      entry.next.prev = entry.prev;
    }
    entry.prev = undefined;
    entry.next = undefined;
  }
}
