import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  ValidateBy,
  type ValidationArguments,
  type ValidationError,
  ValidationTypes,
  validateSync,
} from 'class-validator';
import type { ScalekitEventMap, ScalekitEventType } from './catalogue.js';
import { ScalekitWebhookError } from './errors.js';

/**
 * The envelope every Scalekit event comes in. Unknown extra top-level fields are kept at runtime (not typed).
 * `occurred_at` is the RFC 3339 string as sent (often with nanoseconds): parse it yourself if you need a `Date`.
 */
export interface ScalekitEventEnvelope<T extends string = string, D = Record<string, unknown>> {
  /** `"1"` today. */
  spec_version: string;
  /** The event id (`evt_…`): stable across retries, the key to deduplicate on. */
  id: string;
  type: T;
  /** The kind of `data` (e.g. `DirectoryUser`). An open string: values have changed between releases. */
  object: string;
  /** RFC 3339 time, kept as sent. */
  occurred_at: string;
  environment_id: string;
  /** Absent on role, permission and connected-account events. */
  organization_id?: string;
  /** A human-readable label; may be absent or empty. */
  display_name?: string;
  data: D;
}

/**
 * The event of type `T`. For a known type, `data` is typed from the catalogue; for any other string it is a
 * `Record<string, unknown>`. Distributive: `ScalekitEvent<'a' | 'b'>` is a union that `switch (event.type)` narrows.
 */
export type ScalekitEvent<T extends string = ScalekitEventType> = T extends ScalekitEventType
  ? ScalekitEventEnvelope<T, ScalekitEventMap[T]>
  : ScalekitEventEnvelope<T, Record<string, unknown>>;

/** An event whose type is not in the catalogue (Scalekit adds types over time). */
export type UnknownScalekitEvent = ScalekitEventEnvelope<string, Record<string, unknown>>;

/** Whatever a delivery can carry: a known event, or an event of a type this version does not know. */
export type AnyScalekitEvent = ScalekitEvent<ScalekitEventType> | UnknownScalekitEvent;

/**
 * The events a handler pattern receives: `'*'` gives {@link AnyScalekitEvent}; `'organization.directory.*'` gives
 * the known events whose type starts with `organization.directory.`, plus {@link UnknownScalekitEvent} (unknown
 * types are routed to wildcard handlers); an exact type gives {@link ScalekitEvent} of it. Unions distribute.
 */
export type ScalekitEventOf<P extends string> = P extends '*'
  ? AnyScalekitEvent
  : P extends `${infer Prefix}*`
    ? ScalekitEvent<Extract<ScalekitEventType, `${Prefix}${string}`>> | UnknownScalekitEvent
    : ScalekitEvent<P>;

/** Longest accepted event `id` and `type`. */
export const MAX_EVENT_ID_LENGTH = 256;
export const MAX_EVENT_TYPE_LENGTH = 256;

interface FieldRule {
  /** Absent is a problem (a `null` is present, and then fails the type check). */
  required: boolean;
  kind: 'string' | 'object';
  nonEmpty?: boolean;
  maxLength?: number;
}

/** The most basic problem of a value under a rule (absent, then wrong type, then empty, then too long), if any. */
function fieldProblem(value: unknown, rule: FieldRule): string | undefined {
  if (value === undefined) {
    return rule.required ? 'is required' : undefined;
  }
  if (rule.kind === 'object') {
    return isJsonObject(value) ? undefined : `must be an object (got ${kindOf(value)})`;
  }
  if (typeof value !== 'string') {
    return `must be a string (got ${kindOf(value)})`;
  }
  if (rule.nonEmpty && value.length === 0) {
    return 'must not be empty';
  }
  if (rule.maxLength !== undefined && value.length > rule.maxLength) {
    return `must be at most ${rule.maxLength} characters long`;
  }
  return undefined;
}

/**
 * One class-validator constraint per property, reporting that property's most basic problem. (A chain of
 * `@IsString() @IsNotEmpty() @MaxLength()` costs several times more per request and reports every failed rule.)
 */
function EnvelopeField(rule: FieldRule): PropertyDecorator {
  return ValidateBy({
    name: 'scalekitEnvelopeField',
    validator: {
      validate: (value: unknown) => fieldProblem(value, rule) === undefined,
      defaultMessage: (args?: ValidationArguments) => `${args?.property} ${fieldProblem(args?.value, rule)}`,
    },
  });
}

/**
 * The envelope rules. Validation stops at the top level: `data` must be an object, its content is not examined
 * (it is typed, not checked).
 */
export class ScalekitEventEnvelopeDto {
  @EnvelopeField({ required: true, kind: 'string', nonEmpty: true })
  spec_version!: unknown;

