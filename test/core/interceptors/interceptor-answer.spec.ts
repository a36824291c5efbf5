import { describe, expect, it } from '@jest/globals';
import {
  checkScalekitInterceptorAnswer,
  SCALEKIT_INTERCEPTOR_TRIGGERS,
  ScalekitInterceptorDecision,
  type ScalekitInterceptorAnswerCheck,
} from '../../../lib/core/interceptors/index.js';

const TRIGGERS = [...SCALEKIT_INTERCEPTOR_TRIGGERS, 'SOMETHING_NEW'];

function valid(trigger: string, value: unknown) {
  const result = checkScalekitInterceptorAnswer(trigger, value);
  if (!result.ok) {
    throw new Error(`expected a valid answer, got: ${result.problems.join('; ')}`);
  }
  return result;
}

function invalid(trigger: string, value: unknown): Extract<ScalekitInterceptorAnswerCheck, { ok: false }> {
  const result = checkScalekitInterceptorAnswer(trigger, value);
  if (result.ok) {
    throw new Error(`expected problems, got a valid answer: ${JSON.stringify(result.answer)}`);
  }
  expect(result.problems.length).toBeGreaterThan(0);
  return result;
}

describe('checkScalekitInterceptorAnswer: decision', () => {
  it.each(TRIGGERS)('%s: a bare ALLOW and a bare DENY are valid', (trigger) => {
    expect(valid(trigger, { decision: 'ALLOW' })).toEqual({ ok: true, answer: { decision: 'ALLOW' }, warnings: [] });
    expect(valid(trigger, { decision: 'DENY' })).toEqual({ ok: true, answer: { decision: 'DENY' }, warnings: [] });
  });

  it.each([
    ['allow', "decision must be 'ALLOW' or 'DENY' exactly (got 'allow' with other case or spacing)"],
    ['Deny', "decision must be 'ALLOW' or 'DENY' exactly (got 'Deny' with other case or spacing)"],
    [' ALLOW', "decision must be 'ALLOW' or 'DENY' exactly (got 'ALLOW' with other case or spacing)"],
    ['yes', "decision must be 'ALLOW' or 'DENY' (got a string)"],
    ['', "decision must be 'ALLOW' or 'DENY' (got an empty string)"],
    [true, "decision must be 'ALLOW' or 'DENY' (got a boolean)"],
    [1, "decision must be 'ALLOW' or 'DENY' (got a number)"],
    [null, "decision must be 'ALLOW' or 'DENY' (got null)"],
    [['ALLOW'], "decision must be 'ALLOW' or 'DENY' (got an array)"],
  ])('decision %j is a problem, never an ALLOW', (decision, problem) => {
    const result = invalid('PRE_SIGNUP', { decision });
    expect(result).toEqual({ ok: false, problems: [problem] });
  });

  it('a missing decision is a problem', () => {
    expect(invalid('PRE_SIGNUP', {}).problems).toEqual(["decision is required ('ALLOW' or 'DENY')"]);
    expect(invalid('PRE_SIGNUP', { decision: undefined }).problems).toEqual([
      "decision is required ('ALLOW' or 'DENY')",
    ]);
  });

  it.each([
    [null, 'null'],
    [undefined, 'nothing'],
    ['ALLOW', 'a string'],
    [[{ decision: 'ALLOW' }], 'an array'],
    [Promise.resolve({ decision: 'ALLOW' }), 'a promise'],
    [new Date(0), 'a Date'],
    [
      new (class Answer {
        decision = 'ALLOW';
      })(),
      'an Answer',
    ],
  ])('an answer that is not a plain object (%p) is a problem', (value, kind) => {
    expect(invalid('PRE_SIGNUP', value).problems).toEqual([
      `answer must be a plain object like { decision: 'ALLOW' } (got ${kind})`,
    ]);
  });

  it('accepts an object without a prototype', () => {
    const answer = Object.assign(Object.create(null) as object, { decision: 'ALLOW' });
    expect(valid('PRE_SIGNUP', answer).answer).toEqual({ decision: 'ALLOW' });
  });

  it('reads own fields only: a polluted Object.prototype.decision is not a decision', () => {
    const prototype = Object.prototype as Record<string, unknown>;
    prototype.decision = 'ALLOW';
    try {
      expect(invalid('PRE_SIGNUP', {}).problems).toEqual(["decision is required ('ALLOW' or 'DENY')"]);
    } finally {
      delete prototype.decision;
    }
  });

  it('refuses an object that inherits its decision', () => {
    const inherited = Object.create({ decision: 'ALLOW' }) as object;
    expect(invalid('PRE_SIGNUP', inherited).problems).toEqual([
      "answer must be a plain object like { decision: 'ALLOW' } (got an object)",
    ]);
  });

  it('refuses unknown top-level fields (a misspelt field would be dropped silently)', () => {
    const result = invalid('PRE_SIGNUP', { decision: 'DENY', errors: { message: 'x' }, reason: 'y' });
    expect(result.problems).toEqual([
      'answer.errors is not a field of an interceptor answer (accepted: decision, error, response)',
      'answer.reason is not a field of an interceptor answer (accepted: decision, error, response)',
    ]);
  });

  it('treats fields whose value is undefined as absent, as JSON does', () => {
    const result = valid('PRE_SESSION_CREATION', {
      decision: 'ALLOW',
      error: undefined,
      response: undefined,
      extra: undefined,
    });
    expect(result.answer).toEqual({ decision: 'ALLOW' });
    expect(Object.keys(result.answer)).toEqual(['decision']);
  });

  it('never throws: a getter that throws is a problem', () => {
    const answer = {
      decision: 'ALLOW',
      get response(): unknown {
        throw new RangeError('secret detail');
      },
    };
    const result = invalid('PRE_SESSION_CREATION', answer);
    expect(result.problems).toEqual(['answer could not be read (reading it threw RangeError)']);
    expect(JSON.stringify(result)).not.toContain('secret detail');
  });
});

