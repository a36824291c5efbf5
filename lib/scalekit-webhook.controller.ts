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
import { parseScalekitEventPayload } from './core/index.js';
import { ScalekitEventProcessor } from './scalekit-event.processor.js';
import { SCALEKIT_BUILT_IN_ROUTE_METADATA, SCALEKIT_DELIVERY_KEY } from './scalekit-webhook.constants.js';
import { ScalekitWebhookExceptionFilter } from './scalekit-webhook.filter.js';
import { ScalekitWebhookGuard, type ScalekitWebhookRequest } from './scalekit-webhook.guard.js';

/** The body of every 2xx: `{"received":true}` (200, inline), `{"received":true,"queued":true}` (202, queue mode). */
export interface ScalekitWebhookReceipt {
  received: true;
  /** Queue mode: the event is durably queued; workers run its handlers. */
  queued?: true;
}

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
      @Inject(ScalekitEventProcessor) private readonly processor: ScalekitEventProcessor,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    ) {}

    /**
     * Guard (verify) → parse and validate → process (idempotency, then dispatch, or enqueue). 200 once handled
     * inline; 202 once durably queued (the status is set through the HTTP adapter: Express and Fastify alike).
     */
    @Post()
    @HttpCode(200)
    async receive(
      @Req() request: ScalekitWebhookRequest,
      @Res({ passthrough: true }) response: unknown,
    ): Promise<ScalekitWebhookReceipt> {
      const delivery = request[SCALEKIT_DELIVERY_KEY]!;
      const rawBody = request.rawBody ?? Buffer.alloc(0);
      let outcome;
      try {
        outcome = await this.processor.process(parseScalekitEventPayload(rawBody), delivery, request);
      } catch (error) {
        this.processor.reportRefusal(error, delivery, eventIdOf(rawBody));
        throw error;
      }
      // Queue mode answers 202 for the first copy ('queued') and for copies of an event already accepted ('duplicate').
      if (outcome === 'queued' || (outcome === 'duplicate' && this.processor.queued)) {
        this.adapterHost.httpAdapter.status(response, 202);
        return { received: true, queued: true };
      }
      return { received: true };
    }
  }
  for (const decorate of decorators) {
    decorate(ScalekitWebhookController);
  }
  return ScalekitWebhookController;
}

/** The event id of a body, if it has one, for log lines about a refused delivery (its envelope may be invalid). */
function eventIdOf(rawBody: Buffer): string | undefined {
  try {
    const id = (JSON.parse(rawBody.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
