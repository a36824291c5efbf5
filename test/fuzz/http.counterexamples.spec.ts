/**
 * Minimal cases distilled from counterexamples of the HTTP fuzzing (./http.fuzz.spec.ts), kept as plain tests.
 *
 * Found by the fuzzer (fixed in c9046a9, "Guard: only plain application/json can carry a raw body"): on Express, a
 * request whose Content-Type the guard took for JSON (`/^application\/([\w.+-]*\+)?json\b/i`) but that Express's JSON
 * body parser does not read (`application/vnd.api+json`, `application/merge-patch+json`, `application/json-seq`, the
 * malformed `application/json, text/plain`) arrived without `req.rawBody`, and the guard answered 500
 * `raw_body_missing` and logged a set-up error, for any unauthenticated sender, before any signature check.
 * Fastify answers those with a 4xx itself. Now: a 4xx on both, no error logged, no handler call.
 *
 * Found by the fuzzer, an oracle defect (the module was right): a signed body sent deflate-encoded, with a byte added
 * after the end of the deflate stream. node:zlib (and so Express's body parser) ignores bytes after the end of a
 * deflate stream, so Nest's raw body is exactly the signed bytes, and Express rightly handles the event. The oracle
 * now decodes what is on the wire as body-parser does, instead of assuming any change to encoded bytes breaks them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { deflateSync, gzipSync } from 'node:zlib';
import { type AnyScalekitEvent, OnScalekitEvent, ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';

@Injectable()
class Seen {
  readonly ids: string[] = [];
}

@Injectable()
class Everything {
  constructor(@Inject(Seen) private readonly seen: Seen) {}

  @OnScalekitEvent('*')
  on(event: AnyScalekitEvent): void {
    this.seen.ids.push(event.id);
  }
}

const JSONISH_TYPES_NOT_PARSED_BY_EXPRESS = [
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/json-seq',
  'application/json, text/plain',
];

describe.each(PLATFORMS)('counterexamples found by fuzzing (%s)', (platform) => {
  let t: TestApp;
  let seen: Seen;
  let endpoint: string;

  beforeAll(async () => {
    t = await startApp(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
      providers: [Seen, Everything],
    });
    seen = t.app.get(Seen);
    endpoint = `${t.url}/webhooks/scalekit`;
  });
  afterAll(() => t.close());
  beforeEach(() => {
    seen.ids.length = 0;
  });

  it.each(JSONISH_TYPES_NOT_PARSED_BY_EXPRESS)('an unsigned body sent as %j is a 4xx, not a 5xx', async (type) => {
    const lines = t.logger.lines.length;
    const res = await send(endpoint, { headers: { 'content-type': type }, body: '{}' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(t.logger.lines.slice(lines).filter((l) => l.level === 'error')).toEqual([]);
    expect(seen.ids).toEqual([]);
  });

  it.each(JSONISH_TYPES_NOT_PARSED_BY_EXPRESS)(
    'a validly signed delivery sent as %j is a 4xx, not a 5xx',
    async (type) => {
      const s = signed(eventOf('user.login'));
      const res = await send(endpoint, { headers: { ...s.headers, 'content-type': type }, body: s.rawBody });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(seen.ids).toEqual([]);
    },
  );

  it('a signed envelope with __proto__ and constructor.prototype keys pollutes nothing (Express: handled; Fastify: 400)', async () => {
    const event = eventOf('organization.created');
    const text = JSON.stringify(event).replace(
      '{',
      '{"__proto__":{"polluted":"yes","type":"x"},"constructor":{"prototype":{"polluted":"yes"}},',
    );
    const s = signed(text);
    const res = await send(endpoint, { headers: s.headers, body: s.rawBody });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    if (platform === 'express') {
      expect(res.status).toBe(200);
      expect(seen.ids).toEqual([event.id]);
    } else {
      expect(res.status).toBe(400);
      expect(seen.ids).toEqual([]);
    }
  });

  it('a signed body deflated, with a byte after the end of the stream: Express hands over the signed bytes, once', async () => {
    const event = eventOf('connected_account.created');
    const s = signed(event);
    const body = Buffer.concat([deflateSync(s.rawBody), Buffer.from('\n')]);
    const headers = { ...s.headers, 'content-encoding': 'deflate' };
    const res = await send(endpoint, { headers, body });
    const again = await send(endpoint, { headers, body });
    if (platform === 'express') {
      expect([res.status, again.status]).toEqual([200, 200]);
      expect(seen.ids).toEqual([event.id]);
    } else {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(seen.ids).toEqual([]);
    }
  });

  it('a signed body gzipped, with a byte after the end of the stream, is a 4xx and runs nothing', async () => {
    const s = signed(eventOf('connected_account.created'));
    const body = Buffer.concat([gzipSync(s.rawBody), Buffer.from('\n')]);
    const res = await send(endpoint, { headers: { ...s.headers, 'content-encoding': 'gzip' }, body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(seen.ids).toEqual([]);
  });
});
