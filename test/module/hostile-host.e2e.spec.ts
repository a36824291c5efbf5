import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Body,
  type CallHandler,
  type CanActivate,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  HttpException,
  Injectable,
  type NestInterceptor,
  Post,
  SetMetadata,
  UnauthorizedException,
  ValidationPipe,
  type ArgumentsHost,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, HttpAdapterHost, Reflector } from '@nestjs/core';
import { IsString } from 'class-validator';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { tap } from 'rxjs';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, OTHER_SECRET, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';
import { loadThrottler } from '../support/throttler.js';

// The real @nestjs/throttler 6 (see test/support/throttler.ts for why it is not a plain import under Jest).
const { SkipThrottle, ThrottlerGuard, ThrottlerModule } = loadThrottler();

/*
 * A "real" host application: every global enhancer a production Nest app typically has, configured as strictly as
 * possible, and an exception filter that tries to turn every failure into a 2xx.
 */

const IS_PUBLIC = 'isPublic';
/** The standard Nest docs pattern for opting a route out of a global auth guard. */
const Public = () => SetMetadata(IS_PUBLIC, true);
const TOKEN = 'host-app-token';
const THROTTLE_LIMIT = 3;

const GENERIC_401 = {
  statusCode: 401,
  error: 'signature_verification_failed',
  message: 'Webhook signature verification failed',
};

interface EnhancerCall {
  path: string;
  controller: string;
  method: string;
}

/** Records every call of the host's enhancers and of the event handlers. */
@Injectable()
class Probe {
  readonly guard: (EnhancerCall & { allowed: boolean })[] = [];
  readonly interceptor: (EnhancerCall & { outcome?: 'ok' | 'error' })[] = [];
  readonly filter: { path: string; status: number }[] = [];
  readonly handlers: { name: string; eventId: string; guardCalls: number; interceptorCalls: number; args: number }[] =
    [];
  readonly events: AnyScalekitEvent[] = [];

  forPath(path: string) {
    return {
      guard: this.guard.filter((c) => c.path === path),
      interceptor: this.interceptor.filter((c) => c.path === path),
      filter: this.filter.filter((c) => c.path === path),
    };
  }
}

function pathOf(request: { originalUrl?: string; url?: string }): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0]!;
}

@Injectable()
class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly probe: Probe,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    const allowed = isPublic === true || request.headers.authorization === `Bearer ${TOKEN}`;
    this.probe.guard.push({
      path: pathOf(request),
      controller: context.getClass().name,
      method: context.getHandler().name,
      allowed,
    });
    if (!allowed) {
      throw new UnauthorizedException();
    }
    return true;
  }
}

/** The nastiest host filter: every error becomes `200 { rewritten: true }`. */
@Catch()
class RewriteEverythingFilter implements ExceptionFilter {
  constructor(
    private readonly probe: Probe,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.probe.filter.push({
      path: pathOf(http.getRequest()),
      status: exception instanceof HttpException ? exception.getStatus() : 500,
    });
    this.adapterHost.httpAdapter.reply(http.getResponse(), { rewritten: true }, 200);
  }
}

@Injectable()
class LoggingInterceptor implements NestInterceptor {
  constructor(private readonly probe: Probe) {}

  intercept(context: ExecutionContext, next: CallHandler) {
    const entry: Probe['interceptor'][number] = {
      path: pathOf(context.switchToHttp().getRequest()),
      controller: context.getClass().name,
      method: context.getHandler().name,
    };
    this.probe.interceptor.push(entry);
    return next.handle().pipe(
      tap({
        next: () => (entry.outcome = 'ok'),
        error: () => (entry.outcome = 'error'),
      }),
    );
  }
}

class CreateThingDto {
  @IsString()
  name!: string;
}

/** Routes of the host itself, to show that each global enhancer is really active in this app. */
@Controller('host')
class HostController {
  @Get('private')
  private() {
    return { private: true };
  }

  @Public()
  @Get('ping')
  ping() {
    return { pong: true };
  }

  @Public()
  @SkipThrottle()
  @Post('things')
  create(@Body() dto: CreateThingDto) {
    return dto;
  }
}

@Injectable()
class HostileHostHandlers {
  constructor(private readonly probe: Probe) {}

  private record(name: string, event: AnyScalekitEvent, args: number) {
    this.probe.handlers.push({
      name,
      eventId: event.id,
      guardCalls: this.probe.guard.length,
      interceptorCalls: this.probe.interceptor.length,
      args,
    });
  }