  @EnvelopeField({ required: true, kind: 'string', nonEmpty: true, maxLength: MAX_EVENT_ID_LENGTH })
  id!: unknown;

  @EnvelopeField({ required: true, kind: 'string', nonEmpty: true, maxLength: MAX_EVENT_TYPE_LENGTH })
  type!: unknown;

  @EnvelopeField({ required: true, kind: 'string' })
  object!: unknown;

  @EnvelopeField({ required: true, kind: 'string', nonEmpty: true })
  occurred_at!: unknown;

  @EnvelopeField({ required: true, kind: 'string', nonEmpty: true })
  environment_id!: unknown;

  @EnvelopeField({ required: false, kind: 'string' })
  organization_id?: unknown;

  @EnvelopeField({ required: false, kind: 'string' })
  display_name?: unknown;

  @EnvelopeField({ required: true, kind: 'object' })
  data!: unknown;
}

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
] as const;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes, parses and validates a delivery's body. Returns the parsed object itself (unknown fields kept, nothing
 * converted). Throws {@link ScalekitWebhookError} `invalid_json` for bytes that are not UTF-8 JSON, and
 * `invalid_payload` for an empty body or an envelope that breaks the rules, with every problem in `problems`.
 * Unknown event types are accepted.
 */
export function parseScalekitEventPayload(raw: Buffer | Uint8Array | string): AnyScalekitEvent {
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else if (ArrayBuffer.isView(raw)) {
    // Not `instanceof Uint8Array`: a Buffer from another realm (jest's sandbox, a worker) would fail that test.
    try {
      text = UTF8.decode(raw);
    } catch (error) {
      throw new ScalekitWebhookError('invalid_json', 'Scalekit event body is not valid UTF-8', {
        problems: ['body is not valid UTF-8'],
        cause: error,
      });
    }
  } else {
    const message = `Scalekit event body must be bytes or a string (got ${kindOf(raw)})`;
    throw new ScalekitWebhookError('invalid_payload', message, { problems: ['body is missing'] });
  }

  if (text.trim().length === 0) {
    throw new ScalekitWebhookError('invalid_payload', 'empty body: no event', { problems: ['body is empty'] });
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = withoutExcerpt(error instanceof Error ? error.message : String(error));
    throw new ScalekitWebhookError('invalid_json', `Scalekit event body is not valid JSON: ${reason}`, {
      problems: [`body is not valid JSON: ${reason}`],
      // no `cause`: the SyntaxError quotes the body, which may hold secrets
    });
  }

  if (!isJsonObject(parsed)) {
    throw new ScalekitWebhookError(
      'invalid_payload',
      `Scalekit event envelope is invalid: the body must be a JSON object (got ${kindOf(parsed)})`,
      { problems: [`body must be a JSON object (got ${kindOf(parsed)})`] },
    );
  }

  // The compiled check answers for a well-formed envelope (nearly every delivery); class-validator itself runs only
  // when that check finds a problem, to report the problems (and it has the last word: no problem, no rejection).
  if (envelopeVerdict()(parsed)) {
    return parsed as unknown as AnyScalekitEvent;
  }
  const problems = envelopeProblems(parsed);
  if (problems.length > 0) {
    throw new ScalekitWebhookError('invalid_payload', `Scalekit event envelope is invalid: ${problems.join('; ')}`, {
      problems,
    });
  }
  return parsed as unknown as AnyScalekitEvent;
}

/**
 * @internal The envelope problems of a parsed JSON object as class-validator reports them (class-transformer, then
 * `validateSync`), one line per property; empty when valid. The definition of the rules and the reporter of problems.
 */
export function envelopeProblems(
  parsed: Record<string, unknown>,
  dto: new () => object = ScalekitEventEnvelopeDto,
  keys: readonly string[] = ENVELOPE_KEYS,
): string[] {
  // The transformer gets an inert snapshot, never the parsed object: only the envelope's own keys, with nested
  // objects and arrays replaced by empty ones of the same kind. So nothing is walked recursively (deep nesting in
  // `data` cannot overflow the stack), and keys like `__proto__` or `constructor` never reach an assignment (an own
  // `constructor` or a swapped prototype would also hide the DTO's rules from class-validator).
  const snapshot: Record<string, unknown> = {};
  for (const key of keys) {
    if (Object.hasOwn(parsed, key)) {
      snapshot[key] = shallow(parsed[key]);
    }
  }
  const instance = plainToInstance(dto, snapshot);
  const errors = validateSync(instance, {
    forbidUnknownValues: false,
    whitelist: false,
    validationError: { target: false, value: false },
  });
  return errors.map(describeError);
}

/** A verdict on a parsed JSON object: `true` exactly when {@link envelopeProblems} would report nothing. */
export type EnvelopeVerdict = (parsed: Record<string, unknown>) => boolean;

