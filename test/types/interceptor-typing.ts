// Compile-time tests of the interceptor types and of @OnScalekitInterceptor, checked by `npm run typecheck` (not run
// by jest). Every `@ts-expect-error` must mark a real error: tsc reports an unused directive otherwise.

import {
  type AnyScalekitInterceptorRequest,
  isScalekitInterceptorRequest,
  type ScalekitInterceptorAllow,
  type ScalekitInterceptorContext,
  ScalekitInterceptorDecision,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorRequestBody,
  type ScalekitInterceptorResponse,
  type ScalekitInterceptorTrigger,
  type UnknownScalekitInterceptorRequest,
} from '../../lib/core/interceptors/index.js';
import { OnScalekitInterceptor } from '../../lib/decorators/on-scalekit-interceptor.decorator.js';
import { ScalekitInterceptorModule } from '../../lib/interceptors/scalekit-interceptor.module.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

// --- Requests ------------------------------------------------------------------------------------------------------

export function sessionRequest(request: ScalekitInterceptorRequest<'PRE_SESSION_CREATION'>): string {
  const first: string | undefined = request.data.user.first_name;
  const last: string | undefined = request.data.user.last_name;
  const email: string = request.data.user.email;
  const environment: string = request.interceptor_context.environment_id;
  // Open objects: a field Scalekit adds later is readable, as unknown.
  const added: unknown = request.data.user.something_new;
  // @ts-expect-error a misspelt field reads as unknown and is not a string
  const misspelt: string = request.data.user.frist_name;
  // @ts-expect-error given_name is the PRE_SIGNUP spelling, unknown here
  const given: string | undefined = request.data.user.given_name;
  return [first, last, email, environment, added, misspelt, given].join();
}

export function signupRequest(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): string | undefined {
  // `user` may be absent, null, or there.
  // @ts-expect-error the user may be missing
  void request.data.user.email;
  return request.data.user?.given_name;
}

export function invitationRequest(request: ScalekitInterceptorRequest<'PRE_USER_INVITATION'>): string {
  return request.data.organization.id;
}

export function m2mRequest(request: ScalekitInterceptorRequest<'PRE_M2M_TOKEN_CREATION'>): string[] | undefined {
  return request.data.m2m_token_claims.claims.scopes;
}

type _literalTrigger = Expect<Equals<ScalekitInterceptorRequest<'PRE_SIGNUP'>['trigger_point'], 'PRE_SIGNUP'>>;
type _unknownData = Expect<
  Equals<ScalekitInterceptorRequest<'POST_USER_AUTHENTICATION'>['data'], Record<string, unknown>>
>;
type _stringTrigger = Expect<Equals<ScalekitInterceptorRequest<string>, UnknownScalekitInterceptorRequest>>;

export function narrowing(request: ScalekitInterceptorRequest<'PRE_SIGNUP' | 'PRE_USER_INVITATION'>): string {
  switch (request.trigger_point) {
    case 'PRE_SIGNUP':
      // @ts-expect-error organization is invitation data
      void request.data.organization.id;
      return request.data.user?.id ?? '';
    case 'PRE_USER_INVITATION':
      return request.data.organization.id;
    default: {
      const never: never = request;
      return never;
    }
  }
}

export function guard(request: AnyScalekitInterceptorRequest): string | undefined {
  if (isScalekitInterceptorRequest(request, 'PRE_SESSION_CREATION')) {
    return request.data.user.first_name;
  }
  return undefined;
}

// --- Answers -------------------------------------------------------------------------------------------------------

export const plainAllow: ScalekitInterceptorResponse<'PRE_USER_INVITATION'> = { decision: 'ALLOW' };
export const plainDeny: ScalekitInterceptorResponse<'PRE_USER_INVITATION'> = {
  decision: 'DENY',
  error: { message: 'Invitations to this domain are closed', code: 'DOMAIN_CLOSED' },
};
export const sessionClaims: ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> = {
  decision: 'ALLOW',
  response: { claims: { plan: 'pro', seats: 5, features: ['sso'] } },
};
export const m2mClaims: ScalekitInterceptorResponse<'PRE_M2M_TOKEN_CREATION'> = {
  decision: 'ALLOW',
  response: { claims: { scope: 'read:users' } },
};
export const membership: ScalekitInterceptorResponse<'PRE_SIGNUP'> = {
  decision: 'ALLOW',
  response: { create_organization_membership: { organization_id: 'org_1', roles: ['member'] } },
};
export const externalMembership: ScalekitInterceptorResponse<'PRE_SIGNUP'> = {
  decision: 'ALLOW',
  response: { create_organization_membership: { external_organization_id: 'acme' } },
};
export const unknownTrigger: ScalekitInterceptorResponse<'SOMETHING_NEW'> = {
  decision: 'ALLOW',
  response: { anything: true },
};

