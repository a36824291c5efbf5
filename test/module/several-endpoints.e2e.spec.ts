import { afterEach, describe, expect, it } from '@jest/globals';
import { type DynamicModule, Injectable, SetMetadata, type Type } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { ScalekitEventDispatcher } from '../../lib/scalekit-event.dispatcher.js';
import { ScalekitWebhookConfig } from '../../lib/scalekit-webhook.config.js';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, OTHER_SECRET, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';

const PROD_SECRET = SECRET;
const STAGING_SECRET = OTHER_SECRET;

interface EndpointCall {
  handler: string;
  eventId: string;
  endpoint: string | undefined;
  webhookId: string;
}

@Injectable()
class EndpointLog {
  readonly calls: EndpointCall[] = [];
  record(handler: string, event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.calls.push({ handler, eventId: event.id, endpoint: delivery.endpoint, webhookId: delivery.webhookId });
  }
  of(eventId: string): string[] {
    return this.calls
      .filter((c) => c.eventId === eventId)
      .map((c) => c.handler)
      .sort();
  }
}

@Injectable()
class EndpointHandlers {
  constructor(private readonly log: EndpointLog) {}

  @OnScalekitEvent('user.login', { endpoint: 'prod' })
  prodLogin(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.record('prodLogin', event, delivery);
  }

  @OnScalekitEvent('user.login', { endpoint: 'staging' })
  stagingLogin(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.record('stagingLogin', event, delivery);
  }

  /** No endpoint: runs for deliveries to either endpoint, once per delivery. */
  @OnScalekitEvent('user.login')
  anyLogin(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.record('anyLogin', event, delivery);
  }

  /** Stacked applications naming both endpoints: still once per delivery. */
  @OnScalekitEvent('organization.created', { endpoint: 'prod' })
  @OnScalekitEvent(['organization.created', 'organization.updated'], { endpoint: 'staging' })
  organizations(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.record('organizations', event, delivery);
  }

  @OnScalekitEvent('*', { endpoint: 'staging' })
  stagingAudit(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.record('stagingAudit', event, delivery);
  }
}

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

function controllerOf(module: DynamicModule): Type<unknown> {
  expect(module.controllers).toHaveLength(1);
  return module.controllers![0]!;
}

async function startTwoEndpoints(platform: Platform, staging?: DynamicModule) {
  const prod = ScalekitWebhookModule.forRoot({
    secret: PROD_SECRET,
    path: 'webhooks/prod',
    name: 'prod',
    decorators: [SetMetadata('registration-marker', 'prod')],
  });
  const stagingModule =
    staging ?? ScalekitWebhookModule.forRoot({ secret: STAGING_SECRET, path: 'webhooks/staging', name: 'staging' });
  const t = await startApp(platform, { imports: [prod, stagingModule], providers: [EndpointLog, EndpointHandlers] });
  apps.push(t);
  const deliver = (endpoint: 'prod' | 'staging', payload: unknown, secret: string) => {
    const s = signed(payload, { secret });
    return send(`${t.url}/webhooks/${endpoint}`, { body: s.rawBody, headers: s.headers });
  };
  return { t, log: t.app.get(EndpointLog), prod, staging: stagingModule, deliver };
}

