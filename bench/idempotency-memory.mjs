// Memory bound of MemoryIdempotencyStore: pushes distinct keys (claim + complete each) through a store bounded to
// 100,000 keys and prints its size and the process memory as it goes. Not a timed test.
//
//   npm run build && node bench/idempotency-memory.mjs           # 1,000,000 keys
//   node bench/idempotency-memory.mjs --quick                      # 100,000 keys
//
// Memory is measured after a full garbage collection, so the numbers show what is retained, not garbage that has not
// been collected yet. The package imports itself by name: this resolves to dist/esm through package.json "exports".
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryIdempotencyStore } from 'nestjs-scalekit-webhooks';

setFlagsFromString('--expose-gc');
const gc = globalThis.gc ?? runInNewContext('gc');

const MAX_KEYS = 100_000;
const TOTAL = process.argv.includes('--quick') ? 100_000 : 1_000_000;
const REPORT_EVERY = TOTAL >= 1_000_000 ? 100_000 : 10_000;
const LEASE_MS = 30_000;
const TTL_MS = 24 * 60 * 60 * 1000;

const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1).padStart(7);

function memory() {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

const store = new MemoryIdempotencyStore({ maxKeys: MAX_KEYS });
const baseline = memory();
console.log(
  `MemoryIdempotencyStore({ maxKeys: ${MAX_KEYS.toLocaleString('en')} }): ${TOTAL.toLocaleString('en')} distinct keys, claim + complete each`,
);
console.log(
  `baseline before the loop: rss ${mib(baseline.rss)} MiB, heap used ${mib(baseline.heapUsed)} MiB (after a full GC)`,
);
console.log('      keys        size   rss MiB  heap MiB');

const started = process.hrtime.bigint();
let maxSize = 0;
let peakRss = baseline.rss;
for (let i = 1; i <= TOTAL; i++) {
  const key = `evt_${i.toString(36).padStart(12, '0')}`;
  const claim = await store.claim(key, LEASE_MS);
  if (claim.status !== 'claimed') {
    console.error(`FAIL: fresh key ${key} answered ${claim.status}`);
    process.exit(1);
  }
  await store.complete(key, claim.token, TTL_MS);
  if (store.size > maxSize) {
    maxSize = store.size;
  }
  if (i % REPORT_EVERY === 0) {
    const m = memory();
    peakRss = Math.max(peakRss, m.rss);
    console.log(
      `${i.toLocaleString('en').padStart(10)}  ${store.size.toLocaleString('en').padStart(10)}  ${mib(m.rss)}  ${mib(m.heapUsed)}`,
    );
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

const end = memory();
console.log(`done in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds).toLocaleString('en')} keys/s)`);
console.log(`largest size seen: ${maxSize.toLocaleString('en')} (maxKeys ${MAX_KEYS.toLocaleString('en')})`);
console.log(
  `rss: baseline ${mib(baseline.rss).trim()} MiB -> end ${mib(end.rss).trim()} MiB, peak ${mib(peakRss).trim()} MiB; ` +
    `ratio end/baseline ${(end.rss / baseline.rss).toFixed(2)}, peak/baseline ${(peakRss / baseline.rss).toFixed(2)}`,
);
console.log(
  `heap used: baseline ${mib(baseline.heapUsed).trim()} MiB -> end ${mib(end.heapUsed).trim()} MiB ` +
    `(about ${Math.round((end.heapUsed - baseline.heapUsed) / store.size)} bytes per stored key)`,
);
if (maxSize > MAX_KEYS || store.size > MAX_KEYS) {
  console.error(`FAIL: the store held ${maxSize} keys, more than maxKeys ${MAX_KEYS}`);
  process.exit(1);
}
console.log(`OK: size never exceeded maxKeys`);