let compiledVerdict: EnvelopeVerdict | undefined;
const COMPILED = new WeakSet<EnvelopeVerdict>();

/** @internal The envelope check compiled from the DTO's class-validator metadata, compiled on first use. */
export function envelopeVerdict(): EnvelopeVerdict {
  compiledVerdict ??= compileEnvelopeVerdict();
  return compiledVerdict;
}

interface CompiledRule {
  readonly key: string;
  readonly validate: (value: unknown, args: ValidationArguments) => unknown;
  /** Reused for every call (the DTO's constraints look at the value only): no allocation per delivery. */
  readonly args: ValidationArguments;
}

const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});
const EMPTY_ARRAY: readonly never[] = Object.freeze([]);

/**
 * Compiles the DTO's class-validator metadata (`getMetadataStorage()`, as `validateSync` reads it) into a loop over
 * its synchronous constraints, skipping class-transformer and class-validator's per-call bookkeeping (about 15 µs
 * per delivery, against well under one here). It gives each constraint what `validateSync` would give it: the
 * envelope key's value as in the snapshot {@link envelopeProblems} transforms (absent → `undefined`, objects and
 * arrays → empty ones). Anything it does not reproduce exactly (conditions, `each`, nested or other validation
 * types, a DTO field with a default value) makes it fall back to class-validator on every delivery. Constraints are
 * given `args.object` as a blank instance, so a constraint comparing properties with one another is not supported
 * (the envelope has none). The property test in test/fuzz/envelope-verdict.fuzz.spec.ts checks that the verdict
 * equals class-validator's.
 */
export function compileEnvelopeVerdict(
  dto: new () => object = ScalekitEventEnvelopeDto,
  keys: readonly string[] = ENVELOPE_KEYS,
): EnvelopeVerdict {
  // Used when the metadata holds something the compiler does not reproduce: class-validator answers every time.
  const askClassValidator: EnvelopeVerdict = (parsed) => envelopeProblems(parsed, dto, keys).length === 0;
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(
    dto,
    undefined as never, // validateSync(dto) passes no schema name
    false,
    false,
    undefined,
  );
  const blank = plainToInstance(dto, {}) as Record<string, unknown>;
  const rules: CompiledRule[] = [];
  for (const metadata of metadatas) {
    const key = metadata.propertyName;
    if (
      metadata.type !== ValidationTypes.CUSTOM_VALIDATION ||
      metadata.each ||
      metadata.validateIf !== undefined ||
      !keys.includes(key) ||
      blank[key] !== undefined
    ) {
      return askClassValidator;
    }
    for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
      if (constraint.async) {
        continue; // validateSync ignores asynchronous constraints
      }
      const instance = constraint.instance as { validate: CompiledRule['validate'] };
      rules.push({
        key,
        validate: instance.validate.bind(instance),
        args: {
          targetName: dto.name,
          property: key,
          object: blank,
          value: undefined,
          constraints: metadata.constraints,
        },
      });
    }
  }
  const compiled: EnvelopeVerdict = (parsed) => {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const value = Object.hasOwn(parsed, rule.key) ? snapshotValue(parsed[rule.key]) : undefined;
      rule.args.value = value;
      if (!rule.validate(value, rule.args)) {
        return false;
      }
    }
    return true;
  };
  COMPILED.add(compiled);
  return compiled;
}

/** @internal Whether a verdict is a compiled check (`false`: it asks class-validator every time). */
export function isCompiledEnvelopeVerdict(verdict: EnvelopeVerdict): boolean {
  return COMPILED.has(verdict);
}

/** What {@link shallow} gives, without allocating: the constraints only see that the value is an object or array. */
function snapshotValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  return Array.isArray(value) ? EMPTY_ARRAY : EMPTY_OBJECT;
}

function describeError(error: ValidationError): string {
  return Object.values(error.constraints ?? {})[0] ?? `${error.property} is invalid`;
}

function shallow(value: unknown): unknown {
  if (Array.isArray(value)) {
    return [];
  }
  return value !== null && typeof value === 'object' ? {} : value;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return value.length === 0 ? 'an empty string' : 'a string';
    case 'undefined':
      return 'nothing';
    default:
      return `a ${typeof value}`;
  }
}

/**
 * V8's JSON.parse messages quote part of the input (`Unexpected token 'x', ..."_secret":xy"... is not valid
 * JSON`). The input may hold secrets, so only the position-free part of the reason is kept.
 */
function withoutExcerpt(reason: string): string {
  return reason
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, ' is not valid JSON')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\(line \d+ column \d+\)$/, '')
    .replace(/"[^"]*"/g, '"…"')
    .slice(0, 120);
}
