export type { ClaimResult, ClaimStatus, IdempotencyStore } from './idempotency-store.js';
export {
  DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS,
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
} from './memory-idempotency-store.js';
export {
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  RedisIdempotencyStore,
  type RedisIdempotencyClient,
  type RedisIdempotencyStoreOptions,
} from './redis-idempotency-store.js';
export { IdempotencyGate, type IdempotencyGateOptions, type IdempotencyTicket } from './idempotency-gate.js';
