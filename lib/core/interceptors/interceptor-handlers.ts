import { ScalekitWebhookError } from '../errors.js';
import type { ScalekitInterceptorContext, ScalekitInterceptorRequestBody } from './interceptor-types.js';

/** The trigger a fallback handler is registered under: it takes every trigger without a handler of its own. */
export const SCALEKIT_INTERCEPTOR_FALLBACK = '*';

/** One handler, as the receiver calls it. */
export interface ScalekitInterceptorHandler {
  /** For log lines and errors, e.g. `SignupPolicy.preSignup`. */
  readonly name: string;
  /** Returns (or resolves to) the answer; it is checked before it is sent. */
  invoke(request: ScalekitInterceptorRequestBody, context: ScalekitInterceptorContext): unknown;
}

/**
 * The receiver's port to the handlers: which one decides a trigger. A framework supplies it (the Nest module fills
 * a {@link ScalekitInterceptorHandlerRegistry} from decorated methods); the receiver knows nothing of how.
 */
export interface ScalekitInterceptorHandlerLookup {
  /** The handler registered for exactly this trigger (or for `'*'`), if any. */
  handlerFor(trigger: string): ScalekitInterceptorHandler | undefined;
}

/**
 * Handlers by trigger point: exactly one per trigger (and at most one `'*'`). A second handler for a trigger is
 * refused with a message naming both, because which of the two decides would otherwise be an accident of order.
 */
export class ScalekitInterceptorHandlerRegistry implements ScalekitInterceptorHandlerLookup {
  readonly #handlers = new Map<string, ScalekitInterceptorHandler>();

  register(trigger: string, handler: ScalekitInterceptorHandler): void {
    const existing = this.#handlers.get(trigger);
    if (existing !== undefined && existing !== handler) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `Two interceptor handlers for '${trigger}': ${existing.name} and ${handler.name}. Exactly one method may decide a trigger point: remove @OnScalekitInterceptor('${trigger}') from one of them`,
      );
    }
    this.#handlers.set(trigger, handler);
  }

  handlerFor(trigger: string): ScalekitInterceptorHandler | undefined {
    return this.#handlers.get(trigger);
  }

  /** The registered triggers, `'*'` included, in registration order. */
  triggers(): string[] {
    return [...this.#handlers.keys()];
  }
}
