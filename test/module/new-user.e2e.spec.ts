import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  HttpCode,
  type INestApplication,
  Post,
  RequestMethod,
  UseGuards,
  VersioningType,
} from '@nestjs/common';
import {
  type AnyScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookDelivery,
  ScalekitWebhookEndpoint,
  ScalekitWebhookEvent,
  ScalekitWebhookGuard,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, OTHER_SECRET, SECRET, signed } from '../support/events.js';
import { CallLog, DirectoryHandlers } from '../support/handlers.js';
import { send } from '../support/http.js';

// What a new user trips over, following the README in a fresh app: each case on Express and Fastify, over HTTP.

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

async function start(...args: Parameters<typeof startApp>) {
  const t = await startApp(...args);
  apps.push(t);
  return t;
}

async function deliver(url: string, payload: unknown = eventOf('organization.created'), secret = SECRET) {
  const s = signed(payload, { secret });
  return send(url, { body: s.rawBody, headers: s.headers });
}

const basic = () => ({
  imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
  providers: [CallLog, DirectoryHandlers],
});

@Controller('own')
class OwnRoutes {
  @Post('default')
  @HttpCode(200)
  @UseGuards(ScalekitWebhookGuard)
  byDefault(@ScalekitWebhookDelivery() delivery: ScalekitDelivery) {
    return { endpoint: delivery.endpoint ?? null };
  }

  @Post('staging')
  @HttpCode(200)
  @ScalekitWebhookEndpoint('staging')
  @UseGuards(ScalekitWebhookGuard)
  staging(@ScalekitWebhookEvent() event: AnyScalekitEvent, @ScalekitWebhookDelivery() delivery: ScalekitDelivery) {
    return { endpoint: delivery.endpoint ?? null, type: event.type };
  }

  @Post('typo')
  @HttpCode(200)
  @ScalekitWebhookEndpoint('stagign')
  @UseGuards(ScalekitWebhookGuard)
  typo() {
    return { reached: true };
  }
}

