/**
 * Types of Scalekit interceptor calls: the signed POST Scalekit sends at a trigger point of an authentication flow,
 * and the decision the app answers with.
 *
 * The request types describe Scalekit's default body. A user can reshape the body with a request template in
 * Scalekit, so they are a description, not a guarantee: the parser only requires `trigger_point` (see
 * `parseScalekitInterceptorRequest`). Objects are open (index signatures): fields Scalekit adds are kept and readable
 * as `unknown`, so a misspelt field reads as `unknown` and fails where it is used as a string.
 */

/** The trigger points Scalekit documents. */
export const SCALEKIT_INTERCEPTOR_TRIGGERS = Object.freeze([
  'PRE_SIGNUP',
  'PRE_SESSION_CREATION',
  'PRE_USER_INVITATION',
  'PRE_M2M_TOKEN_CREATION',
] as const);

/** A documented trigger point. */
export type ScalekitKnownInterceptorTrigger = (typeof SCALEKIT_INTERCEPTOR_TRIGGERS)[number];

/**
 * A trigger point: a documented one (autocompleted), or any other name. Scalekit adds trigger points (its SDKs
 * already list `POST_USER_AUTHENTICATION` and `ACCESS_TOKEN_CREATION`), and an unknown one must not break anything.
 */
export type ScalekitInterceptorTrigger = ScalekitKnownInterceptorTrigger | (string & {});

export function isKnownScalekitInterceptorTrigger(trigger: unknown): trigger is ScalekitKnownInterceptorTrigger {
  return typeof trigger === 'string' && (SCALEKIT_INTERCEPTOR_TRIGGERS as readonly string[]).includes(trigger);
}

// --- The request -------------------------------------------------------------------------------------------------

/** One connection the person authenticated through. */
export interface ScalekitInterceptorConnectionDetail {
  id?: string;
  /** `OAUTH`, `SAML`, `OIDC` or `PASSWORDLESS` today. */
  type?: 'OAUTH' | 'SAML' | 'OIDC' | 'PASSWORDLESS' | (string & {});
  /** For example `GOOGLE`, `OKTA`, `SCALEKIT`. */
  provider?: string;
  [key: string]: unknown;
}

/** The authorization request that started the flow. Values may be empty strings. */
export interface ScalekitInterceptorAuthRequest {
  connection_id?: string;
  organization_id?: string;
  domain?: string;
  login_hint?: string;
  state?: string;
  [key: string]: unknown;
}

/**
 * The body's `interceptor_context`: who, where and when. Only `environment_id` and `triggered_at` are always present.
 * For `PRE_USER_INVITATION`, the user fields describe the invitee and the device fields the inviter.
 */
export interface ScalekitInterceptorContextData {
  environment_id: string;
  /** ISO 8601, as sent. */
  triggered_at: string;
  user_id?: string;
  user_email?: string;
  organization_id?: string;
  /** The machine-to-machine client, for `PRE_M2M_TOKEN_CREATION`. */
  client_id?: string;
  connection_details?: ScalekitInterceptorConnectionDetail[];
  auth_request?: ScalekitInterceptorAuthRequest;
  device_type?: 'Desktop' | 'Mobile' | 'Tablet' | 'Unknown' | (string & {});
  ip_address?: string;
  /** Two-letter country code. */
  region?: string;
  city?: string;
  user_agent?: string;
  [key: string]: unknown;
}

