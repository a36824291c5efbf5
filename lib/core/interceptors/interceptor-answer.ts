import { copyJson, isPlainObject, kindOf } from './interceptor-json.js';
import {
  isKnownScalekitInterceptorTrigger,
  type ScalekitInterceptorAnswer,
  type ScalekitInterceptorDecisionValue,
  type ScalekitKnownInterceptorTrigger,
} from './interceptor-types.js';

/** `error.message` length, in Unicode characters (code points). */
export const MIN_INTERCEPTOR_ERROR_MESSAGE_LENGTH = 1;
export const MAX_INTERCEPTOR_ERROR_MESSAGE_LENGTH = 500;
/** `error.code` length, in Unicode characters (code points). */
export const MIN_INTERCEPTOR_ERROR_CODE_LENGTH = 1;
export const MAX_INTERCEPTOR_ERROR_CODE_LENGTH = 50;

/** What an `ALLOW` may carry in `response`, per documented trigger. An unknown trigger's `response` passes through. */
const RESPONSE_FIELDS: Readonly<Record<ScalekitKnownInterceptorTrigger, readonly string[]>> = Object.freeze({
  PRE_SIGNUP: ['create_organization_membership'],
  PRE_SESSION_CREATION: ['claims'],
  PRE_USER_INVITATION: [],
  PRE_M2M_TOKEN_CREATION: ['claims'],
});

/** The triggers that accept each response field, for problems that say where a misplaced field belongs. */
const FIELD_TRIGGERS: Readonly<Record<string, string>> = Object.freeze({
  create_organization_membership: 'PRE_SIGNUP',
  claims: 'PRE_SESSION_CREATION and PRE_M2M_TOKEN_CREATION',
});

/**
 * Registered JWT claims that Scalekit does not let an interceptor override in a machine-to-machine token. Whether it
 * ignores them or refuses the answer is undocumented: they are sent as given, with a warning. (Session claims are
 * nested under `custom_claims`, so they cannot collide.)
 */
export const SCALEKIT_PROTECTED_M2M_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'sub',
  'exp',
  'nbf',
  'iat',
  'jti',
]);

const ANSWER_FIELDS = ['decision', 'error', 'response'];
const ERROR_FIELDS = ['message', 'code'];
const MEMBERSHIP_FIELDS = ['organization_id', 'external_organization_id', 'roles'];

/** The outcome of checking a handler's answer. */
export type ScalekitInterceptorAnswerCheck =
  | {
      ok: true;
      /** A fresh, plain-JSON copy holding only the fields Scalekit reads (an empty `response` is left out). */
      answer: ScalekitInterceptorAnswer;
      /** Things worth a log line that do not make the answer wrong. */
      warnings: string[];
    }
  | {
      ok: false;
      /** One line per problem, each naming the field (never quoting personal data). */
      problems: string[];
      /**
       * Present when the answer said exactly `decision: 'DENY'`: that DENY with only its valid parts. A broken DENY
       * can then still be sent as a DENY, instead of being handed to a failure policy that may let the flow through.
       */
      deny?: ScalekitInterceptorAnswer;
    };

/**
 * Checks what an interceptor handler returned for `trigger`, before it is sent to Scalekit.
 *
 * Rules: a plain object; `decision` exactly `'ALLOW'` or `'DENY'` (case-sensitive: `'allow'` is a problem, never an
 * ALLOW); `error` only with DENY, `{ message: 1–500 characters, code?: 1–50 }`; `response` only with ALLOW, a plain
 * object whose fields depend on the trigger: `create_organization_membership` (PRE_SIGNUP: exactly one of
 * `organization_id` / `external_organization_id` as a non-empty string, optional `roles` of non-empty strings),
 * `claims` (PRE_SESSION_CREATION, PRE_M2M_TOKEN_CREATION: a plain JSON object), nothing for PRE_USER_INVITATION, and
 * any JSON object for a trigger this version does not know. Unknown fields are problems (a misspelt field would
 * otherwise be dropped silently); fields whose value is `undefined` count as absent, as in JSON. Never throws.
 */
export function checkScalekitInterceptorAnswer(trigger: string, value: unknown): ScalekitInterceptorAnswerCheck {
  try {
    return checkAnswer(trigger, value);
  } catch (error) {
    // A getter or a proxy threw while the answer was read. Its message may quote data: only the kind is reported.
    const name = error instanceof Error ? error.name : kindOf(error);
    return { ok: false, problems: [`answer could not be read (reading it threw ${name})`] };
  }
}

