/**
 * The oracle of the fuzz suites: given what the verifier (or the server) actually sees, may it accept?
 *
 * A delivery may be accepted only if each of the three headers is present exactly once, its timestamp is inside the
 * window, and its signature header contains, as one space-separated entry, exactly `v1,` + base64 of
 * HMAC-SHA256(configured key, "<id>.<timestamp>." + body) computed here over the very bytes seen. That is "byte
 * identical in id, timestamp and body, with a valid v1 entry" without trusting the library for anything.
 */
import { runInThisContext } from 'node:vm';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import {
  hmacBase64,
  type HeaderEntry,
  type HeaderValue,
  WEBHOOK_HEADERS,
  type WebhookHeader,
} from './arbitraries/index.js';

export interface HeaderView {
  /** `undefined` when absent; an array when present more than once (or not a string). */
  values: Record<WebhookHeader, string | unknown[] | undefined>;
}

export interface Verdict {
  /** At least one header is absent (the verifier must say `missing_headers`). */
  missing: boolean;
  /** Authentic and fresh: accepting is allowed. */
  allowed: boolean;
  /** Why not, for failure messages. */
  reason: string;
  id?: string;
  timestamp?: string;
}

type HeadersLike = Record<string, HeaderValue> | Headers;

/** The three headers as a verifier given `headers` sees them: case-insensitive, duplicates kept apart. */
export function viewOf(headers: HeadersLike): HeaderView {
  const values = {} as HeaderView['values'];
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).append === 'function') {
    for (const name of WEBHOOK_HEADERS) {
      values[name] = (headers as Headers).get(name) ?? undefined;
    }
    return { values };
  }
  const record = headers as Record<string, HeaderValue>;
  for (const name of WEBHOOK_HEADERS) {
    const found = Object.keys(record)
      .filter((key) => key.toLowerCase() === name)
      .map((key) => record[key]);
    const only = found[0];
    values[name] =
      found.length === 0
        ? undefined
        : found.length > 1 || Array.isArray(only)
          ? found.flat()
          : typeof only === 'number'
            ? String(only)
            : typeof only === 'string'
              ? only
              : [only];
  }
  return { values };
}

/**
 * The three headers as Node's HTTP server gives them: outer spaces and tabs trimmed, repeats joined with ", ".
 * `names` are the scheme's names on the wire (interceptor calls use `interceptor-*`); the view is keyed by the
 * webhook names either way, so `judge` serves both.
 */
export function serverViewOf(
  entries: readonly HeaderEntry[],
  names: readonly [string, string, string] = WEBHOOK_HEADERS,
): HeaderView {
  const values = {} as HeaderView['values'];
  for (const [i, key] of WEBHOOK_HEADERS.entries()) {
    const name = names[i]!;
    const parts = entries
      .filter(([n]) => n.toLowerCase() === name)
      .flatMap(([, v]) => (Array.isArray(v) ? v : [String(v)]))
      .map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));
    values[key] = parts.length === 0 ? undefined : parts.join(', ');
  }
  return { values };
}

/**
 * The bytes Express's JSON body parser hands over (and Nest keeps as the raw body) for a body sent with a
 * Content-Encoding, decoded here as body-parser decodes it (the header lower-cased; deflate, gzip or br with
 * node:zlib, which ignores bytes after the end of a deflate stream). `undefined` when there is no encoding, or when
 * body-parser would refuse the request (an unknown encoding, a stream that does not decode).
 */
export function decodedByExpress(entries: readonly HeaderEntry[], body: Buffer): Buffer | undefined {
  const values = entries
    .filter(([n]) => n.toLowerCase() === 'content-encoding')
    .flatMap(([, v]) => (Array.isArray(v) ? v : [String(v)]));
  const encoding = values.length === 0 ? 'identity' : values.join(', ').toLowerCase();
  const decode = { deflate: inflateSync, gzip: gunzipSync, br: brotliDecompressSync }[encoding];
  try {
    return decode?.(body);
  } catch {
    return undefined;
  }
}

