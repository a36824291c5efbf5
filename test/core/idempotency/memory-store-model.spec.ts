/**
 * MemoryIdempotencyStore against a plain reference model (a Map in least-recently-used order, looked up every time):
 * on arbitrary sequences of claim, complete, release, renew, clock moves and clear, with small bounds so that
 * eviction, expiry and stale tokens happen often, every answer and the size must be the model's. The store's own
 * shortcuts (claims ended through the recent-claims table, evicted entries reused for new keys, counter tokens) must
 * not be observable.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type ClaimResult, MemoryIdempotencyStore } from 'nestjs-scalekit-webhooks';

interface ModelEntry {
  token: string | undefined;
  expiresAt: number;
}

/** The semantics, written the obvious way: Map insertion order is the recency order (head: least recently used). */
class ModelStore {
  readonly entries = new Map<string, ModelEntry>();
  #tokens = 0;

  constructor(
    readonly maxKeys: number,
    readonly now: () => number,
  ) {}

  claim(key: string, lease: number): ClaimResult {
    const now = this.now();
    const entry = this.#live(key, now);
    if (entry) {
      this.#touch(key, entry);
      return entry.token === undefined ? { status: 'done' } : { status: 'in-flight' };
    }
    const token = `model-${++this.#tokens}`;
    this.#add(key, { token, expiresAt: now + lease }, now);
    return { status: 'claimed', token };
  }

  complete(key: string, token: string, ttl: number): boolean {
    const now = this.now();
    const entry = this.#live(key, now);
    if (!entry) {
      this.#add(key, { token: undefined, expiresAt: now + ttl }, now);
      return true;
    }
    if (entry.token === undefined) {
      this.#touch(key, entry);
      return true;
    }
    if (entry.token !== token) return false;
    entry.token = undefined;
    entry.expiresAt = now + ttl;
    this.#touch(key, entry);
    return true;
  }

  release(key: string, token: string): boolean {
    const entry = this.#live(key, this.now());
    if (!entry || entry.token !== token) return false;
    this.entries.delete(key);
    return true;
  }

  renew(key: string, token: string, lease: number): boolean {
    const now = this.now();
    const entry = this.#live(key, now);
    if (!entry || entry.token !== token) return false;
    entry.expiresAt = now + lease;
    this.#touch(key, entry);
    return true;
  }

  #live(key: string, now: number): ModelEntry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #touch(key: string, entry: ModelEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  #add(key: string, entry: ModelEntry, now: number): void {
    for (let i = 0; i < 2; i++) {
      const head = this.entries.entries().next();
      if (head.done || head.value[1].expiresAt > now) break;
      this.entries.delete(head.value[0]);
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }
}

type Op =
  | { op: 'claim'; key: string; ms: number }
  | { op: 'complete' | 'release' | 'renew'; key: string; token: number; ownKey: boolean; ms: number }
  | { op: 'advance'; ms: number }
  | { op: 'clear' };

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const msArb = fc.integer({ min: 1, max: 60 });
/** Which token to pass: mostly one of the last few issued (counted back from the latest), or a made-up one. */
const tokenArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 3 }), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 40 }), weight: 2 },
  { arbitrary: fc.integer({ min: -2, max: -1 }), weight: 1 },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('claim' as const), key: keyArb, ms: msArb }), weight: 5 },
  {
    arbitrary: fc.record({
      op: fc.constantFrom('complete' as const, 'release' as const, 'renew' as const),
      key: keyArb,
      token: tokenArb,
      ownKey: fc.boolean(),
      ms: msArb,
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40 }) }), weight: 2 },
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
);

/**
 * The store and the model side by side, on one clock: each operation is made on both, and their answers (and sizes)
 * must agree. Claims made are kept with both tokens, so that a stale token names the same claim in both.
 */
class StoreAndModel {
  #t = 1_700_000_000_000;
  readonly store: MemoryIdempotencyStore;
  readonly model: ModelStore;
  readonly issued: { key: string; tokens: [string, string] }[] = [];

