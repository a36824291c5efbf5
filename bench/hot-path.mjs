// Micro-benchmarks of the module's own per-delivery steps, one process, nanoseconds per event (median of rounds):
//   envelope   parseScalekitEventPayload(rawBody) of the fixture (decode, JSON.parse, envelope rules)
//   JSON.parse the same body with Buffer#toString + JSON.parse only: the floor of the step above
//   store      MemoryIdempotencyStore (maxKeys 100,000, full): claim + complete of a distinct key, each awaited
//   store floor the same loop around a store whose methods do nothing (the awaits' own cost)
//   verify     ScalekitWebhookVerifier#verify of the 1 KiB fixture from a Buffer
//   node bench/hot-path.mjs [--quick] [--json]
import { performance } from 'node:perf_hooks';
import { MemoryIdempotencyStore, parseScalekitEventPayload, ScalekitWebhookVerifier } from 'nestjs-scalekit-webhooks';
import { fixtureEvent, median, SECRET, signOne } from './common.mjs';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 9;
const SLICE_MS = QUICK ? 100 : 300;

const body = Buffer.from(JSON.stringify(fixtureEvent()), 'utf8');
const headers = signOne(body);
const verifier = new ScalekitWebhookVerifier({ secret: SECRET });
const store = new MemoryIdempotencyStore({ maxKeys: 100_000 });
const LEASE_MS = 30_000;
const TTL_MS = 24 * 60 * 60 * 1000;
const CLAIMED = { status: 'claimed', token: 'x' };
const nullStore = {
  async claim() {
    return CLAIMED;
  },
  async complete() {
    return true;
  },
};
let sink = 0;
let keyNo = 0;
let floorNo = 0;
// Distinct keys made before measuring, so that building them is not measured.
const KEYS = Array.from({ length: 1 << 18 }, (_, i) => `evt_bench${i.toString(36).padStart(8, '0')}`);

/** Runs `step` in batches for SLICE_MS; returns ns per call. */
async function timeSync(step, batch = 100) {
  const start = performance.now();
  const end = start + SLICE_MS;
  let ops = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) step();
    ops += batch;
    now = performance.now();
  }
  return ((now - start) * 1e6) / ops;
}

async function timeAsync(step, batch = 100) {
  const start = performance.now();
  const end = start + SLICE_MS;
  let ops = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) await step();
    ops += batch;
    now = performance.now();
  }
  return ((now - start) * 1e6) / ops;
}

const cases = {
  envelope: () =>
    timeSync(() => {
      sink += parseScalekitEventPayload(body).id.length;
    }),
  'JSON.parse': () =>
    timeSync(() => {
      sink += JSON.parse(body.toString('utf8')).id.length;
    }),
  store: () =>
    timeAsync(async () => {
      const key = KEYS[keyNo++ & (KEYS.length - 1)];
      const claim = await store.claim(key, LEASE_MS);
      if (claim.status !== 'claimed') throw new Error(`key ${key} was ${claim.status}`);
      sink += (await store.complete(key, claim.token, TTL_MS)) ? 1 : 0;
    }),
  // The same loop around a store that does nothing: the cost of the awaits and of the loop, not of the store.
  'store floor': () =>
    timeAsync(async () => {
      const key = KEYS[floorNo++ & (KEYS.length - 1)];
      const claim = await nullStore.claim(key, LEASE_MS);
      sink += (await nullStore.complete(key, claim.token, TTL_MS)) ? 1 : 0;
    }),
  verify: () =>
    timeSync(() => {
      sink += verifier.verify(body, headers).timestamp;
    }),
};

// Fill the store to its bound first: the steady state of a busy receiver (every claim evicts the oldest key).
for (let i = 0; i < 100_000; i++) {
  const claim = await store.claim(`fill${i}`, LEASE_MS);
  await store.complete(`fill${i}`, claim.token, TTL_MS);
}
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const name of Object.keys(cases)) await cases[name](); // warm-up, discarded
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(cases)) samples[name].push(await cases[name]());
}
const result = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ rounds: ROUNDS, sliceMs: SLICE_MS, nsPerCall: result, sink: sink > 0 }));
} else {
  console.log(`${ROUNDS} rounds × ${SLICE_MS} ms per step, median ns per call (${body.length}-byte fixture body)`);
  const label = {
    envelope: 'parseScalekitEventPayload (decode + JSON.parse + envelope rules)',
    'JSON.parse': 'floor: body.toString() + JSON.parse only',
    store: 'MemoryIdempotencyStore claim + complete (awaited, store full)',
    'store floor': 'floor: the same loop around a store that does nothing',
    verify: 'ScalekitWebhookVerifier#verify, 1 KiB Buffer',
  };
  for (const [name, ns] of Object.entries(result)) {
    console.log(`${label[name].padEnd(66)} ${Math.round(ns).toLocaleString('en-US').padStart(7)} ns`);
  }
  console.log(`envelope rules above the floor: ${Math.round(result.envelope - result['JSON.parse'])} ns`);
  console.log(`memory store above the floor: ${Math.round(result.store - result['store floor'])} ns`);
}