function checkAnswer(trigger: string, value: unknown): ScalekitInterceptorAnswerCheck {
  if (!isPlainObject(value)) {
    return { ok: false, problems: [`answer must be a plain object like { decision: 'ALLOW' } (got ${kindOf(value)})`] };
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  problems.push(...unknownFields(value, ANSWER_FIELDS, 'answer', 'an interceptor answer'));

  const decision = own(value, 'decision');
  const decisionProblem = checkDecision(decision);
  if (decisionProblem !== undefined) {
    problems.push(decisionProblem);
  }

  // Only returned as `ok` when the decision passed its check above.
  const answer: ScalekitInterceptorAnswer = { decision: decision as ScalekitInterceptorDecisionValue };
  let errorValid = true;
  const error = own(value, 'error');
  if (error !== undefined) {
    const result = checkError(error);
    errorValid = result.problems.length === 0;
    if (decision === 'ALLOW') {
      problems.push("error is only sent with decision 'DENY' (an ALLOW with an error is ambiguous)");
    }
    problems.push(...result.problems);
    if (errorValid) {
      answer.error = result.error;
    }
  }

  const response = own(value, 'response');
  if (response !== undefined) {
    if (decision === 'DENY') {
      problems.push("response is only sent with decision 'ALLOW'");
    }
    const result = checkResponse(trigger, response);
    problems.push(...result.problems);
    warnings.push(...result.warnings);
    if (result.problems.length === 0 && result.response !== undefined && Object.keys(result.response).length > 0) {
      answer.response = result.response;
    }
  }

  if (problems.length === 0) {
    return { ok: true, answer, warnings };
  }
  if (decision === 'DENY') {
    const deny: ScalekitInterceptorAnswer = { decision: 'DENY' };
    if (error !== undefined && errorValid) {
      deny.error = answer.error;
    }
    return { ok: false, problems, deny };
  }
  return { ok: false, problems };
}

function checkDecision(decision: unknown): string | undefined {
  if (decision === 'ALLOW' || decision === 'DENY') {
    return undefined;
  }
  if (decision === undefined) {
    return "decision is required ('ALLOW' or 'DENY')";
  }
  if (typeof decision === 'string') {
    const upper = decision.trim().toUpperCase();
    if (upper === 'ALLOW' || upper === 'DENY') {
      return `decision must be 'ALLOW' or 'DENY' exactly (got '${decision.trim()}' with other case or spacing)`;
    }
  }
  return `decision must be 'ALLOW' or 'DENY' (got ${kindOf(decision)})`;
}

function checkError(error: unknown): { problems: string[]; error?: { message: string; code?: string } } {
  if (!isPlainObject(error)) {
    return { problems: [`error must be an object like { message, code? } (got ${kindOf(error)})`] };
  }
  const problems = unknownFields(error, ERROR_FIELDS, 'error', 'an interceptor error');
  const message = own(error, 'message');
  const code = own(error, 'code');
  const messageProblem =
    message === undefined
      ? 'error.message is required in an error (leave out error for the generic message)'
      : lengthProblem(
          'error.message',
          message,
          MIN_INTERCEPTOR_ERROR_MESSAGE_LENGTH,
          MAX_INTERCEPTOR_ERROR_MESSAGE_LENGTH,
        );
  const codeProblem =
    code === undefined
      ? undefined
      : lengthProblem('error.code', code, MIN_INTERCEPTOR_ERROR_CODE_LENGTH, MAX_INTERCEPTOR_ERROR_CODE_LENGTH);
  for (const problem of [messageProblem, codeProblem]) {
    if (problem !== undefined) {
      problems.push(problem);
    }
  }
  if (problems.length > 0) {
    return { problems };
  }
  return {
    problems,
    error: code === undefined ? { message: message as string } : { message: message as string, code: code as string },
  };
}

function checkResponse(
  trigger: string,
  response: unknown,
): { problems: string[]; warnings: string[]; response?: Record<string, unknown> } {
  const warnings: string[] = [];
  if (!isKnownScalekitInterceptorTrigger(trigger)) {
    // A trigger this version does not know: its response shape is unknown too, so any JSON object passes through.
    if (!isPlainObject(response)) {
      return { problems: [`response must be a plain JSON object (got ${kindOf(response)})`], warnings };
    }
    const copy = copyJson(response, 'response');
    return copy.ok
      ? { problems: [], warnings, response: copy.value as Record<string, unknown> }
      : { problems: copy.problems, warnings };
  }

  const accepted = RESPONSE_FIELDS[trigger];
  if (accepted.length === 0) {
    return { problems: [`response is not accepted for ${trigger} (its interceptor only decides)`], warnings };
  }
  if (!isPlainObject(response)) {
    return { problems: [`response must be a plain object (got ${kindOf(response)})`], warnings };
  }

  const problems: string[] = [];
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(response)) {
    if (response[key] === undefined || accepted.includes(key)) {
      continue;
    }
    problems.push(
      key in FIELD_TRIGGERS
        ? `response.${key} is not accepted for ${trigger} (only for ${FIELD_TRIGGERS[key]})`
        : `response.${key} is not a field of a ${trigger} response (accepted: ${accepted.join(', ')})`,
    );
  }

  const membership = accepted.includes('create_organization_membership')
    ? own(response, 'create_organization_membership')
    : undefined;
  if (membership !== undefined) {
    const result = checkMembership(membership);
    problems.push(...result.problems);
    if (result.membership !== undefined) {
      copy.create_organization_membership = result.membership;
    }
  }

  const claims = accepted.includes('claims') ? own(response, 'claims') : undefined;
  if (claims !== undefined) {
    if (isPlainObject(claims)) {
      const result = copyJson(claims, 'response.claims');
      if (result.ok) {
        copy.claims = result.value;
        if (trigger === 'PRE_M2M_TOKEN_CREATION') {
          for (const name of SCALEKIT_PROTECTED_M2M_CLAIMS.filter((claim) => Object.hasOwn(claims, claim))) {
            warnings.push(`response.claims.${name} is a registered claim Scalekit may not let an interceptor set`);
          }
        }
      } else {
        problems.push(...result.problems);
      }
    } else {
      problems.push(`response.claims must be a plain JSON object (got ${kindOf(claims)})`);
    }
  }
  return problems.length === 0 ? { problems, warnings, response: copy } : { problems, warnings };
}

