import { Inject, Injectable, Logger } from '@nestjs/common';
import { ContextIdFactory, ModuleRef } from '@nestjs/core';
import {
  type AnyScalekitEvent,
  isKnownScalekitEventType,
  runScalekitHandlers,
  SCALEKIT_EVENT_TYPES,
  type ScalekitHandlerFailure,
  ScalekitHandlerRegistry,
  ScalekitWebhookError,
} from './core/index.js';
import { describeError, stackOf } from './core/describe-error.js';
import type { ScalekitTelemetry } from './core/telemetry/scalekit-telemetry.js';
import { SCALEKIT_LOGGER_CONTEXT, SCALEKIT_TELEMETRY } from './scalekit-webhook.constants.js';
import type { ScalekitDelivery } from './core/receiver/delivery.js';
import type { ScalekitEventDispatchPort, ScalekitHandlerScope } from './core/receiver/handler-port.js';

/**
 * Resolves request-scoped handler instances once per delivery, keyed on the object `@Inject(REQUEST)` gives them (the
 * HTTP request inline, a `ScalekitJobRequest` in a worker); a context of its own when there is none. The context is
 * only made when a request-scoped handler asks for one.
 */
export class ScalekitNestHandlerScope implements ScalekitHandlerScope {
  #contextId: ReturnType<typeof ContextIdFactory.create> | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly request: object | undefined,
  ) {}

  resolve<T>(token: unknown): Promise<T> {
    if (this.#contextId === undefined) {
      this.#contextId = this.request ? ContextIdFactory.getByRequest(this.request) : ContextIdFactory.create();
      if (this.request) {
        this.moduleRef.registerRequestByContextId(this.request, this.#contextId);
      }
    }
    return this.moduleRef.resolve(token as never, this.#contextId, { strict: false });
  }
}

/** A discovered handler method. */
export interface ScalekitEventHandler {
  /** `ClassName.methodName`. */
  readonly name: string;
  invoke(event: AnyScalekitEvent, delivery: ScalekitDelivery, scope: ScalekitHandlerScope): unknown;
}

const MAX_NOTICED_TYPES = 1000;

/** Calls one handler (without telemetry: no closure per delivery). */
function invokeHandler(
  handler: ScalekitEventHandler,
  event: AnyScalekitEvent,
  delivery: ScalekitDelivery,
  scope: ScalekitHandlerScope,
): unknown {
  return handler.invoke(event, delivery, scope);
}

/**
 * Routes a verified, validated event to its handlers and waits for all of them: the Nest implementation of the
 * receiver's dispatch port. Callers hand it a ready handler scope ({@link scopeFor}).
 */
@Injectable()
export class ScalekitEventDispatcher implements ScalekitEventDispatchPort {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);
  private readonly registry = new ScalekitHandlerRegistry<ScalekitEventHandler>();
  private readonly noticed = new Set<string>();

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(SCALEKIT_TELEMETRY) private readonly telemetry: ScalekitTelemetry,
  ) {}

  register(pattern: string, handler: ScalekitEventHandler): void {
    this.registry.add(pattern, handler);
  }

  /** Builds the lookup table for the whole catalogue; called once discovery is complete. */
  seal(): void {
    this.registry.prepare(SCALEKIT_EVENT_TYPES);
  }

  get handlerCount(): number {
    return this.registry.size;
  }

  /** Handlers that would run for a type. */
  handlersFor(type: string): readonly ScalekitEventHandler[] {
    return this.registry.match(type);
  }

  /** The handler scope of a delivery whose request-scoped handlers get `request` from `@Inject(REQUEST)`. */
  scopeFor(request?: object): ScalekitHandlerScope {
    return new ScalekitNestHandlerScope(this.moduleRef, request);
  }

  /**
   * Runs every matching handler concurrently and waits for all. Throws (or rejects with) `handler_failed` when any
   * failed, after logging each failure with the handler, event id and type. When every handler answered at once, so
   * does this: nothing to wait for, no promise.
   */
  dispatch(event: AnyScalekitEvent, delivery: ScalekitDelivery, scope?: ScalekitHandlerScope): void | Promise<void> {
    const handlers = this.registry.match(event.type);
    if (!isKnownScalekitEventType(event.type)) {
      this.noticeOnce(
        `unknown:${event.type}`,
        `Received event type '${event.type}', which is not in the catalogue: routed to ${handlers.length} wildcard handler(s)`,
      );
    }
    if (handlers.length === 0) {
      this.noticeOnce(`unhandled:${event.type}`, `No handler for '${event.type}': acknowledged without processing`);
      return;
    }
    const handlerScope = scope ?? this.scopeFor();
    const failures = this.telemetry.enabled
      ? runScalekitHandlers(handlers, (handler) =>
          this.telemetry.handler(handler.name, event.type, () => handler.invoke(event, delivery, handlerScope)),
        )
      : runScalekitHandlers(handlers, invokeHandler, event, delivery, handlerScope);
    if (failures instanceof Promise) {
      return failures.then((list) => this.report(list, handlers.length, event));
    }
    this.report(failures, handlers.length, event);
  }

  /** Logs each failure and throws `handler_failed` when there is any. */
  private report(failures: ScalekitHandlerFailure<ScalekitEventHandler>[], of: number, event: AnyScalekitEvent): void {
    if (failures.length === 0) {
      return;
    }
    for (const { handler, error } of failures) {
      this.logger.error(
        `Handler ${handler.name} failed for event ${event.id} (${event.type}): ${describeError(error)}`,
        stackOf(error),
      );
    }
    throw new ScalekitWebhookError(
      'handler_failed',
      `${failures.length} of ${of} handler(s) failed for event ${event.id} (${event.type})`,
    );
  }

  private noticeOnce(key: string, message: string): void {
    if (this.noticed.has(key) || this.noticed.size >= MAX_NOTICED_TYPES) {
      return;
    }
    this.noticed.add(key);
    this.logger.log(message);
  }
}
