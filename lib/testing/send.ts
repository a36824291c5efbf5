import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WEBHOOK_PATH } from '../core/protocol.js';
import {
  postSignedWebhook,
  prepareSignedWebhook,
  type ScalekitWebhookResponse,
  type SendSignedScalekitWebhookOptions,
} from '../core/send.js';

export type { ScalekitWebhookResponse } from '../core/send.js';

/** Where {@link sendScalekitWebhook} posts: a Nest app, a Node HTTP server, or a URL. */
export type ScalekitWebhookTarget = INestApplication | Server | string | URL;

/** The options of {@link sendScalekitWebhook} (the same as the core's `sendSignedScalekitWebhook`). */
export type SendScalekitWebhookOptions = SendSignedScalekitWebhookOptions;

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
  const caller = 'sendScalekitWebhook';
  const prepared = prepareSignedWebhook(event, options, caller);
  if (typeof target === 'string' || target instanceof URL) {
    return postSignedWebhook(target, undefined, prepared, options, caller);
  }
  const server = await serverOf(target);
  const release = await acquireListening(server);
  try {
    return await postSignedWebhook(baseUrlOf(server), DEFAULT_WEBHOOK_PATH, prepared, options, caller);
  } finally {
    await release();
  }
}

interface NestAppLike {
  getHttpServer(): unknown;
  init?(): Promise<unknown>;
  getHttpAdapter?(): { getType?(): string; getInstance?(): unknown } | undefined;
}

/** @internal */
export async function serverOf(target: INestApplication | Server): Promise<Server> {
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

/** @internal */
export async function acquireListening(server: Server): Promise<() => Promise<void>> {
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

/** @internal */
export function baseUrlOf(server: Server): string {
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
