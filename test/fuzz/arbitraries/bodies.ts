import fc from 'fast-check';
import { FIXTURE_TYPES, fixtureOf } from './fixtures.js';
import { base62Arb } from './small-arbitraries.js';

// ---------------------------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------------------------

/** Pieces of valid-but-hostile JSON, injected into an otherwise valid envelope (top level or inside `data`). */
export type HostilePiece =
  | { kind: 'deep-array'; depth: number }
  | { kind: 'deep-object'; depth: number }
  | { kind: 'proto' }
  | { kind: 'proto-nested' }
  | { kind: 'constructor' }
  | { kind: 'prototype' }
  | { kind: 'builtins' }
  | { kind: 'huge-numbers' }
  | { kind: 'long-string'; length: number; unit: string }
  | { kind: 'many-keys'; count: number }
  | { kind: 'duplicate-keys' };

const hostilePieceArb: fc.Arbitrary<HostilePiece> = fc.oneof(
  fc.record({ kind: fc.constant('deep-array' as const), depth: fc.constantFrom(100, 1000, 10_000) }),
  fc.record({ kind: fc.constant('deep-object' as const), depth: fc.constantFrom(100, 1000, 10_000) }),
  fc.constant({ kind: 'proto' as const }),
  fc.constant({ kind: 'proto-nested' as const }),
  fc.constant({ kind: 'constructor' as const }),
  fc.constant({ kind: 'prototype' as const }),
  fc.constant({ kind: 'builtins' as const }),
  fc.constant({ kind: 'huge-numbers' as const }),
  fc.record({
    kind: fc.constant('long-string' as const),
    length: fc.constantFrom(1_000, 10_000, 30_000),
    unit: fc.constantFrom('x', 'é', '日', '🚀', '\\u0000', '\\ud800', '\\"', '\\\\'),
  }),
  fc.record({ kind: fc.constant('many-keys' as const), count: fc.constantFrom(100, 2_000) }),
  fc.constant({ kind: 'duplicate-keys' as const }),
);

const deepCache = new Map<string, string>();
function deep(open: string, middle: string, close: string, depth: number): string {
  const key = `${open}|${depth}`;
  let text = deepCache.get(key);
  if (text === undefined) {
    text = open.repeat(depth) + middle + close.repeat(depth);
    deepCache.set(key, text);
  }
  return text;
}

/** JSON text of `"key":value` pairs (no surrounding braces). */
function pieceText(piece: HostilePiece): string {
  switch (piece.kind) {
    case 'deep-array':
      return `"deep":${deep('[', '', ']', piece.depth)}`;
    case 'deep-object':
      return `"deepo":${deep('{"a":', '1', '}', piece.depth)}`;
    case 'proto':
      return '"__proto__":{"polluted":"yes","isAdmin":true,"toString":"pwned","type":"organization.created"}';
    case 'proto-nested':
      return '"x":{"__proto__":{"__proto__":{"polluted":"yes"}}},"__proto__":[{"polluted":"yes"}]';
    case 'constructor':
      return '"constructor":{"prototype":{"polluted":"yes","isAdmin":true}}';
    case 'prototype':
      return '"prototype":{"polluted":"yes"},"__defineGetter__":"polluted","__lookupGetter__":{"polluted":1}';
    case 'builtins':
      return '"toString":"x","valueOf":1,"hasOwnProperty":"x","isPrototypeOf":null,"propertyIsEnumerable":[],"toJSON":"x"';
    case 'huge-numbers':
      return '"n1":1e400,"n2":-1e400,"n3":123456789012345678901234567890123456789,"n4":1e-400,"n5":-0,"n6":4.9e-324,"n7":9007199254740993,"n8":1.7976931348623157e308,"n9":-0.0e+0';
    case 'long-string':
      return `"long":"${piece.unit.repeat(Math.max(1, Math.floor(piece.length / piece.unit.length)))}"`;
    case 'many-keys':
      return Array.from({ length: piece.count }, (_, i) => `"k${i}":${i}`).join(',');
    case 'duplicate-keys':
      return '"dup":1,"dup":{"polluted":"yes"},"dup":"last"';
  }
}

