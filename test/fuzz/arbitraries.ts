/**
 * fast-check generators for the fuzz suites: valid signed Scalekit deliveries (as pure "plans" that are turned into
 * bytes against a clock and a set of signing keys), and mutations of them.
 *
 * Everything here is independent of the library under test: signatures are computed with node:crypto from the raw
 * key bytes, so the oracle (./oracle.ts) does not trust the library's own secret parsing or signer.
 */
import fc from 'fast-check';
import { createHash, createHmac } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEBHOOK_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
export type WebhookHeader = (typeof WEBHOOK_HEADERS)[number];

/** Most `v1,…` and other entries a valid delivery may carry (the library's documented limit). */
export const MAX_VALID_ENTRIES = 16;

// ---------------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------------

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'catalogue', 'examples');
const FIXTURES: ReadonlyMap<string, Readonly<Record<string, unknown>>> = new Map(
  readdirSync(FIXTURE_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file.slice(0, -5), JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8'))]),
);
export const FIXTURE_TYPES: readonly string[] = [...FIXTURES.keys()];

function fixtureOf(type: string): Record<string, unknown> {
  return structuredClone(FIXTURES.get(type)!) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets and signing
// ---------------------------------------------------------------------------------------------------------------

export interface SigningSecret {
  /** The HMAC key: the decoded base64 part of the secret. */
  key: Buffer;
  /** The secret as configured (`whsec_<base64>`, unpadded, without prefix, with surrounding spaces). */
  text: string;
}

export function secretOf(
  key: Uint8Array,
  form: 'prefixed' | 'unpadded' | 'bare' | 'spaced' = 'prefixed',
): SigningSecret {
  const bytes = Buffer.from(key);
  const b64 = bytes.toString('base64');
  const text =
    form === 'prefixed'
      ? `whsec_${b64}`
      : form === 'unpadded'
        ? `whsec_${b64.replace(/=+$/, '')}`
        : form === 'bare'
          ? b64
          : `  whsec_${b64}\t`;
  return { key: bytes, text };
}

/** A random `whsec_` secret: 1 to 64 key bytes (short keys exist in official vectors), in one of its accepted forms. */
export const secretArb: fc.Arbitrary<SigningSecret> = fc
  .record({
    key: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 24, maxLength: 32 })),
    form: fc.constantFrom('prefixed', 'prefixed', 'unpadded', 'bare', 'spaced' as const),
  })
  .map(({ key, form }) => secretOf(key, form));

/** `base64(HMAC-SHA256(key, "<id>.<ts>." + body))`, computed here, not by the library. */
export function hmacBase64(key: Buffer, id: string, timestamp: string, body: Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}

// ---------------------------------------------------------------------------------------------------------------
// Small arbitraries
// ---------------------------------------------------------------------------------------------------------------

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const base62Arb = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...BASE62), minLength: min, maxLength: max });

/** Printable ASCII without space and comma: what a `webhook-id` may be. */
const ID_CHARS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter(
  (c) => c !== ',',
);

/** A `webhook-id`: mostly Svix-like `msg_…`, sometimes any printable ASCII up to the 256-character limit. */
export const webhookIdArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: base62Arb(10, 32).map((s) => `msg_${s}`) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 250, maxLength: 256 }) },
);

/** A name re-cased: all lower, all upper, Title-Case, or a random mask. */
export type Casing = 'lower' | 'upper' | 'title' | number;
export const casingArb: fc.Arbitrary<Casing> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Casing>('lower') },
  { weight: 1, arbitrary: fc.constant<Casing>('upper') },
  { weight: 2, arbitrary: fc.constant<Casing>('title') },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 0x3fffff }) },
);

export function recase(name: string, casing: Casing): string {
  if (casing === 'lower') {
    return name.toLowerCase();
  }
  if (casing === 'upper') {
    return name.toUpperCase();
  }
  if (casing === 'title') {
    return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
  }
  return [...name].map((c, i) => ((casing >> (i % 22)) & 1 ? c.toUpperCase() : c.toLowerCase())).join('');
}

/** Texts that break parsers: whitespace of every kind, NUL and control bytes, separators, unicode, latin-1. */
export const nastyTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ' ',
    '  ',
    '\t',
    '\r\n',
    '\n',
    '\r',
    '\v',
    '\f',
    '\0',
    '\0\0\0',
    '\x7f',
    '\x1b[0m',
    '\u00a0',
    '\u2028',
    '\u2029',
    '\ufeff',
    '\u200b',
    '\u0130',
    '\u212a',
    'é',
    'ÿ',
    '\u00ad',
    '日本',
    '🚀',
    '\ud800',
    '\udfff',
    ',',
    ', ',
    ';',
    '=',
    '==',
    '.',
    '..',
    '+',
    '-',
    '/',
    '_',
    '0',
    '00',
    'v1,',
    ' v1,',
    '%00',
    '\\',
    '"',
    "'",
    '<script>',
    '${',
    '__proto__',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }),
);

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

// ---------------------------------------------------------------------------------------------------------------
// Signature header entries
// ---------------------------------------------------------------------------------------------------------------