describe('checkScalekitInterceptorAnswer: error', () => {
  it.each([1, 2, 499, 500])('accepts a message of %i characters', (length) => {
    const message = 'm'.repeat(length);
    expect(valid('PRE_SIGNUP', { decision: 'DENY', error: { message } }).answer).toEqual({
      decision: 'DENY',
      error: { message },
    });
  });

  it.each([0, 501, 1000])('refuses a message of %i characters', (length) => {
    const result = invalid('PRE_SIGNUP', { decision: 'DENY', error: { message: 'm'.repeat(length) } });
    expect(result.problems).toEqual([`error.message must be 1–500 characters (got ${length})`]);
  });

  it('counts characters, not UTF-16 units: 500 emoji are 500 characters', () => {
    const message = '🙂'.repeat(500);
    expect(message.length).toBe(1000);
    expect(valid('PRE_SIGNUP', { decision: 'DENY', error: { message } }).ok).toBe(true);
    expect(invalid('PRE_SIGNUP', { decision: 'DENY', error: { message: `${message}!` } }).problems).toEqual([
      'error.message must be 1–500 characters (got 501)',
    ]);
  });

  it.each([1, 50])('accepts a code of %i characters', (length) => {
    const code = 'C'.repeat(length);
    expect(valid('PRE_SIGNUP', { decision: 'DENY', error: { message: 'No', code } }).answer).toEqual({
      decision: 'DENY',
      error: { message: 'No', code },
    });
  });

  it.each([0, 51])('refuses a code of %i characters', (length) => {
    const result = invalid('PRE_SIGNUP', { decision: 'DENY', error: { message: 'No', code: 'C'.repeat(length) } });
    expect(result.problems).toEqual([`error.code must be 1–50 characters (got ${length})`]);
  });

  it('requires a message in an error', () => {
    expect(invalid('PRE_SIGNUP', { decision: 'DENY', error: { code: 'X' } }).problems).toEqual([
      'error.message is required in an error (leave out error for the generic message)',
    ]);
    expect(invalid('PRE_SIGNUP', { decision: 'DENY', error: {} }).problems).toEqual([
      'error.message is required in an error (leave out error for the generic message)',
    ]);
  });

  it.each([
    [{ message: 5 }, 'error.message must be a string of 1–500 characters (got a number)'],
    [{ message: null }, 'error.message must be a string of 1–500 characters (got null)'],
    [{ message: 'No', code: 7 }, 'error.code must be a string of 1–50 characters (got a number)'],
    [{ message: 'No', code: null }, 'error.code must be a string of 1–50 characters (got null)'],
    [{ message: 'No', detail: 'x' }, 'error.detail is not a field of an interceptor error (accepted: message, code)'],
  ])('refuses error %j', (error, problem) => {
    expect(invalid('PRE_SIGNUP', { decision: 'DENY', error }).problems).toEqual([problem]);
  });

  it.each([
    ['a string', 'No'],
    ['null', null],
    ['an array', ['No']],
  ])('refuses an error that is %s', (kind, error) => {
    expect(invalid('PRE_SIGNUP', { decision: 'DENY', error }).problems).toEqual([
      `error must be an object like { message, code? } (got ${kind})`,
    ]);
  });

  it('refuses an error with ALLOW (an ALLOW with an error is ambiguous), and offers no DENY fallback', () => {
    const result = invalid('PRE_SIGNUP', { decision: 'ALLOW', error: { message: 'Blocked' } });
    expect(result).toEqual({
      ok: false,
      problems: ["error is only sent with decision 'DENY' (an ALLOW with an error is ambiguous)"],
    });
  });

  it('a DENY with a broken error still offers the DENY, without the broken part', () => {
    const result = invalid('PRE_SIGNUP', { decision: 'DENY', error: { message: '' } });
    expect(result.deny).toEqual({ decision: 'DENY' });
  });

  it('a DENY with a response offers the DENY with its valid error', () => {
    const result = invalid('PRE_SESSION_CREATION', {
      decision: 'DENY',
      error: { message: 'No', code: 'X' },
      response: { claims: {} },
    });
    expect(result.problems).toEqual(["response is only sent with decision 'ALLOW'"]);
    expect(result.deny).toEqual({ decision: 'DENY', error: { message: 'No', code: 'X' } });
  });

  it('a broken ALLOW or a broken decision never offers a fallback', () => {
    expect(invalid('PRE_SESSION_CREATION', { decision: 'ALLOW', response: { claims: 1 } }).deny).toBeUndefined();
    expect(invalid('PRE_SESSION_CREATION', { decision: 'deny', error: { message: 'No' } }).deny).toBeUndefined();
  });
});

