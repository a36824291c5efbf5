import type { ScalekitDelivery } from './core/receiver/delivery.js';

const SHARED = Symbol.for('nestjs-scalekit-webhooks:verified-deliveries');

/**
 * The deliveries the guard verified, by request object, for the controller and the parameter decorators of the same
 * request. A `WeakMap` rather than a property on the request: adding a property to Express's request (an
 * `IncomingMessage` whose prototype Express swaps per request) cost about 1.7 µs per delivery, a `WeakMap` entry
 * about 0.2. Shared through `globalThis` by the ESM and CommonJS copies of the package, so a guard of one copy and a
 * decorator of the other still agree.
 */
const verified: WeakMap<object, ScalekitDelivery> = ((globalThis as Record<symbol, unknown>)[SHARED] ??= new WeakMap<
  object,
  ScalekitDelivery
>()) as WeakMap<object, ScalekitDelivery>;

/** Leaves the verified delivery of a request for the route's controller and parameter decorators. */
export function rememberVerifiedDelivery(request: object, delivery: ScalekitDelivery): void {
  verified.set(request, delivery);
}

/** The verified delivery of a request, if the guard verified it. */
export function verifiedDeliveryOf(request: object): ScalekitDelivery | undefined {
  return verified.get(request);
}