export function judge(
  view: HeaderView,
  body: Uint8Array,
  keys: readonly Buffer[],
  nowSeconds: number,
  toleranceSeconds: number,
): Verdict {
  const id = view.values['webhook-id'];
  const ts = view.values['webhook-timestamp'];
  const sig = view.values['webhook-signature'];
  const missing = id === undefined || ts === undefined || sig === undefined;
  if (missing) {
    return { missing, allowed: false, reason: 'a header is missing' };
  }
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') {
    return { missing, allowed: false, reason: 'a header is repeated' };
  }
  const seconds = Number(ts);
  if (!Number.isFinite(seconds) || Math.abs(nowSeconds - seconds) > toleranceSeconds) {
    return {
      missing,
      allowed: false,
      reason: `timestamp ${JSON.stringify(ts.slice(0, 40))} is outside the window`,
      id,
      timestamp: ts,
    };
  }
  const entries = new Set(sig.split(' '));
  for (const key of keys) {
    if (entries.has(`v1,${hmacBase64(key, id, ts, body)}`)) {
      return { missing, allowed: true, reason: 'authentic', id, timestamp: ts };
    }
  }
  return {
    missing,
    allowed: false,
    reason: 'no v1 entry is a valid signature of what was received',
    id,
    timestamp: ts,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Prototype pollution
// ---------------------------------------------------------------------------------------------------------------

const INTRINSICS = [
  'Object',
  'Array',
  'Function',
  'String',
  'Number',
  'Boolean',
  'Symbol',
  'RegExp',
  'Error',
  'Promise',
  'Map',
  'Set',
  'Date',
  'Uint8Array',
] as const;

/** Prototypes of this (jest's sandbox) realm and of Node's main realm, where core modules create their objects. */
function prototypes(): [string, object][] {
  const sandbox = globalThis as unknown as Record<string, { prototype: object }>;
  const main = runInThisContext('globalThis') as Record<string, { prototype: object }>;
  const list: [string, object][] = [];
  for (const name of INTRINSICS) {
    list.push([`sandbox ${name}.prototype`, sandbox[name]!.prototype]);
    if (main !== (globalThis as unknown)) {
      list.push([`main ${name}.prototype`, main[name]!.prototype]);
    }
  }
  list.push(['Buffer.prototype', Buffer.prototype]);
  return list;
}

type Snapshot = Map<string, Map<PropertyKey, unknown[]>>;

function snapshot(): Snapshot {
  const result: Snapshot = new Map();
  for (const [label, proto] of prototypes()) {
    const props = new Map<PropertyKey, unknown[]>();
    for (const key of Reflect.ownKeys(proto)) {
      const d = Reflect.getOwnPropertyDescriptor(proto, key)!;
      props.set(key, [d.value, d.get, d.set, d.writable, d.enumerable, d.configurable]);
    }
    props.set('[[Prototype]]', [Object.getPrototypeOf(proto), Object.isExtensible(proto)]);
    result.set(label, props);
  }
  return result;
}

/**
 * Detects any change to a built-in prototype of either realm: added, removed or replaced properties, a swapped
 * `[[Prototype]]`. `quick()` is cheap enough for every run; `full()` compares every property descriptor.
 */
export class PollutionGuard {
  private readonly list = prototypes();
  private readonly before = snapshot();
  private readonly counts = this.list.map(([, proto]) => Reflect.ownKeys(proto).length);
  private readonly mainObject = (runInThisContext('Object') as ObjectConstructor).prototype;

  quick(): string | undefined {
    const probe = {} as Record<string, unknown>;
    const mainProbe = Object.create(this.mainObject) as Record<string, unknown>;
    for (const key of ['polluted', 'isAdmin', 'type', 'id']) {
      if (probe[key] !== undefined || mainProbe[key] !== undefined) {
        return `({}).${key} is ${String(probe[key] ?? mainProbe[key])}`;
      }
    }
    if (String(probe) !== '[object Object]') {
      return 'Object.prototype.toString was replaced';
    }
    const now = this.list.map(([, proto]) => Reflect.ownKeys(proto).length);
    const changed = now.findIndex((count, i) => count !== this.counts[i]);
    return changed === -1
      ? undefined
      : `${this.list[changed]![0]} has ${now[changed]} own keys, had ${this.counts[changed]}`;
  }

  full(): string | undefined {
    const quick = this.quick();
    if (quick !== undefined) {
      return quick;
    }
    const after = snapshot();
    for (const [label, props] of this.before) {
      const later = after.get(label)!;
      for (const key of new Set([...props.keys(), ...later.keys()])) {
        const a = props.get(key);
        const b = later.get(key);
        if (a === undefined || b === undefined || a.some((v, i) => !Object.is(v, b[i]))) {
          return `${label}.${String(key)} changed`;
        }
      }
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------------------------

export interface PropertyReport {
  name: string;
  runs: number;
  ms: number;
  outcomes: Record<string, number>;
}

export const reports: PropertyReport[] = [];

export function count(outcomes: Record<string, number>, key: string): void {
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}

export function printReports(title: string): void {
  const lines = reports.map(({ name, runs, ms, outcomes }) => {
    const top = Object.entries(outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return `  ${name}: ${runs} runs in ${(ms / 1000).toFixed(1)} s (${((runs / ms) * 1000).toFixed(0)} runs/s)\n    ${top}`;
  });
  console.log(`${title}\n${lines.join('\n')}`);
}

export function envRuns(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${name} must be a positive whole number of runs (got ${JSON.stringify(raw)})`);
  }
  return n;
}