export const invitationClaims: ScalekitInterceptorResponse<'PRE_USER_INVITATION'> = {
  decision: 'ALLOW',
  // @ts-expect-error PRE_USER_INVITATION accepts no response
  response: { claims: { plan: 'pro' } },
};
export const signupClaims: ScalekitInterceptorResponse<'PRE_SIGNUP'> = {
  decision: 'ALLOW',
  // @ts-expect-error claims are not a PRE_SIGNUP response
  response: { claims: { plan: 'pro' } },
};
export const sessionMembership: ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> = {
  decision: 'ALLOW',
  // @ts-expect-error create_organization_membership belongs to PRE_SIGNUP
  response: { create_organization_membership: { organization_id: 'org_1' } },
};
export const bothIds: ScalekitInterceptorResponse<'PRE_SIGNUP'> = {
  decision: 'ALLOW',
  // @ts-expect-error exactly one of the two ids
  response: { create_organization_membership: { organization_id: 'org_1', external_organization_id: 'acme' } },
};
export const noId: ScalekitInterceptorResponse<'PRE_SIGNUP'> = {
  decision: 'ALLOW',
  // @ts-expect-error one of the two ids is required
  response: { create_organization_membership: { roles: ['member'] } },
};
// @ts-expect-error the decision is upper case
export const lowerCase: ScalekitInterceptorResponse<'PRE_SIGNUP'> = { decision: 'allow' };
// @ts-expect-error an ALLOW carries no error
export const allowWithError: ScalekitInterceptorResponse<'PRE_SIGNUP'> = { decision: 'ALLOW', error: { message: 'x' } };
// @ts-expect-error a DENY carries no response
export const denyWithResponse: ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> = {
  decision: 'DENY',
  response: { claims: {} },
};
export const errorWithoutMessage: ScalekitInterceptorResponse<'PRE_SIGNUP'> = {
  decision: 'DENY',
  // @ts-expect-error an error needs a message
  error: { code: 'X' },
};

export function computedDecision(ok: boolean): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
  return { decision: ok ? 'ALLOW' : 'DENY' };
}

// --- The answer builders -------------------------------------------------------------------------------------------

export const builtAllow: ScalekitInterceptorResponse<'PRE_USER_INVITATION'> = ScalekitInterceptorDecision.allow();
export const builtDeny: ScalekitInterceptorResponse<'PRE_USER_INVITATION'> = ScalekitInterceptorDecision.deny(
  'No invitations outside acmecorp.com',
  'DOMAIN',
);
export const builtBareDeny: ScalekitInterceptorResponse<'PRE_SIGNUP'> = ScalekitInterceptorDecision.deny();
export const builtClaims: ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> = ScalekitInterceptorDecision.allow({
  claims: { plan: 'pro' },
});
export const builtMembership: ScalekitInterceptorResponse<'PRE_SIGNUP'> = ScalekitInterceptorDecision.allow({
  create_organization_membership: { organization_id: 'org_1' },
});
// @ts-expect-error an invitation answer cannot carry claims, built or not
export const builtInvitationClaims: ScalekitInterceptorResponse<'PRE_USER_INVITATION'> =
  ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } });
// @ts-expect-error claims are not a PRE_SIGNUP response, built or not
export const builtSignupClaims: ScalekitInterceptorResponse<'PRE_SIGNUP'> = ScalekitInterceptorDecision.allow({
  claims: { plan: 'pro' },
});
type _allowShape = Expect<Equals<ReturnType<typeof ScalekitInterceptorDecision.allow<{ a: 1 }>>['decision'], 'ALLOW'>>;
export const allowIsPlain: ScalekitInterceptorAllow = { decision: 'ALLOW' };

// --- The decorator -------------------------------------------------------------------------------------------------

export class Interceptors {
  @OnScalekitInterceptor('PRE_SESSION_CREATION')
  session(
    request: ScalekitInterceptorRequest<'PRE_SESSION_CREATION'>,
    context: ScalekitInterceptorContext<'PRE_SESSION_CREATION'>,
  ): ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> {
    const trigger: 'PRE_SESSION_CREATION' = context.trigger;
    const deadline: Date = context.deadline;
    void [trigger, deadline, context.signal.aborted, context.interceptorId, context.timestamp];
    return ScalekitInterceptorDecision.allow({ claims: { name: request.data.user.first_name ?? null } });
  }

  @OnScalekitInterceptor('PRE_SIGNUP')
  async signup(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): Promise<ScalekitInterceptorResponse<'PRE_SIGNUP'>> {
    await Promise.resolve();
    return request.data.user
      ? ScalekitInterceptorDecision.allow({ create_organization_membership: { organization_id: 'org_1' } })
      : ScalekitInterceptorDecision.deny('Sign-ups are closed');
  }

