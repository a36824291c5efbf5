// Verify micro-benchmark, one process, implementations interleaved (order rotated every round).
//   node bench/verify.mjs [--rounds N] [--slice-ms M] [--json]
// Compares ScalekitWebhookVerifier#verify (constructed once), @scalekit-sdk/node's verifyWebhookPayload and
// standardwebhooks' Webhook#verify at 1 KiB and 256 KiB bodies.
// Two input forms:
//   buffer: the raw body Buffer as a server holds it (req.rawBody). The SDK takes a string, so its call includes
//           `rawBody.toString('utf8')` as its docs require; standardwebhooks takes the Buffer itself.
//   string: the body already decoded to a string for everyone (favours the string-based libraries).
// standardwebhooks runs with { jsonParse: false }: verification only, like the other two.
import { performance } from 'node:perf_hooks';
import { ScalekitClient } from '@scalekit-sdk/node';
import { ScalekitWebhookVerifier } from 'nestjs-scalekit-webhooks';
import { Webhook } from 'standardwebhooks';
import { fixtureEvent, median, SECRET, signOne } from './common.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const ROUNDS = option('--rounds', 7);
const SLICE_MS = option('--slice-ms', 400);

function bodyOfSize(bytes) {
  const event = fixtureEvent();
  if (bytes <= 1024) {
    const text = JSON.stringify(event);
    return Buffer.from(text, 'utf8');
  }
  const base = JSON.stringify({ ...event, data: { ...event.data, raw_attributes: { blob: '' } } });
  const fill = bytes - Buffer.byteLength(base);
  const text = JSON.stringify({ ...event, data: { ...event.data, raw_attributes: { blob: 'x'.repeat(fill) } } });
  return Buffer.from(text, 'utf8');
}

const sizes = [
  { label: '1 KiB', body: bodyOfSize(1024) },
  { label: '256 KiB', body: bodyOfSize(256 * 1024) },
];

const ours = new ScalekitWebhookVerifier({ secret: SECRET });
const sdk = new ScalekitClient('https://bench.invalid', 'skc_bench', 'bench_client_secret');
const standard = new Webhook(SECRET);

let sink = 0;
const impls = {
  ours: {
    buffer: (body, _text, headers) => {
      sink += ours.verify(body, headers).timestamp;
    },
    string: (_body, text, headers) => {
      sink += ours.verify(text, headers).timestamp;
    },
  },
  sdk: {
    buffer: (body, _text, headers) => {
      sink += sdk.verifyWebhookPayload(SECRET, headers, body.toString('utf8')) ? 1 : 0;
    },
    string: (_body, text, headers) => {
      sink += sdk.verifyWebhookPayload(SECRET, headers, text) ? 1 : 0;
    },
  },
  standardwebhooks: {
    buffer: (body, _text, headers) => {
      standard.verify(body, headers, { jsonParse: false });
      sink += 1;
    },
    string: (_body, text, headers) => {
      standard.verify(text, headers, { jsonParse: false });
      sink += 1;
    },
  },
};
const names = Object.keys(impls);

function measure(fn, body, text, headers, batch) {
  const end = performance.now() + SLICE_MS;
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) fn(body, text, headers);
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

const cases = [];
for (const size of sizes) {
  const headers = signOne(size.body);
  const text = size.body.toString('utf8');
  for (const form of ['buffer', 'string']) {
    for (const name of names) {
      impls[name][form](size.body, text, headers); // throws if the library rejects the delivery
    }
    cases.push({ size: size.label, bytes: size.body.length, form, body: size.body, text, headers, samples: {} });
  }
}

// Warm-up pass, discarded.
for (const c of cases) {
  for (const name of names) measure(impls[name][c.form], c.body, c.text, c.headers, c.bytes > 10_000 ? 2 : 50);
}
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    if (round % 2 === 1) order.reverse();
    for (const name of order) {
      (c.samples[name] ??= []).push(measure(impls[name][c.form], c.body, c.text, c.headers, c.bytes > 10_000 ? 2 : 50));
    }
  }
}

const results = cases.map((c) => {
  const ops = Object.fromEntries(names.map((name) => [name, median(c.samples[name])]));
  return {
    size: c.size,
    bytes: c.bytes,
    form: c.form,
    ops,
    samples: c.samples,
    vsSdk: ops.ours / ops.sdk,
    vsStandard: ops.ours / ops.standardwebhooks,
  };
});
const output = { rounds: ROUNDS, sliceMs: SLICE_MS, results, sink: sink > 0 };
if (process.send) {
  process.send({ type: 'verify', ...output });
} else {
  console.log(JSON.stringify(output, null, 2));
}
