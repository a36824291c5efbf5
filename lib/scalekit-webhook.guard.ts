import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { ScalekitWebhookError } from './core/index.js';
import {
  SCALEKIT_BUILT_IN_ROUTE_METADATA,
  SCALEKIT_DELIVERY_KEY,
  SCALEKIT_ENDPOINT_METADATA,
  SCALEKIT_LOGGER_CONTEXT,
} from './scalekit-webhook.constants.js';
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
 * Verifies the Scalekit signature over the raw body: size limit first, then media type, headers, timestamp window
 * and HMAC. On success the verified delivery is left on the request for the controller. Usable on your own routes
 * with `@UseGuards(ScalekitWebhookGuard)`, where it only verifies (no deduplication, no `@OnScalekitEvent` handlers);
 * `@ScalekitWebhookEndpoint(name)` on the route picks the registration (secret, limits) when there are several.
 */
@Injectable()
export class ScalekitWebhookGuard implements CanActivate {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  /** Every registration of the app, found on first use of a named endpoint. */
  private registrations: readonly ScalekitWebhookConfig[] | undefined;
  private warnedAmbiguous = false;

  constructor(
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ScalekitWebhookRequest>();
    const receivedAt = new Date();
    try {
      const config = this.configFor(context);
      const rawBody = this.rawBodyOf(request, config);
      const { webhookId, timestamp } = config.verifier.verify(rawBody, request.headers);
      request[SCALEKIT_DELIVERY_KEY] = {
        webhookId,
        timestamp: new Date(timestamp * 1000),
        receivedAt,
        headers: request.headers,
        ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      };
      return true;
    } catch (error) {
      this.report(error, request);
      throw ScalekitWebhookHttpException.from(error);
    }
  }

  /** The registration whose secret verifies this route: the one it names, else the one this guard belongs to. */
  private configFor(context: ExecutionContext): ScalekitWebhookConfig {
    const targets = [context.getHandler(), context.getClass()];
    const name = this.reflector.getAllAndOverride<string | undefined>(SCALEKIT_ENDPOINT_METADATA, targets);
    if (name === undefined) {
      if (!this.warnedAmbiguous && !this.reflector.get<boolean>(SCALEKIT_BUILT_IN_ROUTE_METADATA, context.getClass())) {
        this.warnedAmbiguous = true;
        const names = this.allRegistrations().map((config) => config.endpoint);
        if (names.length > 1) {
          this.logger.warn(
            `${context.getClass().name}.${context.getHandler().name} uses ScalekitWebhookGuard without @ScalekitWebhookEndpoint(name), and there are ${names.length} registrations (${names.map((n) => (n === undefined ? 'unnamed' : `'${n}'`)).join(', ')}): it verifies with the secret of ${this.config.endpoint === undefined ? 'an unnamed one' : `'${this.config.endpoint}'`} only`,
          );
        }
      }
      return this.config;
    }
    if (this.config.endpoint === name) {
      return this.config;
    }
    const found = this.allRegistrations().filter((config) => config.endpoint === name);
    if (found.length !== 1) {
      const known = this.allRegistrations()
        .map((config) => config.endpoint)
        .filter((endpoint): endpoint is string => endpoint !== undefined);
      throw new ScalekitWebhookError(
        'invalid_options',
        `@ScalekitWebhookEndpoint('${name}') on ${context.getClass().name}.${context.getHandler().name}: ${found.length === 0 ? 'no' : found.length} ScalekitWebhookModule registration${found.length === 0 ? ' has' : 's have'} that name (known: ${known.length > 0 ? known.map((n) => `'${n}'`).join(', ') : 'none'})`,
      );
    }
    return found[0]!;
  }

  private allRegistrations(): readonly ScalekitWebhookConfig[] {
    // The guard is instantiated in the module of the route using it, so it looks registrations up app-wide.
    this.registrations ??= [...new Set(this.moduleRef.get(ScalekitWebhookConfig, { strict: false, each: true }))];
    return this.registrations;
  }

  private rawBodyOf(request: ScalekitWebhookRequest, config: ScalekitWebhookConfig): Buffer {
    const declared = Number(request.headers['content-length']);
    const size = Buffer.isBuffer(request.rawBody) ? request.rawBody.length : declared;
    if (size > config.maxBodyBytes) {
      throw new ScalekitWebhookError(
        'payload_too_large',
        `body of ${size} bytes exceeds maxBodyBytes (${config.maxBodyBytes})`,
      );
    }
    const hasBody =
      (Buffer.isBuffer(request.rawBody) && request.rawBody.length > 0) ||
      request.headers['transfer-encoding'] !== undefined ||
      declared > 0;
    if (!hasBody) {
      return EMPTY; // nothing was sent: body parsers leave rawBody unset, which is not a misconfiguration
    }
    const type = String(request.headers['content-type'] ?? '');
    // Scalekit sends JSON. Nest also keeps the raw body of other types (urlencoded on Express and Fastify), and a
    // signed body is verifiable whatever its type, but only application/json is accepted, as the status table says.
    if (type.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw new ScalekitWebhookError(
        'unsupported_media_type',
        `content-type ${JSON.stringify(type.slice(0, 100))} is not application/json`,
      );
    }
    if (Buffer.isBuffer(request.rawBody)) {
      return request.rawBody;
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