describe.each(PLATFORMS)('several Scalekit endpoints in one app (%s)', (platform) => {
  it('each endpoint accepts only its own secret', async () => {
    const { log, deliver } = await startTwoEndpoints(platform);
    expect((await deliver('prod', eventOf('user.login'), PROD_SECRET)).status).toBe(200);
    expect((await deliver('staging', eventOf('user.login'), STAGING_SECRET)).status).toBe(200);
    log.calls.length = 0;
    const crossed = [
      await deliver('prod', eventOf('user.login'), STAGING_SECRET),
      await deliver('staging', eventOf('user.login'), PROD_SECRET),
    ];
    expect(crossed.map((r) => r.status)).toEqual([401, 401]);
    expect(crossed.map((r) => r.body.error)).toEqual([
      'signature_verification_failed',
      'signature_verification_failed',
    ]);
    expect(log.calls).toEqual([]);
  });

  it('routes only to its own handlers, sets delivery.endpoint, and runs a handler without endpoint once per delivery', async () => {
    const { log, deliver } = await startTwoEndpoints(platform);
    const toProd = eventOf('user.login');
    const toStaging = eventOf('user.login');
    const prodRes = await deliver('prod', toProd, PROD_SECRET);
    const stagingRes = await deliver('staging', toStaging, STAGING_SECRET);
    expect([prodRes.status, stagingRes.status]).toEqual([200, 200]);
    expect(log.of(toProd.id)).toEqual(['anyLogin', 'prodLogin']);
    expect(log.of(toStaging.id)).toEqual(['anyLogin', 'stagingAudit', 'stagingLogin']);
    expect(new Set(log.calls.filter((c) => c.eventId === toProd.id).map((c) => c.endpoint))).toEqual(new Set(['prod']));
    expect(new Set(log.calls.filter((c) => c.eventId === toStaging.id).map((c) => c.endpoint))).toEqual(
      new Set(['staging']),
    );
  });

  it('a handler whose stacked decorators name both endpoints runs once per delivery, with the right patterns each', async () => {
    const { log, deliver } = await startTwoEndpoints(platform);
    const created = [eventOf('organization.created'), eventOf('organization.created')];
    const updated = [eventOf('organization.updated'), eventOf('organization.updated')];
    await deliver('prod', created[0], PROD_SECRET);
    await deliver('staging', created[1], STAGING_SECRET);
    await deliver('prod', updated[0], PROD_SECRET);
    await deliver('staging', updated[1], STAGING_SECRET);
    expect(log.of(created[0]!.id)).toEqual(['organizations']);
    expect(log.of(created[1]!.id)).toEqual(['organizations', 'stagingAudit']);
    expect(log.of(updated[0]!.id)).toEqual([]); // prod only listens to organization.created
    expect(log.of(updated[1]!.id)).toEqual(['organizations', 'stagingAudit']);
  });

  it('interleaved concurrent deliveries to both endpoints never cross', async () => {
    const { log, deliver } = await startTwoEndpoints(platform);
    const sent = Array.from({ length: 20 }, (_, i) => ({
      endpoint: i % 2 === 0 ? ('prod' as const) : ('staging' as const),
      event: eventOf('user.login'),
    }));
    const results = await Promise.all(
      sent.map(({ endpoint, event }) => deliver(endpoint, event, endpoint === 'prod' ? PROD_SECRET : STAGING_SECRET)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    for (const { endpoint, event } of sent) {
      expect(log.of(event.id)).toEqual(
        endpoint === 'prod' ? ['anyLogin', 'prodLogin'] : ['anyLogin', 'stagingAudit', 'stagingLogin'],
      );
      expect(log.calls.filter((c) => c.eventId === event.id).every((c) => c.endpoint === endpoint)).toBe(true);
    }
  });

  it('each registration has its own controller class, config and dispatcher: no shared mutable state', async () => {
    const { t, prod, staging } = await startTwoEndpoints(platform);
    const prodClass = controllerOf(prod);
    const stagingClass = controllerOf(staging);
    expect(prodClass).not.toBe(stagingClass);
    expect(Reflect.getMetadata('path', prodClass)).toBe('webhooks/prod');
    expect(Reflect.getMetadata('path', stagingClass)).toBe('webhooks/staging');
    // A decorator given to one registration is not on the other's class.
    expect(Reflect.getMetadata('registration-marker', prodClass)).toBe('prod');
    expect(Reflect.getMetadata('registration-marker', stagingClass)).toBeUndefined();
    // A third registration built later does not change the first two.
    const third = controllerOf(
      ScalekitWebhookModule.forRoot({ secret: SECRET, path: 'webhooks/third', name: 'third' }),
    );
    expect(Reflect.getMetadata('path', prodClass)).toBe('webhooks/prod');
    expect(Reflect.getMetadata('path', third)).toBe('webhooks/third');

    const prodConfig = t.app.select(prod).get(ScalekitWebhookConfig, { strict: true });
    const stagingConfig = t.app.select(staging).get(ScalekitWebhookConfig, { strict: true });
    expect([prodConfig.endpoint, stagingConfig.endpoint]).toEqual(['prod', 'staging']);
    const prodDispatcher = t.app.select(prod).get(ScalekitEventDispatcher, { strict: true });
    const stagingDispatcher = t.app.select(staging).get(ScalekitEventDispatcher, { strict: true });
    expect(prodDispatcher).not.toBe(stagingDispatcher);
    expect(
      prodDispatcher
        .handlersFor('user.login')
        .map((h) => h.name)
        .sort(),
    ).toEqual(['EndpointHandlers.anyLogin', 'EndpointHandlers.prodLogin']);
    expect(
      stagingDispatcher
        .handlersFor('user.login')
        .map((h) => h.name)
        .sort(),
    ).toEqual(['EndpointHandlers.anyLogin', 'EndpointHandlers.stagingAudit', 'EndpointHandlers.stagingLogin']);
    // One controller instance per registration, each of its own class.
    const prodController = t.app.get(prodClass);
    const stagingController = t.app.get(stagingClass);
    expect(prodController).not.toBe(stagingController);
    expect(prodController).toBeInstanceOf(prodClass);
    expect(prodController).not.toBeInstanceOf(stagingClass);
  });

  it('start-up log names the endpoint of every mapping', async () => {
    const { t } = await startTwoEndpoints(platform);
    const mapped = t.logger.matching(/^Mapped \{/).map((l) => l.message);
    expect(mapped).toEqual(
      expect.arrayContaining([
        'Mapped {user.login} -> EndpointHandlers.prodLogin [endpoint prod]',
        'Mapped {user.login} -> EndpointHandlers.anyLogin [endpoint prod]',
        'Mapped {user.login} -> EndpointHandlers.stagingLogin [endpoint staging]',
        'Mapped {user.login} -> EndpointHandlers.anyLogin [endpoint staging]',
      ]),
    );
    expect(mapped.filter((m) => m.includes('stagingLogin') && m.includes('[endpoint prod]'))).toEqual([]);
    expect(mapped.filter((m) => m.includes('prodLogin') && m.includes('[endpoint staging]'))).toEqual([]);
  });

  it('forRoot and forRootAsync registrations side by side', async () => {
    const staging = ScalekitWebhookModule.forRootAsync({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ STAGING_SECRET })] })],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ secret: config.getOrThrow<string>('STAGING_SECRET') }),
      path: 'webhooks/staging',
      name: 'staging',
    });
    const { log, deliver } = await startTwoEndpoints(platform, staging);
    const a = eventOf('user.login');
    const b = eventOf('user.login');
    expect((await deliver('prod', a, PROD_SECRET)).status).toBe(200);
    expect((await deliver('staging', b, STAGING_SECRET)).status).toBe(200);
    expect((await deliver('staging', eventOf('user.login'), PROD_SECRET)).status).toBe(401);
    expect(log.of(a.id)).toEqual(['anyLogin', 'prodLogin']);
    expect(log.of(b.id)).toEqual(['anyLogin', 'stagingAudit', 'stagingLogin']);
  });

  it('an unnamed registration next to a named one: handlers with an endpoint only run on the named one', async () => {
    const t = await startApp(platform, {
      imports: [
        ScalekitWebhookModule.forRoot({ secret: PROD_SECRET }),
        ScalekitWebhookModule.forRoot({ secret: STAGING_SECRET, path: 'webhooks/staging', name: 'staging' }),
      ],
      providers: [EndpointLog, EndpointHandlers],
    });
    apps.push(t);
    const log = t.app.get(EndpointLog);
    const unnamed = eventOf('user.login');
    const named = eventOf('user.login');
    const s1 = signed(unnamed, { secret: PROD_SECRET });
    const s2 = signed(named, { secret: STAGING_SECRET });
    expect((await send(`${t.url}/webhooks/scalekit`, { body: s1.rawBody, headers: s1.headers })).status).toBe(200);
    expect((await send(`${t.url}/webhooks/staging`, { body: s2.rawBody, headers: s2.headers })).status).toBe(200);
    expect(log.of(unnamed.id)).toEqual(['anyLogin']);
    expect(log.calls.find((c) => c.eventId === unnamed.id)!.endpoint).toBeUndefined();
    expect(log.of(named.id)).toEqual(['anyLogin', 'stagingAudit', 'stagingLogin']);
  });
});

