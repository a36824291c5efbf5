import { createHmac, type KeyObject, randomBytes } from 'node:crypto';

/**
 * What Scalekit's signed calls look like on the wire, declared once: header names, value formats, limits, the
 * default route and the signed content. Signing, verification, the delivery diagnosis, the CLI and the testing
 * helpers all read it from here, so a format cannot drift between them.
 *
 * Scalekit signs webhooks the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Other
 * signed calls use the same scheme under another header prefix (`interceptor-id`, …) and their own secret, hence the
 * prefix parameter.
 */

/** The three header names of one signing scheme. */
export interface SignatureHeaderNames {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
}

/** The header names of a scheme whose headers are `<prefix>-id`, `<prefix>-timestamp` and `<prefix>-signature`. */
export function signatureHeaderNames(prefix: string): SignatureHeaderNames {
  return { id: `${prefix}-id`, timestamp: `${prefix}-timestamp`, signature: `${prefix}-signature` };
}

/** Header prefix of webhook deliveries. */
export const WEBHOOK_HEADER_PREFIX = 'webhook';
export const WEBHOOK_HEADERS: SignatureHeaderNames = signatureHeaderNames(WEBHOOK_HEADER_PREFIX);
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/** Route of the module's built-in endpoint, and where the testing helpers and the CLI post by default. */
export const DEFAULT_WEBHOOK_PATH = 'webhooks/scalekit';

/** Largest accepted distance, in seconds, between a delivery's timestamp and now. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Longest accepted `webhook-id` (Svix ids are about 30 characters). */
export const MAX_WEBHOOK_ID_LENGTH = 256;
/** Most entries accepted in `webhook-signature` (one per secret being rotated, plus other versions). */
export const MAX_SIGNATURE_ENTRIES = 16;
/** Longest accepted `webhook-signature` header. */
export const MAX_SIGNATURE_HEADER_LENGTH = MAX_SIGNATURE_ENTRIES * 100;

/** Whole Unix seconds, without sign, spaces or leading zeros. */
export const TIMESTAMP_PATTERN = /^[1-9][0-9]{0,11}$/;
/** A message id: printable ASCII without space or comma (a comma means two headers were joined). */
export const MESSAGE_ID_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;
/** The signature version this scheme signs with: HMAC-SHA256. */
export const SIGNATURE_VERSION = 'v1';
/** A v1 signature is the padded standard base64 of 32 bytes: exactly 43 characters and one '='. */
export const V1_SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/** Length of one well-formed `v1,<signature>` entry. */
export const V1_ENTRY_LENGTH = 47;

/** Longest string body (in UTF-16 units) hashed in one call together with its prefix. */
const SMALL_STRING_BODY = 16_384;

/**
 * The signature of one call: HMAC-SHA256, keyed with the decoded secret, over `${id}.${timestamp}.${body}` where the
 * body is the exact bytes sent (a string is taken as its UTF-8 bytes, without an intermediate copy). A verifier passes
 * the key as a `KeyObject` made once, which spares `createHmac` preparing the key bytes on every call.
 */
export function signedContentHmac(
  key: Buffer | KeyObject,
  id: string,
  timestamp: string | number,
  body: Buffer | Uint8Array | string,
): Buffer {
  const hmac = createHmac('sha256', key);
  if (typeof body === 'string') {
    // A small string body goes in one call with its prefix (one native call fewer); a big one is not copied into a
    // concatenation, it is hashed in two parts.
    return (
      body.length <= SMALL_STRING_BODY
        ? hmac.update(`${id}.${timestamp}.${body}`, 'utf8')
        : hmac.update(`${id}.${timestamp}.`).update(body, 'utf8')
    ).digest();
  }
  return hmac.update(`${id}.${timestamp}.`).update(body).digest();
}

/** The signature header's entry for one signature. */
export function v1SignatureEntry(signature: Buffer): string {
  return `${SIGNATURE_VERSION},${signature.toString('base64')}`;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random id with a prefix, like Svix's `msg_…` ids. */
export function newRandomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) {
    id += ALPHABET[byte % ALPHABET.length];
  }
  return id;
}

/** A fresh `msg_…` message id. */
export function newMessageId(): string {
  return newRandomId('msg_');
}
