import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { ScalekitWebhookError } from './core/index.js';
import { SCALEKIT_DELIVERY_KEY, SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import { ScalekitWebhookHttpException } from './scalekit-webhook.exception.js';
import type { ScalekitDelivery } from './scalekit-webhook.interfaces.js';

/** The request as Express and Fastify give it to Nest when the app is created with `rawBody: true`. */
export interface ScalekitWebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
  [SCALEKIT_DELIVERY_KEY]?: ScalekitDelivery;
}

const EMPTY = Buffer.alloc(0);

const RAW_BODY_MISSING =
  'req.rawBody is not set, so the signature cannot be verified over the bytes Scalekit signed. ' +
  'Create the app with `NestFactory.create(AppModule, { rawBody: true })` (Express and Fastify alike) and do not ' +
  'pass `bodyParser: false`; a custom JSON body parser must keep the raw body (`app.useBodyParser("json", { limit })` does).';

/**
 * Verifies the Scalekit signature over the raw body: size limit first, then headers, timestamp window and HMAC.
 * On success the verified delivery is left on the request for the controller. Usable on your own routes with
 * `@UseGuards(ScalekitWebhookGuard)`.
 */
@Injectable()
export class ScalekitWebhookGuard implements CanActivate {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  constructor(@Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ScalekitWebhookRequest>();
    const receivedAt = new Date();
    try {
      const rawBody = this.rawBodyOf(request);
      const { webhookId, timestamp } = this.config.verifier.verify(rawBody, request.headers);
      request[SCALEKIT_DELIVERY_KEY] = {
        webhookId,
        timestamp: new Date(timestamp * 1000),
        receivedAt,
        headers: request.headers,
        ...(this.config.endpoint === undefined ? {} : { endpoint: this.config.endpoint }),
      };
      return true;
    } catch (error) {
      this.report(error, request);
      throw ScalekitWebhookHttpException.from(error);
    }
  }

  private rawBodyOf(request: ScalekitWebhookRequest): Buffer {
    const declared = Number(request.headers['content-length']);
    const size = Buffer.isBuffer(request.rawBody) ? request.rawBody.length : declared;
    if (size > this.config.maxBodyBytes) {
      throw new ScalekitWebhookError(
        'payload_too_large',
        `body of ${size} bytes exceeds maxBodyBytes (${this.config.maxBodyBytes})`,
      );
    }
    if (Buffer.isBuffer(request.rawBody)) {
      return request.rawBody;
    }
    if (request.headers['transfer-encoding'] === undefined && !(declared > 0)) {
      return EMPTY; // nothing was sent: body parsers leave rawBody unset, which is not a misconfiguration
    }
    const type = String(request.headers['content-type'] ?? '');
    // Only plain application/json is captured by Nest's body parsers; anything else never has a raw body.
    if (type.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw new ScalekitWebhookError(
        'unsupported_media_type',
        `content-type ${JSON.stringify(type.slice(0, 100))} is not application/json`,
      );
    }
    throw new ScalekitWebhookError('raw_body_missing', RAW_BODY_MISSING);
  }

  private report(error: unknown, request: ScalekitWebhookRequest): void {
    const id = request.headers['webhook-id'];
    const label = typeof id === 'string' ? ` ${JSON.stringify(id.slice(0, 64))}` : '';
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ScalekitWebhookError && error.status < 500) {
      this.logger.warn(`Rejected delivery${label} (${error.code}): ${message}`);
    } else {
      this.logger.error(`Cannot verify delivery${label}: ${message}`);
    }
  }
}
