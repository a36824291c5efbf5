import type { ScalekitInterceptorRequest, ScalekitKnownInterceptorTrigger } from '../core/interceptors/index.js';
import { deepFreeze } from './examples.js';
import {
  SCALEKIT_INTERCEPTOR_EXAMPLES as GENERATED,
  SCALEKIT_INTERCEPTOR_EXAMPLE_VARIANTS as GENERATED_VARIANTS,
} from './interceptor-examples.generated.js';

/**
 * One request per documented interceptor trigger point, in Scalekit's default shape, deeply frozen. Use
 * {@link buildScalekitInterceptorRequest} for a fresh, sendable one.
 */
export const SCALEKIT_INTERCEPTOR_EXAMPLES: {
  readonly [T in ScalekitKnownInterceptorTrigger]: ScalekitInterceptorRequest<T>;
} = deepFreeze(GENERATED);

/** @internal Other shapes of a trigger's request, e.g. `PRE_SIGNUP.existing-user`. */
export const SCALEKIT_INTERCEPTOR_EXAMPLE_VARIANTS = deepFreeze(GENERATED_VARIANTS);
