import { ScalekitHandlerRegistry, type ScalekitEventOf } from '../core/index.js';
import { SCALEKIT_EVENT_HANDLER_METADATA } from '../scalekit-webhook.constants.js';
import type { OnScalekitEventOptions, ScalekitDelivery } from '../interfaces/scalekit-webhook.interfaces.js';

/** One `@OnScalekitEvent()` application, as stored in metadata. */
export interface ScalekitEventHandlerMetadata {
  patterns: readonly string[];
  options: OnScalekitEventOptions;
}

/**
 * What a method decorated for `P` must accept: the events `P` routes to it (see {@link ScalekitEventOf}) and the
 * delivery. A handler typed for another event type is a compile error.
 */
export type ScalekitEventHandlerMethod<P extends string> = (
  event: ScalekitEventOf<P>,
  delivery: ScalekitDelivery,
) => unknown;

/**
 * Routes Scalekit events to this method: an exact type, a list, a prefix wildcard (`organization.directory.*`) or
 * `*`. Stacks: every application adds patterns. The method receives `(event, delivery)`, and its first parameter
 * is checked against the pattern at compile time.
 */
export function OnScalekitEvent<const P extends string>(
  pattern: P | readonly P[],
  options: OnScalekitEventOptions = {},
): <M extends ScalekitEventHandlerMethod<P>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => TypedPropertyDescriptor<M> {
  const patterns: string[] = typeof pattern === 'string' ? [pattern] : [...(pattern as readonly string[])];
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