@Injectable()
class MistypedEndpointHandlers {
  @OnScalekitEvent('user.login', { endpoint: 'prdo' })
  never() {}
}

describe('registration mistakes are caught at start-up', () => {
  it('two registrations on one path stop the app with a clear message', async () => {
    await expect(
      startApp('express', {
        imports: [
          ScalekitWebhookModule.forRoot({ secret: PROD_SECRET, path: 'webhooks/scalekit', name: 'prod' }),
          ScalekitWebhookModule.forRoot({ secret: STAGING_SECRET, path: '/webhooks/scalekit/', name: 'staging' }),
        ],
      }),
    ).rejects.toThrow("Two ScalekitWebhookModule registrations use the path '/webhooks/scalekit'");
  });

  it('a handler for an endpoint name no registration has is warned about once', async () => {
    const t = await startApp('express', {
      imports: [
        ScalekitWebhookModule.forRoot({ secret: PROD_SECRET, path: 'webhooks/prod', name: 'prod' }),
        ScalekitWebhookModule.forRoot({ secret: STAGING_SECRET, path: 'webhooks/staging', name: 'staging' }),
      ],
      providers: [MistypedEndpointHandlers],
    });
    apps.push(t);
    const warnings = t.logger.matching(/endpoint 'prdo'/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('warn');
    expect(warnings[0]!.message).toContain('MistypedEndpointHandlers.never');
  });
});
