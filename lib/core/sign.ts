import {
  newMessageId,
  signedContentHmac,
  v1SignatureEntry,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
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
  const key = ScalekitSigningKey.parse(input.secret);
  const rawBody = toBytes(input.payload);
  const id = input.id ?? newMessageId();
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
      [WEBHOOK_ID_HEADER]: id,
      [WEBHOOK_TIMESTAMP_HEADER]: String(seconds),
      [WEBHOOK_SIGNATURE_HEADER]: v1SignatureEntry(signature),
    } as SignedScalekitWebhook['headers'],
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
