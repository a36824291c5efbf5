import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DEFAULT_WEBHOOK_PATH } from './protocol.js';
import { type SignedScalekitWebhook, signScalekitWebhook } from './sign.js';

export interface SendSignedScalekitWebhookOptions {
  /** The `whsec_…` secret to sign with (the one the app under test is configured with). */
  secret: string;
  /**
   * The endpoint's path. Default `webhooks/scalekit` (the module's default, `DEFAULT_WEBHOOK_PATH`). With a URL target, the path is appended
   * to the URL only when the URL has no path of its own, or when `path` is given explicitly.
   */
  path?: string;
  /** `webhook-id`; fresh by default. Reuse one to simulate a retry of the same message. */
  id?: string;
  /** Attempt time (a `Date` or Unix seconds); now by default. Use an old one to test the replay window. */
  timestamp?: Date | number;
  /** Extra or replacing request headers; `undefined` removes a header (e.g. to test a missing `webhook-id`). */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** HTTP method. Default `POST`. */
  method?: string;
  /** Gives up after this many milliseconds. Default: no timeout. */
  timeoutMs?: number;
}

export interface ScalekitWebhookResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response body parsed as JSON, or its text when it is not JSON (`''` when empty). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The response body as text. */
  text: string;
  /** What was sent: the exact body bytes and the signed headers. */
  sent: SignedScalekitWebhook;
  /** The URL the request went to. */
  url: string;
}

/**
 * Signs `event` like Scalekit does and posts the exact signed bytes to `url`, then returns the response. The client
 * the CLI's `trigger` and the testing helpers share; no dependencies (`node:http`/`node:https`).
 *
 * `event` can be an object (serialised with `JSON.stringify`), or a string or bytes sent as they are. The endpoint's
 * path is appended to the URL only when the URL has no path of its own, or when `options.path` is given.
 */
export async function sendSignedScalekitWebhook(
  url: string | URL,
  event: object | string | Uint8Array,
  options: SendSignedScalekitWebhookOptions,
): Promise<ScalekitWebhookResponse> {
  const caller = 'sendSignedScalekitWebhook';
  return postSignedWebhook(url, undefined, prepareSignedWebhook(event, options, caller), options, caller);
}

/** @internal A signed request, ready to post: see {@link postSignedWebhook}. */
export interface PreparedSignedWebhook {
  signed: SignedScalekitWebhook;
  headers: Record<string, string | string[]>;
}

/**
 * @internal Signs and builds the headers (with `options.headers` applied). Separate from {@link postSignedWebhook}
 * so the testing helpers fail on a bad secret before they touch the app. `caller` names the public function in errors.
 */
export function prepareSignedWebhook(
  event: object | string | Uint8Array,
  options: SendSignedScalekitWebhookOptions,
  caller: string,
): PreparedSignedWebhook {
  if (options === null || typeof options !== 'object' || typeof options.secret !== 'string') {
    throw new TypeError(`${caller}: options.secret (the "whsec_…" secret the app verifies with) is required`);
  }
  const signed = signScalekitWebhook({
    secret: options.secret,
    payload: event,
    id: options.id,
    timestamp: options.timestamp,
  });
  return { signed, headers: requestHeaders(signed, options.headers) };
}

/**
 * @internal The headers of a signed request: the signature headers and the length, then `extra` replacing any of
 * them whatever the case (`undefined` removes one). Shared by the webhook and the interceptor clients.
 */
export function requestHeaders(
  signed: { headers: Readonly<Record<string, string>>; rawBody: Buffer },
  extra: Readonly<Record<string, string | readonly string[] | undefined>> | undefined,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    ...signed.headers,
    'content-length': String(signed.rawBody.length),
  };
  for (const [name, value] of Object.entries(extra ?? {})) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) {
        delete headers[existing];
      }
    }
    if (value !== undefined) {
      headers[name] = typeof value === 'string' ? value : [...value];
    }
  }
  return headers;
}

/**
 * @internal Posts a prepared request. `defaultPath` is appended when `options.path` is not given: the testing
 * helpers pass the module's route when they resolved a server's own address.
 */
export async function postSignedWebhook(
  target: string | URL,
  defaultPath: string | undefined,
  prepared: PreparedSignedWebhook,
  options: SendSignedScalekitWebhookOptions,
  caller: string,
): Promise<ScalekitWebhookResponse> {
  const url = endpointUrl(String(target), options.path ?? defaultPath, caller);
  return {
    ...(await post(url, prepared.signed.rawBody, prepared.headers, options)),
    sent: prepared.signed,
    url: url.toString(),
  };
}

function endpointUrl(base: string, path: string | undefined, caller: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new TypeError(`${caller}: ${JSON.stringify(base)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${caller}: only http: and https: URLs are supported (got ${url.protocol})`);
  }
  const hasOwnPath = url.pathname !== '' && url.pathname !== '/';
  const suffix = path ?? (hasOwnPath ? '' : DEFAULT_WEBHOOK_PATH);
  if (suffix !== '') {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${suffix.replace(/^\/+/, '')}`;
  }
  return url;
}

function post(
  url: URL,
  body: Buffer,
  headers: Record<string, string | string[]>,
  options: SendSignedScalekitWebhookOptions,
): Promise<Omit<ScalekitWebhookResponse, 'sent' | 'url'>> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: options.method ?? 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        if (text.trim() !== '') {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
    });
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => {
        req.destroy(new Error(`no response from ${url.origin} within ${options.timeoutMs} ms`));
      });
    }
    req.on('error', reject);
    req.end(body);
  });
}
