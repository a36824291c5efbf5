import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  parseScalekitEventPayload,
  ScalekitWebhookError,
  type ScalekitWebhookErrorCode,
} from 'nestjs-scalekit-webhooks';

const FIXTURES = fileURLToPath(new URL('../../catalogue/examples', import.meta.url));
const FILES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();

const VALID = {
  spec_version: '1',
  id: 'evt_38862741515010639',
  type: 'organization.created',
  object: 'Organization',
  occurred_at: '2024-09-25T02:26:39.036398577Z',
  environment_id: 'env_32080745237316098',
  organization_id: 'org_38609339635728478',
  display_name: 'Organization Created',
  data: { id: 'org_38609339635728478', display_name: 'Acme' },
};

function body(changes: Record<string, unknown>, remove: string[] = []): string {
  const event: Record<string, unknown> = { ...VALID, ...changes };
  for (const key of remove) {
    delete event[key];
  }
  return JSON.stringify(event);
}

function failure(raw: Buffer | string, code: ScalekitWebhookErrorCode): ScalekitWebhookError {
  let caught: unknown;
  try {
    parseScalekitEventPayload(raw);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ScalekitWebhookError);
  const error = caught as ScalekitWebhookError;
  expect({ code: error.code, message: error.message }).toEqual({ code, message: expect.any(String) });
  expect(error.status).toBe(400);
  return error;
}

describe('parseScalekitEventPayload: the example payloads', () => {
  it('has all 41 examples', () => {
    expect(FILES).toHaveLength(41);
  });

  it.each(FILES)('%s parses, validates and comes back unchanged', (file) => {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    const fromBytes = parseScalekitEventPayload(readFileSync(join(FIXTURES, file)));
    expect(fromBytes).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(fromBytes)).toBe(Object.prototype);
    expect(parseScalekitEventPayload(text)).toEqual(JSON.parse(text));
    expect(fromBytes.type).toBe(file.replace(/\.json$/, ''));
  });
});