describe('checkScalekitInterceptorAnswer: PRE_SIGNUP membership', () => {
  const membership = (value: unknown) => ({ decision: 'ALLOW', response: { create_organization_membership: value } });

  it('accepts organization_id or external_organization_id, with or without roles', () => {
    expect(valid('PRE_SIGNUP', membership({ organization_id: 'org_1' })).answer).toEqual(
      membership({ organization_id: 'org_1' }),
    );
    expect(
      valid('PRE_SIGNUP', membership({ external_organization_id: 'acme', roles: ['admin', 'member'] })).answer,
    ).toEqual(membership({ external_organization_id: 'acme', roles: ['admin', 'member'] }));
    expect(valid('PRE_SIGNUP', membership({ organization_id: 'org_1', roles: [] })).answer).toEqual(
      membership({ organization_id: 'org_1', roles: [] }),
    );
  });

  it('an id set to undefined counts as absent', () => {
    expect(
      valid('PRE_SIGNUP', membership({ organization_id: 'org_1', external_organization_id: undefined })).answer,
    ).toEqual(membership({ organization_id: 'org_1' }));
  });

  it('refuses both ids and neither id', () => {
    const at = 'response.create_organization_membership';
    expect(
      invalid('PRE_SIGNUP', membership({ organization_id: 'org_1', external_organization_id: 'acme' })).problems,
    ).toEqual([`${at} must name exactly one of organization_id and external_organization_id (got both)`]);
    expect(invalid('PRE_SIGNUP', membership({ roles: ['member'] })).problems).toEqual([
      `${at} must name exactly one of organization_id and external_organization_id (got neither)`,
    ]);
  });

  it.each([
    [
      { organization_id: '' },
      'response.create_organization_membership.organization_id must be a non-empty string (got an empty string)',
    ],
    [
      { organization_id: 42 },
      'response.create_organization_membership.organization_id must be a non-empty string (got a number)',
    ],
    [
      { external_organization_id: null },
      'response.create_organization_membership.external_organization_id must be a non-empty string (got null)',
    ],
    [
      { organization_id: 'org_1', roles: 'admin' },
      'response.create_organization_membership.roles must be an array of role names (got a string)',
    ],
    [
      { organization_id: 'org_1', roles: ['admin', ''] },
      'response.create_organization_membership.roles[1] must be a non-empty string (got an empty string)',
    ],
    [
      { organization_id: 'org_1', roles: [{ name: 'admin' }] },
      'response.create_organization_membership.roles[0] must be a non-empty string (got an object)',
    ],
    [
      { organization_id: 'org_1', role: 'admin' },
      'response.create_organization_membership.role is not a field of an organization membership (accepted: organization_id, external_organization_id, roles)',
    ],
  ])('refuses membership %j', (value, problem) => {
    expect(invalid('PRE_SIGNUP', membership(value)).problems).toEqual([problem]);
  });

  it('refuses a sparse roles array', () => {
    const roles = ['admin'];
    roles[2] = 'member';
    expect(invalid('PRE_SIGNUP', membership({ organization_id: 'org_1', roles })).problems).toEqual([
      'response.create_organization_membership.roles[1] must be a non-empty string (got nothing)',
    ]);
  });

  it.each([
    [null, 'null'],
    ['org_1', 'a string'],
    [['org_1'], 'an array'],
  ])('refuses a membership that is %p', (value, kind) => {
    expect(invalid('PRE_SIGNUP', membership(value)).problems).toEqual([
      `response.create_organization_membership must be an object (got ${kind})`,
    ]);
  });

  it.each(['PRE_SESSION_CREATION', 'PRE_M2M_TOKEN_CREATION'])('refuses a membership for %s', (trigger) => {
    expect(invalid(trigger, membership({ organization_id: 'org_1' })).problems).toEqual([
      `response.create_organization_membership is not accepted for ${trigger} (only for PRE_SIGNUP)`,
    ]);
  });

  it('copies the membership: a later change to the handler object does not change the answer', () => {
    const roles = ['member'];
    const answer = membership({ organization_id: 'org_1', roles });
    const result = valid('PRE_SIGNUP', answer);
    roles.push('admin');
    expect(result.answer).toEqual(membership({ organization_id: 'org_1', roles: ['member'] }));
  });
});

