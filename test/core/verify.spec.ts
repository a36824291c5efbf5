import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import {
  SCALEKIT_WEBHOOK_ERRORS,
  ScalekitWebhookError,
  ScalekitWebhookVerifier,
  signScalekitWebhook,
  verifyScalekitWebhook,
} from 'nestjs-scalekit-webhooks';
import { ScalekitSigningKey } from '../../lib/core/secret.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const T = 1_700_000_000;
const body = '{"id":"evt_1","type":"user.login"}';

function verifierAt(seconds: number, options: { tolerance?: number; secret?: string | string[] } = {}) {
  return new ScalekitWebhookVerifier({
    secret: options.secret ?? SECRET,
    toleranceSeconds: options.tolerance,
    now: () => seconds * 1000,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ScalekitWebhookError);
    return (error as ScalekitWebhookError).code;
  }
}

describe('secrets (cases 1–6)', () => {
  it.each([
    ['empty', ''],
    ['the prefix alone', 'whsec_'],
    ['missing', undefined],
    ['null', null],
    ['an empty list', []],
    ['not base64 (case 3)', 'whsec_not*base64!'],
    ['base64 with a bad length', 'whsec_abcde'],
    ['a number', 42],
  ])('case 1/3: %s is refused with a clear invalid_options error', (_name, secret) => {
    expect(() => new ScalekitWebhookVerifier({ secret: secret as never })).toThrow(ScalekitWebhookError);
    try {
      new ScalekitWebhookVerifier({ secret: secret as never });
    } catch (error) {
      expect((error as ScalekitWebhookError).code).toBe('invalid_options');
      expect((error as Error).message).toMatch(/^Scalekit webhook secret/);
    }
  });

  it('case 2: with and without the whsec_ prefix, padded or not, the same key', () => {
    const raw = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const keys = [SECRET, raw, 'whsec_plJ3nmyCDGBKInavdOK15jsl', 'plJ3nmyCDGBKInavdOK15jsl'].map((s) =>
      ScalekitSigningKey.parse(s),
    );
    expect(keys[0]!.bytes.equals(keys[1]!.bytes)).toBe(true);
    expect(keys[2]!.bytes.equals(keys[3]!.bytes)).toBe(true);
    const unpadded = Buffer.from('sixteen-byte-key!').toString('base64').replace(/=+$/, '');
    const padded = Buffer.from('sixteen-byte-key!').toString('base64');
    expect(ScalekitSigningKey.parse(unpadded).bytes.equals(ScalekitSigningKey.parse(`whsec_${padded}`).bytes)).toBe(
      true,
    );
    const signed = signScalekitWebhook({ secret: SECRET, payload: body, timestamp: T });
    expect(verifierAt(T, { secret: raw }).verify(signed.rawBody, signed.headers).timestamp).toBe(T);
  });

  it('case 4: secrets shorter than 24 bytes are accepted', () => {
    expect(ScalekitSigningKey.parse('whsec_plJ3nmyCDGBKInavdOK15jsl').bytes.length).toBe(18);
  });

  it('case 5: any secret of a list verifies; one removed from the list no longer does', () => {
    const other = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const signed = signScalekitWebhook({ secret: other, payload: body, timestamp: T });
    expect(verifierAt(T, { secret: [SECRET, other] }).verify(signed.rawBody, signed.headers).webhookId).toBe(
      signed.headers['webhook-id'],
    );
    expect(codeOf(() => verifierAt(T, { secret: [SECRET] }).verify(signed.rawBody, signed.headers))).toBe(
      'no_matching_signature',
    );
  });

  it('case 6: no secret in errors, JSON.stringify or util.inspect', () => {
    const secret = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const verifier = new ScalekitWebhookVerifier({ secret });
    const key = ScalekitSigningKey.parse(secret);
    for (const text of [
      inspect(verifier, { depth: 10, showHidden: true }),
      JSON.stringify(verifier),
      inspect(key),
      JSON.stringify({ key }),
      String(key),
    ]) {
      expect(text).not.toContain('C2FVsBQIhrscChlQIMV');
    }
    for (const bad of ['whsec_C2FVsBQIhrscChlQIMV+b5sSYsp*b7oD', ' whsec_ ', 'whsec_C2FVsBQ!IhrscChlQIMV']) {
      try {
        new ScalekitWebhookVerifier({ secret: [secret, bad] });
        throw new Error('should have thrown');
      } catch (error) {
        expect((error as Error).message).not.toContain('C2FVsBQ');
        expect(inspect(error)).not.toContain('C2FVsBQ');
        expect((error as Error).message).toContain('secret[1]');
      }
    }
  });
});

