import type { ScalekitDelivery } from './interfaces/scalekit-webhook.interfaces.js';

/**
 * Hands each verified delivery from the guard to the built-in controller without adding a property to the request:
 * on Express, adding any property to `req` cost 1.6 µs per request (measured; its hidden class is not reused from one
 * request to the next). Between the guard and the controller's handler there are only microtasks unless an
 * interceptor waits for I/O, so the delivery last verified is, almost always, the one the handler asks for: it waits
 * in one slot. One verified while another still waits (an interceptor of the host app in between) moves the waiting
 * one to a `WeakMap`, where an unanswered request never stays beyond its own life.
 */
export class ScalekitVerifiedDeliveries {
  #request: object | undefined;
  #delivery: ScalekitDelivery | undefined;
  readonly #waiting = new WeakMap<object, ScalekitDelivery>();

  put(request: object, delivery: ScalekitDelivery): void {
    if (this.#request !== undefined) {
      this.#waiting.set(this.#request, this.#delivery!);
    }
    this.#request = request;
    this.#delivery = delivery;
  }

  /** The delivery verified for `request`, once: it is forgotten here. */
  take(request: object): ScalekitDelivery | undefined {
    if (this.#request === request) {
      const delivery = this.#delivery;
      this.#request = undefined;
      this.#delivery = undefined;
      return delivery;
    }
    const delivery = this.#waiting.get(request);
    if (delivery !== undefined) {
      this.#waiting.delete(request);
    }
    return delivery;
  }
}

/** The one hand-over of the process (keyed by request, so every app and registration can share it). */
export const SCALEKIT_VERIFIED_DELIVERIES = new ScalekitVerifiedDeliveries();
