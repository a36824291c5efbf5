import { ScalekitHandlerRegistry } from './core/index.js';
import { SCALEKIT_EVENT_HANDLER_METADATA } from './scalekit-webhook.constants.js';
import type { OnScalekitEventOptions } from './scalekit-webhook.interfaces.js';

/** One `@OnScalekitEvent()` application, as stored in metadata. */
export interface ScalekitEventHandlerMetadata {
  patterns: readonly string[];
  options: OnScalekitEventOptions;
}

/**
 * Routes Scalekit events to this method: an exact type, a list, a prefix wildcard (`organization.directory.*`) or
 * `*`. Stacks: every application adds patterns. The method receives `(event, delivery)`.
 */
export function OnScalekitEvent(pattern: string | readonly string[], options: OnScalekitEventOptions = {}): MethodDecorator {
  const patterns = typeof pattern === 'string' ? [pattern] : [...pattern];
  if (patterns.length === 0) {
    throw new TypeError('@OnScalekitEvent() needs at least one event type or pattern');
  }
  patterns.forEach((p) => ScalekitHandlerRegistry.parsePattern(p));
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const existing: ScalekitEventHandlerMetadata[] = Reflect.getMetadata(SCALEKIT_EVENT_HANDLER_METADATA, method) ?? [];
    Reflect.defineMetadata(SCALEKIT_EVENT_HANDLER_METADATA, [...existing, { patterns, options }], method);
    return descriptor;
  };
}
