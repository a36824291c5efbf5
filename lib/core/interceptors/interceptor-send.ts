import type { IncomingHttpHeaders } from 'node:http';
import type { SignedScalekitWebhook } from '../sign.js';
import { postSignedWebhook, type PreparedSignedWebhook, requestHeaders } from '../send.js';
import { DEFAULT_INTERCEPTOR_PATH } from './interceptor-protocol.js';
import { type SignedScalekitInterceptor, signScalekitInterceptor } from './interceptor-sign.js';
import type { ScalekitInterceptorAnswer, ScalekitInterceptorDecisionValue } from './interceptor-types.js';

export interface SendScalekitInterceptorOptions {
  /** The interceptor's `whsec_…` secret (the one the app under test verifies with). */
  secret: string;
  /**
   * The endpoint's path. Default `scalekit/interceptors` (`DEFAULT_INTERCEPTOR_PATH`). With a URL target, it is
   * appended only when the URL has no path of its own, or when `path` is given explicitly.
   */
  path?: string;
  /** `interceptor-id`; fresh by default. */
  id?: string;
  /** Call time (a `Date` or Unix seconds); now by default. */
  timestamp?: Date | number;
  /** Extra or replacing request headers; `undefined` removes one. */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Gives up after this many milliseconds. Default: no timeout. */
  timeoutMs?: number;
}

/** What the app answered an interceptor call. */
export interface ScalekitInterceptorCallResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response body parsed as JSON, or its text. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
  /** `ALLOW` or `DENY` when the answer was a `200` carrying one; `undefined` otherwise (an error status). */
  decision: ScalekitInterceptorDecisionValue | undefined;
  /** The whole answer when {@link decision} is set. */
  answer: ScalekitInterceptorAnswer | undefined;
  /** What was sent: the exact body bytes and the signed headers. */
  sent: SignedScalekitInterceptor;
  url: string;
}

/**
 * @internal Signs `request` as Scalekit signs interceptor calls and posts it; `defaultPath` is used when
 * `options.path` is not given and the target has no path of its own.
 */
export async function postScalekitInterceptor(
  target: string | URL,
  defaultPath: string | undefined,
  request: object | string | Uint8Array,
  options: SendScalekitInterceptorOptions,
  caller: string,
): Promise<ScalekitInterceptorCallResponse> {
  const prepared = prepareScalekitInterceptor(request, options, caller);
  let path = options.path ?? defaultPath;
  if (path === undefined) {
    let own = false;
    try {
      const url = new URL(String(target));
      own = url.pathname !== '' && url.pathname !== '/';
    } catch {
      // the shared client reports the bad URL
    }
    path = own ? '' : DEFAULT_INTERCEPTOR_PATH;
  }
  // The shared client only posts bytes and headers; the webhook-typed `sent` is swapped for the interceptor one.
  const shared: PreparedSignedWebhook = {
    signed: prepared.signed as unknown as SignedScalekitWebhook,
    headers: prepared.headers,
  };
  const response = await postSignedWebhook(target, undefined, shared, { ...options, path }, caller);
  const body: unknown = response.body;
  const decision =
    response.status === 200 && body !== null && typeof body === 'object'
      ? (body as { decision?: unknown }).decision
      : undefined;
  const known = decision === 'ALLOW' || decision === 'DENY' ? decision : undefined;
  return {
    status: response.status,
    headers: response.headers,
    body: response.body,
    text: response.text,
    decision: known,
    answer: known === undefined ? undefined : (body as ScalekitInterceptorAnswer),
    sent: prepared.signed,
    url: response.url,
  };
}

/** @internal Signs and builds the headers; fails on a bad secret before anything is sent. */
export function prepareScalekitInterceptor(
  request: object | string | Uint8Array,
  options: SendScalekitInterceptorOptions,
  caller: string,
): { signed: SignedScalekitInterceptor; headers: Record<string, string | string[]> } {
  if (options === null || typeof options !== 'object' || typeof options.secret !== 'string') {
    throw new TypeError(`${caller}: options.secret (the interceptor's "whsec_…" secret) is required`);
  }
  const signed = signScalekitInterceptor({
    secret: options.secret,
    payload: request,
    id: options.id,
    timestamp: options.timestamp,
  });
  return { signed, headers: requestHeaders(signed, options.headers) };
}

/**
 * Signs `request` like Scalekit signs an interceptor call, posts it to `url` and returns the answer with its
 * decision. Used by the CLI's `intercept`; no dependencies.
 */
export function sendSignedScalekitInterceptor(
  url: string | URL,
  request: object | string | Uint8Array,
  options: SendScalekitInterceptorOptions,
): Promise<ScalekitInterceptorCallResponse> {
  return postScalekitInterceptor(url, undefined, request, options, 'sendSignedScalekitInterceptor');
}