describe('checkScalekitInterceptorAnswer: claims', () => {
  const claims = (value: unknown) => ({ decision: 'ALLOW', response: { claims: value } });

  it.each(['PRE_SESSION_CREATION', 'PRE_M2M_TOKEN_CREATION'])('%s accepts a plain JSON object', (trigger) => {
    const value = {
      plan: 'pro',
      seats: 5,
      ratio: 0.5,
      active: true,
      none: null,
      tags: ['a', 'b'],
      nested: { deeper: { list: [1, { x: 'y' }] } },
    };
    const result = valid(trigger, claims(value));
    expect(result.answer).toEqual(claims(value));
    expect(JSON.parse(JSON.stringify(result.answer))).toEqual(claims(value));
  });

  it('accepts empty claims and an empty response, and leaves an empty response out', () => {
    expect(valid('PRE_SESSION_CREATION', claims({})).answer).toEqual(claims({}));
    expect(valid('PRE_SESSION_CREATION', { decision: 'ALLOW', response: {} }).answer).toEqual({ decision: 'ALLOW' });
  });

  it('drops object properties whose value is undefined, as JSON does', () => {
    const result = valid('PRE_SESSION_CREATION', claims({ plan: 'pro', trial: undefined }));
    expect(result.answer).toEqual(claims({ plan: 'pro' }));
    expect(Object.keys((result.answer.response as { claims: object }).claims)).toEqual(['plan']);
  });

  it('keeps a claim named __proto__ as a claim, without touching the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "plan": "pro"}') as object;
    const result = valid('PRE_SESSION_CREATION', claims(value));
    const copied = (result.answer.response as { claims: Record<string, unknown> }).claims;
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.hasOwn(copied, '__proto__')).toBe(true);
    expect(JSON.stringify(copied)).toBe('{"__proto__":{"polluted":true},"plan":"pro"}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    [null, 'null'],
    [[], 'an array'],
    [['plan'], 'an array'],
    ['plan=pro', 'a string'],
    [1, 'a number'],
    [new Map([['plan', 'pro']]), 'a Map'],
  ])('refuses claims that are %p', (value, kind) => {
    expect(invalid('PRE_SESSION_CREATION', claims(value)).problems).toEqual([
      `response.claims must be a plain JSON object (got ${kind})`,
    ]);
  });

  it.each([
    [{ since: new Date(0) }, 'response.claims.since must be a plain JSON object (got a Date)'],
    [{ n: Number.NaN }, 'response.claims.n must be a finite number (got NaN)'],
    [{ n: Number.POSITIVE_INFINITY }, 'response.claims.n must be a finite number (got Infinity)'],
    [{ n: 1n }, 'response.claims.n must be a JSON value (got a bigint)'],
    [{ f: () => 1 }, 'response.claims.f must be a JSON value (got a function)'],
    [{ s: Symbol('x') }, 'response.claims.s must be a JSON value (got a symbol)'],
    [{ list: [1, undefined] }, 'response.claims.list[1] must be a JSON value (got nothing)'],
    [{ nested: { set: new Set() } }, 'response.claims.nested.set must be a plain JSON object (got a Set)'],
  ])('refuses claims that JSON would change or drop: %p', (value, problem) => {
    expect(invalid('PRE_SESSION_CREATION', claims(value)).problems).toEqual([problem]);
  });

  it('refuses a cycle, but accepts the same object twice side by side', () => {
    const shared = { a: 1 };
    expect(valid('PRE_SESSION_CREATION', claims({ x: shared, y: shared })).answer).toEqual(
      claims({ x: { a: 1 }, y: { a: 1 } }),
    );
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(invalid('PRE_SESSION_CREATION', claims(cyclic)).problems).toEqual([
      'response.claims.self refers back to an enclosing object (a cycle cannot be sent as JSON)',
    ]);
  });

  it('refuses nesting deeper than 32 levels, and does not overflow the stack on much deeper input', () => {
    const nest = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) {
        value = { d: value };
      }
      return value;
    };
    expect(valid('PRE_SESSION_CREATION', claims(nest(32))).ok).toBe(true);
    expect(invalid('PRE_SESSION_CREATION', claims(nest(33))).problems).toEqual([
      `response.claims${'.d'.repeat(32)} is nested more than 32 levels deep`,
    ]);
    expect(invalid('PRE_SESSION_CREATION', claims(nest(100_000))).problems).toHaveLength(1);
  });

  it('lists at most ten problems of one claims object, and says there are more', () => {
    const value = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`c${i}`, Number.NaN]));
    const problems = invalid('PRE_SESSION_CREATION', claims(value)).problems;
    expect(problems).toHaveLength(11);
    expect(problems[10]).toBe('response.claims has more problems than these');
  });

  it.each(['PRE_SIGNUP'])('refuses claims for %s', (trigger) => {
    expect(invalid(trigger, claims({ plan: 'pro' })).problems).toEqual([
      `response.claims is not accepted for ${trigger} (only for PRE_SESSION_CREATION and PRE_M2M_TOKEN_CREATION)`,
    ]);
  });

  it('refuses an unknown response field for a known trigger', () => {
    expect(invalid('PRE_SESSION_CREATION', { decision: 'ALLOW', response: { claim: {} } }).problems).toEqual([
      'response.claim is not a field of a PRE_SESSION_CREATION response (accepted: claims)',
    ]);
  });

  it.each([
    [null, 'null'],
    [['claims'], 'an array'],
    ['claims', 'a string'],
  ])('refuses a response that is %p', (response, kind) => {
    expect(invalid('PRE_SESSION_CREATION', { decision: 'ALLOW', response }).problems).toEqual([
      `response must be a plain object (got ${kind})`,
    ]);
  });

  it('warns about registered claims in a machine-to-machine token, and sends them', () => {
    const result = valid('PRE_M2M_TOKEN_CREATION', claims({ sub: 'x', exp: 1, aud: 'api', scope: 'read' }));
    expect(result.answer).toEqual(claims({ sub: 'x', exp: 1, aud: 'api', scope: 'read' }));
    expect(result.warnings).toEqual([
      'response.claims.sub is a registered claim Scalekit may not let an interceptor set',
      'response.claims.exp is a registered claim Scalekit may not let an interceptor set',
    ]);
  });

  it('does not warn about the same names in session claims (they go under custom_claims)', () => {
    expect(valid('PRE_SESSION_CREATION', claims({ sub: 'x' })).warnings).toEqual([]);
  });
});

