import { newRandomId, signedContentHmac, v1SignatureEntry } from '../protocol.js';
import { ScalekitSigningKey } from '../secret.js';
import { INTERCEPTOR_HEADERS } from './interceptor-protocol.js';

export interface SignScalekitInterceptorInput {
  /** The interceptor's `whsec_…` secret (dashboard > Interceptors), not the webhook endpoint's. */
  secret: string;
  /** The request body: an object is serialised with `JSON.stringify`; a string or bytes are signed as they are. */
  payload: unknown;
  /** `interceptor-id`; a fresh `icp_…` id by default. */
  id?: string;
  /** Call time: a `Date` or Unix seconds. Now by default. */
  timestamp?: Date | number;
}

export interface SignedScalekitInterceptor {
  /** The body to send, as text. */
  body: string;
  /** The exact signed bytes. */
  rawBody: Buffer;
  headers: {
    'content-type': 'application/json';
    'interceptor-id': string;
    'interceptor-timestamp': string;
    'interceptor-signature': string;
  };
}

/**
 * Signs an interceptor request exactly as Scalekit does (the webhook scheme under `interceptor-*` headers), for tests
 * and local tools.
 */
export function signScalekitInterceptor(input: SignScalekitInterceptorInput): SignedScalekitInterceptor {
  const key = ScalekitSigningKey.parse(input.secret);
  const rawBody = toBytes(input.payload);
  const id = input.id ?? newRandomId('icp_');
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
      [INTERCEPTOR_HEADERS.id]: id,
      [INTERCEPTOR_HEADERS.timestamp]: String(seconds),
      [INTERCEPTOR_HEADERS.signature]: v1SignatureEntry(signature),
    } as SignedScalekitInterceptor['headers'],
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