describe('parseScalekitEventPayload: accepted envelopes', () => {
  it('keeps occurred_at as the string sent, nanoseconds included', () => {
    const event = parseScalekitEventPayload(body({}));
    expect(event.occurred_at).toBe('2024-09-25T02:26:39.036398577Z');
    expect(typeof event.occurred_at).toBe('string');
  });

  it('returns the parsed object itself, not a class instance, with nothing added', () => {
    const event = parseScalekitEventPayload(body({}));
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(event).toStrictEqual(VALID);
  });

  it('keeps unknown top-level fields and unknown data fields', () => {
    const event = parseScalekitEventPayload(body({ brand_new: { nested: [1, 2] }, data: { id: 'x', extra: null } }));
    expect(event).toEqual({ ...VALID, brand_new: { nested: [1, 2] }, data: { id: 'x', extra: null } });
  });

  it.each(['organization.directory_created', 'something.new', 'x'])('accepts the unknown type %s', (type) => {
    expect(parseScalekitEventPayload(body({ type })).type).toBe(type);
  });

  it('accepts any object string, an empty display_name, and no organization_id or display_name', () => {
    expect(parseScalekitEventPayload(body({ object: 'SomethingNew' })).object).toBe('SomethingNew');
    expect(parseScalekitEventPayload(body({ object: '' })).object).toBe('');
    expect(parseScalekitEventPayload(body({ display_name: '' })).display_name).toBe('');
    const bare = parseScalekitEventPayload(body({}, ['organization_id', 'display_name']));
    expect('organization_id' in bare || 'display_name' in bare).toBe(false);
  });

  it('accepts ids and types up to 256 characters, and an empty data object', () => {
    expect(parseScalekitEventPayload(body({ id: 'e'.repeat(256), type: 't'.repeat(256), data: {} })).data).toEqual({});
  });

  it('accepts a byte order mark, a Uint8Array and surrounding whitespace', () => {
    const text = `\n ${body({})} \n`;
    expect(parseScalekitEventPayload(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toEqual(
      VALID,
    );
    expect(parseScalekitEventPayload(new Uint8Array(Buffer.from(text)) as Buffer)).toEqual(VALID);
  });

  it('does not crash on deeply nested data (validation does not walk into data)', () => {
    const depth = 100_000;
    const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const raw = body({ data: '@DATA@', extra: '@ARRAYS@' }).replace('"@DATA@"', nested).replace('"@ARRAYS@"', arrays);
    const event = parseScalekitEventPayload(raw);
    expect(event.id).toBe(VALID.id);
    expect(Object.keys(event.data)).toEqual(['a']);
    // Deep values in envelope fields are reported by type, not walked either.
    const deepId = body({ id: '@ID@' }).replace('"@ID@"', nested);
    expect(failure(deepId, 'invalid_payload').problems).toEqual(['id must be a string (got an object)']);
  });
});

describe('parseScalekitEventPayload: rejected envelopes', () => {
  it.each([
    ['type missing', body({}, ['type']), ['type is required']],
    ['id missing', body({}, ['id']), ['id is required']],
    ['data missing', body({}, ['data']), ['data is required']],
    ['spec_version missing', body({}, ['spec_version']), ['spec_version is required']],
    ['object missing', body({}, ['object']), ['object is required']],
    ['occurred_at missing', body({}, ['occurred_at']), ['occurred_at is required']],
    ['environment_id missing', body({}, ['environment_id']), ['environment_id is required']],
    ['a number id', body({ id: 42 }), ['id must be a string (got a number)']],
    ['an array data', body({ data: [] }), ['data must be an object (got an array)']],
    ['a null data', body({ data: null }), ['data must be an object (got null)']],
    ['a string data', body({ data: '{}' }), ['data must be an object (got a string)']],
    ['a boolean type', body({ type: true }), ['type must be a string (got a boolean)']],
    ['a null type', body({ type: null }), ['type must be a string (got null)']],
    ['an object type', body({ type: { toString: 'x' } }), ['type must be a string (got an object)']],
    ['an empty id', body({ id: '' }), ['id must not be empty']],
    ['an empty type', body({ type: '' }), ['type must not be empty']],
    ['an empty spec_version', body({ spec_version: '' }), ['spec_version must not be empty']],
    ['an empty occurred_at', body({ occurred_at: '' }), ['occurred_at must not be empty']],
    ['an empty environment_id', body({ environment_id: '' }), ['environment_id must not be empty']],
    ['a 257-character id', body({ id: 'e'.repeat(257) }), ['id must be at most 256 characters long']],
    ['a 257-character type', body({ type: 't'.repeat(257) }), ['type must be at most 256 characters long']],
    ['a number spec_version', body({ spec_version: 1 }), ['spec_version must be a string (got a number)']],
    ['a number occurred_at', body({ occurred_at: 1727231199 }), ['occurred_at must be a string (got a number)']],
    ['a null organization_id', body({ organization_id: null }), ['organization_id must be a string (got null)']],
    ['a number display_name', body({ display_name: 5 }), ['display_name must be a string (got a number)']],
    ['an array object', body({ object: ['Organization'] }), ['object must be a string (got an array)']],
  ])('%s', (_case, raw, problems) => {
    const error = failure(raw, 'invalid_payload');
    expect(error.problems).toEqual(problems);
    expect(error.message).toBe(`Scalekit event envelope is invalid: ${problems.join('; ')}`);
    expect(error.toResponseBody().problems).toEqual(problems);
  });

  it('lists every problem at once', () => {
    const error = failure(body({ id: 7, data: [] }, ['type', 'environment_id']), 'invalid_payload');
    expect([...error.problems].sort()).toEqual(
      [
        'data must be an object (got an array)',
        'environment_id is required',
        'id must be a string (got a number)',
        'type is required',
      ].sort(),
    );
  });

  it('lists all the required fields for an empty object', () => {
    expect(failure('{}', 'invalid_payload').problems).toEqual([
      'spec_version is required',
      'id is required',
      'type is required',
      'object is required',
      'occurred_at is required',
      'environment_id is required',
      'data is required',
    ]);
  });

  it.each([
    ['an array', '[]', 'an array'],
    ['a number', '42', 'a number'],
    ['null', 'null', 'null'],
    ['a string', '"evt"', 'a string'],
    ['a boolean', 'true', 'a boolean'],
    ['an array of events', `[${body({})}]`, 'an array'],
  ])('rejects %s as the body', (_case, raw, kind) => {
    const error = failure(raw, 'invalid_payload');
    expect(error.problems).toEqual([`body must be a JSON object (got ${kind})`]);
  });
});

describe('parseScalekitEventPayload: bodies that are not JSON', () => {
  it.each([
    ['truncated JSON', '{"id":'],
    ['garbage', 'hello'],
    ['a trailing comma', '{"a":1,}'],
    ['two documents', `${body({})}${body({})}`],
  ])('%s is invalid_json', (_case, raw) => {
    const error = failure(raw, 'invalid_json');
    expect(error.message).toMatch(/^Scalekit event body is not valid JSON: /);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^body is not valid JSON: /);
  });

  it('rejects bytes that are not UTF-8 as invalid_json', () => {
    const error = failure(Buffer.from('7b2261223a22fffe227d', 'hex'), 'invalid_json');
    expect(error.message).toBe('Scalekit event body is not valid UTF-8');
    expect(error.problems).toEqual(['body is not valid UTF-8']);
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0)],
    ['an empty string', ''],
    ['only whitespace', ' \r\n\t '],
  ])('rejects %s: no event', (_case, raw) => {
    const error = failure(raw, 'invalid_payload');
    expect(error.message).toBe('empty body: no event');
    expect(error.problems).toEqual(['body is empty']);
  });

  it('rejects a body that is neither bytes nor a string', () => {
    expect(failure(undefined as unknown as string, 'invalid_payload').problems).toEqual(['body is missing']);
    expect(failure({ id: 'x' } as unknown as string, 'invalid_payload').problems).toEqual(['body is missing']);
  });
});

