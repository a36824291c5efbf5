/**
 * Property-based fuzzing over HTTP, against real Express and Fastify apps listening on 127.0.0.1 (in this process,
 * so a crash would end the test run, and a polluted prototype is visible here).
 *
 * FUZZ_RUNS_HTTP (default 2,000; 20,000 with `npm run test:fuzz`, which CI runs on every change) runs in total, split
 * evenly between Express and Fastify, in batches; after each batch a fresh valid delivery must still be answered 2xx
 * and handled. Reproduce a failure with the seed and path
 * that fast-check prints: FUZZ_SEED=<seed> FUZZ_PATH=<path> npm test -- test/fuzz/http.fuzz.spec.ts -t <platform>
 */
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { type Platform, startApp, type TestApp } from '../support/app.js';
import {
  applyMutation,
  bodyPlanArb,
  buildDelivery,
  deliveryPlanArb,
  harmlessMutationArb,
  hugeBodyPlanArb,
  initialWire,
  mutationArb,
  sanitizeForHttp,
  secretOf,
} from './arbitraries/index.js';
import {
  count,
  decodedByExpress,
  envRuns,
  judge,
  PollutionGuard,
  printReports,
  reports,
  serverViewOf,
} from './oracle.js';
import { Sender } from './sender.js';
import { fail, headerBytes, nowSeconds } from './violations.js';

const RUNS = envRuns('FUZZ_RUNS_HTTP', 2_000);
const BATCH = 250;
const TIMEOUT = 300_000;
/** `maxBodyBytes` of the module. Both body parsers allow 1 MiB, so bodies between the two reach the guard. */
const BODY_LIMIT = 131_072;
const TRANSPORT_LIMIT = 1_048_576;
/** Node's HTTP server answers 431 (and may close the connection) above 16 KiB of headers. */
const HEADER_LIMIT = 16_384;
const TOLERANCE = 300;

/** Three configured secrets: a 32-byte one, an unpadded 24-byte one, and an 18-byte one given without the prefix. */
const SECRETS = [
  secretOf(createHash('sha256').update('fuzz secret 1').digest(), 'prefixed'),
  secretOf(createHash('sha256').update('fuzz secret 2').digest().subarray(0, 23), 'unpadded'),
  secretOf(createHash('sha256').update('fuzz secret 3').digest().subarray(0, 18), 'bare'),
];
const KEYS = SECRETS.map((s) => s.key);

interface Call {
  eventId: string;
  type: string;
  webhookId: string;
}

@Injectable()
class FuzzCalls {
  readonly calls: Call[] = [];
}

@Injectable()
class FuzzHandlers {
  constructor(@Inject(FuzzCalls) private readonly log: FuzzCalls) {}

  @OnScalekitEvent('*')
  any(event: AnyScalekitEvent, delivery: ScalekitDelivery): void {
    this.log.calls.push({ eventId: event.id, type: event.type, webhookId: delivery.webhookId });
  }
}

