import { afterEach, beforeEach, describe, it } from '@jest/globals';
import {
  describeIdempotencyStoreContract as describeContract,
  type IdempotencyStoreContractHarness,
  type IdempotencyStoreContractOptions,
} from 'nestjs-scalekit-webhooks/testing';

/** One store under test, made fresh for each test. */
export type ContractHarness = IdempotencyStoreContractHarness;
export type ContractOptions = Omit<IdempotencyStoreContractOptions, 'runner'>;

/**
 * The store contract suite as it ships in `nestjs-scalekit-webhooks/testing`, run with jest's suite functions: the
 * project's stores are checked by the same suite a third-party store uses.
 */
export function describeIdempotencyStoreContract(
  name: string,
  makeHarness: () => Promise<ContractHarness>,
  options: ContractOptions,
): void {
  describeContract(name, makeHarness, { ...options, runner: { describe, it, beforeEach, afterEach } });
}