/** A membership of an existing user, as `PRE_SIGNUP` sends it. */
export interface ScalekitInterceptorUserMembership {
  organization_id: string;
  organization_name?: string;
  /** `ACTIVE` and others. */
  status?: string;
  roles?: { name: string; [key: string]: unknown }[];
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The person signing up, when they already belong to another organization. */
export interface ScalekitPreSignupUser {
  id: string;
  email: string;
  name?: string;
  email_verified?: boolean;
  created_at?: string;
  updated_at?: string;
  given_name?: string;
  family_name?: string;
  metadata?: Record<string, unknown>;
  memberships?: ScalekitInterceptorUserMembership[];
  [key: string]: unknown;
}

/**
 * `PRE_SIGNUP` data. `user` is there only for a person who already exists in another organization; for a brand-new
 * person the documentation shows `"user": null` and real requests have been seen with `"data": {}`: both happen.
 */
export interface ScalekitPreSignupData {
  user?: ScalekitPreSignupUser | null;
  [key: string]: unknown;
}

/** The person a session is about to be created for. */
export interface ScalekitPreSessionCreationUser {
  id: string;
  email: string;
  name?: string;
  email_verified?: boolean;
  created_at?: string;
  updated_at?: string;
  first_name?: string;
  last_name?: string;
  memberships?: { organization_id: string; status?: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

export interface ScalekitPreSessionCreationData {
  user: ScalekitPreSessionCreationUser;
  [key: string]: unknown;
}

/** `PRE_USER_INVITATION` data: the organization the invitee is invited to. */
export interface ScalekitPreUserInvitationData {
  organization: { id: string; name?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The claims of the machine-to-machine token about to be issued. */
export interface ScalekitM2MTokenClaims {
  client_id: string;
  claims: {
    custom_claims?: Record<string, unknown>;
    /** The organization the client belongs to. */
    oid?: string;
    /** Space-separated. */
    scope?: string;
    scopes?: string[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ScalekitPreM2MTokenCreationData {
  m2m_token_claims: ScalekitM2MTokenClaims;
  [key: string]: unknown;
}

/** The `data` of each documented trigger point. */
export interface ScalekitInterceptorDataMap {
  PRE_SIGNUP: ScalekitPreSignupData;
  PRE_SESSION_CREATION: ScalekitPreSessionCreationData;
  PRE_USER_INVITATION: ScalekitPreUserInvitationData;
  PRE_M2M_TOKEN_CREATION: ScalekitPreM2MTokenCreationData;
}

/** The default body of an interceptor request. Keys arrive in any order; there is no event id. */
export interface ScalekitInterceptorRequestEnvelope<T extends string = string, D = Record<string, unknown>> {
  /** The interceptor's name as configured in the dashboard. */
  display_name: string;
  trigger_point: T;
  interceptor_context: ScalekitInterceptorContextData;
  data: D;
  [key: string]: unknown;
}

/**
 * The request of trigger `T`, with `data` typed for a documented trigger and `Record<string, unknown>` otherwise.
 * Distributive: `ScalekitInterceptorRequest<'PRE_SIGNUP' | 'PRE_SESSION_CREATION'>` narrows on `trigger_point`.
 */
export type ScalekitInterceptorRequest<T extends string = ScalekitKnownInterceptorTrigger> =
  T extends ScalekitKnownInterceptorTrigger
    ? ScalekitInterceptorRequestEnvelope<T, ScalekitInterceptorDataMap[T]>
    : ScalekitInterceptorRequestEnvelope<T, Record<string, unknown>>;

/** A request of a trigger point this version does not know. */
export type UnknownScalekitInterceptorRequest = ScalekitInterceptorRequestEnvelope<string, Record<string, unknown>>;

/** Any request in Scalekit's default shape: a documented trigger's, or an unknown one's. */
export type AnyScalekitInterceptorRequest =
  ScalekitInterceptorRequest<ScalekitKnownInterceptorTrigger> | UnknownScalekitInterceptorRequest;

/**
 * What the parser guarantees of any body, including one reshaped by a request template: a JSON object with a
 * non-empty string `trigger_point`. A handler that works on templated bodies takes this type.
 */
export interface ScalekitInterceptorRequestBody {
  trigger_point: string;
  [key: string]: unknown;
}

/** Narrows a request (for example in a `'*'` handler) to one trigger's typed shape. */
export function isScalekitInterceptorRequest<T extends ScalekitInterceptorTrigger>(
  request: ScalekitInterceptorRequestBody,
  trigger: T,
): request is ScalekitInterceptorRequest<T> & ScalekitInterceptorRequestBody {
  return request.trigger_point === trigger;
}

// --- The answer ----------------------------------------------------------------------------------------------------

/** The two decisions. Case-sensitive on the wire: `'allow'` is not an answer. */
export type ScalekitInterceptorDecisionValue = 'ALLOW' | 'DENY';

/** Why a request is denied. `message` (1–500 characters) is shown to the end user; `code` (1–50) is optional. */
export interface ScalekitInterceptorError {
  message: string;
  code?: string;
}

/**
 * Claims to add to a token. Typed loosely on purpose (an interface-typed value would not fit a strict JSON type);
 * the answer check refuses anything that is not plain JSON (a `Date`, a class instance, a function, `NaN`, a cycle).
 */
export type ScalekitInterceptorClaims = { [claim: string]: unknown };

interface MembershipRoles {
  /** Role names to give in the organization. */
  roles?: readonly string[];
}

/** `PRE_SIGNUP`: put the person into an existing organization instead of creating one. Exactly one id. */
export type ScalekitOrganizationMembershipRequest =
  | (MembershipRoles & { organization_id: string; external_organization_id?: never })
  | (MembershipRoles & { external_organization_id: string; organization_id?: never });

/** What an `ALLOW` may add, per documented trigger. `PRE_USER_INVITATION` adds nothing. */
export interface ScalekitInterceptorResponseDataMap {
  PRE_SIGNUP: { create_organization_membership?: ScalekitOrganizationMembershipRequest };
  PRE_SESSION_CREATION: {
    /** Placed in the access token under `custom_claims`. Keep them small. */
    claims?: ScalekitInterceptorClaims;
  };
  PRE_USER_INVITATION: never;
  PRE_M2M_TOKEN_CREATION: {
    /** Claims of the machine-to-machine token; may narrow `scope` or set `aud`. */
    claims?: ScalekitInterceptorClaims;
  };
}

/** An `ALLOW`, with what the trigger lets it add (`R = never`: nothing). */
export interface ScalekitInterceptorAllow<R = never> {
  decision: 'ALLOW';
  response?: R;
  /** Only a `DENY` carries an error. */
  error?: never;
}

/** A `DENY`, with the message shown to the end user (without one, Scalekit shows a generic one). */
export interface ScalekitInterceptorDeny {
  decision: 'DENY';
  error?: ScalekitInterceptorError;
  /** Only an `ALLOW` carries a response. */
  response?: never;
}

/**
 * What a handler for trigger `T` returns. For a trigger this version does not know, an `ALLOW` may carry any JSON
 * object as `response` (passed through after a JSON check).
 */
export type ScalekitInterceptorResponse<T extends string = ScalekitKnownInterceptorTrigger> =
  T extends ScalekitKnownInterceptorTrigger
    ? ScalekitInterceptorAllow<ScalekitInterceptorResponseDataMap[T]> | ScalekitInterceptorDeny
    : ScalekitInterceptorAllow<ScalekitInterceptorClaims> | ScalekitInterceptorDeny;

/** Any answer of any trigger (what a `'*'` handler returns; the answer check holds it to the actual trigger). */
export type AnyScalekitInterceptorResponse = ScalekitInterceptorResponse<ScalekitInterceptorTrigger>;

/** A checked answer, ready for `JSON.stringify`: only the fields Scalekit reads, plain JSON values. */
export interface ScalekitInterceptorAnswer {
  decision: ScalekitInterceptorDecisionValue;
  error?: { message: string; code?: string };
  response?: { [key: string]: unknown };
}

// --- The context a handler gets next to the request -----------------------------------------------------------------

/** The second argument of an interceptor handler: the call's signed metadata and its time budget. */
export interface ScalekitInterceptorContext<T extends string = string> {
  /** The `interceptor-id` header as sent. Its meaning (per call or per interceptor) is undocumented: do not dedupe on it. */
  readonly interceptorId: string;
  /** The signed `interceptor-timestamp`. */
  readonly timestamp: Date;
  /** When the answer must be written by; after it, the configured failure answer is sent instead. */
  readonly deadline: Date;
  /** Aborted at the deadline (and when the request goes away): pass it to `fetch` and database calls. */
  readonly signal: AbortSignal;
  /** The request's `trigger_point`. */
  readonly trigger: T;
}