describe('checkScalekitInterceptorAnswer: PRE_USER_INVITATION and unknown triggers', () => {
  it.each([{}, { claims: { plan: 'pro' } }, { create_organization_membership: { organization_id: 'org_1' } }])(
    'PRE_USER_INVITATION accepts no response: %j',
    (response) => {
      expect(invalid('PRE_USER_INVITATION', { decision: 'ALLOW', response }).problems).toEqual([
        'response is not accepted for PRE_USER_INVITATION (its interceptor only decides)',
      ]);
    },
  );

  it('PRE_USER_INVITATION accepts a DENY with a message', () => {
    expect(
      valid('PRE_USER_INVITATION', { decision: 'DENY', error: { message: 'Not this domain', code: 'DOMAIN' } }).answer,
    ).toEqual({ decision: 'DENY', error: { message: 'Not this domain', code: 'DOMAIN' } });
  });

  it('an unknown trigger passes any JSON object response through, copied', () => {
    const response = { claims: { a: 1 }, anything: ['x'] };
    expect(valid('POST_USER_AUTHENTICATION', { decision: 'ALLOW', response }).answer).toEqual({
      decision: 'ALLOW',
      response,
    });
  });

  it('an unknown trigger still refuses a response that is not JSON', () => {
    expect(invalid('SOMETHING_NEW', { decision: 'ALLOW', response: [1] }).problems).toEqual([
      'response must be a plain JSON object (got an array)',
    ]);
    expect(invalid('SOMETHING_NEW', { decision: 'ALLOW', response: { at: new Date(0) } }).problems).toEqual([
      'response.at must be a plain JSON object (got a Date)',
    ]);
  });

  it('trigger names are case-sensitive: a lower-case known name is an unknown trigger', () => {
    expect(valid('pre_user_invitation', { decision: 'ALLOW', response: { x: 1 } }).answer).toEqual({
      decision: 'ALLOW',
      response: { x: 1 },
    });
  });
});

