import { Controller, Inject, Post, Req, Res, type Type, VERSION_NEUTRAL } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { ScalekitInterceptorReceiver } from '../core/interceptors/index.js';

/** The request as Express and Fastify give it to Nest when the app is created with `rawBody: true`. */
interface InterceptorHttpRequest {
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
}

/** What the controller needs of a response object: the underlying Node response, to notice a closed connection. */
interface NodeResponseLike {
  raw?: NodeResponseLike;
  writableFinished?: boolean;
  once?(event: 'close', listener: () => void): unknown;
  off?(event: 'close', listener: () => void): unknown;
}

/**
 * Builds the controller of one registration: it only hands the raw body and headers to the framework-free receiver
 * and writes the outcome through the HTTP adapter (Express and Fastify alike). Nothing is decided here.
 */
export function createScalekitInterceptorController(path: string): Type<unknown> {
  // Version-neutral: Scalekit posts to one fixed URL, which `app.enableVersioning()` must neither move nor hide.
  @Controller({ path, version: VERSION_NEUTRAL })
  class ScalekitInterceptorController {
    constructor(
      @Inject(ScalekitInterceptorReceiver) private readonly receiver: ScalekitInterceptorReceiver,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Post()
    async receive(@Req() request: InterceptorHttpRequest, @Res() response: unknown): Promise<void> {
      const gone = new AbortController();
      const node = ((response as NodeResponseLike).raw ?? response) as NodeResponseLike;
      const onClose = () => {
        if (!node.writableFinished) {
          gone.abort();
        }
      };
      node.once?.('close', onClose);
      try {
        const outcome = await this.receiver.receive({
          headers: request.headers,
          rawBody: Buffer.isBuffer(request.rawBody) ? request.rawBody : undefined,
          signal: gone.signal,
        });
        const adapter = this.adapterHost.httpAdapter;
        for (const [name, value] of Object.entries(outcome.headers)) {
          adapter.setHeader(response as never, name, value);
        }
        adapter.reply(response as never, outcome.body, outcome.status);
      } finally {
        node.off?.('close', onClose);
      }
    }
  }
  return ScalekitInterceptorController;
}
