import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MemoryIdempotencyStore, ScalekitWebhookError } from 'nestjs-scalekit-webhooks';
import { describeIdempotencyStoreContract } from '../../support/store-contract.js';

function clock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describeIdempotencyStoreContract(
  'MemoryIdempotencyStore',
  async () => {
    const c = clock();
    const store = new MemoryIdempotencyStore({ now: c.now });
    return { store, advance: async (ms) => c.advance(ms) };
  },
  { shortMs: 1_000, slackMs: 0 },
);

describe('MemoryIdempotencyStore', () => {
  it('defaults to 100,000 keys', () => {
    expect(new MemoryIdempotencyStore().maxKeys).toBe(100_000);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number])(
    'refuses maxKeys %p',
    (maxKeys) => {
      expect(() => new MemoryIdempotencyStore({ maxKeys })).toThrow(ScalekitWebhookError);
      expect(() => new MemoryIdempotencyStore({ maxKeys })).toThrow(/maxKeys must be a positive integer/);
    },
  );

  it('expires a lease exactly leaseMs after the claim', async () => {
    const c = clock();
    const store = new MemoryIdempotencyStore({ now: c.now });
    await store.claim('k', 100);
    c.advance(99);
    expect(await store.claim('k', 100)).toEqual({ status: 'in-flight' });
    c.advance(1);
    expect((await store.claim('k', 100)).status).toBe('claimed');
  });

  it('expires a done mark exactly ttlMs after complete', async () => {
    const c = clock();
    const store = new MemoryIdempotencyStore({ now: c.now });
    const claim = await store.claim('k', 100);
    c.advance(50);
    await store.complete('k', (claim as { token: string }).token, 1_000);
    c.advance(999);
    expect(await store.claim('k', 100)).toEqual({ status: 'done' });
    c.advance(1);
    expect((await store.claim('k', 100)).status).toBe('claimed');
  });

  describe('eviction bound', () => {
    it('never holds more than maxKeys keys', async () => {
      const store = new MemoryIdempotencyStore({ maxKeys: 100 });
      for (let i = 0; i < 10_000; i++) {
        const claim = await store.claim(`evt_${i}`, 60_000);
        if (claim.status !== 'claimed') {
          throw new Error(`evt_${i} was ${claim.status}`);
        }
        if (i % 2 === 0) {
          await store.complete(`evt_${i}`, claim.token, 60_000);
        }
        expect(store.size).toBeLessThanOrEqual(100);
      }
      expect(store.size).toBe(100);
    });

    it('evicts the least recently used key', async () => {
      const store = new MemoryIdempotencyStore({ maxKeys: 3 });
      const a = await store.claim('a', 60_000);
      await store.complete('a', (a as { token: string }).token, 60_000);
      await store.claim('b', 60_000);
      await store.claim('c', 60_000);
      // Touch "a": "b" becomes the least recently used.
      expect(await store.claim('a', 60_000)).toEqual({ status: 'done' });
      await store.claim('d', 60_000);
      expect(store.size).toBe(3);
      expect(await store.claim('a', 60_000)).toEqual({ status: 'done' });
      expect(await store.claim('c', 60_000)).toEqual({ status: 'in-flight' });
      expect(await store.claim('d', 60_000)).toEqual({ status: 'in-flight' });
      // "b" was forgotten, so it can be claimed again (evicting the now least recently used "a").
      expect((await store.claim('b', 60_000)).status).toBe('claimed');
      expect(store.size).toBe(3);
    });

    it('counts completing a key as a use', async () => {
      const store = new MemoryIdempotencyStore({ maxKeys: 2 });
      const a = await store.claim('a', 60_000);
      await store.claim('b', 60_000);
      await store.complete('a', (a as { token: string }).token, 60_000);
      await store.claim('c', 60_000); // evicts "b"
      expect(await store.claim('a', 60_000)).toEqual({ status: 'done' });
      expect((await store.claim('b', 60_000)).status).toBe('claimed');
    });

    it('drops expired keys when they are met, before the bound is reached', async () => {
      const c = clock();
      const store = new MemoryIdempotencyStore({ maxKeys: 1_000, now: c.now });
      for (let i = 0; i < 10; i++) {
        await store.claim(`old_${i}`, 100);
      }
      expect(store.size).toBe(10);
      c.advance(100);
      // Each new claim sweeps up to two expired keys at the least recently used end.
      for (let i = 0; i < 5; i++) {
        await store.claim(`new_${i}`, 100);
      }
      expect(store.size).toBe(5);
      // An expired key is dropped when accessed.
      await store.claim('x', 100);
      c.advance(100);
      expect(await store.release('x', 'whatever')).toBe(false);
      expect(store.size).toBeLessThanOrEqual(5);
    });

    it('stays within the bound under 200 concurrent claimers of many keys', async () => {
      const store = new MemoryIdempotencyStore({ maxKeys: 50 });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.claim(`k${i % 100}`, 60_000)));
      expect(store.size).toBe(50);
      expect(results.filter((r) => r.status === 'claimed').length).toBeGreaterThanOrEqual(100);
    });
  });

  it('clear() forgets every key', async () => {
    const store = new MemoryIdempotencyStore();
    await store.claim('a', 1_000);
    store.clear();
    expect(store.size).toBe(0);
    expect((await store.claim('a', 1_000)).status).toBe('claimed');
  });

  it('behaves like a naive reference model under random operations (LRU order, expiry, tokens)', async () => {
    type Op =
      | { op: 'claim'; key: number; ms: number }
      | { op: 'complete'; key: number; ms: number; stale: boolean }
      | { op: 'release'; key: number; stale: boolean }
      | { op: 'advance'; ms: number };
    const key = fc.nat(6);
    const ms = fc.integer({ min: 1, max: 300 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('claim' as const), key, ms }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('complete' as const), key, ms, stale: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), key, stale: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 100 }), async (maxKeys, ops) => {
        const c = clock(0);
        const store = new MemoryIdempotencyStore({ maxKeys, now: c.now });
        // Model: entries in LRU order (first = least recently used); expired ones are dead whatever the store keeps.
        let model: Array<{ key: string; token?: string; expiresAt: number }> = [];
        const tokens = new Map<string, string>(); // last token handed out per key
        const live = (key: string) => model.find((e) => e.key === key && e.expiresAt > c.now());
        const touch = (e: { key: string }) => {
          model = [...model.filter((x) => x !== e), e as (typeof model)[number]];
        };
        const add = (e: (typeof model)[number]) => {
          model = model.filter((x) => x.key !== e.key);
          let swept = 0;
          while (swept < 2 && model.length > 0 && model[0]!.expiresAt <= c.now()) {
            model.shift();
            swept++;
          }
          model.push(e);
          while (model.length > maxKeys) model.shift();
        };
        for (const o of ops) {
          if (o.op === 'advance') {
            c.advance(o.ms);
            continue;
          }
          const key = `k${o.key}`;
          const e = live(key);
          if (e === undefined) model = model.filter((x) => x.key !== key);
          if (o.op === 'claim') {
            const r = await store.claim(key, o.ms);
            if (e !== undefined) {
              touch(e);
              expect(r).toEqual({ status: e.token === undefined ? 'done' : 'in-flight' });
            } else {
              expect(r.status).toBe('claimed');
              const token = (r as { token: string }).token;
              tokens.set(key, token);
              add({ key, token, expiresAt: c.now() + o.ms });
            }
          } else if (o.op === 'complete') {
            const token = o.stale ? 'stale' : (tokens.get(key) ?? 'none');
            const r = await store.complete(key, token, o.ms);
            if (e === undefined) {
              expect(r).toBe(true);
              add({ key, expiresAt: c.now() + o.ms });
            } else if (e.token === undefined) {
              expect(r).toBe(true);
              touch(e);
            } else if (e.token !== token) {
              expect(r).toBe(false);
            } else {
              expect(r).toBe(true);
              delete e.token;
              e.expiresAt = c.now() + o.ms;
              touch(e);
            }
          } else {
            const token = o.stale ? 'stale' : (tokens.get(key) ?? 'none');
            const r = await store.release(key, token);
            const removes = e !== undefined && e.token !== undefined && e.token === token;
            expect(r).toBe(removes);
            if (removes) model = model.filter((x) => x !== e);
          }
          expect(store.size).toBeLessThanOrEqual(maxKeys);
          expect(store.size).toBe(model.length);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
