import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  isKnownScalekitInterceptorTrigger,
  isScalekitInterceptorRequest,
  parseScalekitInterceptorRequest,
  SCALEKIT_INTERCEPTOR_TRIGGERS,
  type ScalekitInterceptorRequestBody,
  type ScalekitInterceptorRequestParse,
} from '../../../lib/core/interceptors/index.js';

const EXAMPLES = fileURLToPath(new URL('../../../catalogue/interceptor-examples', import.meta.url));
const FILES = readdirSync(EXAMPLES)
  .filter((file) => file.endsWith('.json'))
  .sort();

function example(file: string): Buffer {
  return readFileSync(join(EXAMPLES, file));
}

function parsed(raw: Buffer | Uint8Array | string): ScalekitInterceptorRequestBody {
  const result = parseScalekitInterceptorRequest(raw);
  if (!result.ok) {
    throw new Error(`expected a request, got ${result.code}: ${result.problems.join('; ')}`);
  }
  return result.request;
}

function refused(raw: unknown): Extract<ScalekitInterceptorRequestParse, { ok: false }> {
  const result = parseScalekitInterceptorRequest(raw as string);
  if (result.ok) {
    throw new Error('expected the body to be refused');
  }
  return result;
}

describe('parseScalekitInterceptorRequest: the examples', () => {
  it('has one example per documented trigger, and a second PRE_SIGNUP for an existing user', () => {
    expect(FILES).toEqual([
      'PRE_M2M_TOKEN_CREATION.json',
      'PRE_SESSION_CREATION.json',
      'PRE_SIGNUP.existing-user.json',
      'PRE_SIGNUP.json',
      'PRE_USER_INVITATION.json',
    ]);
    const triggers = new Set(FILES.map((file) => parsed(example(file)).trigger_point));
    expect([...triggers].sort()).toEqual([...SCALEKIT_INTERCEPTOR_TRIGGERS].sort());
  });

  it.each(FILES)('%s parses from bytes and from text, unchanged', (file) => {
    const bytes = example(file);
    const expected: unknown = JSON.parse(bytes.toString('utf8'));
    expect(parsed(bytes)).toEqual(expected);
    expect(parsed(bytes.toString('utf8'))).toEqual(expected);
    expect(parsed(new Uint8Array(bytes))).toEqual(expected);
    expect(Object.getPrototypeOf(parsed(bytes))).toBe(Object.prototype);
  });

  it.each(FILES)('%s has the default shape: display_name, interceptor_context and data', (file) => {
    const request = parsed(example(file));
    expect(request).toEqual({
      display_name: expect.any(String),
      trigger_point: expect.any(String),
      interceptor_context: expect.objectContaining({
        environment_id: expect.any(String),
        triggered_at: expect.any(String),
      }),
      data: expect.any(Object),
    });
    expect(
      Number.isNaN(Date.parse(String((request.interceptor_context as { triggered_at: string }).triggered_at))),
    ).toBe(false);
  });

  // These read the examples through the typed shapes: a field the types name must be there with the declared kind.
  it('PRE_SESSION_CREATION: the user with first_name and last_name', () => {
    const request = parsed(example('PRE_SESSION_CREATION.json'));
    if (!isScalekitInterceptorRequest(request, 'PRE_SESSION_CREATION')) {
      throw new Error('not a PRE_SESSION_CREATION request');
    }
    const user = request.data.user;
    expect({ first: user.first_name, last: user.last_name, id: user.id, email: user.email }).toEqual({
      first: 'Jane',
      last: 'Roe',
      id: expect.stringMatching(/^usr_/),
      email: expect.stringContaining('@'),
    });
    expect(user.memberships?.[0]?.organization_id).toMatch(/^org_/);
    expect(request.interceptor_context.connection_details?.[0]?.type).toBe('SAML');
  });

  it('PRE_SIGNUP: a brand-new person has no user; an existing one has given_name and memberships', () => {
    const fresh = parsed(example('PRE_SIGNUP.json'));
    const existing = parsed(example('PRE_SIGNUP.existing-user.json'));
    if (!isScalekitInterceptorRequest(fresh, 'PRE_SIGNUP') || !isScalekitInterceptorRequest(existing, 'PRE_SIGNUP')) {
      throw new Error('not PRE_SIGNUP requests');
    }
    expect(fresh.data).toEqual({});
    expect(fresh.data.user ?? null).toBeNull();
    expect(fresh.interceptor_context.auth_request?.domain).toBe('acmecorp.com');
    expect(existing.data.user?.given_name).toBe('Jane');
    expect(existing.data.user?.memberships?.[0]).toEqual(
      expect.objectContaining({ organization_id: expect.any(String), status: 'ACTIVE' }),
    );
  });

  it('PRE_USER_INVITATION: the organization', () => {
    const request = parsed(example('PRE_USER_INVITATION.json'));
    if (!isScalekitInterceptorRequest(request, 'PRE_USER_INVITATION')) {
      throw new Error('not a PRE_USER_INVITATION request');
    }
    expect(request.data.organization).toEqual({ id: expect.stringMatching(/^org_/), name: 'Acme Corp' });
  });

  it('PRE_M2M_TOKEN_CREATION: the token claims', () => {
    const request = parsed(example('PRE_M2M_TOKEN_CREATION.json'));
    if (!isScalekitInterceptorRequest(request, 'PRE_M2M_TOKEN_CREATION')) {
      throw new Error('not a PRE_M2M_TOKEN_CREATION request');
    }
    const { client_id, claims } = request.data.m2m_token_claims;
    expect(client_id).toBe(request.interceptor_context.client_id);
    expect(claims.scopes).toEqual(claims.scope?.split(' '));
    expect(claims.custom_claims).toEqual({ tier: 'gold' });
  });
});

