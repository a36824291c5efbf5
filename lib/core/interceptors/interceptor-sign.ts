import { newRandomId } from '../protocol.js';
import { signWithScheme } from '../sign.js';
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
  return signWithScheme(input, INTERCEPTOR_HEADERS, () => newRandomId('icp_')) as SignedScalekitInterceptor;
}
