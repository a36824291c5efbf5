import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { DEFAULT_INTERCEPTOR_PATH } from '../core/interceptors/interceptor-protocol.js';
import {
  postScalekitInterceptor,
  prepareScalekitInterceptor,
  type ScalekitInterceptorCallResponse,
  type SendScalekitInterceptorOptions,
} from '../core/interceptors/interceptor-send.js';
import { acquireListening, baseUrlOf, serverOf } from './send.js';

/**
 * Signs `request` as Scalekit signs an interceptor call (`interceptor-*` headers, the interceptor's secret) and posts
 * it to the app, server or URL; returns the status and the decision (`response.decision`: `'ALLOW'`, `'DENY'`, or
 * `undefined` for an error status). An app that is not listening is listened on 127.0.0.1 for the call.
 *
 * ```ts
 * const res = await sendScalekitInterceptor(app, buildScalekitInterceptorRequest('PRE_SIGNUP'), { secret });
 * expect(res.decision).toBe('ALLOW');
 * ```
 */
export async function sendScalekitInterceptor(
  target: INestApplication | Server | string | URL,
  request: object | string | Uint8Array,
  options: SendScalekitInterceptorOptions,
): Promise<ScalekitInterceptorCallResponse> {
  const caller = 'sendScalekitInterceptor';
  prepareScalekitInterceptor(request, options, caller); // a bad secret fails before the app is touched
  if (typeof target === 'string' || target instanceof URL) {
    return postScalekitInterceptor(target, undefined, request, options, caller);
  }
  const server = await serverOf(target);
  const release = await acquireListening(server);
  try {
    return await postScalekitInterceptor(baseUrlOf(server), DEFAULT_INTERCEPTOR_PATH, request, options, caller);
  } finally {
    await release();
  }
}
