/**
 * Interceptor calls for the HTTP fuzz run. A call is signed exactly as a webhook is, under `interceptor-*` headers,
 * so the webhook deliveries and mutations of arbitraries/ are reused: the body is an interceptor request (or a
 * broken one), and the header names are moved to the interceptor prefix after mutating (or, to forge, left as
 * `webhook-*`).
 */
import fc from 'fast-check';
import { SCALEKIT_INTERCEPTOR_EXAMPLES } from 'nestjs-scalekit-webhooks/testing';
import { type HeaderEntry, nastyTextArb, type Wire } from './arbitraries/index.js';

export const INTERCEPTOR_HEADER_NAMES = ['interceptor-id', 'interceptor-timestamp', 'interceptor-signature'] as const;

/** A trigger whose handler throws, and one whose handler answers a lowercase `'allow'`: both must fail (503). */
export const THROWING_TRIGGER = 'FUZZ_THROWS';
export const LOWERCASE_TRIGGER = 'FUZZ_LOWERCASE';
export const BLOCKED_DOMAIN = 'blocked.example';

export interface InterceptorBody {
  bytes: Buffer;
  /** A JSON object with a routable `trigger_point`: the receiver must hand it to a handler. */
  valid: boolean;
  label: string;
  /** The text has `"__proto__"` or `"constructor"` keys (Fastify's JSON parser answers 400 for those). */
  poisonKeys: boolean;
}

const TRIGGERS = [
  'PRE_SIGNUP',
  'PRE_SIGNUP',
  'PRE_SIGNUP',
  'PRE_SESSION_CREATION',
  'PRE_USER_INVITATION',
  'PRE_M2M_TOKEN_CREATION',
  THROWING_TRIGGER,
  LOWERCASE_TRIGGER,
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '*',
  'PRE_SOMETHING_NEW',
  'pre_signup',
  ' PRE_SIGNUP',
  'Zoë 🚀 日本語',
  'x'.repeat(256),
];

const EMAILS: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('john.doe@acmecorp.com') },
  { weight: 3, arbitrary: fc.constant(`eve@${BLOCKED_DOMAIN}`) },
  { weight: 1, arbitrary: fc.constantFrom(`EVE@${BLOCKED_DOMAIN.toUpperCase()}`, `eve@${BLOCKED_DOMAIN}.evil`, '') },
  { weight: 1, arbitrary: nastyTextArb.map((text) => `${text}@${BLOCKED_DOMAIN}`) },
  { weight: 1, arbitrary: nastyTextArb },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Bodies that are JSON but no interceptor request, or not JSON at all: answered 400 when authentic. */
const BROKEN: Record<string, string | Buffer> = {
  'no-trigger': '{"display_name":"x","interceptor_context":{},"data":{}}',
  'number-trigger': '{"trigger_point":42}',
  'null-trigger': '{"trigger_point":null}',
  'empty-trigger': '{"trigger_point":""}',
  'long-trigger': JSON.stringify({ trigger_point: 'x'.repeat(257) }),
  'object-trigger': '{"trigger_point":{"toString":"PRE_SIGNUP"}}',
  'inherited-trigger': '{"__proto__":{"trigger_point":"PRE_SIGNUP"}}',
  array: '[{"trigger_point":"PRE_SIGNUP"}]',
  null: 'null',
  string: '"PRE_SIGNUP"',
  truncated: '{"trigger_point":"PRE_SIGNUP"',
  'trailing-garbage': '{"trigger_point":"PRE_SIGNUP"}x',
  empty: '',
  blank: '  \n ',
  'invalid-utf8': Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
};

function poison(text: string): boolean {
  return text.includes('"__proto__"') || text.includes('"constructor"');
}

const validBodyArb: fc.Arbitrary<InterceptorBody> = fc
  .record({
    trigger: fc.constantFrom(...TRIGGERS),
    email: EMAILS,
    templated: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    protoKey: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    pretty: fc.boolean(),
    displayName: fc.option(nastyTextArb, { nil: undefined }),
  })
  .map(({ trigger, email, templated, protoKey, pretty, displayName }) => {
    const known = SCALEKIT_INTERCEPTOR_EXAMPLES as unknown as Record<string, Record<string, unknown>>;
    const base = structuredClone(Object.hasOwn(known, trigger) ? known[trigger]! : known['PRE_SIGNUP']!);
    const context = { ...(base['interceptor_context'] as Record<string, unknown>) };
    if (email === undefined) {
      delete context['user_email'];
    } else {
      context['user_email'] = email;
    }
    // A request template may reshape the body: only trigger_point is required.
    const request: Record<string, unknown> = templated
      ? { trigger_point: trigger, interceptor_context: { user_email: email } }
      : { ...base, trigger_point: trigger, interceptor_context: context };
    if (displayName !== undefined) {
      request['display_name'] = displayName;
    }
    let text = pretty ? JSON.stringify(request, null, 2) : JSON.stringify(request);
    if (protoKey) {
      text = text.replace('{', '{"__proto__":{"polluted":true,"trigger_point":"FUZZ_THROWS"},');
    }
    return {
      bytes: Buffer.from(text, 'utf8'),
      valid: true,
      label: `${trigger.slice(0, 30)}${templated ? ' templated' : ''}${protoKey ? ' __proto__' : ''}`,
      poisonKeys: poison(text),
    };
  });

