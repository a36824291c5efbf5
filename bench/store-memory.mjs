// Resident memory of the default idempotency store after N distinct event ids (claim, then complete, as the
// module does for each handled delivery). Run with --expose-gc: `node --expose-gc bench/store-memory.mjs [N]`.
// Uses `new MemoryIdempotencyStore()` with its defaults (bounded: it keeps at most `maxKeys` ids).
import * as lib from 'nestjs-scalekit-webhooks';

const total = Number(process.argv[2] ?? 1_000_000);
if (!('MemoryIdempotencyStore' in lib)) {
  const result = { type: 'store', skipped: 'MemoryIdempotencyStore is not exported by the library' };
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result));
  process.exit(0);
}

const gc = () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
};
gc();
const before = process.memoryUsage();
const store = new lib.MemoryIdempotencyStore();
const LEASE_MS = 60_000;
const TTL_MS = 24 * 3600_000;
const checkpoints = [];
const started = performance.now();
for (let i = 0; i < total; i++) {
  const key = `evt_${(1e12 + i).toString(36)}${i}`;
  const claim = await store.claim(key, LEASE_MS);
  if (claim.status !== 'claimed') throw new Error(`id ${key} was not new: ${claim.status}`);
  await store.complete(key, claim.token, TTL_MS);
  if ((i + 1) % Math.max(1, Math.floor(total / 5)) === 0) {
    gc();
    checkpoints.push({ ids: i + 1, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed });
  }
}
const elapsedMs = performance.now() - started;
gc();
const after = process.memoryUsage();
const result = {
  type: 'store',
  ids: total,
  maxKeys: store.maxKeys,
  size: store.size,
  before: { rss: before.rss, heapUsed: before.heapUsed },
  after: { rss: after.rss, heapUsed: after.heapUsed },
  checkpoints,
  opsPerSecond: (total * 1000) / elapsedMs,
};
if (process.send) process.send(result);
else console.log(JSON.stringify(result, null, 2));
