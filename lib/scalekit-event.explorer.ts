import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { type AnyScalekitEvent, isKnownScalekitEventType, ScalekitWebhookError } from './core/index.js';
import type { ScalekitEventHandlerMetadata } from './decorators/on-scalekit-event.decorator.js';
import type { ScalekitHandlerScope } from './core/receiver/handler-port.js';
import { type ScalekitEventHandler, ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { SCALEKIT_EVENT_HANDLER_METADATA, SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import { findDecoratedMethods } from './scalekit-handler.discovery.js';
import type { ScalekitDelivery } from './interfaces/scalekit-webhook.interfaces.js';

type HandlerMethod = (event: AnyScalekitEvent, delivery: ScalekitDelivery) => unknown;

/** Finds `@OnScalekitEvent()` methods on providers and controllers at start-up and registers them. */
@Injectable()
export class ScalekitEventExplorer implements OnModuleInit {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly dispatcher: ScalekitEventDispatcher,
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
  ) {}

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const endpoints = this.checkRegistrations(wrappers.map((wrapper) => wrapper.instance));
    const found = findDecoratedMethods<ScalekitEventHandlerMetadata[]>(
      this.discovery,
      this.scanner,
      this.reflector,
      SCALEKIT_EVENT_HANDLER_METADATA,
    );
    for (const { name, methodName, metadata: entries, instance, token, isStatic } of found) {
      const target = instance as Record<string, HandlerMethod> | undefined;
      const invoke = target
        ? (event: AnyScalekitEvent, delivery: ScalekitDelivery) => target[methodName]!(event, delivery)
        : async (event: AnyScalekitEvent, delivery: ScalekitDelivery, scope: ScalekitHandlerScope) => {
            const scoped = await scope.resolve<Record<string, HandlerMethod>>(token);
            return scoped[methodName]!(event, delivery);
          };
      this.registerMethod(name, entries, invoke, isStatic, endpoints);
    }
    this.dispatcher.seal();
  }

  /**
   * Refuses two receiving registrations on one path, whatever the case (Express matches routes case-insensitively
   * by default, so it would silently shadow one). Returns the names of all
   * registrations to the first registration only, so that warnings about unknown endpoint names appear once.
   */
  private checkRegistrations(instances: unknown[]): ReadonlySet<string | undefined> | undefined {
    const configs = [
      ...new Set(instances.filter((i): i is ScalekitWebhookConfig => i instanceof ScalekitWebhookConfig)),
    ];
    const clash =
      this.config.receiver &&
      configs.find((other) => other !== this.config && other.receiver && samePath(other.path, this.config.path));
    if (clash) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `Two ScalekitWebhookModule registrations use the path '/${this.config.path}'${clash.path === this.config.path ? '' : ` (and '/${clash.path}': routes match regardless of case)`}: give each its own \`path\``,
      );
    }
    return configs[0] === this.config ? new Set(configs.map((config) => config.endpoint)) : undefined;
  }

  private registerMethod(
    name: string,
    entries: readonly ScalekitEventHandlerMetadata[],
    invoke: ScalekitEventHandler['invoke'],
    isStatic: boolean,
    endpoints: ReadonlySet<string | undefined> | undefined,
  ): void {
    for (const { options } of entries) {
      if (endpoints && options.endpoint !== undefined && !endpoints.has(options.endpoint)) {
        this.logger.warn(
          `${name} is for endpoint '${options.endpoint}', but no ScalekitWebhookModule registration has that name: it will never run`,
        );
      }
    }
    const forThisEndpoint = entries.filter(
      ({ options }) => options.endpoint === undefined || options.endpoint === this.config.endpoint,
    );
    if (forThisEndpoint.length === 0) {
      return;
    }
    const handler: ScalekitEventHandler = { name, invoke };
    const patterns = [...new Set(forThisEndpoint.flatMap(({ patterns }) => patterns))];
    for (const pattern of patterns) {
      this.dispatcher.register(pattern, handler);
      if (!pattern.endsWith('*') && !isKnownScalekitEventType(pattern)) {
        this.logger.warn(
          `${name} listens to '${pattern}', which is not a documented Scalekit event type (a typo?). It will only run if Scalekit sends that exact type.`,
        );
      }
    }
    if (Logger.isLevelEnabled('log')) {
      const where = this.config.endpoint === undefined ? '' : ` [endpoint ${this.config.endpoint}]`;
      this.logger.log(`Mapped {${patterns.join(', ')}} -> ${name}${isStatic ? '' : ' (request-scoped)'}${where}`);
    }
  }
}

function samePath(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