describe('ScalekitInterceptorDecision', () => {
  it('builds plain answers that pass the check', () => {
    expect(ScalekitInterceptorDecision.allow()).toEqual({ decision: 'ALLOW' });
    expect(ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } })).toEqual({
      decision: 'ALLOW',
      response: { claims: { plan: 'pro' } },
    });
    expect(ScalekitInterceptorDecision.deny()).toEqual({ decision: 'DENY' });
    expect(ScalekitInterceptorDecision.deny('No')).toEqual({ decision: 'DENY', error: { message: 'No' } });
    expect(ScalekitInterceptorDecision.deny('No', 'X')).toEqual({
      decision: 'DENY',
      error: { message: 'No', code: 'X' },
    });
    expect(Object.getPrototypeOf(ScalekitInterceptorDecision.allow())).toBe(Object.prototype);

    expect(valid('PRE_SESSION_CREATION', ScalekitInterceptorDecision.allow({ claims: { plan: 'pro' } })).ok).toBe(true);
    expect(
      valid(
        'PRE_SIGNUP',
        ScalekitInterceptorDecision.allow({ create_organization_membership: { organization_id: 'o' } }),
      ).ok,
    ).toBe(true);
    expect(valid('PRE_USER_INVITATION', ScalekitInterceptorDecision.deny('No', 'X')).ok).toBe(true);
  });
});
