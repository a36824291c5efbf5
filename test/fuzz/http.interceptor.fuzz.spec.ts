/**
 * Property-based fuzzing of the interceptor route over HTTP, against real Express and Fastify apps on 127.0.0.1.
 *
 * The webhook deliveries and mutations of arbitraries/ carry interceptor bodies, signed under `interceptor-*`
 * headers (or left under `webhook-*`, or signed with the webhook secret, as forgeries). The oracle (oracle.ts,
 * independent of the library) decides whether the call is authentic; the expected decision is computed apart from
 * the handlers (interceptor-arbitraries.ts). Properties: a `200` only for an authentic call, with exactly the handler's
 * decision and one handler call; nothing but a documented status (200, 400, 401, 413, 415, 503); a `503` only when
 * the handler failed; no handler call for a refused request; no prototype pollution.
 *
 * Runs: FUZZ_RUNS_HTTP (default 2,000; 20,000 with `npm run test:fuzz`) split between Express and Fastify, like the
 * webhook run. Reproduce: FUZZ_SEED=<seed> FUZZ_PATH=<path> npm test -- test/fuzz/http.interceptor.fuzz.spec.ts -t <platform>
 */
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  OnScalekitInterceptor,
  type ScalekitInterceptorContext,
  ScalekitInterceptorDecision,
  ScalekitInterceptorModule,
  type ScalekitInterceptorRequestBody,
  type ScalekitInterceptorResponse,
} from 'nestjs-scalekit-webhooks';
import { type Platform, startApp, type TestApp } from '../support/app.js';
import {
  applyMutation,
  buildDelivery,
  deliveryPlanArb,
  harmlessMutationArb,
  mutationArb,
  sanitizeForHttp,
  secretOf,
  type Wire,
} from './arbitraries/index.js';
import {
  BLOCKED_DOMAIN,
  expectedAnswer,
  interceptorRequestOf,
  headerStyleArb,
  INTERCEPTOR_HEADER_NAMES,
  interceptorBodyArb,
  LOWERCASE_TRIGGER,
  THROWING_TRIGGER,
  toInterceptorWire,
} from './interceptor-arbitraries.js';
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
const BODY_LIMIT = 16_384;
const HEADER_LIMIT = 16_384;
const TOLERANCE = 300;
const DOCUMENTED = new Set([200, 400, 401, 413, 415, 503]);

/** The interceptor secrets (two, as when several interceptors post to one URL), and a webhook secret that is not one. */
const SECRETS = [
  secretOf(createHash('sha256').update('fuzz interceptor secret 1').digest(), 'prefixed'),
  secretOf(createHash('sha256').update('fuzz interceptor secret 2').digest().subarray(0, 24), 'prefixed'),
];
const KEYS = SECRETS.map((s) => s.key);
const WEBHOOK_KEYS = [randomBytes(32)];

@Injectable()
class FuzzCalls {
  readonly calls: string[] = [];
}

/** The policy that expectedAnswer() restates. */
@Injectable()
class FuzzPolicy {
  constructor(@Inject(FuzzCalls) private readonly log: FuzzCalls) {}

  @OnScalekitInterceptor('PRE_SIGNUP')
  preSignup(
    request: ScalekitInterceptorRequestBody,
    context: ScalekitInterceptorContext,
  ): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    this.log.calls.push(context.interceptorId);
    const email = (request as { interceptor_context?: { user_email?: unknown } }).interceptor_context?.user_email;
    return typeof email === 'string' && email.endsWith(`@${BLOCKED_DOMAIN}`)
      ? ScalekitInterceptorDecision.deny('Sign-ups from this domain are not accepted', 'DOMAIN_BLOCKED')
      : ScalekitInterceptorDecision.allow();
  }

  @OnScalekitInterceptor('PRE_SESSION_CREATION')
  preSession(
    _request: unknown,
    context: ScalekitInterceptorContext,
  ): ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> {
    this.log.calls.push(context.interceptorId);
    return ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } });
  }

  @OnScalekitInterceptor('*')
  otherwise(_request: unknown, context: ScalekitInterceptorContext): ScalekitInterceptorResponse<string> {
    this.log.calls.push(context.interceptorId);
    if (context.trigger === THROWING_TRIGGER) {
      throw new Error('the policy broke');
    }
    if (context.trigger === LOWERCASE_TRIGGER) {
      return { decision: 'allow' } as unknown as ScalekitInterceptorResponse<string>;
    }
    return ScalekitInterceptorDecision.allow();
  }
}