  @OnScalekitInterceptor('PRE_USER_INVITATION')
  invitation(): ScalekitInterceptorResponse<'PRE_USER_INVITATION'> {
    return { decision: 'ALLOW' };
  }

  @OnScalekitInterceptor('PRE_USER_INVITATION')
  inferred() {
    return { decision: 'DENY' as const, error: { message: 'Closed' } };
  }

  // A handler for templated bodies takes the minimal shape.
  @OnScalekitInterceptor('PRE_M2M_TOKEN_CREATION')
  templated(request: ScalekitInterceptorRequestBody): ScalekitInterceptorResponse<'PRE_M2M_TOKEN_CREATION'> {
    return { decision: request.trigger_point === 'PRE_M2M_TOKEN_CREATION' ? 'ALLOW' : 'DENY' };
  }

  @OnScalekitInterceptor('POST_USER_AUTHENTICATION')
  unknown(request: ScalekitInterceptorRequest<'POST_USER_AUTHENTICATION'>): ScalekitInterceptorResponse<string> {
    return { decision: request.data['ok'] === true ? 'ALLOW' : 'DENY' };
  }

  @OnScalekitInterceptor('*')
  everything(request: AnyScalekitInterceptorRequest, context: ScalekitInterceptorContext) {
    void context.trigger;
    if (isScalekitInterceptorRequest(request, 'PRE_SESSION_CREATION')) {
      return ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } });
    }
    return ScalekitInterceptorDecision.deny();
  }

  // Stacked: the method must fit both triggers.
  @OnScalekitInterceptor('PRE_SIGNUP')
  @OnScalekitInterceptor('PRE_USER_INVITATION')
  both(request: ScalekitInterceptorRequest<'PRE_SIGNUP' | 'PRE_USER_INVITATION'>) {
    return ScalekitInterceptorDecision.deny(`no ${request.trigger_point}`);
  }

  // @ts-expect-error a PRE_SIGNUP handler cannot take a PRE_SESSION_CREATION request
  @OnScalekitInterceptor('PRE_SIGNUP')
  wrongRequest(request: ScalekitInterceptorRequest<'PRE_SESSION_CREATION'>): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    void request;
    return { decision: 'ALLOW' };
  }

  // @ts-expect-error a PRE_USER_INVITATION handler cannot answer with claims
  @OnScalekitInterceptor('PRE_USER_INVITATION')
  invitationClaims(): ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> {
    return { decision: 'ALLOW', response: { claims: { plan: 'pro' } } };
  }

  // @ts-expect-error inferred return type with claims, for a trigger that takes none
  @OnScalekitInterceptor('PRE_USER_INVITATION')
  inferredClaims() {
    return ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } });
  }

  // @ts-expect-error a '*' handler receives every trigger's request, not one trigger's
  @OnScalekitInterceptor('*')
  tooNarrowForEverything(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    void request;
    return { decision: 'ALLOW' };
  }

  // @ts-expect-error stacked on a trigger whose request the method does not take
  @OnScalekitInterceptor('PRE_USER_INVITATION')
  @OnScalekitInterceptor('PRE_SIGNUP')
  stackedMismatch(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    void request;
    return { decision: 'ALLOW' };
  }

  // @ts-expect-error the answer is an object, not a bare decision
  @OnScalekitInterceptor('PRE_SIGNUP')
  bareString(): string {
    return 'ALLOW';
  }

  // @ts-expect-error the second argument is the interceptor context, not a string
  @OnScalekitInterceptor('PRE_SIGNUP')
  wrongContext(
    request: ScalekitInterceptorRequest<'PRE_SIGNUP'>,
    context: string,
  ): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    void [request, context];
    return { decision: 'ALLOW' };
  }
}

// The trigger parameter autocompletes the documented names and takes any other string.
export const triggers: ScalekitInterceptorTrigger[] = ['PRE_SIGNUP', 'SOMETHING_NEW'];

// --- The module's options ---------------------------------------------------------------------------------------

export const moduleOptions = [
  ScalekitInterceptorModule.forRoot({ secret: 'whsec_a', onError: 'deny', timeoutMs: 3000, path: 'hooks' }),
  ScalekitInterceptorModule.forRoot({ secret: ['whsec_a', 'whsec_b'] }),
  // @ts-expect-error the failure policy is 'fail', 'deny' or 'allow': 'open' is not one
  ScalekitInterceptorModule.forRoot({ secret: 'whsec_a', onError: 'open' }),
  // @ts-expect-error the secret is required
  ScalekitInterceptorModule.forRoot({ timeoutMs: 3000 }),
  ScalekitInterceptorModule.forRootAsync({ useFactory: () => ({ secret: 'whsec_a' }), path: 'hooks' }),
];
