import type { ScalekitInterceptorAllow, ScalekitInterceptorDeny } from './interceptor-types.js';

function allow(): ScalekitInterceptorAllow;
function allow<const R extends { [key: string]: unknown }>(response: R): ScalekitInterceptorAllow<R> & { response: R };
function allow(response?: { [key: string]: unknown }): ScalekitInterceptorAllow<unknown> {
  return response === undefined ? { decision: 'ALLOW' } : { decision: 'ALLOW', response };
}

function deny(message?: string, code?: string): ScalekitInterceptorDeny {
  if (message === undefined) {
    return { decision: 'DENY' };
  }
  return { decision: 'DENY', error: code === undefined ? { message } : { message, code } };
}

/**
 * Builds interceptor answers. They are plain objects: returning `{ decision: 'ALLOW' }` yourself is the same thing.
 * The handler's return type still decides what is allowed, so `allow({ claims })` does not compile in a
 * `PRE_USER_INVITATION` handler.
 *
 * ```ts
 * return ScalekitInterceptorDecision.allow();
 * return ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } });
 * return ScalekitInterceptorDecision.allow({ create_organization_membership: { organization_id: 'org_123' } });
 * return ScalekitInterceptorDecision.deny('Sign-ups from this domain are closed', 'DOMAIN_BLOCKED');
 * ```
 */
export const ScalekitInterceptorDecision = Object.freeze({
  /** Let the flow continue, optionally with what the trigger lets an `ALLOW` add. */
  allow,
  /** Stop the flow. `message` (1–500 characters) is shown to the end user; without it Scalekit shows a generic one. */
  deny,
});
