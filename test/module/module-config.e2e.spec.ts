import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { inspect } from 'node:util';
import {
  getScalekitVerifierToken,
  OnScalekitEvent,
  type ScalekitEvent,
  type ScalekitWebhookVerifier,
  ScalekitWebhookModule,
  type ScalekitWebhookModuleOptions,
  type ScalekitWebhookOptionsFactory,
} from 'nestjs-scalekit-webhooks';
import { ScalekitWebhookConfig } from '../../lib/scalekit-webhook.config.js';
import { CapturingLogger, PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, SECRET, signed } from '../support/events.js';
import { CallLog, DirectoryHandlers } from '../support/handlers.js';
import { send } from '../support/http.js';

const OTHER = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

@Injectable()
class OptionsFromClass implements ScalekitWebhookOptionsFactory {
  createScalekitWebhookOptions(): ScalekitWebhookModuleOptions {
    return { secret: OTHER, toleranceSeconds: 60 };
  }
}

@Injectable()
class TypoHandlers {
  @OnScalekitEvent('organization.create')
  typo(_event: ScalekitEvent<'organization.create'>) {}
}

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

async function start(...args: Parameters<typeof startApp>) {
  const t = await startApp(...args);
  apps.push(t);
  return t;
}

async function deliverTo(url: string, payload: unknown, secret = SECRET) {
  const s = signed(payload, { secret });
  return send(url, { body: s.rawBody, headers: s.headers });
}

describe.each(PLATFORMS)('module configuration (%s)', (platform) => {
  it('forRootAsync with ConfigService and a custom path', async () => {
    const t = await start(platform, {
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ SCALEKIT_WEBHOOK_SECRET: OTHER })] }),
        ScalekitWebhookModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ secret: config.getOrThrow<string>('SCALEKIT_WEBHOOK_SECRET') }),
          path: 'hooks/scalekit-async',
        }),
      ],
      providers: [CallLog, DirectoryHandlers],
    });
    const ok = await deliverTo(`${t.url}/hooks/scalekit-async`, eventOf('organization.created'), OTHER);
    expect(ok.status).toBe(200);
    expect(t.app.get(CallLog).names()).toEqual(['everything', 'organizationChanged']);
    expect((await deliverTo(`${t.url}/hooks/scalekit-async`, eventOf('organization.created'), SECRET)).status).toBe(
      401,
    );
    expect((await deliverTo(`${t.url}/webhooks/scalekit`, eventOf('organization.created'), OTHER)).status).toBe(404);
  });

  it('forRootAsync with useClass', async () => {
    const t = await start(platform, {
      imports: [ScalekitWebhookModule.forRootAsync({ useClass: OptionsFromClass })],
      providers: [CallLog, DirectoryHandlers],
    });
    expect((await deliverTo(`${t.url}/webhooks/scalekit`, eventOf('user.login'), OTHER)).status).toBe(200);
    expect(t.app.get<ScalekitWebhookVerifier>(getScalekitVerifierToken()).toleranceSeconds).toBe(60);
    expect(t.app.get(ScalekitWebhookConfig).toleranceSeconds).toBe(60);
  });

  it('forRoot with a custom path; logs one line per handler and warns on a likely typo', async () => {
    const t = await start(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, path: '/custom/hook/' })],
      providers: [CallLog, DirectoryHandlers, TypoHandlers],
    });
    expect((await deliverTo(`${t.url}/custom/hook`, eventOf('user.login'))).status).toBe(200);
    const mapped = t.logger.matching(/^Mapped \{.*-> /).map((l) => l.message);
    expect(mapped).toEqual(
      expect.arrayContaining([
        'Mapped {organization.directory.user_created} -> DirectoryHandlers.userCreated',
        'Mapped {organization.created, organization.updated} -> DirectoryHandlers.organizationChanged',
        'Mapped {role.deleted, role.created} -> DirectoryHandlers.roleStacked',
        'Mapped {*} -> DirectoryHandlers.everything',
      ]),
    );
    expect(mapped).toHaveLength(7);
    const typo = t.logger.matching(/organization\.create'/);
    expect(typo).toHaveLength(1);
    expect(typo[0]!.level).toBe('warn');
    expect(t.logger.matching(/'organization\.directory\.\*'.*typo/)).toHaveLength(0);
  });

  it('case 23: app created without rawBody → 500 that says how to fix the bootstrap, no handler call', async () => {
    const t = await start(
      platform,
      { imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })], providers: [CallLog, DirectoryHandlers] },
      { rawBody: false },
    );
    const res = await deliverTo(`${t.url}/webhooks/scalekit`, eventOf('user.login'));
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('raw_body_missing');
    expect(res.body.message).toMatch(/raw request body/);
    const line = t.logger.matching(/rawBody: true/).pop()!;
    expect(line.level).toBe('error');
    expect(line.message).toContain('NestFactory.create(AppModule, { rawBody: true })');
    expect(t.app.get(CallLog).calls).toHaveLength(0);
  });

  it('case 23: app created with bodyParser: false → 500 with the fix, never a re-serialised fallback', async () => {
    const t = await start(
      platform,
      { imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })], providers: [CallLog, DirectoryHandlers] },
      { bodyParser: false },
    );
    const res = await deliverTo(`${t.url}/webhooks/scalekit`, eventOf('user.login'));
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('raw_body_missing');
    expect(t.logger.matching(/bodyParser: false/)).not.toHaveLength(0);
    expect(t.app.get(CallLog).calls).toHaveLength(0);
  });

  it('a body that is not JSON → 415, before verification', async () => {
    const t = await start(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
      providers: [CallLog],
    });
    const s = signed('hello');
    const res = await send(`${t.url}/webhooks/scalekit`, {
      body: s.rawBody,
      headers: { ...s.headers, 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
  });
});