const scenarioArb = fc.record({
  body: interceptorBodyArb,
  plan: deliveryPlanArb(fc.constant({ kind: 'empty' } as const)),
  style: headerStyleArb,
  /** Signed with the webhook endpoint's secret instead of the interceptor's. */
  webhookSecret: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  mutations: fc.oneof(
    { weight: 1, arbitrary: fc.array(harmlessMutationArb, { maxLength: 2 }) },
    { weight: 1, arbitrary: fc.array(mutationArb('http'), { minLength: 1, maxLength: 3 }) },
  ),
  chunked: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

const apps = new Map<Platform, { app: TestApp; sender: Sender; calls: string[] }>();

beforeAll(async () => {
  for (const platform of ['express', 'fastify'] as const) {
    const app = await startApp(platform, {
      imports: [ScalekitInterceptorModule.forRoot({ secret: SECRETS.map((s) => s.text), maxBodyBytes: BODY_LIMIT })],
      providers: [FuzzCalls, FuzzPolicy],
    });
    apps.set(platform, {
      app,
      sender: new Sender(new URL(`${app.url}/scalekit/interceptors`)),
      calls: app.app.get(FuzzCalls).calls,
    });
  }
}, 60_000);

afterAll(async () => {
  printReports(`HTTP fuzzing of the interceptor route (FUZZ_RUNS_HTTP=${RUNS}, split between Express and Fastify)`);
  for (const { app, sender } of apps.values()) {
    sender.close();
    await app.close();
  }
});

async function run(
  platform: Platform,
  scenario: Scenario,
  guard: PollutionGuard,
  outcomes: Record<string, number>,
): Promise<void> {
  const { sender, calls } = apps.get(platform)!;
  const now = nowSeconds();
  const signingKeys = scenario.webhookSecret ? WEBHOOK_KEYS : KEYS;
  const delivery = buildDelivery(
    { ...scenario.plan, body: { kind: 'bytes', bytes: scenario.body.bytes } },
    { keys: signingKeys, nowSeconds: now, windowSeconds: TOLERANCE - 10, mode: 'http', bodyLimit: BODY_LIMIT },
  );
  const ctx = {
    delivery,
    keys: signingKeys,
    secretTexts: SECRETS.map((s) => s.text),
    nowSeconds: now,
    toleranceSeconds: TOLERANCE,
    mode: 'http' as const,
    bodyLimit: BODY_LIMIT,
  };
  let wire: Wire = {
    headers: delivery.headers,
    body: delivery.body.bytes,
    nowMs: Date.now(),
    labels: [],
    harmless: true,
  };
  for (const mutation of scenario.mutations) {
    wire = applyMutation(wire, mutation, ctx);
  }
  wire = sanitizeForHttp(toInterceptorWire(wire, scenario.style));
  if (scenario.webhookSecret) {
    wire = { ...wire, labels: [...wire.labels, 'webhook-secret'], harmless: false };
  }

  // The oracle reads the interceptor headers only, with the interceptor keys; 5 s of slack for the server's clock.
  const view = serverViewOf(wire.headers, INTERCEPTOR_HEADER_NAMES);
  let verdict = judge(view, wire.body, KEYS, now, TOLERANCE + 5);
  let verifiedBody = wire.body;
  const decoded = platform === 'express' ? decodedByExpress(wire.headers, wire.body) : undefined;
  if (!verdict.allowed && decoded !== undefined) {
    verdict = judge(view, decoded, KEYS, now, TOLERANCE + 5);
    verifiedBody = decoded;
  }
  const oversizeHeaders = headerBytes(wire) > HEADER_LIMIT - 1_500;
  const ordinary =
    wire.harmless &&
    wire.body.length <= BODY_LIMIT &&
    !oversizeHeaders &&
    // A plan's extra headers may repeat an interceptor header once renamed: refused (400) as a repeat, rightly.
    INTERCEPTOR_HEADER_NAMES.every((name) => wire.headers.filter(([n]) => n.toLowerCase() === name).length === 1) &&
    (platform === 'express' || !scenario.body.poisonKeys);
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
    if (!oversizeHeaders) {
      fail(`transport error on an ordinary request: ${response.error}`, wire);
    }
    if (added !== 0) {
      fail(`a handler ran for a request that got no response (${response.error})`, wire);
    }
    count(outcomes, 'connection closed (huge headers)');
    return;
  }
  const { status, text } = response;
  const detail = `${status} ${text.slice(0, 300)}`;
  if (!DOCUMENTED.has(status) && !(status === 431 && oversizeHeaders)) {
    fail(`answered ${detail}, not a documented status`, wire);
  }
  for (const secret of SECRETS) {
    if (text.includes(secret.text.replace(/^whsec_/, ''))) {
      fail(`the answer holds a secret: ${detail}`, wire);
    }
  }
  // Judged from the bytes the signature covers: a body edited before signing is authentic as it is.
  const request = verdict.allowed ? interceptorRequestOf(verifiedBody) : undefined;
  const expected = request === undefined ? undefined : expectedAnswer(request);
  const handlerFails = request !== undefined && expected === undefined;
  const newErrors = loggers.flatMap((l, i) => l.lines.slice(linesBefore[i]).filter((line) => line.level === 'error'));
  if (newErrors.length > 0 && !(status === 503 && handlerFails)) {
    fail(`logged an error (${status}): ${newErrors.map((l) => l.message).join(' | ')}`, wire);
  }

  if (status === 200) {
    if (!verdict.allowed) {
      fail(`ANSWERED 200 (${detail}) to a call that is not authentic: ${verdict.reason}`, wire);
    }
    if (expected === undefined) {
      fail(`answered 200 (${detail}) where the handler fails (or the body is no interceptor request)`, wire);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      fail(`answered 200 with a body that is not JSON: ${detail}`, wire);
    }
    if (!isDeepStrictEqual(answer, expected)) {
      fail(`answered ${detail}, the handler decided ${JSON.stringify(expected)}`, wire);
    }
    if (added !== 1 || calls[calls.length - 1] !== verdict.id) {
      fail(`answered 200 but the handler ran ${added} time(s) (expected once, for ${verdict.id})`, wire);
    }
    count(outcomes, `200 ${(expected as { decision: string }).decision}${ordinary ? '' : ' after a harmless change'}`);
    return;
  }
  if (status === 503) {
    if (!handlerFails) {
      fail(`answered ${detail} though no handler failed`, wire);
    }
    if (added !== 1) {
      fail(`answered 503 but the handler ran ${added} time(s)`, wire);
    }
    count(outcomes, '503 handler failed');
    return;
  }
  if (added !== 0) {
    fail(`refused with ${detail}, yet the handler ran ${added} time(s)`, wire);
  }
  if (ordinary && verdict.allowed) {
    if (request !== undefined) {
      fail(`an authentic call was refused: ${detail}`, wire);
    }
    if (status !== 400) {
      fail(`an authentic call with a broken body (${scenario.body.label}) got ${detail}, not 400`, wire);
    }
  }
  count(outcomes, `${status}${verdict.allowed ? ' (authentic)' : ''}`);
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

describe.each(['express', 'fastify'] as const)('fuzzing the interceptor route over HTTP (%s)', (platform) => {
  const runs = platform === 'express' ? Math.ceil(RUNS / 2) : Math.floor(RUNS / 2);

  it(
    `${runs} runs: a 200 only for an authentic call, with the handler's decision; only documented statuses; no handler call for a refused call`,
    async () => {
      const guard = new PollutionGuard();
      const outcomes: Record<string, number> = {};
      const start = performance.now();
      try {
        for (let done = 0, batch = 0; done < runs; done += BATCH, batch++) {
          const numRuns = Math.min(BATCH, runs - done);
          await fc.assert(
            fc.asyncProperty(scenarioArb, (scenario) => run(platform, scenario, guard, outcomes)),
            params(batch, numRuns),
          );
        }
      } finally {
        const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
        reports.push({ name: `HTTP interceptors ${platform}`, runs: total, ms: performance.now() - start, outcomes });
      }
      // Every kind of answer must have been seen, or the run proved little (too few runs to tell below 200).
      for (const kind of runs >= 200 ? ['200 ALLOW', '200 DENY', '503 handler failed', '401', '400'] : []) {
        if (!Object.keys(outcomes).some((key) => key.startsWith(kind))) {
          fail(`no "${kind}" outcome in ${runs} runs: ${JSON.stringify(outcomes)}`);
        }
      }
    },
    TIMEOUT,
  );
});