const brokenBodyArb: fc.Arbitrary<InterceptorBody> = fc.constantFrom(...Object.keys(BROKEN)).map((label) => {
  const raw = BROKEN[label]!;
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return { bytes, valid: false, label: `broken: ${label}`, poisonKeys: poison(bytes.toString('latin1')) };
});

export const interceptorBodyArb: fc.Arbitrary<InterceptorBody> = fc.oneof(
  { weight: 6, arbitrary: validBodyArb },
  { weight: 1, arbitrary: brokenBodyArb },
);

/**
 * How the signature headers reach the interceptor route: under `interceptor-*` (as Scalekit sends them), left as
 * `webhook-*` (a webhook delivery replayed at the interceptor route), or both.
 */
export type HeaderStyle = 'interceptor' | 'webhook' | 'both';
export const headerStyleArb: fc.Arbitrary<HeaderStyle> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<HeaderStyle>('interceptor') },
  { weight: 1, arbitrary: fc.constant<HeaderStyle>('webhook') },
  { weight: 1, arbitrary: fc.constant<HeaderStyle>('both') },
);

/** Moves `webhook-*` header names (any case, mutated names included) to the `interceptor-` prefix. */
export function toInterceptorWire(wire: Wire, style: HeaderStyle): Wire {
  if (style === 'webhook') {
    return { ...wire, labels: [...wire.labels, 'webhook-headers'], harmless: false };
  }
  const renamed: HeaderEntry[] = [];
  for (const [name, value] of wire.headers) {
    const match = /^webhook-/i.exec(name);
    if (match === null) {
      renamed.push([name, value]);
      continue;
    }
    const prefix = match[0] === match[0].toUpperCase() ? 'INTERCEPTOR-' : 'interceptor-';
    if (style === 'both') {
      renamed.push([name, value]);
    }
    renamed.push([prefix + name.slice(match[0].length), value]);
  }
  return { ...wire, headers: renamed, labels: style === 'both' ? [...wire.labels, 'both-headers'] : wire.labels };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The interceptor request a body holds, by the documented contract alone (UTF-8 JSON, an object with a `trigger_point`
 * string of 1–256 characters), or `undefined` for a body the route must refuse with 400. Decided from the bytes the
 * signature covers, so a body edited before it was signed is judged as it is, not as it was generated.
 */
export function interceptorRequestOf(body: Buffer): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    const text = STRICT_UTF8.decode(body);
    if (text.trim().length === 0) {
      return undefined;
    }
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return undefined;
  }
  const trigger = Object.hasOwn(parsed, 'trigger_point')
    ? (parsed as { trigger_point: unknown }).trigger_point
    : undefined;
  return typeof trigger === 'string' && trigger.length >= 1 && trigger.length <= 256
    ? (parsed as Record<string, unknown>)
    : undefined;
}

/** What the fuzz app's handlers answer, written apart from them: `undefined` when they must fail (503). */
export function expectedAnswer(request: Record<string, unknown>): Record<string, unknown> | undefined {
  const trigger = request['trigger_point'] as string;
  switch (trigger) {
    case 'PRE_SIGNUP': {
      const context = request['interceptor_context'] as Record<string, unknown> | undefined;
      const email = context?.['user_email'];
      return typeof email === 'string' && email.endsWith(`@${BLOCKED_DOMAIN}`)
        ? { decision: 'DENY', error: { message: 'Sign-ups from this domain are not accepted', code: 'DOMAIN_BLOCKED' } }
        : { decision: 'ALLOW' };
    }
    case 'PRE_SESSION_CREATION':
      return { decision: 'ALLOW', response: { claims: { plan: 'pro' } } };
    case THROWING_TRIGGER:
    case LOWERCASE_TRIGGER:
      return undefined;
    default:
      return { decision: 'ALLOW' };
  }
}
