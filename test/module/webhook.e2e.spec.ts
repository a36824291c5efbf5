import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  type AnyScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookDelivery,
  ScalekitWebhookEvent,
  ScalekitWebhookGuard,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, nowSeconds, SECRET, signed } from '../support/events.js';
import { CallLog, DirectoryHandlers } from '../support/handlers.js';
import { send } from '../support/http.js';

@Controller('own')
class OwnController {
  constructor(private readonly log: CallLog) {}

  @Post('hook')
  @HttpCode(200)
  @UseGuards(ScalekitWebhookGuard)
  receive(@ScalekitWebhookEvent() event: AnyScalekitEvent, @ScalekitWebhookDelivery() delivery: ScalekitDelivery) {
    this.log.record('own', event, delivery);
    return { ok: true, webhookId: delivery.webhookId, eventId: event.id };
  }
}

const GENERIC_401 = {
  statusCode: 401,
  error: 'signature_verification_failed',
  message: 'Webhook signature verification failed',
};

describe.each(PLATFORMS)('webhook endpoint over HTTP (%s)', (platform) => {
  let t: TestApp;
  let log: CallLog;
  let endpoint: string;

  beforeAll(async () => {
    t = await startApp(
      platform,
      {
        imports: [
          ScalekitWebhookModule.forRoot({
            secret: [SECRET, 'whsec_plJ3nmyCDGBKInavdOK15jsl'],
            maxBodyBytes: 1_048_576,
          }),
        ],
        controllers: [OwnController],
        providers: [CallLog, DirectoryHandlers],
      },
      { configure: (app) => platform === 'express' && (app as any).useBodyParser('json', { limit: '2mb' }) },
    );
    log = t.app.get(CallLog);
    endpoint = `${t.url}/webhooks/scalekit`;
  });
  afterAll(() => t.close());
  beforeEach(() => log.clear());

  const post = (body: string | Buffer, headers: Record<string, string | string[] | number>) =>
    send(endpoint, { body, headers: { 'content-type': 'application/json', ...headers } });
  const deliver = (payload: unknown, options?: Parameters<typeof signed>[1]) => {
    const s = signed(payload, options);
    return post(s.rawBody, s.headers);
  };

  describe('routing', () => {
    it('routes an exact type, its prefix wildcard and * and answers 200 {"received":true}', async () => {
      const event = eventOf('organization.directory.user_created');
      const res = await deliver(event);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
      expect(log.names()).toEqual(['directoryWildcard', 'everything', 'userCreated']);
      const call = log.calls.find((c) => c.handler === 'userCreated')!;
      expect(call.event).toEqual(event);
      expect(typeof call.event.occurred_at).toBe('string');
    });

    it('gives handlers the delivery: webhook id, attempt time, receive time, raw headers', async () => {
      const ts = nowSeconds() - 10;
      const res = await deliver(eventOf('organization.created'), { id: 'msg_delivery_check', timestamp: ts });
      expect(res.status).toBe(200);
      const { delivery } = log.calls.find((c) => c.handler === 'organizationChanged')!;
      expect(delivery.webhookId).toBe('msg_delivery_check');
      expect(delivery.timestamp).toEqual(new Date(ts * 1000));
      expect(delivery.receivedAt).toBeInstanceOf(Date);
      expect(delivery.headers['webhook-id']).toBe('msg_delivery_check');
    });

    it('routes a list of types to one method', async () => {
      expect((await deliver(eventOf('organization.updated'))).status).toBe(200);
      expect(log.names()).toEqual(['everything', 'organizationChanged']);
    });

    it('stacked decorators each register', async () => {
      expect((await deliver(eventOf('role.created'))).status).toBe(200);
      expect((await deliver(eventOf('role.deleted'))).status).toBe(200);
      expect(log.names()).toEqual(['everything', 'everything', 'roleStacked', 'roleStacked']);
    });

    it('case 36: an unknown type is acknowledged, routed to wildcards only, and logged once', async () => {
      const unknown = eventOf('organization.created', { type: 'organization.directory_created', object: 'Directory' });
      expect((await deliver(unknown)).status).toBe(200);
      expect((await deliver({ ...unknown, id: `${unknown.id}b` })).status).toBe(200);
      expect(log.names()).toEqual(['everything', 'everything']);
      expect(t.logger.matching(/'organization\.directory_created', which is not in the catalogue/)).toHaveLength(1);
      const nested = eventOf('organization.created', { type: 'organization.directory.something_new' });
      expect((await deliver(nested)).status).toBe(200);
      expect(log.names()).toEqual(['directoryWildcard', 'everything', 'everything', 'everything']);
    });

    it('a type with no handler but * still answers 200', async () => {
      expect((await deliver(eventOf('user.logout'))).status).toBe(200);
      expect(log.names()).toEqual(['everything']);
    });

    it('a failing handler gives 500, the others still run, and the failure is logged with handler, id and type', async () => {
      const event = eventOf('permission.created');
      const res = await deliver(event);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ statusCode: 500, error: 'handler_failed', message: 'Webhook handler failed' });
      expect(log.names()).toEqual(['everything', 'slowThenFail']);
      const line = t.logger.matching(/DirectoryHandlers\.slowThenFail failed/).pop()!;
      expect(line.level).toBe('error');
      expect(line.message).toContain(event.id);
      expect(line.message).toContain('permission.created');
      expect(line.message).toContain('permission sync is down');
    });

    it('a handler that throws synchronously is a 500, not a crash', async () => {
      log.failNext = 1;
      const res = await deliver(eventOf('user.logout'));
      expect(res.status).toBe(500);
      expect((await deliver(eventOf('user.logout'))).status).toBe(200);
    });
  });

  describe('secrets (cases 2, 4, 5)', () => {
    it('any secret of the list verifies, including a short (18-byte) one', async () => {
      expect((await deliver(eventOf('user.login'), { secret: 'whsec_plJ3nmyCDGBKInavdOK15jsl' })).status).toBe(200);
      expect((await deliver(eventOf('user.login'), { secret: SECRET })).status).toBe(200);
    });
    it('a secret that is not in the list does not', async () => {
      const res = await deliver(eventOf('user.login'), { secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD' });
      expect(res.status).toBe(401);
      expect(log.calls).toHaveLength(0);
    });
  });

  describe('headers (cases 7–10)', () => {
    const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
    it.each(names)('case 7: missing %s → 400 naming it', async (name) => {
      const s = signed(eventOf('user.login'));
      const headers: Record<string, string> = { ...s.headers };
      delete headers[name];
      const res = await post(s.rawBody, headers);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('missing_headers');
      expect(res.body.problems).toEqual([`${name} header is missing`]);
      expect(log.calls).toHaveLength(0);
    });

    it('case 7: all three missing → 400 naming all', async () => {
      const res = await post(JSON.stringify(eventOf('user.login')), {});
      expect(res.status).toBe(400);
      expect(res.body.problems).toEqual(names.map((n) => `${n} header is missing`));
    });

    it('case 8: mixed-case header names are accepted', async () => {
      const s = signed(eventOf('user.login'));
      const res = await post(s.rawBody, {
        'Webhook-Id': s.headers['webhook-id'],
        'WEBHOOK-TIMESTAMP': s.headers['webhook-timestamp'],
        'Webhook-Signature': s.headers['webhook-signature'],
      });
      expect(res.status).toBe(200);
    });

    it.each(names)('case 9: empty %s → 400', async (name) => {
      const s = signed(eventOf('user.login'));
      const res = await post(s.rawBody, { ...s.headers, [name]: '' });
      expect(res.status).toBe(400);
      expect(log.calls).toHaveLength(0);
    });

    it.each(names)('case 9: %s sent twice → 400', async (name) => {
      const s = signed(eventOf('user.login'));
      const value = (s.headers as Record<string, string>)[name]!;
      const res = await post(s.rawBody, { ...s.headers, [name]: [value, value] });
      expect(res.status).toBe(400);
      expect(log.calls).toHaveLength(0);
    });

    it('case 9: comma-joined duplicate signature → 400', async () => {
      const s = signed(eventOf('user.login'));
      const sig = s.headers['webhook-signature'];
      const res = await post(s.rawBody, { ...s.headers, 'webhook-signature': `${sig}, ${sig}` });
      expect(res.status).toBe(400);
    });

    it('case 10: an overlong webhook-id or more than 16 signature entries → 400', async () => {
      const body = JSON.stringify(eventOf('user.login'));
      const longId = `msg_${'x'.repeat(300)}`;
      const s1 = signed(body, { id: longId });
      expect((await post(s1.rawBody, s1.headers)).status).toBe(400);
      const s2 = signed(body);
      const many = `${Array.from({ length: 17 }, () => 'v1,AAAA').join(' ')} ${s2.headers['webhook-signature']}`;
      const res = await post(s2.rawBody, { ...s2.headers, 'webhook-signature': many });
      expect(res.status).toBe(400);
      expect(log.calls).toHaveLength(0);
    });
  });

  describe('timestamp (cases 11–13)', () => {
    // ' TS' (leading space) is a unit test: HTTP strips optional whitespace around header values on the wire.
    it.each(['hello', 'TSabc', 'TS abc', '+TS', 'TS.0', '0x65f0a1b2', '0TS', '0', '-TS'])(
      'case 11: %s → 400 invalid_timestamp',
      async (pattern) => {
        const ts = nowSeconds();
        const s = signed(eventOf('user.login'), { timestamp: ts });
        const res = await post(s.rawBody, { ...s.headers, 'webhook-timestamp': pattern.replace('TS', String(ts)) });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_timestamp');
        expect(log.calls).toHaveLength(0);
      },
    );

    it('case 12: beyond the window either way → 401 with the generic body; inside → 200', async () => {
      const tooOld = await deliver(eventOf('user.login'), { timestamp: nowSeconds() - 305 });
      const tooNew = await deliver(eventOf('user.login'), { timestamp: nowSeconds() + 305 });
      expect([tooOld.status, tooNew.status]).toEqual([401, 401]);
      expect(tooOld.body).toEqual(GENERIC_401);
      expect(tooNew.body).toEqual(GENERIC_401);
      expect(t.logger.matching(/timestamp_too_old/).length).toBeGreaterThan(0);
      expect(t.logger.matching(/timestamp_too_new/).length).toBeGreaterThan(0);
      expect(log.calls).toHaveLength(0);
      expect((await deliver(eventOf('user.login'), { timestamp: nowSeconds() - 295 })).status).toBe(200);
      expect((await deliver(eventOf('user.login'), { timestamp: nowSeconds() + 295 })).status).toBe(200);
    });

    it('case 13: a timestamp changed after signing → 401', async () => {
      const ts = nowSeconds();
      const s = signed(eventOf('user.login'), { timestamp: ts });
      const res = await post(s.rawBody, { ...s.headers, 'webhook-timestamp': String(ts - 1) });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(GENERIC_401);
    });
  });

  describe('signature header (cases 15–20)', () => {
    const body = () => signed(eventOf('user.login'));
    const valid = (s: ReturnType<typeof signed>) => s.headers['webhook-signature'];
    const decoy = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';

    it.each([
      ['wrong', () => decoy],
      ['truncated', (v: string) => v.slice(0, 20)],
      ['"v1,"', () => 'v1,'],
      ['"v1" without comma', () => 'v1'],
      ['garbage', () => 'not a signature at all'],
      ['only wrong v1 entries', () => `${decoy} v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=`],
      ['only other versions', (v: string) => `${v.replace('v1,', 'v2,')} ${v.replace('v1,', 'v1a,')}`],
      ['trailing junk', (v: string) => `${v}xx`],
      ['missing padding', (v: string) => v.replace(/=$/, '')],
      [
        'base64url alphabet',
        (v: string) =>
          v
            .replace(/\+/g, '-')
            .replace(/\//g, '_')
            .replace(/^v1,([^-_]*)$/, 'v1,-$1'),
      ],
      ['changed case', (v: string) => `v1,${swapCase(v.slice(3))}`],
    ])('case 15/17/19: %s → 401 with the generic body', async (_name, mutate) => {
      const s = body();
      const res = await post(s.rawBody, { ...s.headers, 'webhook-signature': mutate(valid(s)) });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(GENERIC_401);
      expect(log.calls).toHaveLength(0);
    });

    it.each([
      ['first among decoys', (v: string) => `${v} ${decoy} v2,abc`],
      ['in the middle', (v: string) => `${decoy} ${v} v1a,xyz`],
      ['last', (v: string) => `v2,${decoy.slice(3)} ${decoy} ${v}`],
      ['after a malformed / wrong-length v1 entry (case 18)', (v: string) => `v1,short v1,${'A'.repeat(60)}= ${v}`],
      ['with extra spaces between entries (case 20)', (v: string) => `${decoy}   ${v}  v1a,foo`],
      ['beside unknown versions (case 17)', (v: string) => `v3,whatever ${v} v1a,${'B'.repeat(86)}==`],
    ])('case 16: the valid entry %s → 200', async (_name, arrange) => {
      const s = body();
      const res = await post(s.rawBody, { ...s.headers, 'webhook-signature': arrange(valid(s)) });
      expect(res.status).toBe(200);
      expect(log.calls.length).toBeGreaterThan(0);
    });
  });

  describe('body (cases 21–28)', () => {
    it('case 21: one byte of the body changed → 401; the id changed → 401', async () => {
      const s = signed(eventOf('user.login'));
      const spaced = Buffer.concat([Buffer.from(' '), s.rawBody]);
      expect((await post(spaced, s.headers)).status).toBe(401);
      expect((await post(s.rawBody, { ...s.headers, 'webhook-id': 'msg_other' })).status).toBe(401);
      expect(log.calls).toHaveLength(0);
    });

    it('case 22: a valid signature over an empty body → 400 (no event), not 401', async () => {
      const s = signed('');
      const res = await send(endpoint, { headers: { ...s.headers, 'Content-Length': 0 } });
      expect(res.status).toBe(400);
      expect(res.status).not.toBe(401);
      expect(log.calls).toHaveLength(0);
    });

    it('case 24: a valid signature over invalid JSON → 400, distinct from a signature failure', async () => {
      const s = signed('{"id": "evt_1", "type": ');
      const res = await post(s.rawBody, s.headers);
      expect(res.status).toBe(400);
      expect(log.calls).toHaveLength(0);
      const unsigned = await post(s.rawBody, {
        ...s.headers,
        'webhook-signature': 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      });
      expect(unsigned.status).not.toBe(200);
    });

    it('case 25: a valid signature over an envelope without type/id/data → 400 listing the problems', async () => {
      const { type: _t, id: _i, data: _d, ...rest } = eventOf('user.login');
      const res = await deliver(rest);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_payload');
      expect(res.body.problems.join('\n')).toMatch(/type/);
      expect(res.body.problems.join('\n')).toMatch(/id/);
      expect(res.body.problems.join('\n')).toMatch(/data/);
      const wrongTypes = await deliver({ ...eventOf('user.login'), id: 42, data: 'nope' });
      expect(wrongTypes.status).toBe(400);
      expect(wrongTypes.body.problems.length).toBeGreaterThanOrEqual(2);
      expect(log.calls).toHaveLength(0);
    });

    it('case 26: a body over maxBodyBytes → 413', async () => {
      const big = eventOf('user.login', { data: { blob: 'x'.repeat(1_048_576) } });
      const res = await deliver(big);
      expect(res.status).toBe(413);
      expect(log.calls).toHaveLength(0);
    });

    it('case 27: bytes that are not valid UTF-8 verify against the raw bytes (then 400, not 401)', async () => {
      const bytes = Buffer.from('7b2261223a22fffe227d', 'hex');
      const s = signed(bytes);
      const res = await post(bytes, s.headers);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_json');
    });

    it('case 28: unicode, CRLF and a body close to 1 MiB verify and route', async () => {
      const unicode = eventOf('organization.created');
      unicode.data = { ...unicode.data, display_name: 'Zoë 🚀 Ünïcødé 日本語', note: 'line1\r\nline2' };
      const pretty = JSON.stringify(unicode, null, 2).replace(/\n/g, '\r\n');
      expect((await deliver(pretty)).status).toBe(200);
      const large = eventOf('organization.updated');
      large.data = { ...large.data, filler: 'é'.repeat(400_000) };
      const res = await deliver(large);
      expect(res.status).toBe(200);
      expect(log.calls.filter((c) => c.handler === 'organizationChanged').map((c) => c.event.id)).toEqual([
        unicode.id,
        large.id,
      ]);
    });
  });

  describe('replay, HTTP semantics, guard reuse', () => {
    it('case 29 (first half): a delivery replayed after the window → 401', async () => {
      const res = await deliver(eventOf('user.login'), { timestamp: nowSeconds() - 3600 });
      expect(res.status).toBe(401);
      expect(log.calls).toHaveLength(0);
    });

    it('case 34: every verification failure answers the same generic body; the detail goes to the log', async () => {
      const s = signed(eventOf('user.login'));
      const res = await post(s.rawBody, {
        ...s.headers,
        'webhook-signature': 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      });
      expect(res.body).toEqual(GENERIC_401);
      expect(res.text).not.toMatch(/secret|v1 signature|match/i);
      const warned = t.logger.matching(/Rejected delivery/).pop()!;
      expect(warned.level).toBe('warn');
      expect(warned.message).toContain('no_matching_signature');
      expect(warned.message).toContain(s.headers['webhook-id']);
    });

    it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('case 38: %s on the endpoint → 404, no handler call', async (method) => {
      const s = signed(eventOf('user.login'));
      const res = await send(endpoint, { method, body: s.rawBody, headers: { ...s.headers } });
      expect([404, 405]).toContain(res.status);
      expect(log.calls).toHaveLength(0);
    });

    it('case 40: the guard on a user route accepts and rejects exactly as the built-in controller', async () => {
      const s = signed(eventOf('user.login'));
      const own = await send(`${t.url}/own/hook`, { body: s.rawBody, headers: s.headers });
      expect(own.status).toBe(200);
      expect(own.body).toEqual({ ok: true, webhookId: s.headers['webhook-id'], eventId: JSON.parse(s.body).id });
      log.clear();
      const cases: Array<Record<string, string>> = [
        { 'webhook-signature': 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=' },
        { 'webhook-timestamp': String(nowSeconds() - 1000) },
        { 'webhook-timestamp': 'hello' },
        { 'webhook-id': '' },
      ];
      for (const change of cases) {
        const headers = { ...s.headers, ...change };
        const [a, b] = await Promise.all([
          send(`${t.url}/own/hook`, { body: s.rawBody, headers }),
          post(s.rawBody, headers),
        ]);
        expect({ status: a.status, body: a.body }).toEqual({ status: b.status, body: b.body });
        expect(a.status).toBeGreaterThanOrEqual(400);
      }
      const missing = await send(`${t.url}/own/hook`, {
        body: s.rawBody,
        headers: { 'content-type': 'application/json' },
      });
      expect(missing.status).toBe(400);
      const badPayload = signed({ id: 'evt_1' });
      const [ownBad, builtInBad] = await Promise.all([
        send(`${t.url}/own/hook`, { body: badPayload.rawBody, headers: badPayload.headers }),
        post(badPayload.rawBody, badPayload.headers),
      ]);
      expect(ownBad.status).toBe(400);
      expect(ownBad.body).toEqual(builtInBad.body);
      expect(log.calls).toHaveLength(0);
    });
  });
});

function swapCase(text: string): string {
  return [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
}