describe('strict header parsing (cases 7, 9, 10, 11)', () => {
  const good = signScalekitWebhook({ secret: SECRET, payload: body, id: 'msg_1', timestamp: T });
  const h = (changes: Record<string, unknown>) => ({ ...good.headers, ...changes }) as never;
  const verify = (headers: never) => codeOf(() => verifierAt(T).verify(good.rawBody, headers));

  it('accepts the untouched delivery', () => {
    expect(verify(h({}))).toBeUndefined();
  });

  it('case 7: names every missing header', () => {
    try {
      verifierAt(T).verify(good.rawBody, { 'webhook-id': 'msg_1' });
    } catch (error) {
      expect((error as ScalekitWebhookError).code).toBe('missing_headers');
      expect((error as ScalekitWebhookError).problems).toEqual([
        'webhook-timestamp header is missing',
        'webhook-signature header is missing',
      ]);
    }
    expect(codeOf(() => verifierAt(T).verify(good.rawBody, {}))).toBe('missing_headers');
    expect(codeOf(() => verifierAt(T).verify(good.rawBody, null as never))).toBe('missing_headers');
  });

  it('case 8: reads headers case-insensitively from plain objects and fetch Headers', () => {
    const mixed = {
      'Webhook-Id': 'msg_1',
      'WEBHOOK-TIMESTAMP': String(T),
      'webhook-Signature': good.headers['webhook-signature'],
    };
    expect(verify(mixed as never)).toBeUndefined();
    expect(verify(new Headers(good.headers) as never)).toBeUndefined();
  });

  it('case 9: empty values, arrays, the same header under two cases, comma-joined values', () => {
    expect(verify(h({ 'webhook-id': '' }))).toBe('invalid_headers');
    expect(verify(h({ 'webhook-id': '   ' }))).toBe('invalid_headers');
    expect(verify(h({ 'webhook-signature': '' }))).toBe('invalid_headers');
    expect(verify(h({ 'webhook-timestamp': [String(T), String(T)] }))).toBe('invalid_headers');
    expect(verify(h({ 'Webhook-Id': 'msg_1' }))).toBe('invalid_headers');
    expect(verify(h({ 'webhook-id': 'msg_1, msg_1' }))).toBe('invalid_headers');
    expect(verify(h({ 'webhook-timestamp': `${T}, ${T}` }))).toBe('invalid_headers'); // duplicated, per the status table
    const sig = good.headers['webhook-signature'];
    expect(verify(h({ 'webhook-signature': `${sig}, ${sig}` }))).toBe('invalid_headers');
  });

  it('case 10: overlong id, overlong signature header, more than 16 entries', () => {
    expect(verify(h({ 'webhook-id': `msg_${'a'.repeat(253)}` }))).toBe('invalid_headers');
    expect(verify(h({ 'webhook-signature': 'v1,x'.repeat(1000) }))).toBe('invalid_headers');
    const seventeen = Array.from({ length: 17 }, () => good.headers['webhook-signature']).join(' ');
    expect(verify(h({ 'webhook-signature': seventeen }))).toBe('invalid_headers');
    const sixteen = Array.from({ length: 16 }, () => good.headers['webhook-signature']).join(' ');
    expect(verify(h({ 'webhook-signature': sixteen }))).toBeUndefined();
  });

  it.each([
    'hello',
    `${T}abc`,
    ` ${T}`,
    `${T} `,
    `+${T}`,
    `${T}.0`,
    '0x6553f100',
    `0${T}`,
    '0',
    `-${T}`,
    '1e9',
    '',
    '\t',
  ])('case 11: timestamp %j is rejected', (value) => {
    expect(verify(h({ 'webhook-timestamp': value }))).toMatch(/^invalid_(timestamp|headers)$/);
  });

  it('case 11: a numeric header value from a framework is accepted', () => {
    expect(verify(h({ 'webhook-timestamp': T }))).toBeUndefined();
  });
});

describe('timestamp window (cases 12–14)', () => {
  const at = (ts: number, tolerance?: number) => {
    const s = signScalekitWebhook({ secret: SECRET, payload: body, timestamp: ts });
    return codeOf(() => verifierAt(T, { tolerance }).verify(s.rawBody, s.headers));
  };

  it('case 12: ±T and ±(T−1) accepted; T+1 either way rejected as too old / too new', () => {
    expect(at(T - 300)).toBeUndefined();
    expect(at(T + 300)).toBeUndefined();
    expect(at(T - 299)).toBeUndefined();
    expect(at(T + 299)).toBeUndefined();
    expect(at(T - 301)).toBe('timestamp_too_old');
    expect(at(T + 301)).toBe('timestamp_too_new');
  });

  it('case 13: a timestamp changed after signing fails even inside the window', () => {
    const s = signScalekitWebhook({ secret: SECRET, payload: body, timestamp: T });
    expect(codeOf(() => verifierAt(T).verify(s.rawBody, { ...s.headers, 'webhook-timestamp': String(T + 1) }))).toBe(
      'no_matching_signature',
    );
  });

  it('case 14: a custom tolerance is honoured; bad tolerances are refused', () => {
    expect(at(T - 10, 10)).toBeUndefined();
    expect(at(T - 11, 10)).toBe('timestamp_too_old');
    expect(at(T, 0)).toBeUndefined();
    expect(at(T + 1, 0)).toBe('timestamp_too_new');
    for (const bad of [-1, Number.NaN, Infinity, '300']) {
      expect(codeOf(() => new ScalekitWebhookVerifier({ secret: SECRET, toleranceSeconds: bad as never }))).toBe(
        'invalid_options',
      );
    }
  });
});