describe.each(PLATFORMS)('what a new user trips over (%s)', (platform: Platform) => {
  it('route options returned by the forRootAsync factory stop the app, saying to pass them to forRootAsync', async () => {
    for (const extra of [
      { path: 'hooks/scalekit' },
      { isGlobal: true },
      { decorators: [] },
      { name: 'prod' },
      { receiver: false },
    ]) {
      const key = Object.keys(extra)[0]!;
      await expect(
        start(platform, {
          imports: [ScalekitWebhookModule.forRootAsync({ useFactory: () => ({ secret: SECRET, ...extra }) as never })],
        }),
      ).rejects.toThrow(
        new RegExp(`route option \`${key}\` returned by the forRootAsync factory.*forRootAsync itself`),
      );
    }
  });

  it('a route option given to forRootAsync itself is honoured (the way the error message says)', async () => {
    const t = await start(platform, {
      imports: [ScalekitWebhookModule.forRootAsync({ useFactory: () => ({ secret: SECRET }), path: 'hooks/scalekit' })],
    });
    expect((await deliver(`${t.url}/hooks/scalekit`)).status).toBe(200);
  });

  it.each([
    ['URI versioning with a default version', { type: VersioningType.URI, defaultVersion: '1' }],
    [
      'header versioning with a default version',
      { type: VersioningType.HEADER, header: 'X-API-Version', defaultVersion: '1' },
    ],
    [
      'media-type versioning with a default version',
      { type: VersioningType.MEDIA_TYPE, key: 'v=', defaultVersion: '1' },
    ],
  ] as const)('%s leaves the webhook at /webhooks/scalekit', async (_label, versioning) => {
    const t = await start(platform, basic(), { configure: (app) => app.enableVersioning(versioning) });
    const ok = await deliver(`${t.url}/webhooks/scalekit`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ received: true });
    if (versioning.type === VersioningType.URI) {
      expect((await deliver(`${t.url}/v1/webhooks/scalekit`)).status).toBe(404);
    }
  });

  it('a global prefix moves the route (as documented); `exclude` keeps it unprefixed', async () => {
    const prefixed = await start(platform, basic(), { configure: (app) => app.setGlobalPrefix('api') });
    expect((await deliver(`${prefixed.url}/api/webhooks/scalekit`)).status).toBe(200);
    expect((await deliver(`${prefixed.url}/webhooks/scalekit`)).status).toBe(404);

    const excluded = await start(platform, basic(), {
      configure: (app) =>
        app.setGlobalPrefix('api', { exclude: [{ path: 'webhooks/scalekit', method: RequestMethod.POST }] }),
    });
    expect((await deliver(`${excluded.url}/webhooks/scalekit`)).status).toBe(200);
  });

  it('two registrations whose paths differ only in case stop the app', async () => {
    await expect(
      start(platform, {
        imports: [
          ScalekitWebhookModule.forRoot({ secret: SECRET, path: 'webhooks/scalekit', name: 'prod' }),
          ScalekitWebhookModule.forRoot({ secret: OTHER_SECRET, path: 'Webhooks/Scalekit', name: 'staging' }),
        ],
      }),
    ).rejects.toThrow(/Two ScalekitWebhookModule registrations use the path .*regardless of case/);
  });

  it('a signed body sent as application/x-www-form-urlencoded gets 415, and no handler runs', async () => {
    const t = await start(platform, basic());
    const s = signed(eventOf('organization.created'));
    const res = await send(`${t.url}/webhooks/scalekit`, {
      body: s.rawBody,
      headers: { ...s.headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect(res.body.error).toBe('unsupported_media_type');
    expect(t.app.get(CallLog).calls).toHaveLength(0);
  });

  it('a duplicated webhook-timestamp is invalid_headers (400), as the status table says', async () => {
    const t = await start(platform, basic());
    const s = signed(eventOf('organization.created'));
    const timestamp = s.headers['webhook-timestamp'];
    const res = await send(`${t.url}/webhooks/scalekit`, {
      body: s.rawBody,
      headers: { ...s.headers, 'webhook-timestamp': [timestamp, timestamp] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_headers');
  });

  it('the raw-body 500 tells the sender how to fix it (rawBody: true), without any secret', async () => {
    const t = await start(platform, basic(), { rawBody: false });
    const res = await deliver(`${t.url}/webhooks/scalekit`);
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('raw_body_missing');
    expect(res.body.message).toContain('rawBody: true');
    expect(res.text).not.toContain(SECRET.slice(6));
  });

  it('a signed 150 KB event is accepted once the JSON limit is raised, and no limit warning is logged', async () => {
    const t = await start(platform, basic(), {
      configure: (app) =>
        (app as INestApplication & { useBodyParser(type: string, options: object): void }).useBodyParser(
          // Express: parser 'json', body-parser's `limit`; Fastify: a content type and its `bodyLimit`.
          platform === 'express' ? 'json' : 'application/json',
          platform === 'express' ? { limit: '1mb' } : { bodyLimit: 1_048_576 },
        ),
    });
    const big = eventOf('organization.created', { padding: 'x'.repeat(150 * 1024) });
    expect((await deliver(`${t.url}/webhooks/scalekit`, big)).status).toBe(200);
    expect(t.logger.matching(/body ?limit/i)).toEqual([]);
  });

  it('the guard on your own route verifies with the registration named by @ScalekitWebhookEndpoint', async () => {
    const t = await start(platform, {
      imports: [
        ScalekitWebhookModule.forRoot({ secret: SECRET, path: 'webhooks/prod', name: 'prod' }),
        ScalekitWebhookModule.forRoot({ secret: OTHER_SECRET, path: 'webhooks/staging', name: 'staging' }),
      ],
      controllers: [OwnRoutes],
      providers: [CallLog, DirectoryHandlers],
    });
    const staging = await deliver(`${t.url}/own/staging`, eventOf('user.login'), OTHER_SECRET);
    expect(staging.status).toBe(200);
    expect(staging.body).toEqual({ endpoint: 'staging', type: 'user.login' });
    expect((await deliver(`${t.url}/own/staging`, eventOf('user.login'), SECRET)).status).toBe(401);
    // It verifies only: no @OnScalekitEvent handler ran.
    expect(t.app.get(CallLog).calls).toHaveLength(0);

    // Without the decorator: the first registration's secret, and a warning that names the choice.
    const byDefault = await deliver(`${t.url}/own/default`, eventOf('user.login'), SECRET);
    expect(byDefault.status).toBe(200);
    expect(byDefault.body).toEqual({ endpoint: 'prod' });
    expect(
      t.logger.matching(/OwnRoutes\.byDefault uses ScalekitWebhookGuard without @ScalekitWebhookEndpoint/),
    ).toHaveLength(1);

    // A name no registration has: 500 (Scalekit retries), never a 2xx, and the log says what is wrong.
    const typo = await deliver(`${t.url}/own/typo`, eventOf('user.login'), OTHER_SECRET);
    expect(typo.status).toBe(500);
    expect(typo.text).not.toContain('reached');
    expect(t.logger.matching(/@ScalekitWebhookEndpoint\('stagign'\).*known: 'prod', 'staging'/)).toHaveLength(1);
  });
});

describe('body limits below maxBodyBytes are reported at start-up', () => {
  it('Express with its default 100 kb JSON limit: a warning with the one-line fix; the 150 KB event gets 413', async () => {
    const t = await start('express', basic());
    const warnings = t.logger.matching(/Express's JSON body limit is below maxBodyBytes/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('warn');
    expect(warnings[0]!.message).toContain("app.useBodyParser('json', { limit: '1mb' })");
    const big = eventOf('organization.created', { padding: 'x'.repeat(150 * 1024) });
    expect((await deliver(`${t.url}/webhooks/scalekit`, big)).status).toBe(413);
  });

  it('Express with a limit of at least maxBodyBytes: no warning', async () => {
    const t = await start('express', {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, maxBodyBytes: 50_000 })],
    });
    expect(t.logger.matching(/JSON body limit/)).toEqual([]);
  });

  it('Fastify with maxBodyBytes above its bodyLimit (1 MiB): a warning with the fix', async () => {
    const t = await start('fastify', {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, maxBodyBytes: 2 * 1_048_576 })],
    });
    const warnings = t.logger.matching(/Fastify's bodyLimit \(1048576 bytes\) is below maxBodyBytes/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('new FastifyAdapter({ bodyLimit: 2097152 })');
  });

  it('Fastify with its defaults: no warning', async () => {
    const t = await start('fastify', basic());
    expect(t.logger.matching(/bodyLimit|body limit/i)).toEqual([]);
  });
});
