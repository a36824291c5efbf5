import assert from 'node:assert/strict';
import type { ClaimResult, IdempotencyStore } from '../core/idempotency/idempotency-store.js';

/**
 * The suite functions of your test runner. Jest, Vitest, Mocha and `node:test` all have them under these names:
 * `{ describe, it, beforeEach, afterEach }` from `@jest/globals`, `vitest` or `node:test`. The suite asserts with
 * `node:assert`, so it needs no `expect` and works with any runner that reports a thrown error as a failure.
 */
export interface IdempotencyStoreContractRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  beforeEach(fn: () => Promise<void>): unknown;
  afterEach(fn: () => Promise<void>): unknown;
}

/** One store under test, made fresh for each test. */
export interface IdempotencyStoreContractHarness {
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

export interface IdempotencyStoreContractOptions {
  /** Lease and TTL used by the expiry tests: short enough to wait for in real time. */
  shortMs: number;
  /** Extra time waited beyond `shortMs` to be sure an expiry happened (0 for an exact clock). */
  slackMs: number;
  /** Your runner's `describe`, `it`, `beforeEach` and `afterEach`. */
  runner: IdempotencyStoreContractRunner;
  /**
   * Whether the store implements `renew` (and must pass its tests). Without it the module cannot keep a claim past
   * its lease while handlers run, so a retry after `leaseSeconds` runs a slow handler again.
   * @default true
   */
  renew?: boolean;
}

/** Long enough never to expire during a test. */
const LONG_MS = 60_000;

/**
 * Registers the tests every {@link IdempotencyStore} must pass, so a store of your own can prove it conforms:
 *
 * ```ts
 * import { afterEach, beforeEach, describe, it } from 'vitest'; // or '@jest/globals', 'node:test', mocha's globals
 * import { describeIdempotencyStoreContract } from 'nestjs-scalekit-webhooks/testing';
 *
 * describeIdempotencyStoreContract('MyStore', async () => ({ store: new MyStore(), advance: (ms) => sleep(ms) }), {
 *   shortMs: 300,
 *   slackMs: 200,
 *   runner: { describe, it, beforeEach, afterEach },
 * });
 * ```
 *
 * The eviction bound is not part of it: it is a property of the memory store; a Redis store never evicts (every key
 * expires by itself). Keys are unique per test (`evt_contract_<pid>_<time>_<n>`).
 */
export function describeIdempotencyStoreContract(
  name: string,
  makeHarness: () => Promise<IdempotencyStoreContractHarness>,
  options: IdempotencyStoreContractOptions,
): void {
  const { shortMs, slackMs, runner, renew: renews = true } = options;
  const { describe, it, beforeEach, afterEach } = runner;

  describe(`${name}: IdempotencyStore contract`, () => {
    let h: IdempotencyStoreContractHarness;
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
      assert.equal(result.status, 'claimed');
      return (result as Extract<ClaimResult, { status: 'claimed' }>).token;
    }

    it('claims an absent key, with a token', async () => {
      const result = await store.claim(key, LONG_MS);
      assert.deepEqual(Object.keys(result).sort(), ['status', 'token']);
      assert.equal(result.status, 'claimed');
      assert.equal(typeof (result as { token?: unknown }).token, 'string');
    });

    it('gives each claim a different token', async () => {
      const a = await claimOk(`${key}:a`);
      const b = await claimOk(`${key}:b`);
      assert.notEqual(a, b);
    });

    it('answers in-flight to a second claim, without a token', async () => {
      await claimOk();
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
    });

    it('answers done after complete', async () => {
      const token = await claimOk();
      assert.equal(await store.complete(key, token, LONG_MS), true);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('keeps a key done when completed twice', async () => {
      const token = await claimOk();
      assert.equal(await store.complete(key, token, LONG_MS), true);
      assert.equal(await store.complete(key, token, LONG_MS), true);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('keeps keys apart', async () => {
      const token = await claimOk(`${key}:a`);
      await store.complete(`${key}:a`, token, LONG_MS);
      await claimOk(`${key}:b`);
      assert.equal((await store.claim(`${key}:c`, LONG_MS)).status, 'claimed');
      assert.deepEqual(await store.claim(`${key}:a`, LONG_MS), { status: 'done' });
      assert.deepEqual(await store.claim(`${key}:b`, LONG_MS), { status: 'in-flight' });
    });

    it('makes a key claimable again after release', async () => {
      const token = await claimOk();
      assert.equal(await store.release(key, token), true);
      const again = await claimOk();
      assert.notEqual(again, token);
    });

    it('releases only once', async () => {
      const token = await claimOk();
      assert.equal(await store.release(key, token), true);
      assert.equal(await store.release(key, token), false);
    });

    it('never releases a done mark', async () => {
      const token = await claimOk();
      await store.complete(key, token, LONG_MS);
      assert.equal(await store.release(key, token), false);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('does not release a claim with another token', async () => {
      await claimOk();
      assert.equal(await store.release(key, 'not-the-token'), false);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
    });

    it('does not complete a claim held with another token', async () => {
      const token = await claimOk();
      assert.equal(await store.complete(key, 'not-the-token', LONG_MS), false);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
      assert.equal(await store.complete(key, token, LONG_MS), true);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('lets the lease expire: the key can be claimed again', async () => {
      await claimOk(key, shortMs);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
      await h.advance(shortMs + slackMs);
      const second = await store.claim(key, LONG_MS);
      assert.equal(second.status, 'claimed');
    });

    it('after lease expiry and a new claim, the first claimer can neither complete nor release', async () => {
      const first = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      const second = await claimOk(key, LONG_MS);
      assert.notEqual(second, first);

      assert.equal(await store.release(key, first), false);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
      assert.equal(await store.complete(key, first, LONG_MS), false);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });

      // The second claimer still owns its claim.
      assert.equal(await store.complete(key, second, LONG_MS), true);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('after lease expiry without a new claim, a late complete still records done', async () => {
      const token = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      assert.equal(await store.complete(key, token, LONG_MS), true);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('after lease expiry, a late release changes nothing', async () => {
      const token = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      assert.equal(await store.release(key, token), false);
      assert.equal((await store.claim(key, LONG_MS)).status, 'claimed');
    });

    it('a stale complete leaves a newer done mark alone', async () => {
      const first = await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      const second = await claimOk(key, LONG_MS);
      await store.complete(key, second, shortMs * 4);
      assert.equal(await store.complete(key, first, LONG_MS), true);
      assert.equal(await store.release(key, first), false);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('forgets a done mark after its TTL', async () => {
      const token = await claimOk(key, LONG_MS);
      await store.complete(key, token, shortMs);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
      await h.advance(shortMs + slackMs);
      assert.equal((await store.claim(key, LONG_MS)).status, 'claimed');
    });

    it('the done TTL replaces the lease', async () => {
      const token = await claimOk(key, shortMs);
      await store.complete(key, token, LONG_MS);
      await h.advance(shortMs + slackMs);
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
    });

    it('lets exactly one of 200 concurrent claimers win', async () => {
      const peers = h.peers ?? [store];
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => peers[i % peers.length]!.claim(key, LONG_MS)),
      );
      const claimed = results.filter((r) => r.status === 'claimed');
      assert.equal(claimed.length, 1);
      assert.equal(results.filter((r) => r.status === 'in-flight').length, 199);

      const token = (claimed[0] as Extract<ClaimResult, { status: 'claimed' }>).token;
      await peers[peers.length - 1]!.complete(key, token, LONG_MS);
      const after = await Promise.all(peers.map((p) => p.claim(key, LONG_MS)));
      assert.equal(
        after.every((r) => r.status === 'done'),
        true,
      );
    });

    it('lets exactly one of 200 concurrent claimers win again after the lease expired', async () => {
      const peers = h.peers ?? [store];
      await claimOk(key, shortMs);
      await h.advance(shortMs + slackMs);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => peers[i % peers.length]!.claim(key, LONG_MS)),
      );
      assert.equal(results.filter((r) => r.status === 'claimed').length, 1);
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
        assert.equal(results.filter(([rk, r]) => rk === k && r.status === 'claimed').length, 1);
      }
    });

    // Renewal: a live process keeps its claim for as long as its handlers run; only a crash lets the lease expire.
    function renew(k: string, token: string, leaseMs: number): Promise<boolean> {
      assert.equal(typeof store.renew, 'function', 'the store has no renew(key, token, leaseMs)');
      return store.renew!(k, token, leaseMs);
    }

    if (renews) {
      it('renew extends a held claim past its first lease', async () => {
        const token = await claimOk(key, shortMs);
        for (let i = 0; i < 3; i++) {
          await h.advance(shortMs / 2);
          assert.equal(await renew(key, token, shortMs), true);
        }
        // 1.5 leases have passed: without the renewals the key would be claimable.
        assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
        assert.equal(await store.complete(key, token, LONG_MS), true);
        assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
      });

      it('a renewed claim still expires when renewals stop (a crashed process)', async () => {
        const token = await claimOk(key, shortMs);
        await h.advance(shortMs / 2);
        assert.equal(await renew(key, token, shortMs), true);
        await h.advance(shortMs + slackMs);
        assert.equal((await store.claim(key, LONG_MS)).status, 'claimed');
      });

      it('renew never revives a completed claim', async () => {
        const token = await claimOk();
        await store.complete(key, token, shortMs);
        assert.equal(await renew(key, token, LONG_MS), false);
        assert.deepEqual(await store.claim(key, LONG_MS), { status: 'done' });
        await h.advance(shortMs + slackMs);
        // The done TTL was not replaced by a lease either.
        assert.equal((await store.claim(key, LONG_MS)).status, 'claimed');
      });

      it('renew never revives a released claim', async () => {
        const token = await claimOk();
        await store.release(key, token);
        assert.equal(await renew(key, token, LONG_MS), false);
        assert.equal((await store.claim(key, LONG_MS)).status, 'claimed');
      });

      it("renew never revives an expired claim, nor touches the next claimer's", async () => {
        const first = await claimOk(key, shortMs);
        await h.advance(shortMs + slackMs);
        assert.equal(await renew(key, first, LONG_MS), false);
        const second = await claimOk(key, shortMs);
        assert.equal(await renew(key, first, LONG_MS), false);
        await h.advance(shortMs + slackMs);
        // The second claim kept its own (short) lease: the stale renewal did not extend it.
        assert.equal((await store.claim(key, LONG_MS)).status, 'claimed');
        assert.equal(await store.release(key, second), false);
      });

      it('renew rejects bad arguments with invalid_options', async () => {
        const token = await claimOk();
        await assert.rejects(renew('', token, LONG_MS), { code: 'invalid_options' });
        await assert.rejects(renew(key, '', LONG_MS), { code: 'invalid_options' });
        await assert.rejects(renew(key, token, 0), { code: 'invalid_options' });
      });
    }

    it('rejects bad arguments with invalid_options', async () => {
      await assert.rejects(store.claim('', LONG_MS), { code: 'invalid_options' });
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(store.claim(key, bad), { code: 'invalid_options' });
      }
      const token = await claimOk();
      await assert.rejects(store.complete(key, token, 0), { code: 'invalid_options' });
      await assert.rejects(store.complete(key, '', LONG_MS), { code: 'invalid_options' });
      await assert.rejects(store.release(key, ''), { code: 'invalid_options' });
      // Nothing changed.
      assert.deepEqual(await store.claim(key, LONG_MS), { status: 'in-flight' });
    });

    it('accepts a fractional lease (rounded up)', async () => {
      assert.equal((await store.claim(key, 1500.5)).status, 'claimed');
    });
  });
}
