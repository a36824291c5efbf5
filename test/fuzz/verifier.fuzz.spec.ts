/**
 * Property-based fuzzing of the framework-free core (no HTTP): the verifier and the envelope parser.
 *
 * Run counts: FUZZ_RUNS_CORE (default 10,000) for each property; `npm run test:fuzz` (run by CI on every change)
 * sets 100,000. Reproduce a failure with the seed and path that fast-check prints:
 * FUZZ_SEED=<seed> FUZZ_PATH=<path> npm test -- test/fuzz/verifier.fuzz.spec.ts
 */
import { afterAll, describe, it } from '@jest/globals';
import fc from 'fast-check';
import {
  parseScalekitEventPayload,
  SCALEKIT_WEBHOOK_ERRORS,
  ScalekitWebhookError,
  ScalekitWebhookVerifier,
} from 'nestjs-scalekit-webhooks';
import {
  applyMutation,
  type BodyPlan,
  bodyMutationArb,
  bodyPlanArb,
  buildBody,
  buildDelivery,
  deliveryPlanArb,
  describeWire,
  harmlessMutationArb,
  type HeaderEntry,
  type HeaderValue,
  initialWire,
  mutationArb,
  secretArb,
  type Wire,
} from './arbitraries/index.js';
import { count, envRuns, judge, PollutionGuard, printReports, reports, viewOf } from './oracle.js';

const RUNS = envRuns('FUZZ_RUNS_CORE', 10_000);
const TIMEOUT = 300_000;
/** The `maxBodyBytes` that sized bodies straddle (the verifier itself has no size limit: the guard has). */
const BODY_LIMIT = 65_536;
const KNOWN_CODES = new Set(Object.keys(SCALEKIT_WEBHOOK_ERRORS));

function params(): fc.Parameters<unknown> {
  const seed = process.env['FUZZ_SEED'];
  const path = process.env['FUZZ_PATH'];
  return {
    numRuns: RUNS,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
    endOnFailure: process.env['FUZZ_SHRINK'] === '0',
  };
}

class Violation extends Error {}
function fail(message: string, wire?: Wire): never {
  throw new Violation(wire ? `${message}\n${describeWire(wire)}` : message);
}

/** The verifier's world: its secrets, clock and tolerance. */
const worldArb = fc.record({
  secrets: fc.array(secretArb, { minLength: 1, maxLength: 4 }),
  nowMs: fc.integer({ min: 1_000_000_000_000, max: 4_000_000_000_000 }),
  tolerance: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.constantFrom(0, 1, 5, 60, 299, 300, 301, 600, 3_600, 86_400) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1_000, noNaN: true }) },
  ),
  /** How the headers are handed over: a Node-style record, a null-prototype record, or a fetch `Headers`. */
  form: fc.constantFrom('record', 'record', 'null-proto', 'fetch' as const),
  /** How the body is handed over. */
  payload: fc.constantFrom('buffer', 'buffer', 'uint8array', 'string' as const),
});
type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