  @OnScalekitEvent('user.login')
  login(event: AnyScalekitEvent, _delivery: ScalekitDelivery) {
    this.probe.events.push(event);
    this.record('login', event, arguments.length);
  }

  @OnScalekitEvent('user.*')
  anyUser(event: AnyScalekitEvent, _delivery: ScalekitDelivery) {
    this.record('anyUser', event, arguments.length);
  }

  @OnScalekitEvent('*')
  everything(event: AnyScalekitEvent, _delivery: ScalekitDelivery) {
    this.record('everything', event, arguments.length);
  }

  @OnScalekitEvent('permission.created')
  failing(event: AnyScalekitEvent) {
    this.record('failing', event, arguments.length);
    throw new Error('permission sync is down');
  }
}

interface HostileOptions {
  decorators?: ClassDecorator[];
  globalPrefix?: string;
}

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

async function startHostileApp(platform: Platform, options: HostileOptions = {}) {
  const t = await startApp(
    platform,
    {
      imports: [
        ThrottlerModule.forRoot([{ ttl: 60_000, limit: THROTTLE_LIMIT }]),
        ScalekitWebhookModule.forRoot({
          secret: SECRET,
          ...(options.decorators === undefined ? {} : { decorators: options.decorators }),
        }),
      ],
      controllers: [HostController],
      providers: [
        Probe,
        HostileHostHandlers,
        { provide: APP_GUARD, useClass: BearerAuthGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        { provide: APP_FILTER, useClass: RewriteEverythingFilter },
        { provide: APP_INTERCEPTOR, useClass: LoggingInterceptor },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }) },
      ],
    },
    { configure: (app) => options.globalPrefix !== undefined && app.setGlobalPrefix(options.globalPrefix) },
  );
  apps.push(t);
  const prefix = options.globalPrefix === undefined ? '' : `/${options.globalPrefix}`;
  const webhookPath = `${prefix}/webhooks/scalekit`;
  return {
    t,
    probe: t.app.get(Probe),
    webhookPath,
    prefix,
    deliver: (payload: unknown, opts: { secret?: string; headers?: Record<string, string> } = {}) => {
      const s = signed(payload, { secret: opts.secret });
      return send(`${t.url}${webhookPath}`, { body: s.rawBody, headers: { ...s.headers, ...opts.headers } });
    },
  };
}

const EXEMPT = () => [Public(), SkipThrottle()];

