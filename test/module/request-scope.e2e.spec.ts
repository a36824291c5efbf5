import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Inject, Injectable, Scope } from '@nestjs/common';
import { ContextIdFactory, REQUEST } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, signed } from '../support/events.js';
import { send } from '../support/http.js';

interface WebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
}

interface ScopedCall {
  handler: string;
  eventId: string;
  webhookId: string;
  /** Serial number of the instance that ran the method. */
  instance: number;
  /** What the injected REQUEST says. */
  requestWebhookId: unknown;
  requestRawBody: string | undefined;
}

/** A singleton: constructor counts and calls of every handler. */
@Injectable()
class ScopeLog {
  readonly constructed = { requestScoped: 0, context: 0, implicit: 0, static: 0 };
  readonly calls: ScopedCall[] = [];
  of(eventId: string) {
    return this.calls.filter((c) => c.eventId === eventId);
  }
  clear() {
    this.calls.length = 0;
  }
}

function callOf(
  handler: string,
  instance: number,
  request: WebhookRequest,
  event: AnyScalekitEvent,
  delivery: ScalekitDelivery,
): ScopedCall {
  return {
    handler,
    eventId: event.id,
    webhookId: delivery.webhookId,
    instance,
    requestWebhookId: request.headers['webhook-id'],
    requestRawBody: Buffer.isBuffer(request.rawBody) ? request.rawBody.toString('utf8') : undefined,
  };
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedHandlers {
  private readonly instance: number;

  constructor(
    @Inject(REQUEST) private readonly request: WebhookRequest,
    private readonly log: ScopeLog,
  ) {
    this.instance = ++log.constructed.requestScoped;
  }

  @OnScalekitEvent('user.login')
  async first(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    await new Promise((resolve) => setTimeout(resolve, 5)); // let concurrent deliveries interleave
    this.log.calls.push(callOf('first', this.instance, this.request, event, delivery));
  }

  @OnScalekitEvent(['user.login', 'user.logout'])
  second(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.calls.push(callOf('second', this.instance, this.request, event, delivery));
  }

  @OnScalekitEvent('permission.created')
  failing(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.calls.push(callOf('failing', this.instance, this.request, event, delivery));
    throw new Error('request-scoped handler failed');
  }
}

/** Request-scoped, no handlers: what makes {@link ImplicitlyScopedHandlers} request-scoped. */
@Injectable({ scope: Scope.REQUEST })
class RequestContext {
  readonly serial: number;
  constructor(
    @Inject(REQUEST) readonly request: WebhookRequest,
    log: ScopeLog,
  ) {
    this.serial = ++log.constructed.context;
  }
}

/** Declared as a default-scoped provider, but request-scoped because it depends on one. */
@Injectable()
class ImplicitlyScopedHandlers {
  constructor(
    private readonly context: RequestContext,
    private readonly log: ScopeLog,
  ) {
    log.constructed.implicit++;
  }

  @OnScalekitEvent(['user.login', 'user.signup'])
  implicit(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.calls.push(callOf('implicit', this.context.serial, this.context.request, event, delivery));
  }
}

@Injectable()
class StaticHandlers {
  constructor(private readonly log: ScopeLog) {
    log.constructed.static++;
  }

  @OnScalekitEvent(['user.login', 'organization.created'])
  staticHandler(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.calls.push({
      handler: 'static',
      eventId: event.id,
      webhookId: delivery.webhookId,
      instance: 0,
      requestWebhookId: undefined,
      requestRawBody: undefined,
    });
  }
}

describe.each(PLATFORMS)('request-scoped handlers (%s)', (platform) => {
  let t: TestApp;
  let log: ScopeLog;

  beforeAll(async () => {
    t = await startApp(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })],
      providers: [ScopeLog, RequestScopedHandlers, RequestContext, ImplicitlyScopedHandlers, StaticHandlers],
    });
    log = t.app.get(ScopeLog);
  });
  afterAll(() => t.close());
  beforeEach(() => log.clear());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const deliver = (payload: unknown) => {
    const s = signed(payload, { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    return send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers }).then((res) => ({
      res,
      signed: s,
    }));
  };

  it('discovers request-scoped and implicitly request-scoped handlers, and says so at start-up', () => {
    const mapped = t.logger.matching(/^Mapped \{/).map((l) => l.message);
    expect(mapped).toEqual(
      expect.arrayContaining([
        'Mapped {user.login} -> RequestScopedHandlers.first (request-scoped)',
        'Mapped {user.login, user.logout} -> RequestScopedHandlers.second (request-scoped)',
        'Mapped {user.login, user.signup} -> ImplicitlyScopedHandlers.implicit (request-scoped)',
        'Mapped {user.login, organization.created} -> StaticHandlers.staticHandler',
      ]),
    );
    // No request-scoped instance exists before the first delivery.
    expect(log.constructed.requestScoped).toBe(0);
    expect(log.constructed.implicit).toBe(0);
    expect(log.constructed.static).toBe(1);
  });

  it('one fresh instance per delivery, shared by the methods of that class within the delivery', async () => {
    const before = { ...log.constructed };
    const event = eventOf('user.login');
    const { res, signed: s } = await deliver(event);
    expect(res.status).toBe(200);
    const calls = log.of(event.id);
    expect(calls.map((c) => c.handler).sort()).toEqual(['first', 'implicit', 'second', 'static']);
    const first = calls.find((c) => c.handler === 'first')!;
    const second = calls.find((c) => c.handler === 'second')!;
    expect(first.instance).toBe(second.instance);
    expect(log.constructed.requestScoped).toBe(before.requestScoped + 1);
    expect(log.constructed.context).toBe(before.context + 1);
    expect(log.constructed.implicit).toBe(before.implicit + 1);
    // The injected REQUEST is the webhook request itself.
    for (const call of calls.filter((c) => c.handler !== 'static')) {
      expect(call.requestWebhookId).toBe(s.headers['webhook-id']);
      expect(call.requestWebhookId).toBe(call.webhookId);
      expect(call.requestRawBody).toBe(s.body);
    }
  });

  it('N deliveries construct N instances; static providers stay singletons', async () => {
    const before = { ...log.constructed };
    const events = Array.from({ length: 5 }, () => eventOf('user.login'));
    for (const event of events) {
      expect((await deliver(event)).res.status).toBe(200);
    }
    expect(log.constructed.requestScoped - before.requestScoped).toBe(events.length);
    expect(log.constructed.implicit - before.implicit).toBe(events.length);
    expect(log.constructed.context - before.context).toBe(events.length);
    expect(log.constructed.static).toBe(1);
    const instances = events.map((e) => log.of(e.id).find((c) => c.handler === 'first')!.instance);
    expect(new Set(instances).size).toBe(events.length);
  });

  it('concurrent deliveries each get their own instance and their own request', async () => {
    const events = Array.from({ length: 12 }, () => eventOf('user.login'));
    const results = await Promise.all(events.map((event) => deliver(event)));
    expect(results.every(({ res }) => res.status === 200)).toBe(true);
    const instances = new Set<number>();
    events.forEach((event, i) => {
      const calls = log.of(event.id).filter((c) => c.handler !== 'static');
      expect(calls).toHaveLength(3);
      for (const call of calls) {
        expect(call.requestWebhookId).toBe(results[i]!.signed.headers['webhook-id']);
        expect(call.requestRawBody).toBe(results[i]!.signed.body);
      }
      const [first, second] = ['first', 'second'].map((h) => calls.find((c) => c.handler === h)!.instance);
      expect(first).toBe(second);
      instances.add(first!);
    });
    expect(instances.size).toBe(events.length);
    expect(log.constructed.static).toBe(1);
  });

  it('an event with only static handlers creates no request-scoped instance and no DI context', async () => {
    const before = { ...log.constructed };
    const getByRequest = jest.spyOn(ContextIdFactory, 'getByRequest');
    const create = jest.spyOn(ContextIdFactory, 'create');
    const event = eventOf('organization.created');
    expect((await deliver(event)).res.status).toBe(200);
    expect(log.of(event.id).map((c) => c.handler)).toEqual(['static']);
    expect(log.constructed).toEqual(before);
    expect(getByRequest).not.toHaveBeenCalled();
    expect(create).not.toHaveBeenCalled();
    // Control: the spies do see the resolution of a delivery with request-scoped handlers (one context for all).
    expect((await deliver(eventOf('user.login'))).res.status).toBe(200);
    expect(getByRequest).toHaveBeenCalledTimes(1);
  });

  it('a delivery only for the implicitly scoped provider builds just its subtree', async () => {
    const before = { ...log.constructed };
    const event = eventOf('user.signup');
    const { res, signed: s } = await deliver(event);
    expect(res.status).toBe(200);
    expect(log.of(event.id).map((c) => c.handler)).toEqual(['implicit']);
    expect(log.of(event.id)[0]!.requestWebhookId).toBe(s.headers['webhook-id']);
    expect(log.constructed).toEqual({ ...before, context: before.context + 1, implicit: before.implicit + 1 });
  });

  it('a request-scoped handler that throws answers 500 and is logged by its class and method', async () => {
    const event = eventOf('permission.created');
    const { res } = await deliver(event);
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('handler_failed');
    expect(log.of(event.id).map((c) => c.handler)).toEqual(['failing']);
    const line = t.logger.matching(new RegExp(`RequestScopedHandlers\\.failing failed for event ${event.id}`));
    expect(line).toHaveLength(1);
    expect(line[0]!.level).toBe('error');
  });
});
