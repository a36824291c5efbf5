import type { ScalekitEventType } from '../core/catalogue.js';
import type { ScalekitEvent } from '../core/envelope.js';
import { SCALEKIT_EVENT_EXAMPLES as GENERATED } from './examples.generated.js';

/**
 * Scalekit's published example of each documented event type, deeply frozen. Ids and times are the examples' own:
 * use {@link buildScalekitEvent} for a fresh, sendable event.
 */
export const SCALEKIT_EVENT_EXAMPLES: { readonly [T in ScalekitEventType]: ScalekitEvent<T> } = deepFreeze(GENERATED);

/** @internal */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}