describe.each(PLATFORMS)('behind a hostile host app (%s)', (platform) => {
  it('the host enhancers are really active on the host routes (control)', async () => {
    const { t, probe } = await startHostileApp(platform, { decorators: EXEMPT() });

    // Auth guard: 401, rewritten to 200 by the host filter.
    const unauthorized = await send(`${t.url}/host/private`, { method: 'GET' });
    expect(unauthorized.status).toBe(200);
    expect(unauthorized.body).toEqual({ rewritten: true });
    expect(probe.forPath('/host/private').filter).toEqual([{ path: '/host/private', status: 401 }]);
    const authorized = await send(`${t.url}/host/private`, {
      method: 'GET',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(authorized.body).toEqual({ private: true });

    // Throttler: the (limit + 1)th call is a 429 (rewritten).
    for (let i = 0; i < THROTTLE_LIMIT; i++) {
      expect((await send(`${t.url}/host/ping`, { method: 'GET' })).body).toEqual({ pong: true });
    }
    expect((await send(`${t.url}/host/ping`, { method: 'GET' })).body).toEqual({ rewritten: true });
    expect(probe.forPath('/host/ping').filter).toEqual([{ path: '/host/ping', status: 429 }]);

    // ValidationPipe with forbidNonWhitelisted: an unknown property is a 400 (rewritten).
    const extra = await send(`${t.url}/host/things`, {
      body: JSON.stringify({ name: 'a', extra: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(extra.body).toEqual({ rewritten: true });
    expect(probe.forPath('/host/things').filter).toEqual([{ path: '/host/things', status: 400 }]);

    // Interceptor: one entry per host request.
    expect(probe.forPath('/host/private').interceptor).toHaveLength(1); // only the authorized one reached it
    expect(probe.forPath('/host/ping').interceptor).toHaveLength(THROTTLE_LIMIT);
  });

  it('with decorators [Public(), SkipThrottle()]: many more deliveries than the throttle limit verify and route', async () => {
    const { probe, webhookPath, deliver } = await startHostileApp(platform, { decorators: EXEMPT() });
    const count = THROTTLE_LIMIT * 3 + 1;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const event = eventOf('user.login');
      ids.push(event.id);
      const res = await deliver(event);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
    }
    expect(probe.handlers.filter((h) => h.name === 'login').map((h) => h.eventId)).toEqual(ids);
    expect(probe.handlers).toHaveLength(count * 3); // login, user.*, *
    const seen = probe.forPath(webhookPath);
    expect(seen.filter).toEqual([]);
    // The host guard was consulted once per HTTP request, on our controller's route, and let it through.
    expect(seen.guard).toHaveLength(count);
    expect(
      seen.guard.every((c) => c.allowed && c.method === 'receive' && c.controller === 'ScalekitWebhookController'),
    ).toBe(true);
  });

  it('none of the global enhancers runs inside event handlers: one guard and one interceptor call per request', async () => {
    const { probe, webhookPath, deliver } = await startHostileApp(platform, { decorators: EXEMPT() });
    const requests = 4;
    for (let i = 0; i < requests; i++) {
      expect((await deliver(eventOf('user.login'))).status).toBe(200);
    }
    // 3 handlers ran per request, yet the guard and the interceptor saw exactly one call per request.
    expect(probe.handlers).toHaveLength(requests * 3);
    const seen = probe.forPath(webhookPath);
    expect(seen.guard).toHaveLength(requests);
    expect(seen.interceptor).toHaveLength(requests);
    expect(probe.guard).toHaveLength(requests);
    expect(probe.interceptor).toHaveLength(requests);
    // Every enhancer call was for the HTTP route (ScalekitWebhookController.receive), never for a handler method.
    for (const call of [...probe.guard, ...probe.interceptor]) {
      expect({ controller: call.controller, method: call.method }).toEqual({
        controller: 'ScalekitWebhookController',
        method: 'receive',
      });
    }
    expect(seen.interceptor.every((c) => c.outcome === 'ok')).toBe(true);
    // Inside the handlers of request n, the counters show only the n enhancer calls of the n requests so far.
    probe.handlers.forEach((h, index) => {
      const request = Math.floor(index / 3) + 1;
      expect({ guard: h.guardCalls, interceptor: h.interceptorCalls }).toEqual({
        guard: request,
        interceptor: request,
      });
      expect(h.args).toBe(2); // called directly with (event, delivery): no pipe, no extra arguments
    });
  });

  it('the ValidationPipe (whitelist, forbidNonWhitelisted) does not touch the event: unknown fields reach handlers', async () => {
    const { probe, deliver } = await startHostileApp(platform, { decorators: EXEMPT() });
    const event = eventOf('user.login', { unknown_top_level: { nested: [1, 2] }, another: 'kept' });
    event.data = { ...event.data, not_whitelisted: true };
    const res = await deliver(event);
    expect(res.status).toBe(200);
    expect(probe.filter).toEqual([]);
    expect(probe.events).toEqual([event]);
  });

  it('a bad signature answers 401 with the generic body despite the rewriting host filter (never 2xx)', async () => {
    const { probe, webhookPath, deliver } = await startHostileApp(platform, { decorators: EXEMPT() });
    const res = await deliver(eventOf('user.login'), { secret: OTHER_SECRET });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(GENERIC_401);
    expect(probe.forPath(webhookPath).filter).toEqual([]);
    expect(probe.handlers).toEqual([]);
  });

  it('every other verification or payload failure keeps its own status too', async () => {
    const { t, probe, webhookPath, deliver } = await startHostileApp(platform, { decorators: EXEMPT() });
    const url = `${t.url}${webhookPath}`;
    const s = signed(eventOf('user.login'));
    const cases: [string, Promise<Awaited<ReturnType<typeof send>>>, number][] = [
      ['missing headers', send(url, { body: s.rawBody, headers: { 'content-type': 'application/json' } }), 400],
      [
        'invalid timestamp',
        send(url, { body: s.rawBody, headers: { ...s.headers, 'webhook-timestamp': 'hello' } }),
        400,
      ],
      ['too old', deliverAt(url, eventOf('user.login'), Math.floor(Date.now() / 1000) - 3600), 401],
      ['invalid envelope', deliver({ id: 'evt_1' }), 400],
      ['not JSON', send(url, { body: s.rawBody, headers: { ...s.headers, 'content-type': 'text/plain' } }), 415],
    ];
    for (const [name, pending, status] of cases) {
      const res = await pending;
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(res.body).not.toEqual({ rewritten: true });
      expect(res.body.statusCode).toBe(status);
    }
    expect(probe.forPath(webhookPath).filter).toEqual([]);
    expect(probe.handlers).toEqual([]);
  });

  it('known limit: body-parser errors (malformed JSON, over the parser limit) happen before routing and reach the host filter', async () => {
    const { t, probe, webhookPath } = await startHostileApp(platform, { decorators: EXEMPT() });
    const url = `${t.url}${webhookPath}`;
    const malformed = await sendSigned(url, '{"id": ');
    // Express's default JSON limit is 100 kb, Fastify's bodyLimit 1 MiB: a signed, valid event just over it.
    const size = platform === 'express' ? 150_000 : 1_100_000;
    const big = await sendSigned(url, JSON.stringify(eventOf('user.login', { data: { filler: 'x'.repeat(size) } })));
    // The parser rejects them before Nest routes to the webhook controller, so the module's controller-scoped
    // filter cannot answer: the host's global filter does (this host rewrites them to 2xx).
    expect(probe.forPath(webhookPath).filter.map((c) => c.status)).toEqual([400, 413]);
    expect([malformed.body, big.body]).toEqual([{ rewritten: true }, { rewritten: true }]);
    expect(probe.forPath(webhookPath).guard).toEqual([]);
    expect(probe.handlers).toEqual([]);
  });

  it('a handler failure answers 500 despite the rewriting host filter', async () => {
    const { probe, webhookPath, deliver, t } = await startHostileApp(platform, { decorators: EXEMPT() });
    const event = eventOf('permission.created');
    const res = await deliver(event);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'handler_failed', message: 'Webhook handler failed' });
    expect(probe.forPath(webhookPath).filter).toEqual([]);
    expect(probe.handlers.map((h) => h.name).sort()).toEqual(['everything', 'failing']);
    expect(probe.forPath(webhookPath).interceptor.map((c) => c.outcome)).toEqual(['error']);
    expect(t.logger.matching(/HostileHostHandlers\.failing failed/)).toHaveLength(1);
  });

  it('without the decorators option the host auth guard blocks Scalekit (why the option exists)', async () => {
    const { probe, webhookPath, deliver } = await startHostileApp(platform);
    const res = await deliver(eventOf('user.login'));
    expect([401, 403]).toContain(res.status);
    expect(res.body).not.toEqual({ received: true });
    expect(probe.forPath(webhookPath).guard).toEqual([
      { path: webhookPath, controller: 'ScalekitWebhookController', method: 'receive', allowed: false },
    ]);
    expect(probe.handlers).toEqual([]);
  });

  it('with only Public(), the throttler answers 429 beyond its limit (why SkipThrottle() is needed too)', async () => {
    const { probe, deliver } = await startHostileApp(platform, { decorators: [Public()] });
    for (let i = 0; i < THROTTLE_LIMIT; i++) {
      expect((await deliver(eventOf('user.login'))).status).toBe(200);
    }
    const throttled = await deliver(eventOf('user.login'));
    expect(throttled.status).toBe(429);
    expect(probe.handlers.filter((h) => h.name === 'login')).toHaveLength(THROTTLE_LIMIT);
  });

  it('an app-level global prefix applies to the webhook path', async () => {
    const { t, probe, webhookPath, deliver } = await startHostileApp(platform, {
      decorators: EXEMPT(),
      globalPrefix: 'api',
    });
    expect(webhookPath).toBe('/api/webhooks/scalekit');
    const event = eventOf('user.login');
    const res = await deliver(event);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true });
    expect(probe.handlers.filter((h) => h.name === 'login').map((h) => h.eventId)).toEqual([event.id]);
    const s = signed(eventOf('user.login'));
    const unprefixed = await send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
    expect(unprefixed.body).not.toEqual({ received: true }); // a 404, which this host's filter rewrites
    expect(probe.handlers.filter((h) => h.name === 'login')).toHaveLength(1);
    expect((await deliver(eventOf('user.login'), { secret: OTHER_SECRET })).status).toBe(401);
  });
});

function sendSigned(url: string, payload: string) {
  const s = signed(payload);
  return send(url, { body: s.rawBody, headers: s.headers });
}

function deliverAt(url: string, payload: unknown, timestamp: number) {
  const s = signed(payload, { timestamp });
  return send(url, { body: s.rawBody, headers: s.headers });
}