export type BodyPlan =
  | { kind: 'fixture'; type: string; eventId: string; layout: 'compact' | 'pretty' | 'crlf'; unicode: boolean }
  | {
      kind: 'hostile';
      type: string;
      eventId: string;
      top: HostilePiece[];
      data: HostilePiece[];
      dupEnvelopeKeys: boolean;
    }
  | { kind: 'odd-type'; type: string; eventId: string }
  | { kind: 'sized'; type: string; eventId: string; delta: number; wide: number }
  | { kind: 'huge'; type: string; eventId: string; extra: number }
  | { kind: 'not-envelope'; json: string }
  | { kind: 'invalid-envelope'; type: string; eventId: string; change: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'empty' };

/** Event types that are strings a handler registry might trip on; all valid for the envelope rules. */
const ODD_TYPES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '*',
  'organization.*',
  'organization.directory.',
  'organization.directory_created',
  ' ',
  '日本語.イベント',
  'x'.repeat(256),
];

/** Envelope changes that make a valid envelope invalid (JSON stays valid). */
const INVALID_CHANGES: Record<string, (event: Record<string, unknown>) => void> = {
  'no-type': (e) => delete e['type'],
  'no-id': (e) => delete e['id'],
  'no-data': (e) => delete e['data'],
  'empty-type': (e) => (e['type'] = ''),
  'long-type': (e) => (e['type'] = 'x'.repeat(257)),
  'long-id': (e) => (e['id'] = 'evt_' + 'x'.repeat(300)),
  'numeric-id': (e) => (e['id'] = 42),
  'object-type': (e) => (e['type'] = { toString: 'user.login' }),
  'array-data': (e) => (e['data'] = []),
  'null-data': (e) => (e['data'] = null),
  'string-data': (e) => (e['data'] = 'nope'),
  'null-spec': (e) => (e['spec_version'] = null),
  'number-org': (e) => (e['organization_id'] = 7),
};

const eventIdArb = base62Arb(8, 24).map((s) => `evt_${s}`);
const typeArb = fc.constantFrom(...FIXTURE_TYPES);

