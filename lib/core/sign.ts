import {
  newMessageId,
  type SignatureHeaderNames,
  signedContentHmac,
  v1SignatureEntry,
  WEBHOOK_HEADERS,
} from './protocol.js';
import { ScalekitSigningKey } from './secret.js';

export interface SignScalekitWebhookInput {
  /** The `whsec_…` secret to sign with. */
  secret: string;
  /** The event: an object is serialised with `JSON.stringify`; a string or bytes are signed as they are. */
  payload: unknown;
  /** `webhook-id`; a fresh `msg_…` id by default. Reuse one to simulate a retry. */
  id?: string;
  /** Attempt time: a `Date` or Unix seconds. Now by default. */
  timestamp?: Date | number;
}

export interface SignedScalekitWebhook {
  /** The body to send, as text. */
  body: string;
  /** The exact signed bytes (differ from `body` only when the payload was bytes that are not valid UTF-8). */
  rawBody: Buffer;
  headers: {
    'content-type': 'application/json';
    'webhook-id': string;
    'webhook-timestamp': string;
    'webhook-signature': string;
  };
}

/** Signs a payload exactly as Scalekit does, for tests and local tools. */
export function signScalekitWebhook(input: SignScalekitWebhookInput): SignedScalekitWebhook {
  const signed = signWithScheme(input, WEBHOOK_HEADERS, newMessageId);
  return signed as SignedScalekitWebhook;
}

/**
 * The one signing path of every scheme (webhooks, interceptors): the payload's bytes, an id (`newId()` unless given),
 * the time in Unix seconds, and the `v1` HMAC over `id.timestamp.body`, under the scheme's header names. Internal.
 */
export function signWithScheme(
  input: { secret: string; payload: unknown; id?: string; timestamp?: Date | number },
  names: SignatureHeaderNames,
  newId: () => string,
): { body: string; rawBody: Buffer; headers: Record<string, string> } {
  const key = ScalekitSigningKey.parse(input.secret);
  const rawBody = toBytes(input.payload);
  const id = input.id ?? newId();
  const seconds =
    input.timestamp === undefined
      ? Math.floor(Date.now() / 1000)
      : input.timestamp instanceof Date
        ? Math.floor(input.timestamp.getTime() / 1000)
        : Math.floor(input.timestamp);
  const signature = signedContentHmac(key.bytes, id, seconds, rawBody);
  return {
    body: rawBody.toString('utf8'),
    rawBody,
    headers: {
      'content-type': 'application/json',
      [names.id]: id,
      [names.timestamp]: String(seconds),
      [names.signature]: v1SignatureEntry(signature),
    },
  };
}

function toBytes(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) {
    return payload;
  }
  if (payload instanceof Uint8Array) {
    return Buffer.from(payload);
  }
  if (typeof payload === 'string') {
    return Buffer.from(payload, 'utf8');
  }
  return Buffer.from(JSON.stringify(payload), 'utf8');
}
