import {
  Controller,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  SetMetadata,
  type Type,
  UseFilters,
  UseGuards,
  VERSION_NEUTRAL,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ScalekitWebhookReceipt } from './core/receiver/webhook-receiver.js';
import { ScalekitWebhookReceiver } from './core/receiver/webhook-receiver.js';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { SCALEKIT_BUILT_IN_ROUTE_METADATA } from './scalekit-webhook.constants.js';
import { ScalekitOutcomeException } from './scalekit-webhook.exception.js';
import { ScalekitWebhookExceptionFilter } from './scalekit-webhook.filter.js';
import { ScalekitWebhookGuard, type ScalekitWebhookRequest } from './scalekit-webhook.guard.js';
import { SCALEKIT_VERIFIED_DELIVERIES } from './scalekit-verified-deliveries.js';

export type { ScalekitWebhookReceipt } from './core/receiver/webhook-receiver.js';

/**
 * Builds the controller of one registration. Each registration gets its own class, so several endpoints in one
 * app never share route metadata.
 */
export function createScalekitWebhookController(
  path: string,
  decorators: readonly ClassDecorator[] = [],
): Type<unknown> {
  // Version-neutral: Scalekit posts to one fixed URL, which `app.enableVersioning()` must neither move (`/v1/…`) nor
  // hide (header or media-type versioning with a default version would answer 404 to a request without a version).
  @Controller({ path, version: VERSION_NEUTRAL })
  @UseGuards(ScalekitWebhookGuard)
  @SetMetadata(SCALEKIT_BUILT_IN_ROUTE_METADATA, true)
  @UseFilters(ScalekitWebhookExceptionFilter)
  class ScalekitWebhookController {
    constructor(
      @Inject(ScalekitWebhookReceiver) private readonly receiver: ScalekitWebhookReceiver,
      @Inject(ScalekitEventDispatcher) private readonly dispatcher: ScalekitEventDispatcher,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    ) {}

    /**
     * Guard (verify) → receiver (parse and validate, claim, dispatch or enqueue) → its outcome, written as is: a 2xx
     * through the HTTP adapter (Express and Fastify alike), a failure through the route's exception filter, so no
     * host-app interceptor or filter can turn it into a 2xx. Request-scoped handlers get this request as `REQUEST`.
     */
    @Post()
    @HttpCode(200)
    async receive(
      @Req() request: ScalekitWebhookRequest,
      @Res({ passthrough: true }) response: unknown,
    ): Promise<ScalekitWebhookReceipt> {
      const outcome = await this.receiver.receive({
        rawBody: request.rawBody ?? Buffer.alloc(0),
        delivery: SCALEKIT_VERIFIED_DELIVERIES.take(request)!,
        scope: this.dispatcher.scopeFor(request),
      });
      if (outcome.status >= 300) {
        throw new ScalekitOutcomeException(outcome);
      }
      const adapter = this.adapterHost.httpAdapter;
      adapter.status(response, outcome.status);
      for (const name in outcome.headers) {
        adapter.setHeader(response, name, outcome.headers[name]!);
      }
      return outcome.body as ScalekitWebhookReceipt;
    }
  }
  for (const decorate of decorators) {
    decorate(ScalekitWebhookController);
  }
  return ScalekitWebhookController;
}