export type DecoyKind =
  | 'random-v1'
  | 'v1a'
  | 'v2'
  | 'short-v1'
  | 'long-v1'
  | 'junk'
  | 'valid-other-version'
  | 'valid-truncated'
  | 'valid-swapcase'
  | 'valid-base64url'
  | 'valid-unpadded'
  | 'valid-noncanonical'
  | 'valid-hex'
  | 'other-timestamp';

export interface DecoyPlan {
  kind: DecoyKind;
  bytes: Uint8Array;
  junk: string;
}

const JUNK_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=,.;:_-'];
export const decoyArb: fc.Arbitrary<DecoyPlan> = fc.record({
  kind: fc.constantFrom<DecoyKind>(
    'random-v1',
    'random-v1',
    'v1a',
    'v2',
    'short-v1',
    'long-v1',
    'junk',
    'valid-other-version',
    'valid-truncated',
    'valid-swapcase',
    'valid-base64url',
    'valid-unpadded',
    'valid-noncanonical',
    'valid-hex',
    'other-timestamp',
  ),
  bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  junk: fc.string({ unit: fc.constantFrom(...JUNK_CHARS), minLength: 1, maxLength: 40 }),
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A decoy entry: never valid for the content it sits beside (checked by the caller), never containing a space. */
export function decoyText(
  plan: DecoyPlan,
  valid: string,
  resign: (timestamp: string) => string,
  timestamp: string,
): string {
  const sig = valid.slice(3);
  const random32 = Buffer.from(plan.bytes.subarray(0, 32)).toString('base64');
  switch (plan.kind) {
    case 'random-v1':
      return `v1,${random32}`;
    case 'v1a':
      return `v1a,${Buffer.from(plan.bytes).toString('base64')}`;
    case 'v2':
      return `v2,${random32}`;
    case 'short-v1':
      return `v1,${random32.slice(0, 1 + (plan.bytes[0]! % 42))}`;
    case 'long-v1':
      return `v1,${Buffer.from(plan.bytes.subarray(0, 33 + (plan.bytes[0]! % 31))).toString('base64')}`;
    case 'junk':
      return plan.junk.endsWith(',') ? `${plan.junk}x` : plan.junk;
    case 'valid-other-version':
      return `${['v2', 'v1a', 'V1', 'v0', 'v11', 'v1b'][plan.bytes[0]! % 6]},${sig}`;
    case 'valid-truncated':
      return `v1,${sig.slice(0, sig.length - 1 - (plan.bytes[0]! % 10))}`;
    case 'valid-swapcase':
      return `v1,${[...sig].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')}`;
    case 'valid-base64url':
      return `v1,-${sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
    case 'valid-unpadded':
      return `v1,${sig.replace(/=+$/, '')}`;
    case 'valid-noncanonical': {
      // The last character of a 32-byte base64 carries 2 padding bits: changing them decodes to the same bytes.
      const last = sig[sig.length - 2]!;
      const index = B64.indexOf(last);
      const other = B64[(index & ~3) | (1 + (plan.bytes[0]! % 3))]!;
      return `v1,${sig.slice(0, -2)}${other}=`;
    }
    case 'valid-hex':
      return `v1,${Buffer.from(sig, 'base64').toString('hex')}`;
    case 'other-timestamp':
      return resign(String(Number(timestamp) + 1 + (plan.bytes[0]! % 5)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------------------------------------------

export type HeaderValue = string | string[] | number;
export type HeaderEntry = [name: string, value: HeaderValue];

export interface DeliveryPlan {
  body: BodyPlan;
  webhookId: string;
  /** Where in the window the timestamp lies: -1 is the oldest accepted, +1 the newest. */
  offset: number;
  /** Indices (modulo the number of configured keys) of the keys that sign: one valid entry each. */
  signers: number[];
  /** Keys that are not configured: their signatures are decoys. */
  foreignKeys: Uint8Array[];
  decoys: DecoyPlan[];
  /** Sort keys that order the signature entries. */
  entryOrder: number[];
  /** Spaces between entries (1–3), and around the whole value. */
  separators: number[];
  pad: [number, number];
  casings: [Casing, Casing, Casing, Casing];
  contentType: string;
  extraHeaders: [string, string][];
  headerOrder: number[];
  /** Core only: give the timestamp header as a number, like some frameworks do. */
  timestampAsNumber: boolean;
}

const EXTRA_HEADER_NAMES = [
  'x-request-id',
  'user-agent',
  'accept',
  'webhook-idx',
  'x-webhook-id',
  'webhook-signatures',
  'webhook-timestamp-ms',
  'svix-id',
  'svix-signature',
  'x-scalekit-signature',
  'interceptor-signature',
];
const PRINTABLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));

export const deliveryPlanArb = (bodyArb: fc.Arbitrary<BodyPlan> = bodyPlanArb): fc.Arbitrary<DeliveryPlan> =>
  fc.record({
    body: bodyArb,
    webhookId: webhookIdArb,
    offset: fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(-1, 1, 0) },
      { weight: 4, arbitrary: fc.double({ min: -1, max: 1, noNaN: true }) },
    ),
    signers: fc.array(fc.nat(7), { minLength: 1, maxLength: 3 }),
    foreignKeys: fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 2 }),
    decoys: fc.array(decoyArb, { maxLength: 10 }),
    entryOrder: fc.array(fc.nat(1000), { minLength: MAX_VALID_ENTRIES, maxLength: MAX_VALID_ENTRIES }),
    separators: fc.array(
      fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }),
      {
        minLength: MAX_VALID_ENTRIES,
        maxLength: MAX_VALID_ENTRIES,
      },
    ),
    pad: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    casings: fc.tuple(casingArb, casingArb, casingArb, casingArb),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
    ),
    extraHeaders: fc.uniqueArray(
      fc.tuple(
        fc.constantFrom(...EXTRA_HEADER_NAMES),
        fc.string({ unit: fc.constantFrom(...PRINTABLE), minLength: 1, maxLength: 40 }),
      ),
      { maxLength: 3, selector: ([name]) => name },
    ),
    headerOrder: fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 }),
    timestampAsNumber: fc.oneof(
      { weight: 9, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });

export interface BuildContext {
  /** The configured keys (the verifier's secrets). */
  keys: readonly Buffer[];
  /** "Now" in Unix seconds, as the signer sees it. */
  nowSeconds: number;
  /** Timestamps are drawn from [now − window, now + window]. */
  windowSeconds: number;
  mode: 'core' | 'http';
  bodyLimit: number;
  uniqueSuffix?: string;
}

export interface Delivery {
  id: string;
  timestamp: string;
  body: BuiltBody;
  signature: string;
  /** The entries of `signature` that are valid for the configured keys. */
  validEntries: string[];
  entryCount: number;
  headers: HeaderEntry[];
}

function orderBy<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, key: keys[i % keys.length]! * 64 + i }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

/** Builds the bytes and headers of a valid delivery from a plan. */
export function buildDelivery(plan: DeliveryPlan, ctx: BuildContext): Delivery {
  const body = buildBody(plan.body, ctx.bodyLimit, ctx.uniqueSuffix);
  const window = Math.floor(ctx.windowSeconds);
  const timestamp = String(ctx.nowSeconds + Math.trunc(plan.offset * window));
  const id = plan.webhookId;
  const sign = (key: Buffer, ts = timestamp) => `v1,${hmacBase64(key, id, ts, body.bytes)}`;

  const configured = new Set(ctx.keys.map((key) => sign(key)));
  const valid = plan.signers.map((i) => sign(ctx.keys[i % ctx.keys.length]!));
  const resign = (ts: string) => sign(ctx.keys[0]!, ts);
  const others = [
    ...plan.foreignKeys.map((key) => sign(Buffer.from(key))),
    ...plan.decoys.map((decoy) => decoyText(decoy, valid[0]!, resign, timestamp)),
  ].filter((entry) => !configured.has(entry) && entry.length > 0);
  const entries = orderBy([...valid, ...others].slice(0, MAX_VALID_ENTRIES), plan.entryOrder);
  // Leading and trailing spaces too: the verifier must tolerate them (and HTTP strips them on the way).
  const signature =
    ' '.repeat(plan.pad[0]) +
    entries.map((entry, i) => (i === 0 ? '' : ' '.repeat(plan.separators[i]!)) + entry).join('') +
    ' '.repeat(plan.pad[1]);

  const [idCase, tsCase, sigCase, typeCase] = plan.casings;
  const headers: HeaderEntry[] = orderBy(
    [
      [recase('content-type', typeCase), plan.contentType] as HeaderEntry,
      [recase('webhook-id', idCase), id],
      [
        recase('webhook-timestamp', tsCase),
        ctx.mode === 'core' && plan.timestampAsNumber ? Number(timestamp) : timestamp,
      ],
      [recase('webhook-signature', sigCase), signature],
      ...plan.extraHeaders.map(([name, value]) => [name, value] as HeaderEntry),
    ],
    plan.headerOrder,
  );
  return {
    id,
    timestamp,
    body,
    signature,
    validEntries: entries.filter((entry) => configured.has(entry)),
    entryCount: entries.length,
    headers,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------------------------

type Which = WebhookHeader;
const whichArb = fc.constantFrom<Which>(...WEBHOOK_HEADERS);

export type Mutation =
  | { t: 'flip-body'; index: number; bit: number }
  | { t: 'flip-header'; h: Which; index: number; bit: number }
  | { t: 'body-edit'; op: 'truncate' | 'append' | 'prepend' | 'insert' | 'delete'; index: number; bytes: Uint8Array }
  | {
      t: 'header-edit';
      h: Which;
      op: 'insert' | 'replace' | 'delete' | 'prefix' | 'suffix';
      index: number;
      text: string;
    }
  | { t: 'drop'; h: Which | 'all' | 'content-type' }
  | {
      t: 'duplicate';
      h: Which;
      form: 'array' | 'comma' | 'comma-space' | 'twin';
      second: 'same' | 'nasty' | 'empty' | 'other';
      text: string;
    }
  | { t: 'rename'; h: Which; to: string }
  | { t: 'huge'; h: Which; size: number; fill: string }
  | { t: 'many-entries'; count: number; withValid: boolean; decoy: DecoyPlan }
  | { t: 'replace'; h: Which; value: string | number }
  | { t: 'version'; to: string }
  | { t: 'forge'; how: ForgeKind; key: Uint8Array }
  | { t: 'body'; to: BodyPlan | 'reserialize' | 'identical' | 'bom' | 'latin1' }
  | { t: 'clock'; seconds: number; beyond: boolean }
  | { t: 'resign'; seconds: number }
  | { t: 'timestamp'; form: TimestampForm }
  | { t: 'content-type'; value: string | null }
  | { t: 'content-encoding'; value: string; encode: 'gzip' | 'deflate' | 'none' | 'bomb' }
  // Harmless: a valid delivery stays valid.
  | { t: 'recase'; h: Which | 'content-type'; casing: Casing }
  | { t: 'reorder-headers'; keys: number[] }
  | { t: 'reorder-entries'; keys: number[]; spaces: number };

export type ForgeKind =
  | 'other-timestamp'
  | 'other-id'
  | 'other-body'
  | 'foreign-key'
  | 'secret-string-as-key'
  | 'base64-string-as-key'
  | 'no-dots'
  | 'body-only'
  | 'sha1'
  | 'sha512'
  | 'plain-sha256'
  | 'truncated-key'
  | 'hex-digest'
  | 'minified-body';

export type TimestampForm =
  | 'plus-one'
  | 'minus-one'
  | 'leading-zero'
  | 'plus-sign'
  | 'dot-zero'
  | 'hex'
  | 'exponent'
  | 'negative'
  | 'milliseconds'
  | 'inner-space'
  | 'fraction'
  | 'unicode-digits'
  | 'padded';

const HARMLESS = new Set<Mutation['t']>(['recase', 'reorder-headers', 'reorder-entries']);
export const isHarmless = (m: Mutation) => HARMLESS.has(m.t) || (m.t === 'body' && m.to === 'identical');

const indexArb = fc.nat(1_000_000);

export const harmlessMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    t: fc.constant('recase' as const),
    h: fc.constantFrom<Which | 'content-type'>(...WEBHOOK_HEADERS, 'content-type'),
    casing: casingArb,
  }),
  fc.record({
    t: fc.constant('reorder-headers' as const),
    keys: fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 }),
  }),
  fc.record({
    t: fc.constant('reorder-entries' as const),
    keys: fc.array(fc.nat(1000), { minLength: MAX_VALID_ENTRIES, maxLength: MAX_VALID_ENTRIES }),
    spaces: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ t: fc.constant('body' as const), to: fc.constant('identical' as const) }),
);

const forgeKindArb = fc.constantFrom<ForgeKind>(
  'other-timestamp',
  'other-id',
  'other-body',
  'foreign-key',
  'secret-string-as-key',
  'base64-string-as-key',
  'no-dots',
  'body-only',
  'sha1',
  'sha512',
  'plain-sha256',
  'truncated-key',
  'hex-digest',
  'minified-body',
);

const timestampFormArb = fc.constantFrom<TimestampForm>(
  'plus-one',
  'minus-one',
  'leading-zero',
  'plus-sign',
  'dot-zero',
  'hex',
  'exponent',
  'negative',
  'milliseconds',
  'inner-space',
  'fraction',
  'unicode-digits',
  'padded',
);

export const CONTENT_TYPES = [
  'application/json',
  'Application/JSON',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/json-seq',
  'application/jsonp',
  '*/*',
  '',
  'application/json, text/plain',
];

/** Mutations of the body bytes only. */
export const bodyMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ t: fc.constant('flip-body' as const), index: indexArb, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    t: fc.constant('body-edit' as const),
    op: fc.constantFrom('truncate', 'append', 'prepend', 'insert', 'delete' as const),
    index: indexArb,
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.constantFrom(
        ...[' ', '\n', '\0', '\ufeff', '}', ',', '"', '\\', '\\u', '\\ud800', '1e999'].map(
          (s) => new Uint8Array(Buffer.from(s)),
        ),
      ),
    ),
  }),
  fc.record({ t: fc.constant('body' as const), to: fc.constantFrom('reserialize', 'bom', 'latin1' as const) }),
);

/**
 * Mutations of a delivery. `mode` 'http' leaves out what only makes sense in-process (the injected clock).
 */
export const mutationArb = (mode: 'core' | 'http'): fc.Arbitrary<Mutation> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('flip-body' as const),
        index: indexArb,
        bit: fc.integer({ min: 0, max: 7 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('flip-header' as const),
        h: whichArb,
        index: indexArb,
        bit: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) },
          { weight: 1, arbitrary: fc.integer({ min: 7, max: 15 }) },
        ),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('body-edit' as const),
        op: fc.constantFrom('truncate', 'append', 'prepend', 'insert', 'delete' as const),
        index: indexArb,
        bytes: fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 8 }),
          fc.constantFrom(
            ...[' ', '\n', '\r\n', '\0', '\ufeff', '}', ',', '"'].map((s) => new Uint8Array(Buffer.from(s))),
          ),
        ),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('header-edit' as const),
        h: whichArb,
        op: fc.constantFrom('insert', 'replace', 'delete', 'prefix', 'suffix' as const),
        index: indexArb,
        text: nastyTextArb,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('drop' as const),
        h: fc.constantFrom<Which | 'all' | 'content-type'>(...WEBHOOK_HEADERS, 'all', 'content-type'),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('duplicate' as const),
        h: whichArb,
        form: fc.constantFrom('array', 'comma', 'comma-space', 'twin' as const),
        second: fc.constantFrom('same', 'nasty', 'empty', 'other' as const),
        text: nastyTextArb,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('rename' as const),
        h: whichArb,
        to: fc.constantFrom(
          'webhook_id',
          'webhookid',
          'x-webhook-id',
          'webhook-ids',
          'webhook-id ',
          ' webhook-id',
          'webhook-id\0',
          'webhook-ıd',
          'webhoo\u212a-id',
          'svix-id',
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('huge' as const),
        h: whichArb,
        size: fc.constantFrom(257, 1_601, 4_000, 8_000, 20_000, 70_000),
        fill: fc.constantFrom('x', ' ', '0', 'v1,AAAA ', 'é', '\0', ','),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('many-entries' as const),
        count: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(16, 17, 100, 1_000)),
        withValid: fc.boolean(),
        decoy: decoyArb,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('replace' as const),
        h: whichArb,
        value: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 30 }),
          fc.string({ unit: 'grapheme', maxLength: 10 }),
          fc.constantFrom(
            '',
            ' ',
            '\t',
            '\0',
            'null',
            'undefined',
            '[object Object]',
            'NaN',
            'Infinity',
            '1e3',
            'v1,',
            'v1',
            ',',
          ),
          fc.integer(),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('version' as const),
        to: fc.constantFrom(
          'V1',
          'v2',
          'v1a',
          'v0',
          'v11',
          '1',
          'v',
          '',
          'v1 ',
          ' v1',
          'v1,',
          'v1;',
          'v１',
          'v1\0',
          'v1\t',
        ),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('forge' as const),
        how: forgeKindArb,
        key: fc.uint8Array({ minLength: 1, maxLength: 40 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('body' as const),
        to: fc.oneof(bodyPlanArb, fc.constantFrom('reserialize', 'identical', 'bom', 'latin1' as const)),
      }),
    },
    ...(mode === 'core'
      ? [
          {
            weight: 3,
            arbitrary: fc.record({
              t: fc.constant('clock' as const),
              seconds: fc.oneof(fc.constantFrom(1, 2, 60), fc.integer({ min: 1, max: 10_000_000 })),
              beyond: fc.boolean(),
            }),
          },
        ]
      : []),
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('resign' as const),
        seconds: fc.oneof(fc.constantFrom(-1, 1, -3, 3), fc.integer({ min: -10_000_000, max: 10_000_000 })),
      }),
    },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('timestamp' as const), form: timestampFormArb }) },
    {
      weight: mode === 'http' ? 2 : 1,
      arbitrary: fc.record({
        t: fc.constant('content-type' as const),
        value: fc.option(fc.constantFrom(...CONTENT_TYPES)),
      }),
    },
    {
      weight: mode === 'http' ? 1 : 0,
      arbitrary: fc.record({
        t: fc.constant('content-encoding' as const),
        value: fc.constantFrom('gzip', 'deflate', 'GZIP', 'br', 'identity', 'gzip, gzip', 'compress', 'x-unknown', ''),
        encode: fc.constantFrom('gzip', 'deflate', 'none', 'bomb' as const),
      }),
    },
    { weight: 2, arbitrary: harmlessMutationArb },
  );

/** What is sent: an ordered header list, the body bytes, and (core only) the verifier's clock. */
export interface Wire {
  headers: HeaderEntry[];
  body: Buffer;
  /** With a Content-Encoding: the body once decoded (what a decoding body parser hands over), while it is known. */
  decoded?: Buffer;
  nowMs: number;
  labels: string[];
  harmless: boolean;
}

export interface MutationContext {
  delivery: Delivery;
  keys: readonly Buffer[];
  /** The raw secret texts, for forgeries that misuse them as keys. */
  secretTexts: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
  mode: 'core' | 'http';
  bodyLimit: number;
  uniqueSuffix?: string;
}

export function initialWire(delivery: Delivery, nowMs: number): Wire {
  return {
    headers: delivery.headers.map(([n, v]) => [n, Array.isArray(v) ? [...v] : v]),
    body: delivery.body.bytes,
    nowMs,
    labels: [],
    harmless: true,
  };
}

const lower = (name: string) => name.toLowerCase();

/** Index of the first entry for a header (case-insensitive), or -1. */
function find(wire: Wire, name: string): number {
  return wire.headers.findIndex(([n]) => lower(n) === name);
}

function valueOf(wire: Wire, name: string): string {
  const i = find(wire, name);
  if (i < 0) {
    return '';
  }
  const value = wire.headers[i]![1];
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function setValue(wire: Wire, name: string, value: HeaderValue): void {
  const i = find(wire, name);
  if (i < 0) {
    wire.headers.push([name, value]);
  } else {
    wire.headers[i] = [wire.headers[i]![0], value];
  }
}

function flipChar(text: string, index: number, bit: number): string {
  if (text.length === 0) {
    return String.fromCharCode(1 << bit);
  }
  const i = index % text.length;
  return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << bit)) + text.slice(i + 1);
}

function editText(
  text: string,
  op: 'insert' | 'replace' | 'delete' | 'prefix' | 'suffix',
  index: number,
  insert: string,
): string {
  const i = text.length === 0 ? 0 : index % (text.length + 1);
  switch (op) {
    case 'insert':
      return text.slice(0, i) + insert + text.slice(i);
    case 'replace':
      return text.slice(0, i) + insert + text.slice(i + insert.length);
    case 'delete':
      return text.slice(0, i) + text.slice(i + 1 + (index % 4));
    case 'prefix':
      return insert + text;
    case 'suffix':
      return text + insert;
  }
}

function timestampForm(ts: string, form: TimestampForm): string {
  const n = Number(ts);
  switch (form) {
    case 'plus-one':
      return String(n + 1);
    case 'minus-one':
      return String(n - 1);
    case 'leading-zero':
      return `0${ts}`;
    case 'plus-sign':
      return `+${ts}`;
    case 'dot-zero':
      return `${ts}.0`;
    case 'hex':
      return `0x${n.toString(16)}`;
    case 'exponent':
      return n.toExponential();
    case 'negative':
      return `-${ts}`;
    case 'milliseconds':
      return String(n * 1000);
    case 'inner-space':
      return `${ts.slice(0, 3)} ${ts.slice(3)}`;
    case 'fraction':
      return `${ts}.5`;
    case 'unicode-digits':
      return [...ts].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
    case 'padded':
      return ` ${ts} `;
  }
}

function forge(how: ForgeKind, foreign: Uint8Array, ctx: MutationContext, wire: Wire): string {
  const d = ctx.delivery;
  const key = ctx.keys[0]!;
  const body = wire.body;
  const hmac = (
    k: Buffer | string,
    content: (string | Uint8Array)[],
    algorithm = 'sha256',
    encoding: 'base64' | 'hex' = 'base64',
  ) => {
    const h = createHmac(algorithm, k);
    for (const part of content) {
      h.update(part);
    }
    return h.digest(encoding);
  };
  switch (how) {
    case 'other-timestamp':
      return `v1,${hmacBase64(key, d.id, String(Number(d.timestamp) + 1), body)}`;
    case 'other-id':
      return `v1,${hmacBase64(key, `${d.id}x`, d.timestamp, body)}`;
    case 'other-body':
      return `v1,${hmacBase64(key, d.id, d.timestamp, Buffer.concat([body, Buffer.from(' ')]))}`;
    case 'foreign-key':
      return `v1,${hmacBase64(Buffer.from(foreign), d.id, d.timestamp, body)}`;
    case 'secret-string-as-key':
      return `v1,${hmac(ctx.secretTexts[0]!.trim(), [`${d.id}.${d.timestamp}.`, body])}`;
    case 'base64-string-as-key':
      return `v1,${hmac(ctx.secretTexts[0]!.trim().replace(/^whsec_/, ''), [`${d.id}.${d.timestamp}.`, body])}`;
    case 'no-dots':
      return `v1,${hmac(key, [`${d.id}${d.timestamp}`, body])}`;
    case 'body-only':
      return `v1,${hmac(key, [body])}`;
    case 'sha1':
      return `v1,${hmac(key, [`${d.id}.${d.timestamp}.`, body], 'sha1')}`;
    case 'sha512':
      return `v1,${hmac(key, [`${d.id}.${d.timestamp}.`, body], 'sha512')}`;
    case 'plain-sha256':
      return `v1,${createHash('sha256').update(`${d.id}.${d.timestamp}.`).update(body).digest('base64')}`;
    case 'truncated-key':
      return `v1,${hmacBase64(key.subarray(0, Math.max(0, key.length - 1)), d.id, d.timestamp, body)}`;
    case 'hex-digest':
      return `v1,${hmac(key, [`${d.id}.${d.timestamp}.`, body], 'sha256', 'hex')}`;
    case 'minified-body': {
      let other: Buffer = Buffer.from(' ');
      try {
        other = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
      } catch {
        // not JSON: sign something else
      }
      return `v1,${hmacBase64(key, d.id, d.timestamp, other)}`;
    }
  }
}

/** Applies one mutation. Never throws. */
export function applyMutation(wire: Wire, m: Mutation, ctx: MutationContext): Wire {
  const next: Wire = {
    headers: wire.headers.map(([n, v]) => [n, Array.isArray(v) ? [...v] : v]),
    body: wire.body,
    ...(wire.decoded === undefined ? {} : { decoded: wire.decoded }),
    nowMs: wire.nowMs,
    labels: [...wire.labels, m.t === 'forge' ? `forge:${m.how}` : m.t === 'timestamp' ? `timestamp:${m.form}` : m.t],
    harmless: wire.harmless && isHarmless(m),
  };
  // Body-only mutations need no context (the parser fuzzing applies them without one).
  const d = ctx?.delivery as Delivery;
  switch (m.t) {
    case 'flip-body': {
      if (next.body.length === 0) {
        next.body = Buffer.from([1 << m.bit]);
      } else {
        const copy = Buffer.from(next.body);
        const i = m.index % copy.length;
        copy[i] = copy[i]! ^ (1 << m.bit);
        next.body = copy;
      }
      break;
    }
    case 'flip-header':
      setValue(next, m.h, flipChar(valueOf(next, m.h), m.index, m.bit));
      break;
    case 'body-edit': {
      const body = next.body;
      const bytes = Buffer.from(m.bytes);
      const i = body.length === 0 ? 0 : m.index % (body.length + 1);
      next.body =
        m.op === 'truncate'
          ? body.subarray(0, body.length === 0 ? 0 : m.index % body.length)
          : m.op === 'append'
            ? Buffer.concat([body, bytes])
            : m.op === 'prepend'
              ? Buffer.concat([bytes, body])
              : m.op === 'insert'
                ? Buffer.concat([body.subarray(0, i), bytes, body.subarray(i)])
                : Buffer.concat([body.subarray(0, i), body.subarray(i + 1 + (m.index % 3))]);
      break;
    }
    case 'header-edit':
      setValue(next, m.h, editText(valueOf(next, m.h), m.op, m.index, m.text));
      break;
    case 'drop':
      next.headers = next.headers.filter(([n]) =>
        m.h === 'all' ? !(WEBHOOK_HEADERS as readonly string[]).includes(lower(n)) : lower(n) !== m.h,
      );
      break;
    case 'duplicate': {
      const i = find(next, m.h);
      const current = valueOf(next, m.h);
      const second =
        m.second === 'same'
          ? current
          : m.second === 'empty'
            ? ''
            : m.second === 'nasty'
              ? m.text
              : m.h === 'webhook-id'
                ? `${d.id}x`
                : m.h === 'webhook-timestamp'
                  ? String(Number(d.timestamp) + 1)
                  : `v1,${hmacBase64(ctx.keys[0]!, d.id, d.timestamp, next.body)}`;
      if (i < 0) {
        next.headers.push([m.h, second]);
      } else if (m.form === 'array') {
        next.headers[i] = [next.headers[i]![0], [current, second]];
      } else if (m.form === 'comma') {
        next.headers[i] = [next.headers[i]![0], `${current},${second}`];
      } else if (m.form === 'comma-space') {
        next.headers[i] = [next.headers[i]![0], `${current}, ${second}`];
      } else {
        const name = next.headers[i]![0];
        const twin = name === name.toUpperCase() ? name.toLowerCase() : name.toUpperCase();
        next.headers.push([twin, second]);
      }
      break;
    }
    case 'rename': {
      const i = find(next, m.h);
      if (i >= 0) {
        next.headers[i] = [
          m.to
            .replace('webhook-id', m.h)
            .replace('webhook_id', m.h.replace('-', '_'))
            .replace('webhookid', m.h.replace('-', '')),
          next.headers[i]![1],
        ];
      }
      break;
    }
    case 'huge': {
      const current = valueOf(next, m.h);
      const fill = m.fill.repeat(Math.ceil(Math.max(0, m.size - current.length) / m.fill.length));
      setValue(next, m.h, m.h === 'webhook-signature' ? `${fill} ${current}` : current + fill);
      break;
    }
    case 'many-entries': {
      const resign = (ts: string) => `v1,${hmacBase64(ctx.keys[0]!, d.id, ts, next.body)}`;
      const valid = d.validEntries[0] ?? resign(d.timestamp);
      const decoy = decoyText(m.decoy, valid, resign, d.timestamp) || 'v2,x';
      const entries = Array.from({ length: m.count }, () => decoy);
      if (m.withValid) {
        entries[m.count - 1] = valid;
      }
      setValue(next, 'webhook-signature', entries.join(' '));
      break;
    }
    case 'replace':
      setValue(next, m.h, m.value);
      break;
    case 'version':
      setValue(
        next,
        'webhook-signature',
        valueOf(next, 'webhook-signature')
          .split(' ')
          .map((entry) => (entry.startsWith('v1,') ? `${m.to},${entry.slice(3)}` : entry))
          .join(' '),
      );
      break;
    case 'forge': {
      const forged = forge(m.how, m.key, ctx, next);
      const valid = new Set(d.validEntries);
      const kept = valueOf(next, 'webhook-signature')
        .split(' ')
        .filter((entry) => entry.length > 0 && !valid.has(entry));
      setValue(next, 'webhook-signature', [...kept.slice(0, 10), forged].join(' '));
      break;
    }
    case 'body': {
      if (m.to === 'identical') {
        next.body = Buffer.from(next.body);
      } else if (m.to === 'reserialize') {
        try {
          next.body = Buffer.from(JSON.stringify(JSON.parse(next.body.toString('utf8'))));
        } catch {
          next.body = Buffer.concat([next.body, Buffer.from('\n')]);
        }
      } else if (m.to === 'bom') {
        next.body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), next.body]);
      } else if (m.to === 'latin1') {
        next.body = Buffer.from(next.body.toString('utf8'), 'latin1');
      } else {
        next.body = buildBody(m.to, ctx.bodyLimit, ctx.uniqueSuffix).bytes;
      }
      break;
    }
    case 'clock': {
      const tolerance = Math.floor(ctx.toleranceSeconds);
      const shift = m.beyond ? tolerance + m.seconds : Math.min(m.seconds, tolerance);
      next.nowMs = wire.nowMs + (m.seconds % 2 === 0 ? shift : -shift) * 1000;
      break;
    }
    case 'resign': {
      // A genuine signature, with a configured key, over a timestamp moved by `seconds` beyond the window edge.
      // Over HTTP the server's clock runs on while the request travels: stay clear of the edge by 10 s.
      const edge = Math.floor(ctx.toleranceSeconds) + (ctx.mode === 'http' ? 10 : 1);
      const moved = ctx.nowSeconds + (m.seconds < 0 ? -edge + m.seconds + 1 : edge + m.seconds - 1);
      const ts = String(moved);
      setValue(next, 'webhook-timestamp', ts);
      const id = valueOf(next, 'webhook-id');
      setValue(next, 'webhook-signature', `v1,${hmacBase64(ctx.keys[0]!, id, ts, next.body)}`);
      break;
    }
    case 'timestamp':
      setValue(next, 'webhook-timestamp', timestampForm(d.timestamp, m.form));
      break;
    case 'content-type':
      next.headers = next.headers.filter(([n]) => lower(n) !== 'content-type');
      if (m.value !== null) {
        next.headers.push(['Content-Type', m.value]);
      }
      break;
    case 'content-encoding': {
      next.headers = next.headers.filter(([n]) => lower(n) !== 'content-encoding');
      next.headers.push(['Content-Encoding', m.value]);
      const plain = next.decoded ?? next.body;
      if (m.encode === 'bomb') {
        next.body = gzipSync(Buffer.alloc(4 * 1_048_576, 0x20));
        next.decoded = undefined;
      } else if (m.encode !== 'none') {
        next.body = m.encode === 'gzip' ? gzipSync(plain) : deflateSync(plain);
        next.decoded = plain;
      }
      return next;
    }
    case 'recase': {
      const i = find(next, m.h);
      if (i >= 0) {
        next.headers[i] = [recase(m.h, m.casing), next.headers[i]![1]];
      }
      break;
    }
    case 'reorder-headers':
      next.headers = orderBy(next.headers, m.keys);
      break;
    case 'reorder-entries': {
      const entries = valueOf(next, 'webhook-signature')
        .split(' ')
        .filter((entry) => entry.length > 0);
      setValue(next, 'webhook-signature', orderBy(entries, m.keys).join(' '.repeat(m.spaces)));
      break;
    }
  }
  // An identical copy of an encoded body still decodes to the same bytes: keep what it decodes to.
  if (next.body !== wire.body && !next.body.equals(wire.body)) {
    next.decoded = undefined;
  }
  return next;
}

/**
 * Makes a wire sendable by an HTTP client: header names become tokens, header values lose the bytes a client
 * refuses (NUL, CR, LF, other controls, characters above U+00FF). Those are tested at the core level.
 */
export function sanitizeForHttp(wire: Wire): Wire {
  const value = (v: string) =>
    v.replace(/[^\t\x20-\x7e\x80-\xff]/g, (c) => String.fromCharCode(0x21 + (c.charCodeAt(0) % 0x5e)));
  const name = (n: string) => n.replace(/[^!#$%&'*+.^_`|~0-9A-Za-z-]/g, '_') || 'x';
  return {
    ...wire,
    headers: wire.headers.map(([n, v]) => [
      name(n),
      Array.isArray(v) ? v.map(value) : typeof v === 'number' ? value(String(v)) : value(v),
    ]),
  };
}

export function describeWire(wire: Wire): string {
  const body =
    wire.body.length > 200
      ? `${wire.body.subarray(0, 200).toString('latin1')}… (${wire.body.length} bytes)`
      : wire.body.toString('latin1');
  const headers = wire.headers.map(
    ([n, v]) =>
      `${n}: ${JSON.stringify(typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}… (${v.length})` : v)}`,
  );
  return `mutations=${wire.labels.join(',') || '(none)'} now=${wire.nowMs}\n  ${headers.join('\n  ')}\n  body=${JSON.stringify(body)}`;
}
