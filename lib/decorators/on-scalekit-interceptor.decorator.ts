import {
  type AnyScalekitInterceptorRequest,
  type AnyScalekitInterceptorResponse,
  isKnownScalekitInterceptorTrigger,
  type ScalekitInterceptorContext,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorResponse,
  type ScalekitInterceptorTrigger,
} from '../core/interceptors/index.js';

/**
 * Metadata key under which `@OnScalekitInterceptor()` stores its triggers on a method. A registered symbol, so that
 * the ESM and CJS copies of the package read the same key.
 */
export const SCALEKIT_INTERCEPTOR_HANDLER_METADATA: unique symbol = Symbol.for(
  'nestjs-scalekit-webhooks:interceptor-handler',
) as never;

/** What `@OnScalekitInterceptor()` stores: every trigger applied to the method, in application order. */
export interface ScalekitInterceptorHandlerMetadata {
  triggers: readonly string[];
}

/** What a trigger (or `'*'`, every trigger) hands its handler. */
export type ScalekitInterceptorRequestOf<T extends string> = T extends '*'
  ? AnyScalekitInterceptorRequest
  : ScalekitInterceptorRequest<T>;

/** What a handler of a trigger (or `'*'`) may answer. A `'*'` answer is checked against the actual trigger at run time. */
export type ScalekitInterceptorResponseOf<T extends string> = T extends '*'
  ? AnyScalekitInterceptorResponse
  : ScalekitInterceptorResponse<T>;

/**
 * What a method decorated for trigger `T` must be: it accepts `T`'s request and the call context, and returns (or
 * resolves to) an answer `T` accepts. A handler typed for another trigger, or returning what the trigger does not
 * accept, is a compile error.
 */
export type ScalekitInterceptorHandlerMethod<T extends string> = (
  request: ScalekitInterceptorRequestOf<T>,
  context: ScalekitInterceptorContext<T extends '*' ? string : T>,
) => ScalekitInterceptorResponseOf<T> | Promise<ScalekitInterceptorResponseOf<T>>;

/** Trigger names are Scalekit enum names: upper-case letters, digits and underscores. */
const TRIGGER_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Makes this method the decision-maker for a Scalekit interceptor trigger point (`'PRE_SIGNUP'`, …, a trigger this
 * version does not know yet, or `'*'` for every trigger without a handler of its own). The method receives
 * `(request, context)` and returns `{ decision: 'ALLOW' | 'DENY', … }`; both are checked against the trigger at
 * compile time. Stacks: one method may decide several triggers if its types fit each of them.
 */
export function OnScalekitInterceptor<const T extends ScalekitInterceptorTrigger | '*'>(
  trigger: T,
): <M extends ScalekitInterceptorHandlerMethod<T>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => TypedPropertyDescriptor<M> {
  assertTriggerName(trigger);
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const existing: ScalekitInterceptorHandlerMetadata | undefined = Reflect.getMetadata(
      SCALEKIT_INTERCEPTOR_HANDLER_METADATA,
      method,
    );
    const triggers = existing?.triggers ?? [];
    if (!triggers.includes(trigger)) {
      const metadata: ScalekitInterceptorHandlerMetadata = { triggers: [...triggers, trigger] };
      Reflect.defineMetadata(SCALEKIT_INTERCEPTOR_HANDLER_METADATA, metadata, method);
    }
    return descriptor;
  };
}

/** A misspelt trigger would never be called: refuse it where the decorator is written. */
function assertTriggerName(trigger: unknown): void {
  if (trigger === '*') {
    return;
  }
  if (typeof trigger !== 'string' || !TRIGGER_NAME.test(trigger)) {
    const known = typeof trigger === 'string' && isKnownScalekitInterceptorTrigger(trigger.trim().toUpperCase());
    const hint = known ? ` (did you mean '${(trigger as string).trim().toUpperCase()}'?)` : '';
    throw new TypeError(
      `@OnScalekitInterceptor() needs a trigger point name like 'PRE_SIGNUP' (upper case, digits, underscores) or '*'${hint}`,
    );
  }
}
