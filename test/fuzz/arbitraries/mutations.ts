import fc from 'fast-check';
import { createHash, createHmac } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { MAX_VALID_ENTRIES, WEBHOOK_HEADERS, type WebhookHeader } from './webhook-headers.js';
import { hmacBase64 } from './secrets-and-signing.js';
import { type Casing, casingArb, nastyTextArb, recase } from './small-arbitraries.js';
import { type BodyPlan, bodyPlanArb, buildBody } from './bodies.js';
import { decoyArb, type DecoyPlan, decoyText } from './signature-header-entries.js';
import { type Delivery, type HeaderEntry, type HeaderValue, orderBy } from './deliveries.js';

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
  /**
   * With a Content-Encoding: the plain body, while it is known, so that a second encoding mutation re-encodes the
   * plain bytes. The oracle does not trust it: it decodes what is on the wire (`decodedByExpress`).
   */
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
