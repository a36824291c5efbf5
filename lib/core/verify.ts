import { createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { ScalekitWebhookError } from './errors.js';
import { readHeader, type ScalekitHeadersInput } from './headers.js';
import { OptionsChecker } from './options.js';
import {
  DEFAULT_TOLERANCE_SECONDS,
  MAX_SIGNATURE_ENTRIES,
  MAX_SIGNATURE_HEADER_LENGTH,
  MAX_WEBHOOK_ID_LENGTH,
  MESSAGE_ID_PATTERN as WEBHOOK_ID,
  signedContentHmac,
  TIMESTAMP_PATTERN as TIMESTAMP,
  V1_ENTRY_LENGTH,
  type SignatureHeaderNames,
  V1_SIGNATURE_PATTERN as V1_SIGNATURE,
  WEBHOOK_HEADERS,
} from './protocol.js';
import { parseSecrets, type ScalekitSigningKey } from './secret.js';

export interface ScalekitVerifierOptions {
  /** `whsec_…` secret, or several while rotating: a delivery signed with any of them is accepted. */
  secret: string | readonly string[];
  /**
   * Largest accepted distance between `webhook-timestamp` and now, in seconds.
   * @default 300 (`DEFAULT_TOLERANCE_SECONDS`)
   */
  toleranceSeconds?: number;
  /**
   * Clock in milliseconds, for tests.
   * @default Date.now
   */
  now?: () => number;
  /**
   * The scheme's header names. Interceptor calls are signed the same way under `interceptor-*` headers.
   * @default WEBHOOK_HEADERS (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
   */
  headerNames?: SignatureHeaderNames;
}

export interface ScalekitVerifiedHeaders {
  /** The `webhook-id` header: stable across retries of one message. */
  webhookId: string;
  /** The `webhook-timestamp` header in Unix seconds: the time of this attempt. */
  timestamp: number;
}

/** @deprecated Renamed {@link ScalekitVerifiedHeaders} (only `ScalekitDelivery` is called a delivery); this alias goes in the next minor release. */
export type VerifiedScalekitDelivery = ScalekitVerifiedHeaders;

export interface VerifyScalekitWebhookInput extends ScalekitVerifierOptions {
  /** The request body exactly as received. A string is taken as its UTF-8 bytes. */
  payload: Buffer | Uint8Array | string;
  headers: ScalekitHeadersInput;
}

/**
 * Verifies Scalekit (Standard Webhooks) signatures. Build it once: secrets are parsed and checked in the
 * constructor, which throws `invalid_options` for a bad secret or tolerance.
 */
export class ScalekitWebhookVerifier {
  /** The HMAC keys as `KeyObject`s, made once (createHmac would otherwise prepare the key bytes on every call). */
  readonly #keys: readonly KeyObject[];
  readonly #toleranceSeconds: number;
  readonly #now: () => number;
  readonly #names: SignatureHeaderNames;

  constructor(options: ScalekitVerifierOptions) {
    this.#keys = parseSecrets(options?.secret).map((key: ScalekitSigningKey) => createSecretKey(key.bytes));
    this.#toleranceSeconds = checkTolerance(options.toleranceSeconds);
    this.#now = options.now ?? Date.now;
    this.#names = options.headerNames ?? WEBHOOK_HEADERS;
  }

  get toleranceSeconds(): number {
    return this.#toleranceSeconds;
  }

  /**
   * Checks headers, timestamp window and signature over the raw bytes. Returns the delivery's id and timestamp,
   * or throws a {@link ScalekitWebhookError} whose `code` says which check failed.
   */
  verify(payload: Buffer | Uint8Array | string, headers: ScalekitHeadersInput): ScalekitVerifiedHeaders {
    const names = this.#names;
    const { webhookId, timestamp, rawTimestamp, signatures } = readDeliveryHeaders(headers, names);

    const nowSeconds = Math.floor(this.#now() / 1000);
    if (nowSeconds - timestamp > this.#toleranceSeconds) {
      throw new ScalekitWebhookError(
        'timestamp_too_old',
        `${names.timestamp} is ${nowSeconds - timestamp}s in the past, beyond the ${this.#toleranceSeconds}s tolerance (replayed or delayed delivery, or a slow clock here)`,
      );
    }
    if (timestamp - nowSeconds > this.#toleranceSeconds) {
      throw new ScalekitWebhookError(
        'timestamp_too_new',
        `${names.timestamp} is ${timestamp - nowSeconds}s in the future, beyond the ${this.#toleranceSeconds}s tolerance (check this server's clock)`,
      );
    }

    const candidates = decodeV1Signatures(signatures, names.signature);
    if (candidates.length > 0) {
      for (const key of this.#keys) {
        const expected = signedContentHmac(key, webhookId, rawTimestamp, payload);
        for (const candidate of candidates) {
          if (timingSafeEqual(expected, candidate)) {
            return { webhookId, timestamp };
          }
        }
      }
    }
    throw new ScalekitWebhookError(
      'no_matching_signature',
      candidates.length === 0
        ? `${names.signature} has no well-formed v1 entry`
        : `none of the ${candidates.length} v1 signature(s) matches the raw body with the configured secret(s)`,
    );
  }
}

/** One-shot verification. Prefer a long-lived {@link ScalekitWebhookVerifier} on a hot path. */
export function verifyScalekitWebhook(input: VerifyScalekitWebhookInput): ScalekitVerifiedHeaders {
  return new ScalekitWebhookVerifier(input).verify(input.payload, input.headers);
}

interface DeliveryHeaders {
  webhookId: string;
  timestamp: number;
  /** The timestamp as sent (canonical: the pattern admits no sign, spaces nor leading zeros). */
  rawTimestamp: string;
  signatures: string;
}

/** Strict header parsing: missing (all names listed), empty, duplicated, oversized and malformed values fail. */
export function readDeliveryHeaders(
  headers: ScalekitHeadersInput,
  names: SignatureHeaderNames = WEBHOOK_HEADERS,
): DeliveryHeaders {
  const { id: WEBHOOK_ID_HEADER, timestamp: WEBHOOK_TIMESTAMP_HEADER, signature: WEBHOOK_SIGNATURE_HEADER } = names;
  if (headers === null || typeof headers !== 'object') {
    throw new ScalekitWebhookError('missing_headers', 'No headers were given to the verifier', {
      problems: [WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER].map(
        (h) => `${h} header is missing`,
      ),
    });
  }
  let id: unknown;
  let ts: unknown;
  let sig: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function' || !scannable(names)) {
    id = readHeader(headers, WEBHOOK_ID_HEADER);
    ts = readHeader(headers, WEBHOOK_TIMESTAMP_HEADER);
    sig = readHeader(headers, WEBHOOK_SIGNATURE_HEADER);
  } else {
    const found = scanHeaders(headers as Readonly<Record<string, unknown>>, names);
    id = found.id;
    ts = found.timestamp;
    sig = found.signature;
  }
  if (id == null || ts == null || sig == null) {
    const missing = [
      [WEBHOOK_ID_HEADER, id],
      [WEBHOOK_TIMESTAMP_HEADER, ts],
      [WEBHOOK_SIGNATURE_HEADER, sig],
    ]
      .filter(([, value]) => value == null)
      .map(([name]) => `${name} header is missing`);
    throw new ScalekitWebhookError(
      'missing_headers',
      `Missing ${missing.length === 3 ? `all ${WEBHOOK_ID_HEADER.replace(/-id$/, '')} headers` : missing.join(', ')}`,
      {
        problems: missing,
      },
    );
  }

  const webhookId = single(WEBHOOK_ID_HEADER, id);
  if (webhookId.length > MAX_WEBHOOK_ID_LENGTH) {
    throw invalidHeader(
      `${WEBHOOK_ID_HEADER} is ${webhookId.length} characters long (at most ${MAX_WEBHOOK_ID_LENGTH})`,
    );
  }
  if (!WEBHOOK_ID.test(webhookId)) {
    throw invalidHeader(`${WEBHOOK_ID_HEADER} contains spaces, commas or non-ASCII characters (duplicated header?)`);
  }

  const rawTimestamp = single(WEBHOOK_TIMESTAMP_HEADER, ts);
  // Node joins a repeated header into one value with ", ": that is a duplicated header, not a malformed timestamp.
  if (rawTimestamp.includes(',')) {
    throw invalidHeader(`${WEBHOOK_TIMESTAMP_HEADER} was sent more than once (values joined by ", ")`);
  }
  if (!TIMESTAMP.test(rawTimestamp)) {
    throw new ScalekitWebhookError(
      'invalid_timestamp',
      `${WEBHOOK_TIMESTAMP_HEADER} must be whole Unix seconds without sign, spaces or leading zeros (got ${describe(rawTimestamp)})`,
      { problems: [`${WEBHOOK_TIMESTAMP_HEADER} is not a Unix timestamp in seconds`] },
    );
  }

  const signatures = single(WEBHOOK_SIGNATURE_HEADER, sig);
  if (signatures.length > MAX_SIGNATURE_HEADER_LENGTH) {
    throw invalidHeader(
      `${WEBHOOK_SIGNATURE_HEADER} is ${signatures.length} characters long (at most ${MAX_SIGNATURE_HEADER_LENGTH})`,
    );
  }
  if (signatures.includes(', ')) {
    throw invalidHeader(`${WEBHOOK_SIGNATURE_HEADER} was sent more than once (values joined by ", ")`);
  }
  return { webhookId, timestamp: Number(rawTimestamp), rawTimestamp, signatures };
}

/** Whether {@link scanHeaders} answers like {@link readHeader} for these names: lowercase and distinct. */
function scannable(names: SignatureHeaderNames): boolean {
  const { id, timestamp, signature } = names;
  return (
    id === id.toLowerCase() &&
    timestamp === timestamp.toLowerCase() &&
    signature === signature.toLowerCase() &&
    id !== timestamp &&
    id !== signature &&
    timestamp !== signature
  );
}

/** Reused by {@link scanHeaders} (synchronous, so never shared by two calls at once). */
const SCANNED = { id: undefined as unknown, timestamp: undefined as unknown, signature: undefined as unknown };
const SCAN_COUNTS = { id: 0, timestamp: 0, signature: 0 };

/**
 * @internal The three headers of a plain object, in one pass over its keys, with {@link readHeader}'s answer for each:
 * the value; every value in an array when the name occurs more than once under different cases; `undefined` if absent.
 * A key is lowercased only when it is not already the lowercase name (Node gives lowercase keys).
 */
export function scanHeaders(
  record: Readonly<Record<string, unknown>>,
  names: SignatureHeaderNames,
): { id: unknown; timestamp: unknown; signature: unknown } {
  SCANNED.id = SCANNED.timestamp = SCANNED.signature = undefined;
  SCAN_COUNTS.id = SCAN_COUNTS.timestamp = SCAN_COUNTS.signature = 0;
  for (const key in record) {
    const which =
      key.length === names.id.length && (key === names.id || key.toLowerCase() === names.id)
        ? 'id'
        : key.length === names.timestamp.length && (key === names.timestamp || key.toLowerCase() === names.timestamp)
          ? 'timestamp'
          : key.length === names.signature.length && (key === names.signature || key.toLowerCase() === names.signature)
            ? 'signature'
            : undefined;
    if (which === undefined || !Object.prototype.hasOwnProperty.call(record, key)) {
      continue;
    }
    const value = record[key];
    const count = ++SCAN_COUNTS[which];
    if (count === 1) {
      SCANNED[which] = value;
    } else if (count === 2) {
      SCANNED[which] = [SCANNED[which], value];
    } else {
      (SCANNED[which] as unknown[]).push(value);
    }
  }
  return SCANNED;
}

function single(name: string, value: unknown): string {
  if (Array.isArray(value)) {
    throw invalidHeader(`${name} was sent ${value.length} times`);
  }
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') {
    throw invalidHeader(`${name} is not a string`);
  }
  if (text.trim().length === 0) {
    throw invalidHeader(`${name} is empty`);
  }
  return text;
}

