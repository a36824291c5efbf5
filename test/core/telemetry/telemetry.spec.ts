import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as api from '@opentelemetry/api';
import {
  boundedEventType,
  boundedInterceptorTrigger,
  createScalekitTelemetry,
  NOOP_SCALEKIT_TELEMETRY,
  SCALEKIT_TELEMETRY_NAME,
  type ScalekitTelemetry,
} from '../../../lib/core/telemetry/scalekit-telemetry.js';
import { installOtel, type OtelHarness } from '../../support/otel.js';

// The telemetry core against the real OpenTelemetry SDKs and in-memory readers.

describe('without an SDK', () => {
  it('is the no-op telemetry: nothing is built per delivery', () => {
    const telemetry = createScalekitTelemetry(api);
    expect(telemetry).toBe(NOOP_SCALEKIT_TELEMETRY);
    expect(telemetry.enabled).toBe(false);
    expect(telemetry.delivery('x')).toBe(telemetry.delivery()); // one shared object
    expect(telemetry.handler('A.b', 'user.login', () => 42)).toBe(42);
    expect(telemetry.interceptor()).toBe(telemetry.interceptor()); // interceptor calls too
    expect(telemetry.interceptor().within(() => 7)).toBe(7);
  });
});

describe('with the SDKs registered', () => {
  let otel: OtelHarness;
  let telemetry: ScalekitTelemetry;

  beforeAll(() => {
    otel = installOtel();
    telemetry = createScalekitTelemetry(api);
  });
  afterAll(() => otel.uninstall());

  it('bounds the event type: catalogue types as themselves, anything else as "other"', () => {
    expect(boundedEventType('user.login')).toBe('user.login');
    expect(boundedEventType('user.brand_new_type')).toBe('other');
    expect(boundedEventType(undefined)).toBe('other');
  });

  it('bounds the interceptor trigger: the four documented triggers as themselves, anything else as "other"', () => {
    for (const trigger of ['PRE_SIGNUP', 'PRE_SESSION_CREATION', 'PRE_USER_INVITATION', 'PRE_M2M_TOKEN_CREATION']) {
      expect(boundedInterceptorTrigger(trigger)).toBe(trigger);
    }
    expect(boundedInterceptorTrigger('POST_USER_AUTHENTICATION')).toBe('other');
    expect(boundedInterceptorTrigger('pre_signup')).toBe('other');
    expect(boundedInterceptorTrigger(undefined)).toBe('other');
  });

  it('an interceptor call: counted and timed once with trigger, decision and outcome; a span only once verified', async () => {
    const refused = telemetry.interceptor();
    refused.finish('rejected', 'none', 401);
    const call = telemetry.interceptor();
    call.verified('PRE_USER_INVITATION', 'icp_unit_1');
    const inner = call.within(() => api.trace.getActiveSpan());
    call.finish('timeout', 'DENY', 200, new Error('late'));
    call.finish('handled', 'ALLOW', 200); // ignored: only the first answer counts

    const points = await otel.points('scalekit.interceptor.decisions');
    expect(points).toContainEqual({
      value: 1,
      attributes: { 'scalekit.interceptor.decision': 'none', 'scalekit.interceptor.outcome': 'rejected' },
    });
    expect(points).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.interceptor.trigger': 'PRE_USER_INVITATION',
        'scalekit.interceptor.decision': 'DENY',
        'scalekit.interceptor.outcome': 'timeout',
      },
    });
    expect(points.filter((point) => point.attributes['scalekit.interceptor.outcome'] === 'handled')).toEqual([]);
    expect(await otel.points('scalekit.interceptor.duration')).toHaveLength(2);
    const spans = otel.spans().filter((span) => span.name === 'scalekit.interceptor');
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes).toMatchObject({
      'scalekit.interceptor.trigger': 'PRE_USER_INVITATION',
      'scalekit.interceptor.id': 'icp_unit_1',
    });
    expect(spans[0]!.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(inner?.spanContext().spanId).toBe(spans[0]!.spanContext().spanId);
  });

  it('counts and times a processed delivery; its span is a child of the active span and parents the handler span', async () => {
    otel.resetSpans();
    const tracer = api.trace.getTracer('http-server');
    await tracer.startActiveSpan('POST /webhooks/scalekit', async (server) => {
      const delivery = telemetry.delivery('production');
      delivery.verified({ eventId: 'evt_1', eventType: 'user.login', webhookId: 'msg_1' });
      await delivery.within(() =>
        telemetry.handler('Users.onLogin', 'user.login', async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }),
      );
      delivery.finish('processed', 200);
      delivery.finish('failed', 500); // only the first answer counts
      server.end();
    });
    const points = await otel.points('scalekit.webhook.deliveries');
    expect(points).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'processed',
        'http.response.status_code': 200,
        'scalekit.event.type': 'user.login',
        'scalekit.endpoint': 'production',
      },
    });
    const durations = await otel.points('scalekit.webhook.duration');
    expect(durations).toHaveLength(1);
    expect((durations[0]!.value as { count: number; sum: number }).count).toBe(1);
    const handler = await otel.points('scalekit.webhook.handler.duration');
    expect(handler).toHaveLength(1);
    expect(handler[0]!.attributes).toEqual({
      'scalekit.handler': 'Users.onLogin',
      'scalekit.event.type': 'user.login',
      'scalekit.handler.outcome': 'success',
    });
    expect((handler[0]!.value as { sum: number }).sum).toBeGreaterThanOrEqual(0.004);

    const spans = otel.spans();
    const server = spans.find((s) => s.name === 'POST /webhooks/scalekit')!;
    const delivery = spans.find((s) => s.name === 'scalekit.webhook.delivery')!;
    const handlerSpan = spans.find((s) => s.name === 'scalekit.handler Users.onLogin')!;
    expect(delivery.instrumentationScope.name).toBe(SCALEKIT_TELEMETRY_NAME);
    expect(delivery.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(handlerSpan.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
    expect(delivery.attributes).toMatchObject({
      'scalekit.event.id': 'evt_1',
      'scalekit.event.type': 'user.login',
      'scalekit.webhook.id': 'msg_1',
      'scalekit.webhook.outcome': 'processed',
      'http.response.status_code': 200,
    });
  });

  it('a refused delivery is counted without event attributes and gets no span', async () => {
    otel.resetSpans();
    const delivery = telemetry.delivery();
    delivery.finish('rejected', 401);
    expect(await otel.points('scalekit.webhook.deliveries')).toContainEqual({
      value: 1,
      attributes: { 'scalekit.webhook.outcome': 'rejected', 'http.response.status_code': 401 },
    });
    expect(otel.spans()).toEqual([]);
  });

  it('a failing handler: error outcome, error status and the exception recorded; sync throws too', async () => {
    otel.resetSpans();
    await expect(
      telemetry.handler('Users.onSignup', 'user.signup', async () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow('boom');
    expect(() =>
      telemetry.handler('Users.sync', 'user.brand_new', () => {
        throw new Error('sync boom');
      }),
    ).toThrow('sync boom');
    const handler = await otel.points('scalekit.webhook.handler.duration');
    expect(handler.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([
        {
          'scalekit.handler': 'Users.onSignup',
          'scalekit.event.type': 'user.signup',
          'scalekit.handler.outcome': 'error',
        },
        { 'scalekit.handler': 'Users.sync', 'scalekit.event.type': 'other', 'scalekit.handler.outcome': 'error' },
      ]),
    );
    const span = otel.spans().find((s) => s.name === 'scalekit.handler Users.onSignup')!;
    expect(span.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(span.events.map((e) => e.name)).toContain('exception');
    expect(span.events[0]!.attributes?.['exception.type']).toBe('TypeError');
  });

  it('a queued job continues the trace of the delivery that enqueued it', async () => {
    otel.resetSpans();
    const delivery = telemetry.delivery();
    delivery.verified({ eventId: 'evt_q', eventType: 'organization.created', webhookId: 'msg_q' });
    const carrier = delivery.carrier();
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    delivery.finish('queued', 202);
    await telemetry.job({ eventId: 'evt_q', eventType: 'organization.created', webhookId: 'msg_q' }, carrier, () =>
      Promise.resolve(telemetry.handler('Orgs.created', 'organization.created', () => undefined)),
    );
    const spans = otel.spans();
    const deliverySpan = spans.find((s) => s.name === 'scalekit.webhook.delivery')!;
    const job = spans.find((s) => s.name === 'scalekit.webhook.job')!;
    const handler = spans.find((s) => s.name === 'scalekit.handler Orgs.created')!;
    expect(job.spanContext().traceId).toBe(deliverySpan.spanContext().traceId);
    expect(job.parentSpanContext?.spanId).toBe(deliverySpan.spanContext().spanId);
    expect(handler.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    // A job without (or with a garbled) carrier starts a trace of its own.
    await telemetry.job({ webhookId: 'msg_r' }, { traceparent: 'garbage' }, () => Promise.resolve());
    expect(otel.spans().at(-1)!.parentSpanContext).toBeUndefined();
  });

  it('counts dead letters by bounded type', async () => {
    telemetry.deadLetter('user.login');
    telemetry.deadLetter('not.in.catalogue');
    const points = await otel.points('scalekit.webhook.dead_letters');
    expect(points).toEqual(
      expect.arrayContaining([
        { value: 1, attributes: { 'scalekit.event.type': 'user.login' } },
        { value: 1, attributes: { 'scalekit.event.type': 'other' } },
      ]),
    );
  });
});