describe('parseScalekitInterceptorRequest: what is required', () => {
  it('accepts a body with only trigger_point (a request template may reshape everything else)', () => {
    expect(parsed('{"trigger_point":"PRE_SIGNUP"}')).toEqual({ trigger_point: 'PRE_SIGNUP' });
  });

  it('keeps unknown fields and fields of any kind as sent', () => {
    const body = { trigger_point: 'PRE_SIGNUP', data: 'not an object', extra: [1, { a: null }], display_name: 7 };
    expect(parsed(JSON.stringify(body))).toEqual(body);
  });

  it('accepts a data of null for PRE_SIGNUP', () => {
    expect(parsed('{"trigger_point":"PRE_SIGNUP","data":{"user":null}}')).toEqual({
      trigger_point: 'PRE_SIGNUP',
      data: { user: null },
    });
  });

  it('accepts unknown trigger points, case and all', () => {
    expect(parsed('{"trigger_point":"POST_USER_AUTHENTICATION"}').trigger_point).toBe('POST_USER_AUTHENTICATION');
    expect(parsed('{"trigger_point":"pre_signup"}').trigger_point).toBe('pre_signup');
    expect(isKnownScalekitInterceptorTrigger('pre_signup')).toBe(false);
    expect(isKnownScalekitInterceptorTrigger('PRE_SIGNUP')).toBe(true);
  });

  it('accepts a trigger_point of 256 characters', () => {
    expect(parsed(JSON.stringify({ trigger_point: 'T'.repeat(256) })).trigger_point).toHaveLength(256);
  });

  it('keeps a __proto__ key as data, without changing the prototype', () => {
    const request = parsed('{"trigger_point":"PRE_SIGNUP","__proto__":{"polluted":true}}');
    expect(Object.getPrototypeOf(request)).toBe(Object.prototype);
    expect(Object.hasOwn(request, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{}', 'trigger_point is required (it routes the request; a request template must keep it)'],
    [
      '{"data":{},"display_name":"x"}',
      'trigger_point is required (it routes the request; a request template must keep it)',
    ],
    ['{"trigger_point":null}', 'trigger_point must be a string (got null)'],
    ['{"trigger_point":1}', 'trigger_point must be a string (got a number)'],
    ['{"trigger_point":["PRE_SIGNUP"]}', 'trigger_point must be a string (got an array)'],
    ['{"trigger_point":{}}', 'trigger_point must be a string (got an object)'],
    ['{"trigger_point":""}', 'trigger_point must not be empty'],
    [JSON.stringify({ trigger_point: 'T'.repeat(257) }), 'trigger_point must be at most 256 characters long'],
  ])('refuses %s', (body, problem) => {
    expect(refused(body)).toEqual({ ok: false, code: 'invalid_payload', problems: [problem] });
  });

  it.each([
    ['[]', 'an array'],
    ['[{"trigger_point":"PRE_SIGNUP"}]', 'an array'],
    ['null', 'null'],
    ['"PRE_SIGNUP"', 'a string'],
    ['42', 'a number'],
    ['true', 'a boolean'],
  ])('refuses a body that is not an object: %s', (body, kind) => {
    expect(refused(body)).toEqual({
      ok: false,
      code: 'invalid_payload',
      problems: [`body must be a JSON object (got ${kind})`],
    });
  });

  it.each(['', '   ', '\n'])('refuses an empty body %j', (body) => {
    expect(refused(body)).toEqual({ ok: false, code: 'invalid_payload', problems: ['body is empty'] });
    expect(refused(Buffer.from(body))).toEqual({ ok: false, code: 'invalid_payload', problems: ['body is empty'] });
  });

  it('refuses bytes that are not UTF-8', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    expect(refused(bytes)).toEqual({ ok: false, code: 'invalid_json', problems: ['body is not valid UTF-8'] });
  });

  it('refuses text that is not JSON, without quoting it', () => {
    const result = refused('{"trigger_point":"PRE_SIGNUP","user_email":"jane@secret.example" oops}');
    expect(result.code).toBe('invalid_json');
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^body is not valid JSON: /);
    expect(result.problems[0]).not.toContain('secret');
  });

  it.each([
    [undefined, 'nothing'],
    [null, 'null'],
    [42, 'a number'],
    [{ trigger_point: 'PRE_SIGNUP' }, 'an object'],
  ])('refuses a body that is not bytes or text (%p)', (raw, kind) => {
    expect(refused(raw)).toEqual({ ok: false, code: 'invalid_payload', problems: [`body is missing (got ${kind})`] });
  });
});
