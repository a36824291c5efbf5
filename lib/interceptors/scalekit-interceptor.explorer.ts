import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ContextIdFactory, DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import {
  isKnownScalekitInterceptorTrigger,
  type ScalekitInterceptorContext,
  ScalekitInterceptorHandlerRegistry,
  ScalekitInterceptorReceiver,
  type ScalekitInterceptorRequestBody,
} from '../core/interceptors/index.js';
import {
  SCALEKIT_INTERCEPTOR_HANDLER_METADATA,
  type ScalekitInterceptorHandlerMetadata,
} from '../decorators/on-scalekit-interceptor.decorator.js';
import { ScalekitWebhookError } from '../core/errors.js';
import { findDecoratedMethods } from '../scalekit-handler.discovery.js';
import {
  SCALEKIT_INTERCEPTOR_LOGGER_CONTEXT,
  ScalekitInterceptorRoute,
} from '../interfaces/scalekit-interceptor.interfaces.js';

type HandlerMethod = (request: ScalekitInterceptorRequestBody, context: ScalekitInterceptorContext) => unknown;

/**
 * Finds `@OnScalekitInterceptor()` methods on providers (every kind: class, useClass, useFactory, useValue) and
 * controllers at start-up, and registers them with this registration's handler registry, which refuses a second
 * handler for a trigger. Request-scoped and transient classes get a fresh instance per call.
 * The discovery walk is the webhook explorer's (`findDecoratedMethods`).
 */
@Injectable()
export class ScalekitInterceptorExplorer implements OnModuleInit {
  private readonly logger = new Logger(SCALEKIT_INTERCEPTOR_LOGGER_CONTEXT);

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(ScalekitInterceptorHandlerRegistry) private readonly registry: ScalekitInterceptorHandlerRegistry,
    @Inject(ScalekitInterceptorReceiver) private readonly receiver: ScalekitInterceptorReceiver,
    @Inject(ScalekitInterceptorRoute) private readonly route: ScalekitInterceptorRoute,
  ) {}

  onModuleInit(): void {
    if (this.receiver.settings.onError === 'allow') {
      this.logger.warn(
        "onError is 'allow': when a handler throws, overruns timeoutMs or returns an invalid answer, or a trigger has no handler, the flow is ALLOWED (fail open). Prefer 'fail' (the dashboard's failure policy decides) or 'deny'",
      );
    }
    this.checkRoutes([...this.discovery.getProviders(), ...this.discovery.getControllers()].map((w) => w.instance));
    const found = findDecoratedMethods<ScalekitInterceptorHandlerMetadata>(
      this.discovery,
      this.scanner,
      this.reflector,
      SCALEKIT_INTERCEPTOR_HANDLER_METADATA,
    );
    for (const { name, methodName, metadata, instance, token, isStatic } of found) {
      const target = instance as Record<string, HandlerMethod> | undefined;
      const invoke = target
        ? (request: ScalekitInterceptorRequestBody, context: ScalekitInterceptorContext) =>
            target[methodName]!(request, context)
        : async (request: ScalekitInterceptorRequestBody, context: ScalekitInterceptorContext) => {
            // The interceptor request itself is the scope's REQUEST: no HTTP object travels into a handler.
            const contextId = ContextIdFactory.create();
            this.moduleRef.registerRequestByContextId(request, contextId);
            const scoped = await this.moduleRef.resolve<unknown, Record<string, HandlerMethod>>(
              token as never,
              contextId,
              { strict: false },
            );
            return scoped[methodName]!(request, context);
          };
      const handler = { name, invoke };
      for (const trigger of metadata.triggers) {
        this.registry.register(trigger, handler);
        if (trigger !== '*' && !isKnownScalekitInterceptorTrigger(trigger)) {
          this.logger.warn(
            `${name} decides '${trigger}', which is not a documented Scalekit trigger point (a typo?). It only runs if Scalekit sends that exact trigger`,
          );
        }
      }
      if (Logger.isLevelEnabled('log')) {
        this.logger.log(
          `Mapped interceptor {${metadata.triggers.join(', ')}} -> ${name}${isStatic ? '' : ' (request-scoped)'}`,
        );
      }
    }
    if (this.registry.triggers().length === 0) {
      this.logger.warn(
        "No @OnScalekitInterceptor() handler found: every interceptor call is answered as onError says. Decorate a provider's method with @OnScalekitInterceptor('PRE_SIGNUP') (or '*')",
      );
    }
  }

  private checkRoutes(instances: unknown[]): void {
    const clash = clashOf(this.route, instances);
    if (clash) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `Two ScalekitInterceptorModule registrations use the path '/${this.route.path}'${clash.path === this.route.path ? '' : ` (and '/${clash.path}': routes match regardless of case)`}: give each its own \`path\`, or give one registration every secret (\`secret: [a, b]\`)`,
      );
    }
  }
}

/**
 * Refuses two interceptor registrations on one path, whatever the case (Express matches routes case-insensitively by
 * default, so one would silently shadow the other).
 */
function clashOf(route: ScalekitInterceptorRoute, instances: unknown[]): ScalekitInterceptorRoute | undefined {
  return instances.find(
    (other): other is ScalekitInterceptorRoute =>
      other instanceof ScalekitInterceptorRoute &&
      other !== route &&
      other.path.toLowerCase() === route.path.toLowerCase(),
  );
}