export const bodyPlanArb: fc.Arbitrary<BodyPlan> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('fixture' as const),
      type: typeArb,
      eventId: eventIdArb,
      layout: fc.constantFrom('compact', 'pretty', 'crlf' as const),
      unicode: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('hostile' as const),
      type: typeArb,
      eventId: eventIdArb,
      top: fc.array(hostilePieceArb, { maxLength: 2 }),
      data: fc.array(hostilePieceArb, { minLength: 1, maxLength: 2 }),
      dupEnvelopeKeys: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('odd-type' as const),
      type: fc.constantFrom(...ODD_TYPES),
      eventId: eventIdArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sized' as const),
      type: typeArb,
      eventId: eventIdArb,
      delta: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -64, max: 64 })),
      wide: fc.integer({ min: 0, max: 100 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('not-envelope' as const),
      json: fc.oneof(
        fc.json({ depthSize: 'small' }),
        fc.constantFrom('null', '[]', '{}', '0', '"x"', 'true', '-0', '1e400'),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('invalid-envelope' as const),
      type: typeArb,
      eventId: eventIdArb,
      change: fc.constantFrom(...Object.keys(INVALID_CHANGES)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
);

/** Bodies over the transport limit of both parsers (1 MiB): only for the HTTP suite, rarely. */
export const hugeBodyPlanArb: fc.Arbitrary<BodyPlan> = fc.record({
  kind: fc.constant('huge' as const),
  type: typeArb,
  eventId: eventIdArb,
  extra: fc.integer({ min: 1, max: 4096 }),
});

export interface BuiltBody {
  bytes: Buffer;
  /** Whether the bytes are a valid envelope ('valid'), valid JSON breaking the envelope rules ('invalid'), or not known. */
  envelope: 'valid' | 'invalid' | 'unknown';
  eventId?: string;
  type?: string;
  /** The text has `"__proto__"` or `"constructor"` keys (Fastify's JSON parser answers 400 for those). */
  poisonKeys: boolean;
}

function inject(json: string, top: string, data: string): string {
  let text = json;
  if (data.length > 0) {
    text = text.replace(/"__inject__":\s?0/, data);
  }
  if (top.length > 0) {
    text = text.replace('{', `{${top},`);
  }
  return text;
}

/**
 * Turns a body plan into bytes. `uniqueSuffix` makes event ids unique per request over HTTP (so an idempotency
 * layer never dedups a shrunk replay). `bodyLimit` is the configured `maxBodyBytes` that sized bodies straddle.
 */
export function buildBody(plan: BodyPlan, bodyLimit: number, uniqueSuffix = ''): BuiltBody {
  const finish = (text: string, envelope: BuiltBody['envelope'], eventId?: string, type?: string): BuiltBody => ({
    bytes: Buffer.from(text, 'utf8'),
    envelope,
    eventId,
    type,
    poisonKeys: text.includes('"__proto__"') || text.includes('"constructor"'),
  });
  switch (plan.kind) {
    case 'fixture': {
      const eventId = plan.eventId + uniqueSuffix;
      const event: Record<string, unknown> = { ...fixtureOf(plan.type), id: eventId };
      if (plan.unicode) {
        event['display_name'] = 'Zoë 🚀 Ünïcødé 日本語 \u2028 "quoted" \\ \r\n';
      }
      const text =
        plan.layout === 'compact'
          ? JSON.stringify(event)
          : plan.layout === 'pretty'
            ? JSON.stringify(event, null, 2)
            : JSON.stringify(event, null, '\t').replace(/\n/g, '\r\n');
      return finish(text, 'valid', eventId, plan.type);
    }
    case 'hostile': {
      const eventId = plan.eventId + uniqueSuffix;
      const event = fixtureOf(plan.type);
      event['id'] = eventId;
      event['data'] = { ...(event['data'] as object), __inject__: 0 };
      const dup = plan.dupEnvelopeKeys ? ['"type":"evil.type"', '"id":"evt_evil"', '"data":"not an object"'] : [];
      const text = inject(
        JSON.stringify(event),
        [...dup, ...plan.top.map(pieceText)].join(','),
        plan.data.map(pieceText).join(','),
      );
      return finish(text, 'valid', eventId, plan.type);
    }
    case 'odd-type': {
      const eventId = plan.eventId + uniqueSuffix;
      return finish(
        JSON.stringify({ ...fixtureOf('organization.created'), id: eventId, type: plan.type }),
        'valid',
        eventId,
        plan.type,
      );
    }
    case 'sized':
    case 'huge': {
      const eventId = plan.eventId + uniqueSuffix;
      const event = fixtureOf(plan.type);
      event['id'] = eventId;
      event['data'] = { ...(event['data'] as object), filler: '' };
      const base = Buffer.byteLength(JSON.stringify(event));
      const target = plan.kind === 'sized' ? bodyLimit + plan.delta : 1_048_576 + plan.extra;
      const room = Math.max(0, target - base);
      // Some two-byte characters, so that a limit counted in characters instead of bytes would show.
      const wide = plan.kind === 'sized' ? Math.min(Math.floor((room * plan.wide) / 200), Math.floor(room / 2)) : 0;
      (event['data'] as Record<string, unknown>)['filler'] = 'é'.repeat(wide) + 'x'.repeat(room - 2 * wide);
      return finish(JSON.stringify(event), 'valid', eventId, plan.type);
    }
    case 'not-envelope': {
      // Any JSON that is not an object with the envelope's fields: an object generated by fc.json() may not have
      // them all, so it is 'invalid' only if it is not an object at all.
      const parsed: unknown = JSON.parse(plan.json);
      const isObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
      return finish(plan.json, isObject ? 'unknown' : 'invalid');
    }
    case 'invalid-envelope': {
      const event = { ...fixtureOf(plan.type), id: plan.eventId + uniqueSuffix };
      INVALID_CHANGES[plan.change]!(event);
      return finish(JSON.stringify(event), 'invalid');
    }
    case 'bytes':
      return { bytes: Buffer.from(plan.bytes), envelope: 'unknown', poisonKeys: false };
    case 'empty':
      return { bytes: Buffer.alloc(0), envelope: 'invalid', poisonKeys: false };
  }
}
