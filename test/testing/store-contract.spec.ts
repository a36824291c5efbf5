import { describe, expect, it } from '@jest/globals';
import { type IdempotencyStore, MemoryIdempotencyStore } from 'nestjs-scalekit-webhooks';
import {
  describeIdempotencyStoreContract,
  type IdempotencyStoreContractRunner,
} from 'nestjs-scalekit-webhooks/testing';

/**
 * A runner of its own (no jest globals inside the suite): collects the tests, then runs each with its hooks, and
 * reports which failed. This is what any runner does with the suite, so the suite is proven runner-agnostic.
 */
async function runContract(makeStore: (now: () => number) => IdempotencyStore): Promise<{
  names: string[];
  failed: string[];
}> {
  const tests: { name: string; fn: () => Promise<void> }[] = [];
  const before: (() => Promise<void>)[] = [];
  const after: (() => Promise<void>)[] = [];
  const runner: IdempotencyStoreContractRunner = {
    describe: (_name, fn) => fn(),
    it: (name, fn) => tests.push({ name, fn }),
    beforeEach: (fn) => before.push(fn),
    afterEach: (fn) => after.push(fn),
  };
  describeIdempotencyStoreContract(
    'store',
    async () => {
      let t = 1_700_000_000_000;
      return { store: makeStore(() => t), advance: async (ms) => void (t += ms) };
    },
    { shortMs: 1_000, slackMs: 0, runner },
  );
  const failed: string[] = [];
  for (const test of tests) {
    try {
      for (const hook of before) await hook();
      await test.fn();
    } catch {
      failed.push(test.name);
    } finally {
      for (const hook of after) await hook();
    }
  }
  return { names: tests.map((t) => t.name), failed };
}

describe('describeIdempotencyStoreContract (shipped in /testing)', () => {
  it('registers its tests through the given runner and passes for the memory store', async () => {
    const { names, failed } = await runContract((now) => new MemoryIdempotencyStore({ now }));
    expect(names.length).toBeGreaterThanOrEqual(20);
    expect(failed).toEqual([]);
  });

  it('fails for a store that forgets its claims', async () => {
    const forgetful = (now: () => number): IdempotencyStore => {
      const inner = new MemoryIdempotencyStore({ now });
      return {
        claim: (key, leaseMs) => inner.claim(`${key}:${Math.random()}`, leaseMs),
        complete: (key, token, ttlMs) => inner.complete(key, token, ttlMs),
        release: (key, token) => inner.release(key, token),
      };
    };
    const { failed } = await runContract(forgetful);
    expect(failed).toEqual(
      expect.arrayContaining([
        'answers in-flight to a second claim, without a token',
        'lets exactly one of 200 concurrent claimers win',
      ]),
    );
  });
});
