import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  type IdempotencyStore,
  InMemoryScalekitQueue,
  ScalekitWebhookModule,
  type ScalekitWebhookModuleOptions,
} from 'nestjs-scalekit-webhooks';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { eventOf, OTHER_SECRET, SECRET, signed } from '../../support/events.js';
import { send } from '../../support/http.js';
import * as api from '@opentelemetry/api';
import type { Server } from 'node:http';
import { installOtel, instrumentHttpServer, type MetricPoint, type OtelHarness } from '../../support/otel.js';
import { Probe, ProbeHandler } from '../../support/probe.js';

// The module's telemetry, wired: real OpenTelemetry SDKs (registered before the app starts), in-memory readers, real
// HTTP on both platforms, inline and queue mode.

const PATH = '/webhooks/scalekit';

let otel: OtelHarness;

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((t) => t.close()));
});

async function start(
  platform: Platform,
  options: Partial<ScalekitWebhookModuleOptions> = {},
  name: string | null = 'production',
): Promise<TestApp> {
  const t = await startApp(platform, {
    imports: [ScalekitWebhookModule.forRoot({ secret: SECRET, ...(name === null ? {} : { name }), ...options })],
    providers: [Probe, ProbeHandler],
  });
  apps.push(t);
  return t;
}

function deliver(t: TestApp, event: unknown, options: Parameters<typeof signed>[1] = {}) {
  const s = signed(event, options);
  return send(`${t.url}${PATH}`, { body: s.rawBody, headers: s.headers });
}

/** The points of a metric recorded for one event type (each test uses its own). */
async function pointsFor(name: string, eventType: string): Promise<MetricPoint[]> {
  return (await otel.points(name)).filter((point) => point.attributes['scalekit.event.type'] === eventType);
}

function spanOf(name: string, eventId: string): ReadableSpan {
  const found = otel
    .spans()
    .filter((span) => span.name === name && (span.attributes['scalekit.event.id'] ?? eventId) === eventId);
  expect(found.length).toBeGreaterThanOrEqual(1);
  return found[found.length - 1]!;
}

async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met within 5 s');
}