const scenarioArb = fc.record({
  plan: deliveryPlanArb(fc.oneof({ weight: 40, arbitrary: bodyPlanArb }, { weight: 1, arbitrary: hugeBodyPlanArb })),
  mutations: fc.oneof(
    { weight: 1, arbitrary: fc.array(harmlessMutationArb, { maxLength: 2 }) },
    { weight: 3, arbitrary: fc.array(mutationArb('http'), { minLength: 1, maxLength: 3 }) },
  ),
  chunked: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

const apps = new Map<Platform, { app: TestApp; sender: Sender; calls: Call[] }>();
let sequence = 0;

beforeAll(async () => {
  for (const platform of ['express', 'fastify'] as const) {
    const app = await startApp(
      platform,
      {
        imports: [ScalekitWebhookModule.forRoot({ secret: SECRETS.map((s) => s.text), maxBodyBytes: BODY_LIMIT })],
        providers: [FuzzCalls, FuzzHandlers],
      },
      { configure: (a) => platform === 'express' && (a as any).useBodyParser('json', { limit: TRANSPORT_LIMIT }) },
    );
    apps.set(platform, {
      app,
      sender: new Sender(new URL(`${app.url}/webhooks/scalekit`)),
      calls: app.app.get(FuzzCalls).calls,
    });
  }
}, 60_000);

afterAll(async () => {
  printReports(`HTTP fuzzing (FUZZ_RUNS_HTTP=${RUNS}, split between Express and Fastify)`);
  for (const { app, sender } of apps.values()) {
    sender.close();
    await app.close();
  }
});

/** One request: build, mutate, send, and check everything the oracle knows. */
async function run(
  platform: Platform,
  scenario: Scenario,
  guard: PollutionGuard,
  outcomes: Record<string, number>,
): Promise<void> {
  const { sender, calls } = apps.get(platform)!;
  const now = nowSeconds();
  const uniqueSuffix = `_${platform[0]}${++sequence}`;
  const delivery = buildDelivery(scenario.plan, {
    keys: KEYS,
    nowSeconds: now,
    // Leave some seconds so that a valid timestamp is still inside the server's window when it checks.
    windowSeconds: TOLERANCE - 10,
    mode: 'http',
    bodyLimit: BODY_LIMIT,
    uniqueSuffix,
  });
  const ctx = {
    delivery,
    keys: KEYS,
    secretTexts: SECRETS.map((s) => s.text),
    nowSeconds: now,
    toleranceSeconds: TOLERANCE,
    mode: 'http' as const,
    bodyLimit: BODY_LIMIT,
    uniqueSuffix,
  };
  let wire = initialWire(delivery, Date.now());
  for (const mutation of scenario.mutations) {
    wire = applyMutation(wire, mutation, ctx);
  }
  wire = sanitizeForHttp(wire);

  // The server's clock runs on between here and its check: allow 5 s more than its tolerance.
  const view = serverViewOf(wire.headers);
  let verdict = judge(view, wire.body, KEYS, now, TOLERANCE + 5);
  const decoded = platform === 'express' ? decodedByExpress(wire.headers, wire.body) : undefined;
  if (!verdict.allowed && decoded !== undefined) {
    // Express's JSON parser decodes gzip/deflate bodies, and Nest's raw body is the decoded bytes: authentic too.
    verdict = judge(view, decoded, KEYS, now, TOLERANCE + 5);
  }
  const oversizeHeaders = headerBytes(wire) > HEADER_LIMIT - 1_500;
  const required =
    wire.harmless &&
    delivery.body.envelope === 'valid' &&
    wire.body.length <= BODY_LIMIT &&
    !oversizeHeaders &&
    // Fastify's JSON parser refuses "__proto__" and "constructor" keys with a 400, before the guard.
    (platform === 'express' || !delivery.body.poisonKeys);
  // Nest's static Logger writes to the logger of the app created last, so look at every app's lines.
  const loggers = [...apps.values()].map(({ app: a }) => a.logger);
  const linesBefore = loggers.map((l) => l.lines.length);
  const before = calls.length;

  const response = await sender.post(wire.headers, wire.body, scenario.chunked);

  const polluted = guard.full();
  if (polluted !== undefined) {
    fail(`prototype polluted: ${polluted}`, wire);
  }
  const added = calls.length - before;
  if ('error' in response) {
    if (!oversizeHeaders && wire.body.length <= TRANSPORT_LIMIT) {
      fail(`transport error on an ordinary request: ${response.error}`, wire);
    }
    if (added !== 0) {
      fail(`a handler ran for a request that got no response (${response.error})`, wire);
    }
    count(outcomes, `connection closed (${oversizeHeaders ? 'huge headers' : 'huge body'})`);
    return;
  }
  const { status, text } = response;
  const detail = `${status} ${text.slice(0, 300)}`;
  const newErrors = loggers.flatMap((l, i) => l.lines.slice(linesBefore[i]).filter((line) => line.level === 'error'));
  if (status >= 500) {
    fail(`answered ${detail} to bad input`, wire);
  }
  if (newErrors.length > 0) {
    fail(`logged an error for bad input (${status}): ${newErrors.map((l) => l.message).join(' | ')}`, wire);
  }
  if (status >= 200 && status < 300) {
    if (!verdict.allowed) {
      fail(`ACCEPTED (${detail}) a delivery that is not authentic: ${verdict.reason}`, wire);
    }
    if (added !== 1 || calls[calls.length - 1]!.webhookId !== verdict.id) {
      fail(`answered ${status} but the handler ran ${added} time(s) (expected once, for ${verdict.id})`, wire);
    }
    count(
      outcomes,
      required ? `${status} valid (${scenario.plan.body.kind} body)` : `${status} authentic after mutation`,
    );
    return;
  }
  if (added !== 0) {
    fail(`rejected with ${detail}, yet the handler ran ${added} time(s)`, wire);
  }
  if (required) {
    fail(`a valid delivery was rejected: ${detail} [oracle: ${verdict.reason}]`, wire);
  }
  count(outcomes, `${status}${verdict.allowed ? ' (authentic)' : ''}`);
}

/** A plain valid delivery must still be answered 2xx and reach the handler. */
async function checkAlive(platform: Platform, label: string): Promise<void> {
  const { sender, calls } = apps.get(platform)!;
  const plan = fc.sample(
    deliveryPlanArb(
      fc.constant({
        kind: 'fixture',
        type: 'user.login',
        eventId: 'evt_alive',
        layout: 'compact',
        unicode: false,
      } as const),
    ),
    {
      numRuns: 1,
      seed: sequence,
    },
  )[0]!;
  const delivery = buildDelivery(plan, {
    keys: KEYS,
    nowSeconds: nowSeconds(),
    windowSeconds: 0,
    mode: 'http',
    bodyLimit: BODY_LIMIT,
    uniqueSuffix: `_alive${++sequence}`,
  });
  const before = calls.length;
  const response = await sender.post(delivery.headers, delivery.body.bytes, false);
  if (
    'error' in response ||
    response.status !== 200 ||
    calls.length !== before + 1 ||
    calls[calls.length - 1]!.eventId !== delivery.body.eventId
  ) {
    fail(`${platform} no longer handles a valid delivery ${label}: ${JSON.stringify(response)}`);
  }
}

function params(batch: number, numRuns: number): fc.Parameters<[Scenario]> {
  const seed = process.env['FUZZ_SEED'];
  const path = process.env['FUZZ_PATH'];
  return {
    numRuns,
    ...(seed ? { seed: Number(seed) + batch } : {}),
    ...(path ? { path } : {}),
    endOnFailure: process.env['FUZZ_SHRINK'] === '0',
  };
}

describe.each(['express', 'fastify'] as const)('fuzzing the webhook endpoint over HTTP (%s)', (platform) => {
  const runs = platform === 'express' ? Math.ceil(RUNS / 2) : Math.floor(RUNS / 2);

  it(
    `${runs} runs: no 5xx, no crash, no handler call for a rejected request, no prototype pollution; valid deliveries are handled`,
    async () => {
      const guard = new PollutionGuard();
      const outcomes: Record<string, number> = {};
      const start = performance.now();
      try {
        await checkAlive(platform, 'before fuzzing');
        for (let done = 0, batch = 0; done < runs; done += BATCH, batch++) {
          const numRuns = Math.min(BATCH, runs - done);
          await fc.assert(
            fc.asyncProperty(scenarioArb, (scenario) => run(platform, scenario, guard, outcomes)),
            params(batch, numRuns),
          );
          await checkAlive(platform, `after ${done + numRuns} runs`);
        }
      } finally {
        const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
        reports.push({ name: `HTTP ${platform}`, runs: total, ms: performance.now() - start, outcomes });
      }
      const polluted = guard.full();
      if (polluted !== undefined) {
        fail(`prototype polluted: ${polluted}`);
      }
    },
    TIMEOUT,
  );
});
