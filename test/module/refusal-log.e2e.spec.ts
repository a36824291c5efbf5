import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  OnScalekitEvent,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';
import { Probe, ProbeHandler } from '../support/probe.js';

// Every verified delivery that is refused leaves one log line with its reason and the ids known at that point (the
// event id once parsed, else the webhook-id), never the payload. A handler failure whose thrown value cannot be
// turned into text is still logged with the handler and the event id.

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) {
    await apps.pop()!.close();
  }
});

async function start(platform: Platform, store: IdempotencyStore = new MemoryIdempotencyStore()): Promise<TestApp> {
  const t = await startApp(platform, {
    imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, idempotency: { store } })],
    providers: [Probe, ProbeHandler, Unprintable],
  });
  apps.push(t);
  return t;
}

function deliver(t: TestApp, body: unknown, id?: string) {
  const s = signed(body, id === undefined ? {} : { id });
  return send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
}

/** The lines logged since `from`, as one text. */
const since = (t: TestApp, from: number) =>
  t.logger.lines
    .slice(from)
    .map((l) => `${l.level} ${l.message}`)
    .join('\n');

const SECRET_MARK = 'do-not-log-this-value';

@Injectable()
class Unprintable {
  @OnScalekitEvent('role.created')
  fail(): never {
    // Neither String() nor a template literal can turn this into text.
    throw Object.assign(Object.create(null), { [Symbol.toPrimitive]: undefined });
  }
}

describe.each(PLATFORMS)('refusals are logged (%s)', (platform) => {
  it('400 invalid_payload: reason, event id and webhook-id, never the payload', async () => {
    const t = await start(platform);
    const from = t.logger.lines.length;
    const event = eventOf('organization.created', { environment_id: null, display_name: SECRET_MARK });
    const response = await deliver(t, event, 'msg_refusal_payload');
    expect(response.status).toBe(400);
    const text = since(t, from);
    expect(text).toMatch(/invalid_payload/);
    expect(text).toContain(event.id);
    expect(text).toContain('msg_refusal_payload');
    expect(text).not.toContain(SECRET_MARK);
    expect(t.logger.matching(/invalid_payload/)).toHaveLength(1);
  });

  it('400 invalid_json (bytes that are not UTF-8; malformed JSON never gets past the body parser): reason and webhook-id', async () => {
    const t = await start(platform);
    const from = t.logger.lines.length;
    const response = await deliver(t, Buffer.from('7b2261223a22fffe227d', 'hex'), 'msg_refusal_json');
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_json');
    const text = since(t, from);
    expect(text).toMatch(/invalid_json/);
    expect(text).toContain('msg_refusal_json');
  });

  it('409 in_flight: reason and event id', async () => {
    const t = await start(platform);
    const probe = t.app.get(Probe);
    const event = eventOf('organization.created');
    const release = probe.hold(event.id);
    const first = deliver(t, event);
    await probe.whenStarted(event.id);
    const from = t.logger.lines.length;
    const copy = await deliver(t, event);
    expect(copy.status).toBe(409);
    release();
    expect((await first).status).toBe(200);
    const text = since(t, from);
    expect(text).toMatch(/in_flight/);
    expect(text).toContain(event.id);
  });

  it('503 store_unavailable: reason and event id', async () => {
    const broken: IdempotencyStore = {
      claim: () => Promise.reject(new Error('store is down')),
      complete: () => Promise.reject(new Error('store is down')),
      release: () => Promise.reject(new Error('store is down')),
    };
    const t = await start(platform, broken);
    const from = t.logger.lines.length;
    const event = eventOf('organization.created');
    const response = await deliver(t, event);
    expect(response.status).toBe(503);
    const text = since(t, from);
    expect(text).toMatch(/store_unavailable/);
    expect(text).toContain(event.id);
  });

  it('a handler failure that cannot be turned into text is logged with the handler and the event id', async () => {
    const t = await start(platform);
    const from = t.logger.lines.length;
    const event = eventOf('role.created');
    const response = await deliver(t, event);
    expect(response.status).toBe(500);
    const failure = t.logger.lines.slice(from).filter((l) => l.message.includes('Unprintable.fail'));
    expect(failure).toHaveLength(1);
    expect(failure[0]!.level).toBe('error');
    expect(failure[0]!.message).toContain(event.id);
  });

  it('refusal lines are rate-limited per reason', async () => {
    const t = await start(platform);
    const from = t.logger.lines.length;
    for (let i = 0; i < 40; i++) {
      expect((await deliver(t, eventOf('organization.created', { environment_id: null }))).status).toBe(400);
    }
    const lines = t.logger.lines.slice(from).filter((l) => /invalid_payload/.test(l.message));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(40);
  });
});