describe('signature entries (cases 15–20) and body (21, 27, 28)', () => {
  const s = signScalekitWebhook({ secret: SECRET, payload: body, timestamp: T });
  const sig = s.headers['webhook-signature'];
  const check = (signature: string, payload: Buffer | string = s.rawBody) =>
    codeOf(() => verifierAt(T).verify(payload, { ...s.headers, 'webhook-signature': signature }));

  it('skips malformed and other-version entries and keeps looking', () => {
    expect(check(`v1,short ${sig}`)).toBeUndefined();
    expect(check(`v1,${'A'.repeat(43)}= ${sig}`)).toBe(undefined);
    expect(check(`v1a,${'x'.repeat(86)}== v2,abc ${sig}`)).toBeUndefined();
    expect(check(`   ${sig}    v2,x  `)).toBeUndefined();
  });

  it.each([
    ['only other versions', sig.replace('v1,', 'v2,')],
    ['v1,', 'v1,'],
    ['v1', 'v1'],
    ['missing padding', sig.slice(0, -1)],
    ['trailing junk', `${sig}=`],
    ['base64url', sig.replace(/\+/g, '-').replace(/\//g, '_')],
    ['non-canonical last character', sig.replace(/.=$/, (m) => `${String.fromCharCode(m.charCodeAt(0) + 1)}=`)],
    ['V1 upper-case version', sig.replace('v1,', 'V1,')],
  ])('%s is not accepted', (_name, signature) => {
    if (signature === sig) return; // the mutation did not apply (e.g. no + or / in this signature)
    expect(check(signature)).toBe('no_matching_signature');
  });

  it('case 21: any byte of the body changed fails', () => {
    for (let i = 0; i < s.rawBody.length; i++) {
      const copy = Buffer.from(s.rawBody);
      copy[i] = copy[i]! ^ 0x01;
      expect(check(sig, copy)).toBe('no_matching_signature');
    }
  });

  it('case 27/28: raw bytes, strings and Uint8Array are verified as bytes', () => {
    const weird = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n日本"}')]);
    const w = signScalekitWebhook({ secret: SECRET, payload: weird, timestamp: T });
    expect(codeOf(() => verifierAt(T).verify(new Uint8Array(weird), w.headers))).toBeUndefined();
    const text = '{"name":"Zoë 🚀","crlf":"a\r\nb"}';
    const u = signScalekitWebhook({ secret: SECRET, payload: text, timestamp: T });
    expect(codeOf(() => verifierAt(T).verify(text, u.headers))).toBeUndefined();
  });

  it('verifyScalekitWebhook (one-shot) gives the same answers', () => {
    expect(
      verifyScalekitWebhook({ secret: SECRET, payload: s.rawBody, headers: s.headers, now: () => T * 1000 }),
    ).toEqual({
      webhookId: s.headers['webhook-id'],
      timestamp: T,
    });
  });
});

describe('error types (case 39)', () => {
  it('each code maps to one status in one table', () => {
    expect(SCALEKIT_WEBHOOK_ERRORS.missing_headers.status).toBe(400);
    expect(SCALEKIT_WEBHOOK_ERRORS.invalid_timestamp.status).toBe(400);
    expect(SCALEKIT_WEBHOOK_ERRORS.timestamp_too_old.status).toBe(401);
    expect(SCALEKIT_WEBHOOK_ERRORS.timestamp_too_new.status).toBe(401);
    expect(SCALEKIT_WEBHOOK_ERRORS.no_matching_signature.status).toBe(401);
    expect(SCALEKIT_WEBHOOK_ERRORS.invalid_payload.status).toBe(400);
    expect(SCALEKIT_WEBHOOK_ERRORS.payload_too_large.status).toBe(413);
    expect(SCALEKIT_WEBHOOK_ERRORS.handler_failed.status).toBe(500);
    expect(SCALEKIT_WEBHOOK_ERRORS.raw_body_missing.status).toBe(500);
    const statuses = Object.values(SCALEKIT_WEBHOOK_ERRORS).map((k) => k.status);
    expect(statuses.every((s) => s >= 400 && s !== 410)).toBe(true);
  });

  it('signature failures share one public body whatever the check', () => {
    const bodies = (['timestamp_too_old', 'timestamp_too_new', 'no_matching_signature'] as const).map((code) =>
      new ScalekitWebhookError(code, `detail of ${code}`).toResponseBody(),
    );
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(JSON.stringify(bodies[0])).not.toContain('detail');
  });
});
