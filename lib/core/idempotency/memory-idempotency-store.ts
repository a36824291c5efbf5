import { randomInt } from 'node:crypto';
import { ScalekitWebhookError } from '../errors.js';
import {
  checkDuration,
  checkKey,
  checkToken,
  type ClaimResult,
  IMMEDIATE_IDEMPOTENCY_STORE,
  type IdempotencyStore,
  type ImmediateIdempotencyStore,
} from './idempotency-store.js';

export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS = 100_000;

/** How many least recently used entries an insertion looks at to drop them early when they have expired. */
const EXPIRED_SWEEP_PER_INSERT = 2;

/** Recent claims remembered by claim number (its last three decimal digits), so that ending them skips the table. */
const RECENT_CLAIMS = 1000;

/** "000" to "999": the last three digits of a token, by claim number modulo {@link RECENT_CLAIMS}. */
const TOKEN_SUFFIXES: readonly string[] = Array.from({ length: RECENT_CLAIMS }, (_, i) => String(i).padStart(3, '0'));

/** Smallest size of the hash table (a power of two); it doubles above half full and halves below an eighth full. */
const MIN_SLOTS = 16;

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
  /** {@link MemoryIdempotencyStore.#hash} of `key`: where the entry sits in the table. Never 0. */
  hash: number;
  /** The claim token while in flight; `undefined` once done. */
  token: string | undefined;
  /** Time (from `now`) at which the entry stops counting. */
  expiresAt: number;
  /** Whether the entry is in the table (an entry found through `#recent` may have been removed since). */
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
 * A hash table from key to entry, plus a doubly linked list of the entries in least-recently-used order (a key
 * touched moves to the tail). Expiry is checked when a key is accessed, each claim drops up to two expired entries at
 * the least recently used end, and a claim that would exceed `maxKeys` evicts the least recently used key. Every
 * operation is O(1) on average. (A `Map` alone, evicting `keys().next()`, is not: V8 skips the holes left by
 * deletions at the front of a `Map` on every such call, which made 1,000,000 keys 40 times slower.)
 *
 * The table is the store's own rather than a `Map`: open addressing with linear probing, the keys' hashes in an
 * `Int32Array` beside the entries, so that looking up a key that is not there (every new event) reads one run of
 * hashes and no other key, where a `Map` of 100,000 keys reads a bucket, then each key of its chain (cache misses
 * all). With 100,000 keys, a claim and its completion went from about 600 to under 300 ns of the store's own
 * (bench/hot-path.mjs). The hash is computed here, seeded at random per store; a bad run of keys can only make
 * probes longer, never an answer wrong. (Hand-written on purpose: the LRU caches on npm are built on a `Map`, and
 * none keeps leases, owner tokens and done marks in one O(1) structure; the model tests in
 * test/core/idempotency/memory-store-model.spec.ts check it against a plain reference.)
 *
 * Operations are synchronous inside, hence atomic with respect to one another in this process. Use a shared store
 * (for example `RedisIdempotencyStore`) when several processes receive webhooks.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #maxKeys: number;
  readonly #now: () => number;
  #head: Entry | undefined;
  #tail: Entry | undefined;
  #size = 0;
  /**
   * The table: slot i holds an entry and its hash at `#hashes[i]`, or nothing and 0. A key's entry is in the first
   * slot from `hash & #mask` on (wrapping) that holds it, with no empty slot before it; removal shifts the entries
   * after it back (no tombstones). At most half the slots are used, so a missing key reads about two on average.
   */
  #hashes = new Int32Array(MIN_SLOTS);
  #slots: (Entry | undefined)[] = new Array<Entry | undefined>(MIN_SLOTS).fill(undefined);
  #mask = MIN_SLOTS - 1;
  readonly #seed = randomInt(2 ** 31);
  /**
   * Claim tokens are the decimal claim number, counted from a random start: unique per claim in this store (which is
   * all a token must be: it tells this claim from a later claim of the same key, and never leaves the process), with
   * at least three digits. The number starts below 2 ** 29 so that it stays a small integer for V8 for hundreds of
   * millions of claims (a larger one made each token cost a float-to-string conversion), and the token is its
   * leading digits, converted once per 1,000 claims, joined to its last three from a table: a flat string below 13
   * characters, which V8 copies rather than links, until the count passes 10 ** 12.
   */
  #claims = RECENT_CLAIMS + randomInt(2 ** 29);
  #tokenPrefix = String(Math.floor(this.#claims / RECENT_CLAIMS));
  /**
   * The entry of claim number n at n % RECENT_CLAIMS. `complete`, `release` and `renew` of a claim still in it find
   * its entry from the token's last digits, checked against the entry's token, key and presence, instead of hashing
   * the key and looking it up in a table of up to `maxKeys` keys.
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

  readonly #immediate: ImmediateIdempotencyStore = {
    claim: (key, leaseMs) => this.#claim(key, leaseMs),
    complete: (key, token, ttlMs) => this.#complete(key, token, ttlMs),
    release: (key, token) => this.#release(key, token),
    renew: (key, token, leaseMs) => this.#renew(key, token, leaseMs),
  };

  /**
   * @internal The same operations, answered at once (the gate's fast path: no promise per operation), as long as
   * none of them is replaced (a subclass or a test spy that overrides one is called as it is, through its promise).
   */
  [IMMEDIATE_IDEMPOTENCY_STORE](): ImmediateIdempotencyStore | undefined {
    const own = MemoryIdempotencyStore.prototype;
    return this.claim === own.claim &&
      this.complete === own.complete &&
      this.release === own.release &&
      this.renew === own.renew
      ? this.#immediate
      : undefined;
  }

  /** Keys currently held, expired ones not yet noticed included. Never more than `maxKeys`. */
  get size(): number {
    return this.#size;
  }

  get maxKeys(): number {
    return this.#maxKeys;
  }

  async claim(key: string, leaseMs: number): Promise<ClaimResult> {
    return this.#claim(key, leaseMs);
  }

  #claim(key: string, leaseMs: number): ClaimResult {
    checkKey(key);
    const lease = checkDuration(leaseMs, 'leaseMs');
    const now = this.#now();
    const hash = this.#hash(key);
    const entry = this.#live(key, hash, now);
    if (entry !== undefined) {
      this.#touch(entry);
      return entry.token === undefined ? DONE : IN_FLIGHT;
    }
    const number = ++this.#claims;
    const low = number % RECENT_CLAIMS;
    if (low === 0) {
      this.#tokenPrefix = String(number / RECENT_CLAIMS);
    }
    const token = this.#tokenPrefix + TOKEN_SUFFIXES[low]!;
    this.#recent[low] = this.#add(key, hash, token, now + lease, now);
    return { status: 'claimed', token };
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#complete(key, token, ttlMs);
  }

  #complete(key: string, token: string, ttlMs: number): boolean {
    checkKey(key);
    checkToken(token);
    const ttl = checkDuration(ttlMs, 'ttlMs');
    const now = this.#now();
    const entry = this.#held(key, token, now);
    if (entry === undefined) {
      // The lease expired and nobody claimed the key since: the work did succeed, so record it.
      this.#add(key, this.#hash(key), undefined, now + ttl, now);
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
    return this.#release(key, token);
  }

  #release(key: string, token: string): boolean {
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
    return this.#renew(key, token, leaseMs);
  }

  #renew(key: string, token: string, leaseMs: number): boolean {
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
    this.#hashes = new Int32Array(MIN_SLOTS);
    this.#slots = new Array<Entry | undefined>(MIN_SLOTS).fill(undefined);
    this.#mask = MIN_SLOTS - 1;
    this.#size = 0;
    this.#recent.fill(undefined);
    this.#head = undefined;
    this.#tail = undefined;
  }

  /**
   * A non-zero 32-bit hash of `key`, seeded per store: two UTF-16 units per multiply and shift, then a final mix (the
   * table uses the low bits).
   */
  #hash(key: string): number {
    const last = key.length - 1;
    let h = this.#seed ^ key.length;
    let i = 0;
    for (; i < last; i += 2) {
      h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x9e3779b1);
      h ^= h >>> 15;
    }
    if (i === last) {
      h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h === 0 ? 1 : h;
  }

  /** The entry of `key` (whose hash is `hash`) in the table, expired or not. */
  #find(key: string, hash: number): Entry | undefined {
    const hashes = this.#hashes;
    const mask = this.#mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const h = hashes[i]!;
      if (h === 0) {
        return undefined;
      }
      if (h === hash) {
        const entry = this.#slots[i]!;
        if (entry.key === key) {
          return entry;
        }
      }
    }
  }

  /** The unexpired entry of `key`; an expired one is removed. */
  #live(key: string, hash: number, now: number): Entry | undefined {
    const entry = this.#find(key, hash);
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
      // The very entry the table holds for `key` (one entry per key, and a stored entry is in the table).
      if (entry.expiresAt <= now) {
        this.#remove(entry);
        return undefined;
      }
      return entry;
    }
    return this.#live(key, this.#hash(key), now);
  }

  /** Adds a new entry as the most recently used, then restores the bound. */
  #add(key: string, hash: number, token: string | undefined, expiresAt: number, now: number): Entry {
    // Expired entries that are never accessed again would otherwise wait for eviction: drop a few at the old end.
    for (let i = 0; i < EXPIRED_SWEEP_PER_INSERT && this.#head !== undefined && this.#head.expiresAt <= now; i++) {
      this.#remove(this.#head);
    }
    // Full: the least recently used entry is forgotten, and its object reused for the new key.
    let entry: Entry;
    if (this.#size >= this.#maxKeys && this.#head !== undefined) {
      entry = this.#head;
      this.#unindex(entry);
      this.#unlink(entry);
      entry.key = key;
      entry.hash = hash;
      entry.token = token;
      entry.expiresAt = expiresAt;
      entry.prev = this.#tail;
      entry.stored = true;
    } else {
      entry = { key, hash, token, expiresAt, stored: true, prev: this.#tail, next: undefined };
    }
    this.#index(entry);
    this.#linkLast(entry);
    return entry;
  }

  /** Puts `entry`, whose key is not in the table, in the table. */
  #index(entry: Entry): void {
    if (2 * (this.#size + 1) > this.#hashes.length) {
      this.#resize(2 * this.#hashes.length);
    }
    this.#size++;
    const hashes = this.#hashes;
    const mask = this.#mask;
    const hash = entry.hash;
    let i = hash & mask;
    while (hashes[i] !== 0) {
      i = (i + 1) & mask;
    }
    hashes[i] = hash;
    this.#slots[i] = entry;
  }

  /** Takes `entry`, which is in the table, out of it. */
  #unindex(entry: Entry): void {
    entry.stored = false;
    this.#size--;
    const hashes = this.#hashes;
    const slots = this.#slots;
    const mask = this.#mask;
    const hash = entry.hash;
    let hole = hash & mask;
    while (hashes[hole] !== hash || slots[hole] !== entry) {
      hole = (hole + 1) & mask;
    }
    // Backward shift: each later entry of the run whose home slot is not cyclically in (hole, j] moves to the hole.
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const h = hashes[j]!;
      if (h === 0) {
        break;
      }
      const home = h & mask;
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        hashes[hole] = h;
        slots[hole] = slots[j];
        hole = j;
      }
    }
    hashes[hole] = 0;
    slots[hole] = undefined;
  }

  /** Rebuilds the table with `capacity` slots (a power of two, more than twice the size). */
  #resize(capacity: number): void {
    const old = this.#slots;
    const hashes = new Int32Array(capacity);
    const slots = new Array<Entry | undefined>(capacity).fill(undefined);
    const mask = capacity - 1;
    for (const entry of old) {
      if (entry !== undefined) {
        let i = entry.hash & mask;
        while (hashes[i] !== 0) {
          i = (i + 1) & mask;
        }
        hashes[i] = entry.hash;
        slots[i] = entry;
      }
    }
    this.#hashes = hashes;
    this.#slots = slots;
    this.#mask = mask;
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
    this.#unindex(entry);
    this.#unlink(entry);
    // Shrink a table left mostly empty (expiry, releases), keeping it at most a quarter full afterwards.
    const capacity = this.#hashes.length;
    if (capacity > MIN_SLOTS && 8 * this.#size < capacity) {
      this.#resize(capacity / 2);
    }
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