function toHeaders(entries: readonly HeaderEntry[], form: World['form']): Record<string, HeaderValue> | Headers {
  if (form === 'fetch') {
    try {
      const headers = new Headers();
      for (const [name, value] of entries) {
        for (const v of Array.isArray(value) ? value : [String(value)]) {
          headers.append(name, v);
        }
      }
      return headers;
    } catch {
      // NUL, CR/LF or characters above U+00FF: `Headers` refuses them. Use a record instead.
    }
  }
  const record: Record<string, HeaderValue> = form === 'null-proto' ? Object.create(null) : {};
  for (const [name, value] of entries) {
    const previous = Object.hasOwn(record, name) ? record[name] : undefined;
    const merged: HeaderValue =
      previous === undefined
        ? value
        : [
            ...(Array.isArray(previous) ? previous : [String(previous)]),
            ...(Array.isArray(value) ? value : [String(value)]),
          ];
    Object.defineProperty(record, name, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return record;
}

function toPayload(body: Buffer, form: World['payload']): { payload: Buffer | Uint8Array | string; bytes: Buffer } {
  if (form === 'uint8array') {
    return { payload: new Uint8Array(body), bytes: body };
  }
  if (form === 'string') {
    const text = body.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(body)) {
      return { payload: text, bytes: body };
    }
  }
  return { payload: body, bytes: body };
}

interface Outcome {
  accepted: boolean;
  code?: string;
}

/** Runs the verifier on a wire and checks everything the oracle knows. */
function verifyAndCheck(world: World, wire: Wire, mustAccept: boolean): Outcome {
  const keys = world.secrets.map((s) => s.key);
  const tolerance = world.tolerance ?? 300;
  const headers = toHeaders(wire.headers, world.form);
  const { payload, bytes } = toPayload(wire.body, world.payload);
  const verdict = judge(viewOf(headers), bytes, keys, Math.floor(wire.nowMs / 1000), tolerance);
  const verifier = new ScalekitWebhookVerifier({
    secret: world.secrets.map((s) => s.text),
    toleranceSeconds: world.tolerance,
    now: () => wire.nowMs,
  });

  let result: ReturnType<ScalekitWebhookVerifier['verify']> | undefined;
  let error: unknown;
  try {
    result = verifier.verify(payload, headers);
  } catch (e) {
    error = e;
  }

  if (result === undefined) {
    if (!(error instanceof ScalekitWebhookError)) {
      fail(`verify() threw something other than a ScalekitWebhookError: ${describeError(error)}`, wire);
    }
    if (!KNOWN_CODES.has(error.code)) {
      fail(`verify() threw an unknown code ${JSON.stringify(error.code)}`, wire);
    }
    if (error.status >= 500) {
      fail(`verify() reported bad input as a server error: ${error.code} (${error.status}): ${error.message}`, wire);
    }
    if (verdict.missing && error.code !== 'missing_headers') {
      fail(`a header is missing but the code is ${error.code}: ${error.message}`, wire);
    }
    if (mustAccept) {
      fail(`a valid delivery was rejected (${error.code}): ${error.message} [oracle: ${verdict.reason}]`, wire);
    }
    return { accepted: false, code: error.code };
  }
  if (!verdict.allowed) {
    fail(`ACCEPTED a delivery that is not authentic: ${verdict.reason}`, wire);
  }
  if (result.webhookId !== verdict.id || result.timestamp !== Number(verdict.timestamp)) {
    fail(
      `accepted, but returned ${JSON.stringify(result)} for id ${verdict.id} and timestamp ${verdict.timestamp}`,
      wire,
    );
  }
  return { accepted: true };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    return `${error.constructor.name}: ${error.message}\n${error.stack ?? ''}`;
  }
  return `${typeof error}: ${String(error)}`;
}

async function timed(name: string, body: (outcomes: Record<string, number>) => void): Promise<void> {
  const outcomes: Record<string, number> = {};
  const start = performance.now();
  try {
    body(outcomes);
  } finally {
    const runs = Object.values(outcomes).reduce((a, b) => a + b, 0);
    reports.push({ name, runs, ms: performance.now() - start, outcomes });
  }
}

afterAll(() => printReports(`Core fuzzing (FUZZ_RUNS_CORE=${RUNS})`));

