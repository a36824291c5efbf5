import { randomInt } from 'node:crypto';
import { ScalekitWebhookError } from '../errors.js';
import { checkDuration, checkKey, checkToken, type ClaimResult, type IdempotencyStore } from './idempotency-store.js';

export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS = 100_000;

/** How many least recently used entries an insertion looks at to drop them early when they have expired. */
const EXPIRED_SWEEP_PER_INSERT = 2;

/** Recent claims remembered by claim number (its last three decimal digits), so that ending them skips the `Map`. */
const RECENT_CLAIMS = 1000;

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
  /** Mutable: an evicted entry is reused for the key that evicts it (no allocation once the store is full). */
  key: string;
  /** The claim token while in flight; `undefined` once done. */
  token: string | undefined;
  /** Time (from `now`) at which the entry stops counting. */
  expiresAt: number;
  /** Whether the entry is in the map (an entry found through `#recent` may have been removed since). */
  stored: boolean;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Answers without a token are the same every time: shared, frozen, not allocated per claim. */
const DONE: ClaimResult = Object.freeze({ status: 'done' });
const IN_FLIGHT: ClaimResult = Object.freeze({ status: 'in-flight' });

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
  /**
   * Claim tokens are the decimal claim number, counted from a random start: unique per claim in this store (which is
   * all a token must be: it tells this claim from a later claim of the same key, and never leaves the process), with
   * at least three digits, and a flat string (no random UUID, no concatenation per claim).
   */
  #claims = RECENT_CLAIMS + randomInt(2 ** 40);
  /**
   * The entry of claim number n at n % RECENT_CLAIMS. `complete`, `release` and `renew` of a claim still in it find
   * its entry from the token's last digits, checked against the entry's token, key and presence, instead of a lookup
   * in a `Map` of up to `maxKeys` keys (a cache miss, and the largest cost left in a claim and its completion).
   */
  readonly #recent: (Entry | undefined)[] = new Array<Entry | undefined>(RECENT_CLAIMS).fill(undefined);

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
      return entry.token === undefined ? DONE : IN_FLIGHT;
    }
    const number = ++this.#claims;
    const token = String(number);
    this.#recent[number % RECENT_CLAIMS] = this.#add(key, token, now + lease, now);
    return { status: 'claimed', token };
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const ttl = checkDuration(ttlMs, 'ttlMs');
    const now = this.#now();
    const entry = this.#held(key, token, now);
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
    const entry = this.#held(key, token, this.#now());
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
    const entry = this.#held(key, token, now);
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
    this.#recent.fill(undefined);
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

  /** What {@link #live} answers, found through `#recent` when `token` is a recent claim's. */
  #held(key: string, token: string, now: number): Entry | undefined {
    const n = token.length;
    const slot =
      (token.charCodeAt(n - 3) - 48) * 100 + (token.charCodeAt(n - 2) - 48) * 10 + (token.charCodeAt(n - 1) - 48);
    const entry = slot >= 0 && slot < RECENT_CLAIMS ? this.#recent[slot] : undefined;
    if (entry !== undefined && entry.token === token && entry.key === key && entry.stored) {
      // The very entry the map holds for `key` (one entry per key, and a stored entry is in the map).
      if (entry.expiresAt <= now) {
        this.#remove(entry);
        return undefined;
      }
      return entry;
    }
    return this.#live(key, now);
  }

  /** Adds a new entry as the most recently used, then restores the bound. */
  #add(key: string, token: string | undefined, expiresAt: number, now: number): Entry {
    // Expired entries that are never accessed again would otherwise wait for eviction: drop a few at the old end.
    for (let i = 0; i < EXPIRED_SWEEP_PER_INSERT && this.#head !== undefined && this.#head.expiresAt <= now; i++) {
      this.#remove(this.#head);
    }
    // Full: the least recently used entry is forgotten, and its object reused for the new key.
    let entry: Entry;
    if (this.#entries.size >= this.#maxKeys && this.#head !== undefined) {
      entry = this.#head;
      this.#remove(entry);
      entry.key = key;
      entry.token = token;
      entry.expiresAt = expiresAt;
      entry.prev = this.#tail;
      entry.stored = true;
    } else {
      entry = { key, token, expiresAt, stored: true, prev: this.#tail, next: undefined };
    }
    this.#entries.set(key, entry);
    this.#linkLast(entry);
    return entry;
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
    entry.stored = false;
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
