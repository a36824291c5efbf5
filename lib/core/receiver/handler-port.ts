import type { AnyScalekitEvent } from '../envelope.js';
import type { ScalekitDelivery } from './delivery.js';

/**
 * Where the handlers of one delivery get their instances: an adapter builds it before dispatch (the Nest one keys
 * request-scoped providers on the HTTP request inline, on a `ScalekitJobRequest` in a worker), so no HTTP object
 * travels into dispatch.
 */
export interface ScalekitHandlerScope {
  resolve<T>(token: unknown): Promise<T>;
}

/**
 * How a receiver runs the handlers of a verified, validated event: done once all succeeded (or none matched); throws
 * or rejects with `handler_failed` when any failed. It returns nothing when every handler answered at once, else a
 * promise. The Nest module implements it with its dispatcher; the CLI's `serve` with a printer.
 */
export interface ScalekitEventDispatchPort {
  dispatch(event: AnyScalekitEvent, delivery: ScalekitDelivery, scope?: ScalekitHandlerScope): void | Promise<void>;
}