describe.each(PLATFORMS)('telemetry (%s)', (platform) => {
  // Fresh SDKs per platform, registered before its apps start: counters start from zero.
  beforeAll(() => {
    otel = installOtel();
  });
  afterAll(() => otel.uninstall());

  it('inline: counts processed, duplicate and rejected deliveries; the handler span is a child of the delivery span', async () => {
    const t = await start(platform);
    const type = 'organization.created';
    const event = eventOf(type);
    expect((await deliver(t, event)).status).toBe(200);
    expect((await deliver(t, event)).status).toBe(200); // a retry: duplicate
    expect((await deliver(t, eventOf(type), { secret: OTHER_SECRET })).status).toBe(401);

    const deliveries = await otel.points('scalekit.webhook.deliveries');
    expect(deliveries).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'processed',
        'http.response.status_code': 200,
        'scalekit.event.type': type,
        'scalekit.endpoint': 'production',
      },
    });
    expect(deliveries).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'duplicate',
        'http.response.status_code': 200,
        'scalekit.event.type': type,
        'scalekit.endpoint': 'production',
      },
    });
    expect(deliveries).toContainEqual(
      expect.objectContaining({
        attributes: {
          'scalekit.webhook.outcome': 'rejected',
          'http.response.status_code': 401,
          'scalekit.endpoint': 'production',
        },
      }),
    );
    const durations = await pointsFor('scalekit.webhook.duration', type);
    expect(durations.length).toBeGreaterThanOrEqual(2);
    const handlerDurations = await pointsFor('scalekit.webhook.handler.duration', type);
    expect(handlerDurations.map((point) => point.attributes)).toContainEqual({
      'scalekit.handler': 'ProbeHandler.handle',
      'scalekit.event.type': type,
      'scalekit.handler.outcome': 'success',
    });

    const deliverySpans = otel
      .spans()
      .filter((span) => span.name === 'scalekit.webhook.delivery' && span.attributes['scalekit.event.id'] === event.id);
    expect(deliverySpans.map((span) => span.attributes['scalekit.webhook.outcome']).sort()).toEqual([
      'duplicate',
      'processed',
    ]);
    const delivery = deliverySpans.find((span) => span.attributes['scalekit.webhook.outcome'] === 'processed')!;
    const handler = otel
      .spans()
      .find(
        (span) =>
          span.name === 'scalekit.handler ProbeHandler.handle' &&
          span.parentSpanContext?.spanId === delivery.spanContext().spanId,
      );
    expect(handler).toBeDefined();
    expect(handler!.spanContext().traceId).toBe(delivery.spanContext().traceId);
  });

  it('inline: in_flight, failed, unavailable and unknown types; spans under the HTTP server span, errors recorded, nothing for refused deliveries', async () => {
    const t = await start(platform);
    instrumentHttpServer(t.app.getHttpServer() as Server);
    otel.resetSpans();
    const probe = t.app.get(Probe);

    // A copy arriving while the first one runs: in_flight.
    const held = eventOf('user.signup');
    const release = probe.hold(held.id as string);
    const first = deliver(t, held);
    await probe.whenStarted(held.id as string);
    expect((await deliver(t, held)).status).toBe(409);
    release();
    expect((await first).status).toBe(200);

    // A handler that throws: failed, with the exception on the handler span and an error delivery span.
    const failing = eventOf('user.organization_membership_created');
    probe.failOnce.add(failing.id as string);
    expect((await deliver(t, failing)).status).toBe(500);

    // A type outside the catalogue is counted as `other`, never as itself.
    const unknown = eventOf('organization.created', { type: 'vendor.future_event' });
    expect((await deliver(t, unknown)).status).toBe(200);

    // A forged delivery: counted as rejected, but no span and no event attribute from its unverified body.
    const forged = eventOf('user.signup');
    expect((await deliver(t, forged, { secret: OTHER_SECRET })).status).toBe(401);

    const deliveries = await otel.points('scalekit.webhook.deliveries');
    expect(deliveries).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'in_flight',
        'http.response.status_code': 409,
        'scalekit.event.type': 'user.signup',
        'scalekit.endpoint': 'production',
      },
    });
    expect(deliveries).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'failed',
        'http.response.status_code': 500,
        'scalekit.event.type': 'user.organization_membership_created',
        'scalekit.endpoint': 'production',
      },
    });
    expect(deliveries).toContainEqual(
      expect.objectContaining({
        attributes: {
          'scalekit.webhook.outcome': 'processed',
          'http.response.status_code': 200,
          'scalekit.event.type': 'other',
          'scalekit.endpoint': 'production',
        },
      }),
    );
    const values = deliveries.flatMap((point) => Object.values(point.attributes));
    expect(values).not.toContain('vendor.future_event');
    expect(await pointsFor('scalekit.webhook.handler.duration', 'user.organization_membership_created')).toContainEqual(
      expect.objectContaining({
        attributes: {
          'scalekit.handler': 'ProbeHandler.handle',
          'scalekit.event.type': 'user.organization_membership_created',
          'scalekit.handler.outcome': 'error',
        },
      }),
    );

    const spans = otel.spans();
    const delivery = spanOf('scalekit.webhook.delivery', held.id as string);
    expect(delivery.attributes).toMatchObject({
      'scalekit.event.id': held.id,
      'scalekit.event.type': 'user.signup',
      'scalekit.webhook.id': expect.any(String),
    });
    const http = spans.find((span) => span.spanContext().spanId === delivery.parentSpanContext?.spanId);
    expect(http?.kind).toBe(api.SpanKind.SERVER);
    expect(http?.spanContext().traceId).toBe(delivery.spanContext().traceId);

    const failedDelivery = spanOf('scalekit.webhook.delivery', failing.id as string);
    expect(failedDelivery.status.code).toBe(api.SpanStatusCode.ERROR);
    const failedHandler = spans.find(
      (span) =>
        span.name === 'scalekit.handler ProbeHandler.handle' &&
        span.parentSpanContext?.spanId === failedDelivery.spanContext().spanId,
    );
    expect(failedHandler?.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(failedHandler?.events).toContainEqual(
      expect.objectContaining({
        name: 'exception',
        attributes: expect.objectContaining({ 'exception.message': `probe was told to fail ${failing.id} once` }),
      }),
    );
    expect(spanOf('scalekit.webhook.delivery', unknown.id as string).attributes['scalekit.event.type']).toBe('other');
    expect(spans.filter((span) => span.attributes['scalekit.event.id'] === forged.id)).toEqual([]);
    expect(spans.filter((span) => span.name === 'scalekit.webhook.delivery')).toHaveLength(4); // not the forged one
  });

  it('counts a delivery refused because the idempotency store is down as unavailable; no endpoint attribute when unnamed', async () => {
    const down: IdempotencyStore = {
      claim: () => Promise.reject(new Error('connect ECONNREFUSED')),
      complete: () => Promise.reject(new Error('connect ECONNREFUSED')),
      release: () => Promise.reject(new Error('connect ECONNREFUSED')),
    };
    const t = await start(platform, { idempotency: { store: down } }, null);
    const event = eventOf('organization.directory_enabled');
    expect((await deliver(t, event)).status).toBe(503);
    expect(await otel.points('scalekit.webhook.deliveries')).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'unavailable',
        'http.response.status_code': 503,
        'scalekit.event.type': 'organization.directory_enabled',
      },
    });
    expect(spanOf('scalekit.webhook.delivery', event.id as string).status.code).toBe(api.SpanStatusCode.ERROR);
  });

  it('queue mode: counts the queued delivery; the job span continues its trace and parents the handler span; dead letters are counted', async () => {
    const queue = new InMemoryScalekitQueue({ attempts: 1 });
    const t = await start(platform, { processing: { mode: 'queue', queue } });
    const type = 'organization.updated';
    const event = eventOf(type);
    expect((await deliver(t, event)).status).toBe(202);
    const probe = t.app.get(Probe);
    await eventually(() => probe.completedCount(event.id as string) === 1);

    expect(await otel.points('scalekit.webhook.deliveries')).toContainEqual({
      value: 1,
      attributes: {
        'scalekit.webhook.outcome': 'queued',
        'http.response.status_code': 202,
        'scalekit.event.type': type,
        'scalekit.endpoint': 'production',
      },
    });
    let job: ReadableSpan | undefined;
    await eventually(() => {
      job = otel
        .spans()
        .find((span) => span.name === 'scalekit.webhook.job' && span.attributes['scalekit.event.id'] === event.id);
      return job !== undefined;
    });
    const delivery = spanOf('scalekit.webhook.delivery', event.id as string);
    expect(job!.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
    expect(job!.spanContext().traceId).toBe(delivery.spanContext().traceId);
    const handler = otel
      .spans()
      .find(
        (span) =>
          span.name === 'scalekit.handler ProbeHandler.handle' &&
          span.parentSpanContext?.spanId === job!.spanContext().spanId,
      );
    expect(handler).toBeDefined();
    // Handlers run in the worker are timed like inline ones.
    expect(
      (await pointsFor('scalekit.webhook.handler.duration', type)).map((point) => point.attributes),
    ).toContainEqual({
      'scalekit.handler': 'ProbeHandler.handle',
      'scalekit.event.type': type,
      'scalekit.handler.outcome': 'success',
    });

    const failing = eventOf('organization.deleted');
    probe.failOnce.add(failing.id as string);
    expect((await deliver(t, failing)).status).toBe(202);
    await eventually(async () => (await pointsFor('scalekit.webhook.dead_letters', 'organization.deleted')).length > 0);
    expect(await pointsFor('scalekit.webhook.dead_letters', 'organization.deleted')).toEqual([
      { value: 1, attributes: { 'scalekit.event.type': 'organization.deleted' } },
    ]);
    // The failed attempt's job span carries the error and the exception.
    let failedJob: ReadableSpan | undefined;
    await eventually(() => {
      failedJob = otel
        .spans()
        .find((span) => span.name === 'scalekit.webhook.job' && span.attributes['scalekit.event.id'] === failing.id);
      return failedJob !== undefined;
    });
    expect(failedJob!.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(failedJob!.events.map((event) => event.name)).toContain('exception');
  });
});