  constructor(maxKeys: number) {
    const now = () => this.#t;
    this.store = new MemoryIdempotencyStore({ maxKeys, now });
    this.model = new ModelStore(maxKeys, now);
  }

  advance(ms: number): void {
    this.#t += ms;
  }

  async claim(key: string, leaseMs: number): Promise<void> {
    const got = await this.store.claim(key, leaseMs);
    const want = this.model.claim(key, leaseMs);
    expect(got.status).toBe(want.status);
    if (got.status === 'claimed' && want.status === 'claimed') {
      this.issued.push({ key, tokens: [got.token, want.token] });
    }
  }

  /** Ends (or renews) a claim with the store's and the model's token of the same claim. */
  async end(op: 'complete' | 'release' | 'renew', key: string, [mine, theirs]: [string, string], ms: number) {
    const got =
      op === 'complete'
        ? await this.store.complete(key, mine, ms)
        : op === 'release'
          ? await this.store.release(key, mine)
          : await this.store.renew(key, mine, ms);
    const want =
      op === 'complete'
        ? this.model.complete(key, theirs, ms)
        : op === 'release'
          ? this.model.release(key, theirs)
          : this.model.renew(key, theirs, ms);
    expect(got).toBe(want);
  }

  checkSize(): void {
    expect(this.store.size).toBe(this.model.entries.size);
  }
}

