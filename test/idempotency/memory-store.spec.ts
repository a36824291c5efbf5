import { describe, expect, it } from '@jest/globals';
import { MemoryIdempotencyStore, ScalekitWebhookError } from 'nestjs-scalekit-webhooks';
import { describeIdempotencyStoreContract } from './store-contract.js';

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
});
