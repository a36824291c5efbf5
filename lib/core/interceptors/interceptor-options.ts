import { OptionsChecker, describeValue } from '../options.js';
import { ScalekitWebhookVerifier } from '../verify.js';
import {
  DEFAULT_INTERCEPTOR_MAX_BODY_BYTES,
  DEFAULT_INTERCEPTOR_TIMEOUT_MS,
  INTERCEPTOR_HEADERS,
} from './interceptor-protocol.js';

/**
 * What to answer when the handler cannot decide (it throws, overruns `timeoutMs`, returns an invalid answer, or no
 * handler exists for the trigger):
 * - `'fail'`: `503` with a generic JSON body. Scalekit treats it as an error and applies the interceptor's failure
 *   policy from the dashboard (fail open or fail closed): the choice stays there.
 * - `'deny'`: `200` `DENY` with a generic message: the flow stops, whatever the dashboard says.
 * - `'allow'`: `200` `ALLOW`: the flow continues (fail open in code; a warning is logged at start-up).
 */
export type ScalekitInterceptorFailurePolicy = 'fail' | 'deny' | 'allow';

/**
 * What to answer a call whose signature or timestamp does not verify: `'reject'` answers `401` with the webhooks'
 * generic body; `'deny'` answers `200` `DENY` (generic message), so a misconfigured secret stops flows even when the
 * dashboard's failure policy is fail open.
 */
export type ScalekitInterceptorVerificationFailurePolicy = 'reject' | 'deny';

/** The options of an interceptor receiver (and of `ScalekitInterceptorModule.forRoot`). */
export interface ScalekitInterceptorOptions {
  /**
   * The interceptors' signing secret(s) (`whsec_…`, dashboard > Interceptors). Each interceptor probably has its own:
   * give them all when several interceptors post to one URL. A webhook endpoint's secret does not belong here.
   */
  secret: string | readonly string[];
  /**
   * The handler's time budget in milliseconds, from the moment the call is verified. Keep it below the interceptor's
   * timeout in the dashboard, so the `onError` answer still arrives in time. At most 30 000 (Scalekit's maximum).
   * @default 4000 (`DEFAULT_INTERCEPTOR_TIMEOUT_MS`)
   */
  timeoutMs?: number;
  /**
   * What to answer when no handler decides in time or correctly.
   * @default 'fail'
   */
  onError?: ScalekitInterceptorFailurePolicy;
  /**
   * What to answer a call that fails signature or timestamp verification.
   * @default 'reject'
   */
  onVerificationFailure?: ScalekitInterceptorVerificationFailurePolicy;
  /**
   * Largest accepted distance between `interceptor-timestamp` and now, in seconds.
   * @default 300
   */
  toleranceSeconds?: number;
  /**
   * Largest accepted body, in bytes (`413` beyond).
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
}

/** The checked form of {@link ScalekitInterceptorOptions}. Holds no secret in readable form. */
export interface ScalekitInterceptorSettings {
  readonly verifier: ScalekitWebhookVerifier;
  readonly timeoutMs: number;
  readonly onError: ScalekitInterceptorFailurePolicy;
  readonly onVerificationFailure: ScalekitInterceptorVerificationFailurePolicy;
  readonly maxBodyBytes: number;
}

/** Scalekit's longest interceptor timeout: a budget beyond it could never be used. */
export const MAX_INTERCEPTOR_TIMEOUT_MS = 30_000;

const check = new OptionsChecker('Scalekit interceptor');
const FAILURE_POLICIES: readonly string[] = ['fail', 'deny', 'allow'];
const VERIFICATION_POLICIES: readonly string[] = ['reject', 'deny'];

/** Checks interceptor options once, at start-up: a bad value throws `invalid_options` with a clear message. */
export function checkScalekitInterceptorOptions(
  options: ScalekitInterceptorOptions,
  /** Clock of the timestamp window, for tests. */
  now?: () => number,
): ScalekitInterceptorSettings {
  if (options === null || typeof options !== 'object') {
    throw check.error('options are required: { secret: "whsec_…" }');
  }
  const verifier = new ScalekitWebhookVerifier({
    secret: options.secret,
    toleranceSeconds: options.toleranceSeconds,
    headerNames: INTERCEPTOR_HEADERS,
    ...(now === undefined ? {} : { now }),
  });
  const timeoutMs = check.positiveWholeNumber(
    'timeoutMs',
    options.timeoutMs,
    DEFAULT_INTERCEPTOR_TIMEOUT_MS,
    'milliseconds',
  );
  if (timeoutMs > MAX_INTERCEPTOR_TIMEOUT_MS) {
    throw check.error(
      `timeoutMs must be at most ${MAX_INTERCEPTOR_TIMEOUT_MS} (Scalekit waits at most 30 s; got ${timeoutMs})`,
    );
  }
  const onError = options.onError ?? 'fail';
  if (!FAILURE_POLICIES.includes(onError)) {
    throw check.error(`onError must be 'fail', 'deny' or 'allow' (got ${describeValue(onError)})`);
  }
  const onVerificationFailure = options.onVerificationFailure ?? 'reject';
  if (!VERIFICATION_POLICIES.includes(onVerificationFailure)) {
    throw check.error(`onVerificationFailure must be 'reject' or 'deny' (got ${describeValue(onVerificationFailure)})`);
  }
  const maxBodyBytes = check.positiveWholeNumber(
    'maxBodyBytes',
    options.maxBodyBytes ?? undefined,
    DEFAULT_INTERCEPTOR_MAX_BODY_BYTES,
    'bytes',
  );
  return { verifier, timeoutMs, onError, onVerificationFailure, maxBodyBytes };
}