/** Decodes the well-formed `v1` entries; malformed entries and other versions are skipped, not fatal. */
function decodeV1Signatures(header: string, headerName: string): Buffer[] {
  // One entry (the usual header): no split.
  if (header.length === V1_ENTRY_LENGTH && header.indexOf(' ') === -1) {
    const value = header.slice(3);
    return header.startsWith('v1,') && V1_SIGNATURE.test(value) ? [Buffer.from(value, 'base64')] : [];
  }
  const entries = header.split(' ').filter((entry) => entry.length > 0);
  if (entries.length > MAX_SIGNATURE_ENTRIES) {
    throw invalidHeader(`${headerName} has ${entries.length} entries (at most ${MAX_SIGNATURE_ENTRIES})`);
  }
  const decoded: Buffer[] = [];
  for (const entry of entries) {
    if (entry.length === V1_ENTRY_LENGTH && entry.startsWith('v1,')) {
      const value = entry.slice(3);
      if (V1_SIGNATURE.test(value)) {
        decoded.push(Buffer.from(value, 'base64'));
      }
    }
  }
  return decoded;
}

function checkTolerance(value: unknown): number {
  return new OptionsChecker('Scalekit webhook').nonNegativeSeconds(
    'toleranceSeconds',
    value,
    DEFAULT_TOLERANCE_SECONDS,
  );
}

function invalidHeader(message: string): ScalekitWebhookError {
  return new ScalekitWebhookError('invalid_headers', message, { problems: [message] });
}

function describe(value: unknown): string {
  const text =
    typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
  return text;
}
