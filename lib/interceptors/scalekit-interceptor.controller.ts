import { Controller, Inject, Post, Req, Res, type Type, VERSION_NEUTRAL } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { ScalekitInterceptorReceiver, type ScalekitInterceptorReceiveInput } from '../core/interceptors/index.js';

/** The request as Express and Fastify give it to Nest when the app is created with `rawBody: true`. */
interface InterceptorHttpRequest {
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
}

/** What the controller needs of a response object: the underlying Node response, to notice a closed connection. */
interface NodeResponseLike {
  raw?: NodeResponseLike;
  writableFinished?: boolean;
  destroyed?: boolean;
  once?(event: 'close', listener: () => void): unknown;
  off?(event: 'close', listener: () => void): unknown;
}

/**
 * One call as the receiver reads it. Its `signal`, aborted when the client goes away before the answer is written,
 * is made only if the receiver asks for it (when the handler reads its own signal): most calls never need it.
 */
class InterceptorHttpCall implements ScalekitInterceptorReceiveInput {
  readonly rawBody: Buffer | undefined;
  readonly #node: NodeResponseLike;
  #gone: AbortController | undefined;
  #onClose: (() => void) | undefined;

  constructor(
    readonly headers: IncomingHttpHeaders,
    rawBody: unknown,
    response: unknown,
  ) {
    this.rawBody = Buffer.isBuffer(rawBody) ? rawBody : undefined;
    this.#node = ((response as NodeResponseLike).raw ?? response) as NodeResponseLike;
  }

  get signal(): AbortSignal {
    if (this.#gone === undefined) {
      const gone = new AbortController();
      this.#gone = gone;
      const node = this.#node;
      if (node.destroyed === true && !node.writableFinished) {
        gone.abort(); // already gone
      } else {
        this.#onClose = () => {
          if (!node.writableFinished) {
            gone.abort();
          }
        };
        node.once?.('close', this.#onClose);
      }
    }
    return this.#gone.signal;
  }

  /** The answer is written: stop watching the connection. */
  done(): void {
    if (this.#onClose !== undefined) {
      this.#node.off?.('close', this.#onClose);
      this.#onClose = undefined;
    }
  }
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
      const call = new InterceptorHttpCall(request.headers, request.rawBody, response);
      try {
        const outcome = await this.receiver.receive(call);
        const adapter = this.adapterHost.httpAdapter;
        for (const name in outcome.headers) {
          adapter.setHeader(response as never, name, outcome.headers[name]!);
        }
        adapter.reply(response as never, outcome.body, outcome.status);
      } finally {
        call.done();
      }
    }
  }
  return ScalekitInterceptorController;
}
