import { Controller, HttpCode, Inject, Post, Req, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { parseScalekitEventPayload } from './core/index.js';
import { ScalekitEventProcessor } from './scalekit-event.processor.js';
import { SCALEKIT_DELIVERY_KEY } from './scalekit-webhook.constants.js';
import { ScalekitWebhookExceptionFilter } from './scalekit-webhook.filter.js';
import { ScalekitWebhookGuard, type ScalekitWebhookRequest } from './scalekit-webhook.guard.js';

export interface ScalekitWebhookReceipt {
  received: true;
}

/**
 * Builds the controller of one registration. Each registration gets its own class, so several endpoints in one
 * app never share route metadata.
 */
export function createScalekitWebhookController(path: string, decorators: readonly ClassDecorator[] = []): Type<unknown> {
  @Controller(path)
  @UseGuards(ScalekitWebhookGuard)
  @UseFilters(ScalekitWebhookExceptionFilter)
  class ScalekitWebhookController {
    constructor(@Inject(ScalekitEventProcessor) private readonly processor: ScalekitEventProcessor) {}

    /** Guard (verify) → parse and validate → process (idempotency, dispatch). */
    @Post()
    @HttpCode(200)
    async receive(@Req() request: ScalekitWebhookRequest): Promise<ScalekitWebhookReceipt> {
      const delivery = request[SCALEKIT_DELIVERY_KEY]!;
      const event = parseScalekitEventPayload(request.rawBody ?? Buffer.alloc(0));
      await this.processor.process(event, delivery, request);
      return { received: true };
    }
  }
  for (const decorate of decorators) {
    decorate(ScalekitWebhookController);
  }
  return ScalekitWebhookController;
}
