import { createHmac, randomBytes } from 'node:crypto';
import { WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './headers.js';
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
  const signature = createHmac('sha256', key.bytes).update(`${id}.${seconds}.`).update(rawBody).digest('base64');
  return {
    body: rawBody.toString('utf8'),
    rawBody,
    headers: {
      'content-type': 'application/json',
      [WEBHOOK_ID_HEADER]: id,
      [WEBHOOK_TIMESTAMP_HEADER]: String(seconds),
      [WEBHOOK_SIGNATURE_HEADER]: `v1,${signature}`,
    } as SignedScalekitWebhook['headers'],
  };
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

export function newMessageId(): string {
  return newRandomId('msg_');
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