describe('parseScalekitEventPayload: prototype pollution', () => {
  const polluted = () => (({}) as Record<string, unknown>).polluted;

  it('keeps a __proto__ key as an own property and pollutes nothing', () => {
    const raw = `{"__proto__":{"polluted":1},${body({}).slice(1)}`;
    const event = parseScalekitEventPayload(raw);
    expect(polluted()).toBeUndefined();
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(Object.hasOwn(event, '__proto__')).toBe(true);
    expect(event.id).toBe(VALID.id);
  });

  it('keeps a constructor.prototype key as data and pollutes nothing', () => {
    const raw = `{"constructor":{"prototype":{"polluted":1}},${body({}).slice(1)}`;
    const event = parseScalekitEventPayload(raw);
    expect(polluted()).toBeUndefined();
    expect(event.constructor).toEqual({ prototype: { polluted: 1 } });
  });

  it('does not pollute through data', () => {
    const data = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}';
    const event = parseScalekitEventPayload(body({ data: '@D@' }).replace('"@D@"', data));
    expect(polluted()).toBeUndefined();
    expect(Object.hasOwn(event.data, '__proto__')).toBe(true);
  });

  it('does not pollute through the envelope fields themselves', () => {
    for (const key of ['id', 'type', 'data', 'organization_id']) {
      const raw = body({ [key]: '@V@' }).replace(
        '"@V@"',
        '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
      );
      try {
        parseScalekitEventPayload(raw);
      } catch {
        // id, type and organization_id are rejected: only the absence of pollution matters here.
      }
      expect(polluted()).toBeUndefined();
    }
  });

  it('cannot hide the rules with __proto__ or constructor keys', () => {
    expect(failure('{"__proto__":{}}', 'invalid_payload').problems).toContain('type is required');
    expect(failure('{"constructor":{}}', 'invalid_payload').problems).toContain('type is required');
    expect(failure('{"constructor":{"name":"Object"},"__proto__":null}', 'invalid_payload').problems).toHaveLength(7);
  });
});