describe('fuzzing the core verifier (no HTTP)', () => {
  it(
    `property 1: never throws anything but a typed ScalekitWebhookError, never accepts a mutated delivery (${RUNS} runs)`,
    async () => {
      await timed('verifier: mutated deliveries', (outcomes) => {
        fc.assert(
          fc.property(
            worldArb,
            deliveryPlanArb(),
            fc.array(mutationArb('core'), { minLength: 1, maxLength: 3 }),
            (world, plan, mutations) => {
              const keys = world.secrets.map((s) => s.key);
              const tolerance = world.tolerance ?? 300;
              const nowSeconds = Math.floor(world.nowMs / 1000);
              const delivery = buildDelivery(plan, {
                keys,
                nowSeconds,
                windowSeconds: tolerance,
                mode: 'core',
                bodyLimit: BODY_LIMIT,
              });
              const ctx = {
                delivery,
                keys,
                secretTexts: world.secrets.map((s) => s.text),
                nowSeconds,
                toleranceSeconds: tolerance,
                mode: 'core' as const,
                bodyLimit: BODY_LIMIT,
              };
              let wire = initialWire(delivery, world.nowMs);
              for (const mutation of mutations) {
                wire = applyMutation(wire, mutation, ctx);
              }
              const outcome = verifyAndCheck(world, wire, wire.harmless);
              count(
                outcomes,
                outcome.accepted
                  ? wire.harmless
                    ? 'accepted (harmless mutations)'
                    : 'accepted (still authentic)'
                  : outcome.code!,
              );
            },
          ),
          params(),
        );
      });
    },
    TIMEOUT,
  );

  it(
    `property 3: a valid delivery is always accepted, whatever the header case, order, whitespace and decoy entries (${RUNS} runs)`,
    async () => {
      await timed('verifier: valid deliveries', (outcomes) => {
        fc.assert(
          fc.property(
            worldArb,
            deliveryPlanArb(),
            fc.array(harmlessMutationArb, { maxLength: 3 }),
            (world, plan, mutations) => {
              const keys = world.secrets.map((s) => s.key);
              const tolerance = world.tolerance ?? 300;
              const nowSeconds = Math.floor(world.nowMs / 1000);
              const delivery = buildDelivery(plan, {
                keys,
                nowSeconds,
                windowSeconds: tolerance,
                mode: 'core',
                bodyLimit: BODY_LIMIT,
              });
              const ctx = {
                delivery,
                keys,
                secretTexts: world.secrets.map((s) => s.text),
                nowSeconds,
                toleranceSeconds: tolerance,
                mode: 'core' as const,
                bodyLimit: BODY_LIMIT,
              };
              let wire = initialWire(delivery, world.nowMs);
              for (const mutation of mutations) {
                wire = applyMutation(wire, mutation, ctx);
              }
              verifyAndCheck(world, wire, true);
              const entries =
                delivery.entryCount === 1 ? '1 entry' : delivery.entryCount <= 8 ? '2-8 entries' : '9-16 entries';
              count(outcomes, `accepted (${entries}, ${world.form} headers)`);
            },
          ),
          params(),
        );
      });
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Envelope parser
// ---------------------------------------------------------------------------------------------------------------

interface ParseCase {
  input: unknown;
  expect: 'valid' | 'invalid' | 'unknown';
  type?: string;
  id?: string;
  label: string;
}

const built = (plan: BodyPlan): ParseCase => {
  const body = buildBody(plan, 4_096);
  return { input: body.bytes, expect: body.envelope, type: body.type, id: body.eventId, label: plan.kind };
};

const mutatedBody = (plan: BodyPlan, mutations: Parameters<typeof applyMutation>[1][]): ParseCase => {
  let wire: Wire = { headers: [], body: buildBody(plan, 4_096).bytes, nowMs: 0, labels: [], harmless: true };
  for (const m of mutations) {
    wire = applyMutation(wire, m, undefined as never);
  }
  return { input: wire.body, expect: 'unknown', label: `mutated ${plan.kind}` };
};

const jsonValue = fc.jsonValue({ depthSize: 'small' });
const ENVELOPE_KEYS = [
  'spec_version',
  'id',
  'type',
  'object',
  'occurred_at',
  'environment_id',
  'organization_id',
  'display_name',
  'data',
  '__proto__',
  'constructor',
  'prototype',
];
const parseCaseArb: fc.Arbitrary<ParseCase> = fc.oneof(
  { weight: 6, arbitrary: bodyPlanArb.map(built) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(bodyPlanArb, fc.array(bodyMutationArb, { minLength: 1, maxLength: 3 }))
      .map(([p, m]) => mutatedBody(p, m)),
  },
  {
    weight: 2,
    arbitrary: fc
      .uint8Array({ maxLength: 200 })
      .map((b) => ({ input: Buffer.from(b), expect: 'unknown' as const, label: 'random bytes' })),
  },
  { weight: 2, arbitrary: fc.json().map((j) => ({ input: j, expect: 'unknown' as const, label: 'json string' })) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary', maxLength: 80 })
      .map((s) => ({ input: s, expect: 'unknown' as const, label: 'binary string' })),
  },
  {
    // An envelope whose fields take any JSON value (wrong types, nested objects, __proto__ keys from fc).
    weight: 3,
    arbitrary: fc.array(fc.tuple(fc.constantFrom(...ENVELOPE_KEYS), jsonValue), { maxLength: 12 }).map((pairs) => ({
      input: Buffer.from(`{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`),
      expect: 'unknown' as const,
      label: 'random envelope fields',
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<() => unknown>(
        () => null,
        () => undefined,
        () => 42,
        () => ({}),
        () => [],
        () => ({ length: 3 }),
        () => new DataView(new ArrayBuffer(4)),
        () => new Uint16Array([0x7b, 0x7d]),
        () => new Float64Array(2),
        () => Buffer.from('{}'),
        () => new ArrayBuffer(8),
      )
      .map((make) => ({ input: make(), expect: 'unknown' as const, label: 'not bytes' })),
  },
);

describe('fuzzing the envelope parser', () => {
  it(
    `parseScalekitEventPayload never throws anything but a typed error, and never pollutes a prototype (${RUNS} runs)`,
    async () => {
      const guard = new PollutionGuard();
      await timed('parser: arbitrary bytes and JSON', (outcomes) => {
        fc.assert(
          fc.property(parseCaseArb, (c) => {
            let result: unknown;
            let error: unknown;
            try {
              result = parseScalekitEventPayload(c.input as Buffer);
            } catch (e) {
              error = e;
            }
            const polluted = guard.quick();
            if (polluted !== undefined) {
              fail(`prototype polluted (${c.label}): ${polluted}`);
            }
            if (error !== undefined) {
              if (!(error instanceof ScalekitWebhookError)) {
                fail(`threw something other than a ScalekitWebhookError (${c.label}): ${describeError(error)}`);
              }
              if (error.code !== 'invalid_json' && error.code !== 'invalid_payload') {
                fail(`unexpected code ${error.code} (${c.label})`);
              }
              if (c.expect === 'valid') {
                fail(`rejected a valid envelope (${c.label}): ${error.message}`);
              }
              count(outcomes, error.code);
              return;
            }
            const event = result as Record<string, unknown>;
            if (
              event === null ||
              typeof event !== 'object' ||
              Array.isArray(event) ||
              Object.getPrototypeOf(event) !== Object.prototype
            ) {
              fail(`returned something that is not a plain object (${c.label})`);
            }
            if (
              typeof event['type'] !== 'string' ||
              typeof event['id'] !== 'string' ||
              typeof event['data'] !== 'object' ||
              event['data'] === null
            ) {
              fail(`returned an event without string type/id and object data (${c.label})`);
            }
            if (c.expect === 'invalid') {
              fail(`accepted an invalid envelope (${c.label})`);
            }
            if (c.expect === 'valid' && (event['type'] !== c.type || event['id'] !== c.id)) {
              fail(
                `returned type ${String(event['type'])} / id ${String(event['id'])}, sent ${c.type} / ${c.id} (${c.label})`,
              );
            }
            count(outcomes, 'parsed');
          }),
          params(),
        );
      });
      const polluted = guard.full();
      if (polluted !== undefined) {
        fail(`prototype polluted: ${polluted}`);
      }
    },
    TIMEOUT,
  );
});
