import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { ScalekitWebhookError } from './core/index.js';
import { ScalekitWebhookReceiver } from './core/receiver/webhook-receiver.js';
import {
  SCALEKIT_BUILT_IN_ROUTE_METADATA,
  SCALEKIT_DELIVERY_KEY,
  SCALEKIT_ENDPOINT_METADATA,
  SCALEKIT_LOGGER_CONTEXT,
} from './scalekit-webhook.constants.js';
import { ScalekitWebhookHttpException } from './scalekit-webhook.exception.js';
import type { ScalekitDelivery } from './interfaces/scalekit-webhook.interfaces.js';
import { SCALEKIT_VERIFIED_DELIVERIES } from './scalekit-verified-deliveries.js';

/** The request as Express and Fastify give it to Nest when the app is created with `rawBody: true`. */
export interface ScalekitWebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
  [SCALEKIT_DELIVERY_KEY]?: ScalekitDelivery;
}

/** How the guard verifies one route. */
interface GuardedRoute {
  /** The registration whose secret verifies it: the one it names, else the one this guard belongs to. */
  readonly receiver: ScalekitWebhookReceiver;
  /** The module's own controller (which takes the delivery from the hand-over, not from the request). */
  readonly builtIn: boolean;
}

/**
 * Verifies the Scalekit signature over the raw body through the registration's receiver: size limit first, then
 * media type, headers, timestamp window and HMAC. On success the verified delivery is left on the request for the controller. Usable on your own routes
 * with `@UseGuards(ScalekitWebhookGuard)`, where it only verifies (no deduplication, no `@OnScalekitEvent` handlers);
 * `@ScalekitWebhookEndpoint(name)` on the route picks the registration (secret, limits) when there are several.
 */
@Injectable()
export class ScalekitWebhookGuard implements CanActivate {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  /** Every registration of the app, found on first use of a named endpoint. */
  private registrations: readonly ScalekitWebhookReceiver[] | undefined;
  private warnedAmbiguous = false;

  constructor(
    @Inject(ScalekitWebhookReceiver) private readonly receiver: ScalekitWebhookReceiver,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ScalekitWebhookRequest>();
    const receivedAt = new Date();
    try {
      const route = this.routeOf(context);
      const delivery = route.receiver.verify({
        headers: request.headers,
        rawBody: Buffer.isBuffer(request.rawBody) ? request.rawBody : undefined,
        receivedAt,
      });
      // The built-in controller takes it from the hand-over; your own routes read it from the request (decorators).
      if (route.builtIn) {
        SCALEKIT_VERIFIED_DELIVERIES.put(request, delivery);
      } else {
        request[SCALEKIT_DELIVERY_KEY] = delivery;
      }
      return true;
    } catch (error) {
      this.report(error, request);
      throw ScalekitWebhookHttpException.from(error);
    }
  }

  /** How each route is verified, per controller class and route method, once found. */
  private readonly resolved = new WeakMap<object, WeakMap<object, GuardedRoute>>();

  /** How a route is verified. Route metadata is fixed once the app is up: looked up on its first request only. */
  private routeOf(context: ExecutionContext): GuardedRoute {
    const controller = context.getClass();
    const handler = context.getHandler();
    let routes = this.resolved.get(controller);
    const known = routes?.get(handler);
    if (known !== undefined) {
      return known;
    }
    const route: GuardedRoute = {
      receiver: this.findReceiver(context),
      builtIn: this.reflector.get<boolean>(SCALEKIT_BUILT_IN_ROUTE_METADATA, controller) === true,
    };
    if (routes === undefined) {
      routes = new WeakMap();
      this.resolved.set(controller, routes);
    }
    routes.set(handler, route);
    return route;
  }

  private findReceiver(context: ExecutionContext): ScalekitWebhookReceiver {
    const targets = [context.getHandler(), context.getClass()];
    const name = this.reflector.getAllAndOverride<string | undefined>(SCALEKIT_ENDPOINT_METADATA, targets);
    if (name === undefined) {
      if (!this.warnedAmbiguous && !this.reflector.get<boolean>(SCALEKIT_BUILT_IN_ROUTE_METADATA, context.getClass())) {
        this.warnedAmbiguous = true;
        const names = this.allRegistrations().map((receiver) => receiver.endpoint);
        if (names.length > 1) {
          this.logger.warn(
            `${context.getClass().name}.${context.getHandler().name} uses ScalekitWebhookGuard without @ScalekitWebhookEndpoint(name), and there are ${names.length} registrations (${names.map((n) => (n === undefined ? 'unnamed' : `'${n}'`)).join(', ')}): it verifies with the secret of ${this.receiver.endpoint === undefined ? 'an unnamed one' : `'${this.receiver.endpoint}'`} only`,
          );
        }
      }
      return this.receiver;
    }
    if (this.receiver.endpoint === name) {
      return this.receiver;
    }
    const found = this.allRegistrations().filter((receiver) => receiver.endpoint === name);
    if (found.length !== 1) {
      const known = this.allRegistrations()
        .map((receiver) => receiver.endpoint)
        .filter((endpoint): endpoint is string => endpoint !== undefined);
      throw new ScalekitWebhookError(
        'invalid_options',
        `@ScalekitWebhookEndpoint('${name}') on ${context.getClass().name}.${context.getHandler().name}: ${found.length === 0 ? 'no' : found.length} ScalekitWebhookModule registration${found.length === 0 ? ' has' : 's have'} that name (known: ${known.length > 0 ? known.map((n) => `'${n}'`).join(', ') : 'none'})`,
      );
    }
    return found[0]!;
  }

  private allRegistrations(): readonly ScalekitWebhookReceiver[] {
    // The guard is instantiated in the module of the route using it, so it looks registrations up app-wide.
    this.registrations ??= [...new Set(this.moduleRef.get(ScalekitWebhookReceiver, { strict: false, each: true }))];
    return this.registrations;
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