function checkMembership(membership: unknown): { problems: string[]; membership?: Record<string, unknown> } {
  const at = 'response.create_organization_membership';
  if (!isPlainObject(membership)) {
    return { problems: [`${at} must be an object (got ${kindOf(membership)})`] };
  }
  const problems = unknownFields(membership, MEMBERSHIP_FIELDS, at, 'an organization membership');
  const organizationId = own(membership, 'organization_id');
  const externalId = own(membership, 'external_organization_id');
  const roles = own(membership, 'roles');

  if (organizationId !== undefined && externalId !== undefined) {
    problems.push(`${at} must name exactly one of organization_id and external_organization_id (got both)`);
  } else if (organizationId === undefined && externalId === undefined) {
    problems.push(`${at} must name exactly one of organization_id and external_organization_id (got neither)`);
  }
  for (const [field, id] of [
    ['organization_id', organizationId],
    ['external_organization_id', externalId],
  ] as const) {
    if (id !== undefined && (typeof id !== 'string' || id.length === 0)) {
      problems.push(`${at}.${field} must be a non-empty string (got ${kindOf(id)})`);
    }
  }
  if (roles !== undefined) {
    if (!Array.isArray(roles)) {
      problems.push(`${at}.roles must be an array of role names (got ${kindOf(roles)})`);
    } else {
      // Array.from visits holes too: a sparse array is not a list of names.
      Array.from(roles as unknown[]).forEach((role, index) => {
        if (typeof role !== 'string' || role.length === 0) {
          problems.push(`${at}.roles[${index}] must be a non-empty string (got ${kindOf(role)})`);
        }
      });
    }
  }
  if (problems.length > 0) {
    return { problems };
  }
  const copy: Record<string, unknown> = {};
  if (organizationId !== undefined) {
    copy.organization_id = organizationId;
  } else {
    copy.external_organization_id = externalId;
  }
  if (roles !== undefined) {
    copy.roles = [...(roles as string[])];
  }
  return { problems, membership: copy };
}

/** Problems for the own keys of `value` outside `allowed` (keys whose value is `undefined` are absent in JSON). */
function unknownFields(value: Record<string, unknown>, allowed: readonly string[], at: string, what: string): string[] {
  return Object.keys(value)
    .filter((key) => value[key] !== undefined && !allowed.includes(key))
    .map((key) => `${at}.${key} is not a field of ${what} (accepted: ${allowed.join(', ')})`);
}

function lengthProblem(field: string, value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'string') {
    return `${field} must be a string of ${min}–${max} characters (got ${kindOf(value)})`;
  }
  const length = codePoints(value);
  return length < min || length > max ? `${field} must be ${min}–${max} characters (got ${length})` : undefined;
}

/** Characters as a reader counts them: an emoji is one, not two UTF-16 units. */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) {
    count++;
  }
  return count;
}

/** An own property only: a polluted `Object.prototype.decision` must never read as an answer. */
function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}
