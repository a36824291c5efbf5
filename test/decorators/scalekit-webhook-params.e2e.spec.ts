import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
import { eventOf, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';

// `@ScalekitWebhookEvent()` and `@ScalekitWebhookDelivery()` promise a verified event. On a route that forgot
// `@UseGuards(ScalekitWebhookGuard)`, nothing was verified: they must refuse (500, the route is misconfigured) and
// say how to fix it, instead of handing a forged body to user code.

const reached: unknown[] = [];
/** Every app's log lines (a route's fix is logged once per process, in the app that met it first). */
const logs: string[] = [];

@Controller('unguarded')
class UnguardedController {
  @Post('event')
  @HttpCode(200)
  event(@ScalekitWebhookEvent() event: AnyScalekitEvent) {
    reached.push(event);
    return { ok: true };
  }

  @Post('delivery')
  @HttpCode(200)
  delivery(@ScalekitWebhookDelivery() delivery: ScalekitDelivery) {
    reached.push(delivery);
    return { ok: true };
  }
}

@Controller('guarded')
class GuardedController {
  @Post('event')
  @HttpCode(200)
  @UseGuards(ScalekitWebhookGuard)
  event(@ScalekitWebhookEvent() event: AnyScalekitEvent) {
    reached.push(event);
    return { ok: true };
  }
}

describe.each(PLATFORMS)('param decorators without the guard (%s)', (platform) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
      controllers: [UnguardedController, GuardedController],
    });
  });
  afterAll(async () => {
    logs.push(t.logger.text());
    await t.close();
  });

  it.each(['event', 'delivery'])(
    'the %s decorator refuses a forged request with 500 and names the guard',
    async (route) => {
      reached.length = 0;
      const forged = JSON.stringify(eventOf('organization.created'));
      const response = await send(`${t.url}/unguarded/${route}`, {
        body: forged,
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_forged',
          'webhook-timestamp': '1',
          'webhook-signature': 'v1,AAAA',
        },
      });
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ statusCode: 500, error: 'invalid_options' });
      expect(response.text).not.toContain('organization.created');
      expect(reached).toHaveLength(0);
    },
  );

  it('on a guarded route, a verified delivery with an invalid envelope is refused 400 and logged', async () => {
    reached.length = 0;
    const from = t.logger.lines.length;
    const s = signed(eventOf('organization.created', { environment_id: null }), { id: 'msg_own_invalid' });
    const response = await send(`${t.url}/guarded/event`, { body: s.rawBody, headers: s.headers });
    expect(response.status).toBe(400);
    expect(reached).toHaveLength(0);
    const lines = t.logger.lines.slice(from).filter((l) => l.message.includes('msg_own_invalid'));
    expect(lines.map((l) => [l.level, /invalid_payload/.test(l.message)])).toEqual([['warn', true]]);
  });

  it('refuses even a correctly signed request: without the guard it was never verified', async () => {
    reached.length = 0;
    const s = signed(eventOf('organization.created'));
    const response = await send(`${t.url}/unguarded/event`, { body: s.rawBody, headers: s.headers });
    expect(response.status).toBe(500);
    expect(reached).toHaveLength(0);
  });
});

describe('param decorators without the guard: the log', () => {
  it('names the route and the fix once per route, never the payload', () => {
    const text = logs.join('\n');
    for (const route of ['UnguardedController.event', 'UnguardedController.delivery']) {
      const lines = text.split('\n').filter((line) => line.includes(`on ${route} found no verified delivery`));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('Add @UseGuards(ScalekitWebhookGuard)');
    }
    expect(text).not.toContain('organization.created');
  });
});
