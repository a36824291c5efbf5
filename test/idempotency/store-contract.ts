import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ClaimResult, IdempotencyStore } from 'nestjs-scalekit-webhooks';

/** One store under test, made fresh for each test. */
export interface ContractHarness {
  store: IdempotencyStore;
  /**
   * Further stores over the same data, for the race tests (for Redis: each on its own connection, so that the
   * claims really race on the server). Defaults to `[store]`.
   */
  peers?: IdempotencyStore[];
  /** Moves time forward by `ms`: an injected clock, or real waiting. */
  advance(ms: number): Promise<void>;
  /** Cleans up after the test (close stores, delete keys). */
  dispose?(): Promise<void>;
}

export interface ContractOptions {
  /** Lease and TTL used by the expiry tests: short enough to wait for in real time. */
  shortMs: number;
  /** Extra time waited beyond `shortMs` to be sure an expiry happened (0 for an exact clock). */
  slackMs: number;
}

/** Long enough never to expire during a test. */
const LONG_MS = 60_000;

/**
 * The behaviour every {@link IdempotencyStore} must have. The eviction bound is not part of it: it is a property of
 * the memory store (tested in memory-store.spec.ts); a Redis store never evicts (every key expires by itself).
 */
export function describeIdempotencyStoreContract(
  name: string,
  makeHarness: () => Promise<ContractHarness>,
  options: ContractOptions,
): void {
  const { shortMs, slackMs } = options;

  describe(`${name}: IdempotencyStore contract`, () => {
    let h: ContractHarness;
    let store: IdempotencyStore;
    let n = 0;
    let key: string;

    beforeEach(async () => {
      h = await makeHarness();
      store = h.store;
      key = `evt_contract_${process.pid}_${Date.now()}_${n++}`;
    });

    afterEach(async () => {
      await h.dispose?.();
    });

    async function claimOk(k = key, leaseMs = LONG_MS): Promise<string> {
      const result = await store.claim(k, leaseMs);
      expect(result.status).toBe('claimed');
      return (result as Extract<ClaimResult, { status: 'claimed' }>).token;
    }

    it('claims an absent key, with a token', async () => {
      const result = await store.claim(key, LONG_MS);
      expect(result).toEqual({ status: 'claimed', token: expect.any(String) });
    });

    it('gives each claim a different token', async () => {
      const a = await claimOk(`${key}:a`);
      const b = await claimOk(`${key}:b`);
      expect(a).not.toBe(b);
    });

    it('answers in-flight to a second claim, without a token', async () => {
      await claimOk();
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
    });

    it('answers done after complete', async () => {
      const token = await claimOk();
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('keeps a key done when completed twice', async () => {
      const token = await claimOk();
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('keeps keys apart', async () => {
      const token = await claimOk(`${key}:a`);
      await store.complete(`${key}:a`, token, LONG_MS);
      await claimOk(`${key}:b`);
      expect((await store.claim(`${key}:c`, LONG_MS)).status).toBe('claimed');
      expect(await store.claim(`${key}:a`, LONG_MS)).toEqual({ status: 'done' });
      expect(await store.claim(`${key}:b`, LONG_MS)).toEqual({ status: 'in-flight' });
    });

    it('makes a key claimable again after release', async () => {
      const token = await claimOk();
      expect(await store.release(key, token)).toBe(true);
      const again = await claimOk();
      expect(again).not.toBe(token);
    });

    it('releases only once', async () => {
      const token = await claimOk();
      expect(await store.release(key, token)).toBe(true);
      expect(await store.release(key, token)).toBe(false);
    });

    it('never releases a done mark', async () => {
      const token = await claimOk();
      await store.complete(key, token, LONG_MS);
      expect(await store.release(key, token)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('does not release a claim with another token', async () => {
      await claimOk();
      expect(await store.release(key, 'not-the-token')).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
    });

    it('does not complete a claim held with another token', async () => {
      const token = await claimOk();
      expect(await store.complete(key, 'not-the-token', LONG_MS)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('lets the lease expire: the key can be claimed again', async () => {
      await claimOk(key, shortMs);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
      await h.advance(shortMs + slackMs);
      const second = await store.claim(key, LONG_MS);
      expect(second.status).toBe('claimed');
    });

    it('after lease expiry and a new claim, the first claimer can neither complete nor release', async () => {
      const first = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      const second = await claimOk(key, LONG_MS);
      expect(second).not.toBe(first);

      expect(await store.release(key, first)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
      expect(await store.complete(key, first, LONG_MS)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });

      // The second claimer still owns its claim.
      expect(await store.complete(key, second, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('after lease expiry without a new claim, a late complete still records done', async () => {
      const token = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('after lease expiry, a late release changes nothing', async () => {
      const token = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      expect(await store.release(key, token)).toBe(false);
      expect((await store.claim(key, LONG_MS)).status).toBe('claimed');
    });

    it('a stale complete leaves a newer done mark alone', async () => {
      const first = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      const second = await claimOk(key, LONG_MS);
      await store.complete(key, second, shortMs * 4);
      expect(await store.complete(key, first, LONG_MS)).toBe(true);
      expect(await store.release(key, first)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('forgets a done mark after its TTL', async () => {
      const token = await claimOk(key, LONG_MS);
      await store.complete(key, token, shortMs);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
      await h.advance(shortMs + slackMs);
      expect((await store.claim(key, LONG_MS)).status).toBe('claimed');
    });

    it('the done TTL replaces the lease', async () => {
      const token = await claimOk(key, shortMs);
      await store.complete(key, token, LONG_MS);
      await h.advance(shortMs + slackMs);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    // Renewal: a live process keeps its claim for as long as its handlers run; only a crash lets the lease expire.
    function renew(k: string, token: string, leaseMs: number): Promise<boolean> {
      expect(typeof store.renew).toBe('function');
      return store.renew!(k, token, leaseMs);
    }

    it('renew extends a held claim past its first lease', async () => {
      const token = await claimOk(key, shortMs);
      for (let i = 0; i < 3; i++) {
        await h.advance(shortMs / 2);
        expect(await renew(key, token, shortMs)).toBe(true);
      }
      // 1.5 leases have passed: without the renewals the key would be claimable.
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
      expect(await store.complete(key, token, LONG_MS)).toBe(true);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
    });

    it('a renewed claim still expires when renewals stop (a crashed process)', async () => {
      const token = await claimOk(key, shortMs);
      await h.advance(shortMs / 2);
      expect(await renew(key, token, shortMs)).toBe(true);
      await h.advance(shortMs + slackMs);
      expect((await store.claim(key, LONG_MS)).status).toBe('claimed');
    });

    it('renew never revives a completed claim', async () => {
      const token = await claimOk();
      await store.complete(key, token, shortMs);
      expect(await renew(key, token, LONG_MS)).toBe(false);
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'done' });
      await h.advance(shortMs + slackMs);
      // The done TTL was not replaced by a lease either.
      expect((await store.claim(key, LONG_MS)).status).toBe('claimed');
    });

    it('renew never revives a released claim', async () => {
      const token = await claimOk();
      await store.release(key, token);
      expect(await renew(key, token, LONG_MS)).toBe(false);
      expect((await store.claim(key, LONG_MS)).status).toBe('claimed');
    });

    it("renew never revives an expired claim, nor touches the next claimer's", async () => {
      const first = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      expect(await renew(key, first, LONG_MS)).toBe(false);
      const second = await claimOk(key, shortMs);
      expect(await renew(key, first, LONG_MS)).toBe(false);
      await h.advance(shortMs + slackMs);
      // The second claim kept its own (short) lease: the stale renewal did not extend it.
      expect((await store.claim(key, LONG_MS)).status).toBe('claimed');
      expect(await store.release(key, second)).toBe(false);
    });

    it('renew rejects bad arguments with invalid_options', async () => {
      const token = await claimOk();
      await expect(renew('', token, LONG_MS)).rejects.toMatchObject({ code: 'invalid_options' });
      await expect(renew(key, '', LONG_MS)).rejects.toMatchObject({ code: 'invalid_options' });
      await expect(renew(key, token, 0)).rejects.toMatchObject({ code: 'invalid_options' });
    });

    it('lets exactly one of 200 concurrent claimers win', async () => {
      const peers = h.peers ?? [store];
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => peers[i % peers.length]!.claim(key, LONG_MS)),
      );
      const claimed = results.filter((r) => r.status === 'claimed');
      expect(claimed).toHaveLength(1);
      expect(results.filter((r) => r.status === 'in-flight')).toHaveLength(199);

      const token = (claimed[0] as Extract<ClaimResult, { status: 'claimed' }>).token;
      await peers[peers.length - 1]!.complete(key, token, LONG_MS);
      const after = await Promise.all(peers.map((p) => p.claim(key, LONG_MS)));
      expect(after.every((r) => r.status === 'done')).toBe(true);
    });

    it('lets exactly one of 200 concurrent claimers win again after the lease expired', async () => {
      const peers = h.peers ?? [store];
      await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => peers[i % peers.length]!.claim(key, LONG_MS)),
      );
      expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
    });

    it('races many keys at once: one winner per key', async () => {
      const peers = h.peers ?? [store];
      const keys = Array.from({ length: 20 }, (_, i) => `${key}:${i}`);
      const results = await Promise.all(
        keys.flatMap((k) =>
          Array.from({ length: 10 }, (_, i) => peers[i % peers.length]!.claim(k, LONG_MS).then((r) => [k, r] as const)),
        ),
      );
      for (const k of keys) {
        expect(results.filter(([rk, r]) => rk === k && r.status === 'claimed')).toHaveLength(1);
      }
    });

    it('rejects bad arguments with invalid_options', async () => {
      await expect(store.claim('', LONG_MS)).rejects.toMatchObject({ code: 'invalid_options' });
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(store.claim(key, bad)).rejects.toMatchObject({ code: 'invalid_options' });
      }
      const token = await claimOk();
      await expect(store.complete(key, token, 0)).rejects.toMatchObject({ code: 'invalid_options' });
      await expect(store.complete(key, '', LONG_MS)).rejects.toMatchObject({ code: 'invalid_options' });
      await expect(store.release(key, '')).rejects.toMatchObject({ code: 'invalid_options' });
      // Nothing changed.
      expect(await store.claim(key, LONG_MS)).toEqual({ status: 'in-flight' });
    });

    it('accepts a fractional lease (rounded up)', async () => {
      expect((await store.claim(key, 1500.5)).status).toBe('claimed');
    });
  });
}