describe('start-up refusal (cases 1, 3, 6, 14)', () => {
  async function bootWith(options: unknown): Promise<{ error: Error; logger: CapturingLogger }> {
    @Module({ imports: [ScalekitWebhookModule.forRoot(options as ScalekitWebhookModuleOptions)] })
    class AppModule {}
    const logger = new CapturingLogger();
    try {
      const app = await NestFactory.create(AppModule, { rawBody: true, logger, abortOnError: false });
      await app.close();
    } catch (error) {
      return { error: error as Error, logger };
    }
    throw new Error('the app started');
  }

  it.each([
    ['an empty secret', { secret: '' }, /secret is empty/],
    ['whsec_ alone', { secret: 'whsec_' }, /secret is empty/],
    ['a missing secret', {}, /secret is missing/],
    ['a secret that is not base64', { secret: 'whsec_C2FVsBQ!hrscChlQIMV+b5sSYspob7oD' }, /not valid base64/],
    ['a negative tolerance', { secret: SECRET, toleranceSeconds: -5 }, /toleranceSeconds/],
    ['a non-numeric tolerance', { secret: SECRET, toleranceSeconds: 'soon' }, /toleranceSeconds/],
    ['a zero body limit', { secret: SECRET, maxBodyBytes: 0 }, /maxBodyBytes/],
  ])('%s stops the app with a clear message', async (_name, options, message) => {
    const { error, logger } = await bootWith(options);
    expect(error.message).toMatch(message);
    expect(`${error.message}\n${logger.text()}`).not.toContain('C2FVsBQ');
  });

  it('case 6: the resolved options never show the secret', async () => {
    const t = await startApp('express', { imports: [ScalekitWebhookModule.forRoot({ secret: OTHER })] });
    apps.push(t);
    const config = t.app.get(ScalekitWebhookConfig);
    for (const text of [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      inspect(t.app.get(getScalekitVerifierToken()), { depth: 10, showHidden: true }),
    ]) {
      expect(text).not.toContain('C2FVsBQ');
    }
    expect(JSON.parse(JSON.stringify(config))).toEqual({
      path: 'webhooks/scalekit',
      toleranceSeconds: 300,
      maxBodyBytes: 1048576,
      idempotency: { store: 'MemoryIdempotencyStore', leaseMs: 60_000, ttlMs: 86_400_000 },
      shutdownTimeoutMs: 10_000,
      responseTimeoutMs: 8_000,
      secret: '[hidden]',
    });
    expect(t.logger.text()).not.toContain('C2FVsBQ');
  });
});
