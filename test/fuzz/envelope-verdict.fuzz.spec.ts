/**
 * The envelope's compiled check against class-validator: on arbitrary parsed JSON objects, the fast verdict (compiled
 * once from the DTO's class-validator metadata) must equal class-validator's verdict (class-transformer, then
 * `validateSync`), and parseScalekitEventPayload must accept exactly what class-validator accepts and report its
 * problems word for word.
 *
 * Run counts: FUZZ_RUNS_CORE (default 10,000) for each property; `npm run test:fuzz` sets 100,000. Reproduce a failure
 * with the seed and path that fast-check prints: FUZZ_SEED=<seed> FUZZ_PATH=<path> npm test -- <this file>
 */
import { describe, expect, it } from '@jest/globals';
import 'reflect-metadata';
import { IsNotEmpty, IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';
import fc from 'fast-check';
import { parseScalekitEventPayload, ScalekitWebhookError } from 'nestjs-scalekit-webhooks';
import {
  compileEnvelopeVerdict,
  envelopeProblems,
  envelopeVerdict,
  isCompiledEnvelopeVerdict,
  MAX_EVENT_ID_LENGTH,
} from '../../lib/core/envelope.js';
import { envRuns } from './oracle.js';

const RUNS = envRuns('FUZZ_RUNS_CORE', 10_000);
const TIMEOUT = 300_000;

function params(): fc.Parameters<unknown> {
  const seed = process.env['FUZZ_SEED'];
  const path = process.env['FUZZ_PATH'];
  return { numRuns: RUNS, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

const KEYS = [
  'spec_version',
  'id',
  'type',
  'object',
  'occurred_at',
  'environment_id',
  'organization_id',
  'display_name',
  'data',
] as const;

/** Values near every rule's edge: absent-ish, wrong kinds, empty, at and over the length limits, and plain JSON. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 8 },
  { arbitrary: fc.constant(''), weight: 2 },
  { arbitrary: fc.constantFrom(' ', '\u0000', '\ufeff', '🙂'), weight: 1 },
  {
    arbitrary: fc
      .integer({ min: MAX_EVENT_ID_LENGTH - 2, max: MAX_EVENT_ID_LENGTH + 2 })
      .chain((n) => fc.constantFrom('x'.repeat(n), '🙂'.repeat(Math.ceil(n / 2)))),
    weight: 2,
  },
  { arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e300), weight: 2 },
  { arbitrary: fc.constantFrom({}, [], [1], { a: 1 }, { __proto__: { x: 1 } }), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 },
);

/** A JSON object around the envelope: each envelope key present (mostly well-formed) or absent, plus extra keys. */
const objectArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    fields: fc.tuple(
      ...KEYS.map((key) =>
        fc.oneof(
          { arbitrary: fc.constant({ key, kind: 'good' as const }), weight: 6 },
          { arbitrary: fc.constant({ key, kind: 'absent' as const }), weight: 1 },
          { arbitrary: valueArb.map((value) => ({ key, kind: 'value' as const, value })), weight: 2 },
        ),
      ),
    ),
    extra: fc.dictionary(
      fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString')),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    ),
  })
  .map(({ fields, extra }) => {
    // Built as JSON text and parsed, like a body: `__proto__` becomes an own key, as JSON.parse makes it.
    const parts: string[] = Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    for (const field of fields) {
      if (field.kind === 'absent') continue;
      const value = field.kind === 'good' ? goodValue(field.key) : field.value;
      parts.push(`${JSON.stringify(field.key)}:${JSON.stringify(value)}`);
    }
    return JSON.parse(`{${parts.join(',')}}`) as Record<string, unknown>;
  });

function goodValue(key: (typeof KEYS)[number]): unknown {
  switch (key) {
    case 'data':
      return { id: 'dirusr_1', email: 'a@example.com' };
    case 'object':
      return 'DirectoryUser';
    case 'type':
      return 'organization.directory.user_created';
    default:
      return `${key}_1`;
  }
}

/** Any JSON object at all (mostly invalid envelopes). */
const anyObjectArb = fc.dictionary(fc.string({ maxLength: 16 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 12 });

describe('the compiled envelope check', () => {
  it('is compiled from the class-validator metadata (not a fallback that asks class-validator every time)', () => {
    expect(isCompiledEnvelopeVerdict(envelopeVerdict())).toBe(true);
  });

  it(
    "gives class-validator's verdict on envelope-like objects, and the parser accepts and reports exactly as class-validator",
    () => {
      let valid = 0;
      let invalid = 0;
      const verdict = envelopeVerdict();
      fc.assert(
        fc.property(objectArb, (parsed) => {
          const problems = envelopeProblems(parsed);
          expect(verdict(parsed)).toBe(problems.length === 0);
          const text = JSON.stringify(parsed);
          if (problems.length === 0) {
            valid++;
            expect(parseScalekitEventPayload(Buffer.from(text))).toEqual(JSON.parse(text));
          } else {
            invalid++;
            let caught: unknown;
            try {
              parseScalekitEventPayload(Buffer.from(text));
            } catch (error) {
              caught = error;
            }
            expect(caught).toBeInstanceOf(ScalekitWebhookError);
            expect((caught as ScalekitWebhookError).code).toBe('invalid_payload');
            expect((caught as ScalekitWebhookError).problems).toEqual(problems);
          }
        }),
        params(),
      );
      // Both answers were exercised many times (a generator that only made one kind would prove nothing).
      expect(valid).toBeGreaterThan(RUNS / 20);
      expect(invalid).toBeGreaterThan(RUNS / 20);
    },
    TIMEOUT,
  );

  it(
    "gives class-validator's verdict on arbitrary JSON objects",
    () => {
      const verdict = envelopeVerdict();
      fc.assert(
        fc.property(anyObjectArb, (parsed) => {
          expect(verdict(parsed)).toBe(envelopeProblems(parsed).length === 0);
        }),
        params(),
      );
    },
    TIMEOUT,
  );

  it(
    'compiles other DTOs built from class-validator decorators, with the same verdict as class-validator',
    () => {
      class Dto {
        @IsString()
        @IsNotEmpty()
        @MaxLength(5)
        a!: unknown;

        @ValidateBy({
          name: 'isObjectLike',
          validator: { validate: (v: unknown) => v !== null && typeof v === 'object' },
        })
        b!: unknown;
      }
      const keys = ['a', 'b'];
      const verdict = compileEnvelopeVerdict(Dto, keys);
      expect(isCompiledEnvelopeVerdict(verdict)).toBe(true);
      const small = fc.record({ a: valueArb, b: valueArb }, { requiredKeys: [] }) as fc.Arbitrary<
        Record<string, unknown>
      >;
      fc.assert(
        fc.property(small, (parsed) => {
          const json = JSON.parse(JSON.stringify(parsed)) as Record<string, unknown>;
          expect(verdict(json)).toBe(envelopeProblems(json, Dto, keys).length === 0);
        }),
        { ...params(), numRuns: Math.min(RUNS, 2_000) },
      );
    },
    TIMEOUT,
  );

  it('falls back to class-validator for metadata it does not reproduce (here a condition), with the same verdict', () => {
    class Conditional {
      @IsOptional()
      @IsString()
      a!: unknown;
    }
    const verdict = compileEnvelopeVerdict(Conditional, ['a']);
    expect(isCompiledEnvelopeVerdict(verdict)).toBe(false);
    expect(verdict({})).toBe(true);
    expect(verdict({ a: null })).toBe(true);
    expect(verdict({ a: 1 })).toBe(false);
    expect(verdict({ a: 'x' })).toBe(true);
  });
});
