import {
  isKnownScalekitInterceptorTrigger,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorTrigger,
} from '../core/interceptors/index.js';
import { clone, type DeepPartial, mergeDeep } from './build-event.js';
import { SCALEKIT_INTERCEPTOR_EXAMPLES } from './interceptor-examples.js';

/** Overrides for {@link buildScalekitInterceptorRequest}: any field, at any depth; `undefined` removes one. */
export type ScalekitInterceptorRequestOverrides<T extends string> = DeepPartial<ScalekitInterceptorRequest<T>> & {
  [key: string]: unknown;
};

/** The environment of requests built for triggers that have no example. */
const DEFAULT_ENVIRONMENT_ID = 'env_58342291847268362';

/**
 * A request of `trigger` as Scalekit sends it by default, built from the example for it (`PRE_SIGNUP`: a brand-new
 * person, `data: {}`), with `interceptor_context.triggered_at` set to now. `overrides` merge deeply (objects merge;
 * arrays and other values replace; `undefined` removes a field):
 *
 * ```ts
 * buildScalekitInterceptorRequest('PRE_SIGNUP', { interceptor_context: { user_email: 'ada@blocked.example' } });
 * ```
 *
 * A trigger without an example (one Scalekit adds later) gets the default envelope with `data: {}`.
 */
export function buildScalekitInterceptorRequest<T extends ScalekitInterceptorTrigger>(
  trigger: T,
  overrides?: ScalekitInterceptorRequestOverrides<T>,
): ScalekitInterceptorRequest<T> {
  if (typeof trigger !== 'string' || trigger.length === 0) {
    throw new TypeError(
      `buildScalekitInterceptorRequest: trigger must be a non-empty string (got ${JSON.stringify(trigger)})`,
    );
  }
  const base: Record<string, unknown> = isKnownScalekitInterceptorTrigger(trigger)
    ? (clone(SCALEKIT_INTERCEPTOR_EXAMPLES[trigger]) as Record<string, unknown>)
    : {
        display_name: 'Test interceptor',
        trigger_point: trigger,
        interceptor_context: { environment_id: DEFAULT_ENVIRONMENT_ID },
        data: {},
      };
  (base['interceptor_context'] as Record<string, unknown>)['triggered_at'] = new Date().toISOString();
  const request = overrides === undefined ? base : mergeDeep(base, overrides as Record<string, unknown>);
  return request as unknown as ScalekitInterceptorRequest<T>;
}