describe('MemoryIdempotencyStore against the reference model', () => {
  it('answers every operation and keeps the size exactly as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 80 }), async (maxKeys, ops) => {
        const twin = new StoreAndModel(maxKeys);
        for (const step of ops) {
          if (step.op === 'advance') {
            twin.advance(step.ms);
          } else if (step.op === 'clear') {
            twin.store.clear();
            twin.model.entries.clear();
          } else if (step.op === 'claim') {
            await twin.claim(step.key, step.ms);
          } else {
            const claim = step.token >= 0 ? twin.issued[twin.issued.length - 1 - step.token] : undefined;
            const pair: [string, string] = claim?.tokens ?? [`forged${-step.token}`, `forged${-step.token}`];
            // Mostly the key the token was issued for (the usual call), else any key.
            await twin.end(step.op, claim && step.ownKey ? claim.key : step.key, pair, step.ms);
          }
          twin.checkSize();
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('ends claims older than the recent-claims table through the map, and refuses a token of an evicted claim', async () => {
    const store = new MemoryIdempotencyStore({ maxKeys: 5_000 });
    const tokens: string[] = [];
    for (let i = 0; i < 2_500; i++) {
      const claim = await store.claim(`k${i}`, 60_000);
      if (claim.status !== 'claimed') throw new Error(`k${i} was ${claim.status}`);
      tokens.push(claim.token);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    // Claim 0 shares its table slot with claims 1,000 and 2,000: it is found in the map all the same.
    expect(await store.renew('k0', tokens[0]!, 60_000)).toBe(true);
    expect(await store.complete('k0', tokens[1000]!, 60_000)).toBe(false); // another claim's token
    expect(await store.complete('k0', tokens[0]!, 60_000)).toBe(true);
    expect(await store.claim('k0', 60_000)).toEqual({ status: 'done' });
    expect(await store.release('k1000', tokens[1000]!)).toBe(true);
    expect(await store.release('k1000', tokens[1000]!)).toBe(false);

    const tiny = new MemoryIdempotencyStore({ maxKeys: 1 });
    const a = await tiny.claim('a', 60_000);
    const b = await tiny.claim('b', 60_000); // evicts "a" (its entry is reused for "b")
    if (a.status !== 'claimed' || b.status !== 'claimed') throw new Error('not claimed');
    expect(await tiny.renew('a', a.token, 60_000)).toBe(false);
    expect(await tiny.release('a', a.token)).toBe(false);
    expect(await tiny.renew('b', b.token, 60_000)).toBe(true);
    expect(await tiny.complete('b', a.token, 60_000)).toBe(false);
    expect(await tiny.complete('b', b.token, 60_000)).toBe(true);
    expect(await tiny.claim('b', 60_000)).toEqual({ status: 'done' });
  });

  describe('its hash table', () => {
    // Keys, some long and some not ASCII; a step names one by a number, taken modulo the keys in play.
    const keys = Array.from({ length: 600 }, (_, i) =>
      i % 50 === 0 ? `evt_${'é'.repeat(i % 7)}${'x'.repeat(i)}` : `evt_${i.toString(36)}`,
    );
    type Step =
      | { op: 'claim'; key: number }
      | { op: 'complete' | 'release' | 'renew'; back: number }
      | { op: 'advance'; ms: number }
      | { op: 'drain' };
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('claim' as const), key: fc.nat(keys.length - 1) }), weight: 8 },
      {
        arbitrary: fc.record({
          op: fc.constantFrom('complete' as const, 'release' as const, 'renew' as const),
          back: fc.nat(60),
        }),
        weight: 5,
      },
      {
        arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 400 }) }),
        weight: 1,
      },
      // Releases the last 300 claims (those still held): most of the table empties at once.
      { arbitrary: fc.constant({ op: 'drain' as const }), weight: 1 },
    );

    /** Runs `steps` on a store and on the model, with the first `keyCount` keys; every answer and size must agree. */
    async function replay(maxKeys: number, keyCount: number, steps: Step[]): Promise<void> {
      const twin = new StoreAndModel(maxKeys);
      for (const step of steps) {
        if (step.op === 'advance') {
          twin.advance(step.ms);
        } else if (step.op === 'drain') {
          for (const { key, tokens } of twin.issued.slice(-300)) {
            await twin.end('release', key, tokens, 0);
          }
        } else if (step.op === 'claim') {
          await twin.claim(keys[step.key % keyCount]!, 1 + (step.key % 500));
        } else {
          const claim = twin.issued[twin.issued.length - 1 - step.back];
          if (claim !== undefined) {
            await twin.end(step.op, claim.key, claim.tokens, 300);
          }
        }
        twin.checkSize();
      }
      // Every key, held or not, is looked up once more (claiming it, in both).
      for (const key of keys.slice(0, keyCount)) {
        await twin.claim(key, 1_000);
        twin.checkSize();
      }
    }

    it('answers as the model with its 16 slots up to half full (runs of keys wrap around the end)', async () => {
      // A removal moves later keys of the hole's probe run back into it, across the end of the table too.
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 5, max: 8 }),
          fc.array(stepArb, { maxLength: 200, size: 'max' }),
          (maxKeys, steps) => replay(maxKeys, 24, steps),
        ),
        { numRuns: 250 },
      );
    });

    it('answers as the model while the table doubles to hundreds of keys', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 20, max: 400 }),
          fc.array(stepArb, { maxLength: 1_000, size: 'max' }),
          (maxKeys, steps) => replay(maxKeys, keys.length, steps),
        ),
        // Shrinking a failing run of 1,000 steps takes minutes: report it as found.
        { numRuns: 15, endOnFailure: true },
      );
    });

    it('finds the keys left after it grew to thousands of keys and shrank again', async () => {
      const store = new MemoryIdempotencyStore({ maxKeys: 10_000 });
      const tokens: string[] = [];
      for (let i = 0; i < 5_000; i++) {
        const claim = await store.claim(`k${i}`, 60_000);
        if (claim.status !== 'claimed') throw new Error(`k${i} was ${claim.status}`);
        tokens.push(claim.token);
      }
      for (let i = 0; i < 5_000; i++) {
        if (i % 100 !== 0) expect(await store.release(`k${i}`, tokens[i]!)).toBe(true);
      }
      expect(store.size).toBe(50);
      for (let i = 0; i < 5_000; i++) {
        expect((await store.claim(`k${i}`, 60_000)).status).toBe(i % 100 === 0 ? 'in-flight' : 'claimed');
      }
      expect(store.size).toBe(5_000);
    });
  });
});
