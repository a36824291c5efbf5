import type { INestApplication } from '@nestjs/common';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type SignedScalekitWebhook, signScalekitWebhook } from '../core/sign.js';

/** Where {@link sendScalekitWebhook} posts: a Nest app, a Node HTTP server, or a URL. */
export type ScalekitWebhookTarget = INestApplication | Server | string | URL;

export interface SendScalekitWebhookOptions {
  /** The `whsec_…` secret to sign with (the one the app under test is configured with). */
  secret: string;
  /**
   * The endpoint's path. Default `webhooks/scalekit` (the module's default). With a URL target, the path is appended
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

const DEFAULT_PATH = 'webhooks/scalekit';

/**
 * Signs `event` like Scalekit does and posts the exact signed bytes to the app, server or URL, then returns the
 * response. An app or server that is not listening (e.g. after `app.init()` in a test) is listened on 127.0.0.1 with a
 * random port for the duration of the call, and closed again. No dependencies: uses `node:http`.
 *
 * `event` can be an object (serialised with `JSON.stringify`), or a string or bytes sent as they are.
 */
export async function sendScalekitWebhook(
  target: ScalekitWebhookTarget,
  event: object | string | Uint8Array,
  options: SendScalekitWebhookOptions,
): Promise<ScalekitWebhookResponse> {
  if (options === null || typeof options !== 'object' || typeof options.secret !== 'string') {
    throw new TypeError('sendScalekitWebhook: options.secret (the "whsec_…" secret the app verifies with) is required');
  }
  const signed = signScalekitWebhook({
    secret: options.secret,
    payload: event,
    id: options.id,
    timestamp: options.timestamp,
  });
  const headers: Record<string, string | string[]> = {
    ...signed.headers,
    'content-length': String(signed.rawBody.length),
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) {
        delete headers[existing];
      }
    }
    if (value !== undefined) {
      headers[name] = typeof value === 'string' ? value : [...value];
    }
  }

  if (typeof target === 'string' || target instanceof URL) {
    const url = endpointUrl(String(target), options.path);
    return { ...(await post(url, signed.rawBody, headers, options)), sent: signed, url: url.toString() };
  }
  const server = await serverOf(target);
  const release = await acquireListening(server);
  try {
    const url = endpointUrl(baseUrlOf(server), options.path ?? DEFAULT_PATH);
    return { ...(await post(url, signed.rawBody, headers, options)), sent: signed, url: url.toString() };
  } finally {
    await release();
  }
}

function endpointUrl(base: string, path: string | undefined): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new TypeError(`sendScalekitWebhook: ${JSON.stringify(base)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`sendScalekitWebhook: only http: and https: URLs are supported (got ${url.protocol})`);
  }
  const hasOwnPath = url.pathname !== '' && url.pathname !== '/';
  const suffix = path ?? (hasOwnPath ? '' : DEFAULT_PATH);
  if (suffix !== '') {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${suffix.replace(/^\/+/, '')}`;
  }
  return url;
}

interface NestAppLike {
  getHttpServer(): unknown;
  init?(): Promise<unknown>;
  getHttpAdapter?(): { getType?(): string; getInstance?(): unknown } | undefined;
}

async function serverOf(target: INestApplication | Server): Promise<Server> {
  const app = target as unknown as NestAppLike;
  if (typeof app.getHttpServer === 'function') {
    const server = app.getHttpServer() as Server | undefined;
    if (!server || typeof server.address !== 'function') {
      throw new TypeError('sendScalekitWebhook: the app has no HTTP server (create it with an HTTP adapter)');
    }
    if (!server.listening) {
      // As supertest does with `app.getHttpServer()`: the app must be initialised (routes registered), and Fastify
      // must be ready before its server can answer.
      await app.init?.();
      const adapter = app.getHttpAdapter?.();
      if (adapter?.getType?.() === 'fastify') {
        await (adapter.getInstance?.() as { ready?(): Promise<unknown> } | undefined)?.ready?.();
      }
    }
    return server;
  }
  if (target && typeof (target as Server).address === 'function' && typeof (target as Server).listen === 'function') {
    return target as Server;
  }
  throw new TypeError('sendScalekitWebhook: target must be a Nest application, a node:http Server or a URL');
}

/** Servers listened on here, shared by concurrent calls and closed by the last one. */
const temporaryListens = new WeakMap<Server, { users: number; ready: Promise<void> }>();

async function acquireListening(server: Server): Promise<() => Promise<void>> {
  let entry = temporaryListens.get(server);
  if (entry === undefined) {
    if (server.listening) {
      return async () => {}; // the caller's server: leave it as it is
    }
    const ready = new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', onError);
        resolve();
      });
    });
    entry = { users: 0, ready };
    temporaryListens.set(server, entry);
  }
  entry.users++;
  const current = entry;
  try {
    await current.ready;
  } catch (error) {
    temporaryListens.delete(server);
    throw error;
  }
  return async () => {
    current.users--;
    if (current.users === 0 && temporaryListens.get(server) === current) {
      temporaryListens.delete(server);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as Server & { closeIdleConnections?(): void }).closeIdleConnections?.();
      });
    }
  };
}

function baseUrlOf(server: Server): string {
  const address = server.address() as AddressInfo | string | null;
  if (address === null || typeof address === 'string') {
    throw new TypeError('sendScalekitWebhook: the server does not listen on a TCP port');
  }
  const host =
    address.address === '::' || address.address === '0.0.0.0' || address.address === ''
      ? '127.0.0.1'
      : address.family === 'IPv6' || address.address.includes(':')
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}/`;
}

function post(
  url: URL,
  body: Buffer,
  headers: Record<string, string | string[]>,
  options: SendScalekitWebhookOptions,
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
