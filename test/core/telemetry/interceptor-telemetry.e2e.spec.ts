import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import * as api from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import {
  type AnyScalekitInterceptorRequest,
  type AnyScalekitInterceptorResponse,
  OnScalekitInterceptor,
  ScalekitInterceptorDecision,
  ScalekitInterceptorModule,
  type ScalekitInterceptorModuleOptions,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorResponse,
} from 'nestjs-scalekit-webhooks';
import { buildScalekitInterceptorRequest, sendScalekitInterceptor } from 'nestjs-scalekit-webhooks/testing';
import { type Platform, PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { installOtel, instrumentHttpServer, type OtelHarness } from '../../support/otel.js';

// Interceptor telemetry, wired: real OpenTelemetry SDKs registered before the app starts, real HTTP on both
// platforms, one call per outcome. Every counter value is exact: each platform gets fresh SDKs.

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;
const SECRET = secret();
const PATH = 'scalekit/interceptors';
const TIMEOUT_MS = 300;

const signup = (email: string) =>
  buildScalekitInterceptorRequest('PRE_SIGNUP', { interceptor_context: { user_email: email } });

@Injectable()
class Policy {
  @OnScalekitInterceptor('PRE_SIGNUP')
  async preSignup(
    request: ScalekitInterceptorRequest<'PRE_SIGNUP'>,
  ): Promise<ScalekitInterceptorResponse<'PRE_SIGNUP'>> {
    const email = request.interceptor_context.user_email ?? '';
    // Work the handler traces itself: its span must be a child of the interceptor span.
    api.trace.getTracer('test-app').startSpan('policy.lookup').end();
    switch (email.split('@')[0]) {
      case 'deny':
        return ScalekitInterceptorDecision.deny('Closed', 'CLOSED');
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
        return ScalekitInterceptorDecision.allow();
      case 'throw':
        throw new Error('policy store down');
      case 'invalid':
        return { decision: 'MAYBE' } as never;
      default:
        return ScalekitInterceptorDecision.allow();
    }
  }

  @OnScalekitInterceptor('*')
  any(_request: AnyScalekitInterceptorRequest): AnyScalekitInterceptorResponse {
    return ScalekitInterceptorDecision.allow();
  }
}

describe.each(PLATFORMS)('interceptor telemetry (%s)', (platform: Platform) => {
  let otel: OtelHarness;
  let t: TestApp;
  let deny: TestApp;
  const call = (target: TestApp, request: object, key = SECRET) =>
    sendScalekitInterceptor(target.url, request, { secret: key, path: PATH });
  const start = async (options: Partial<ScalekitInterceptorModuleOptions> = {}) => {
    const app = await startApp(platform, {
      imports: [ScalekitInterceptorModule.forRoot({ secret: SECRET, timeoutMs: TIMEOUT_MS, ...options })],
      providers: [Policy],
    });
    instrumentHttpServer(app.app.getHttpServer() as Server);
    return app;
  };

  beforeAll(async () => {
    otel = installOtel(); // before the apps start: the module checks for an SDK once, at bootstrap
    t = await start();
    deny = await start({ onError: 'deny', onVerificationFailure: 'deny' });
  });
  afterAll(async () => {
    await t?.close();
    await deny?.close();
    await otel.uninstall();
  });

  const decisions = async () =>
    (await otel.points('scalekit.interceptor.decisions')).map((point) => ({ ...point.attributes, count: point.value }));

  it('counts each outcome with its trigger and the decision sent', async () => {
    expect((await call(t, signup('ada@example.com'))).decision).toBe('ALLOW');
    expect((await call(t, signup('deny@example.com'))).decision).toBe('DENY');
    expect((await call(t, signup('slow@example.com'))).status).toBe(503);
    expect((await call(t, signup('throw@example.com'))).status).toBe(503);
    expect((await call(t, signup('invalid@example.com'))).status).toBe(503);
    expect((await call(t, signup('ada@example.com'), secret())).status).toBe(401);
    expect((await call(t, buildScalekitInterceptorRequest('POST_SOMETHING_NEW'))).decision).toBe('ALLOW');
    // Under onError/onVerificationFailure 'deny', failures still carry their outcome, with the DENY actually sent.
    expect((await call(deny, signup('throw@example.com'))).decision).toBe('DENY');
    expect((await call(deny, signup('ada@example.com'), secret())).decision).toBe('DENY');

    const points = await decisions();
    const trigger = 'PRE_SIGNUP';
    const expected = [
      {
        'scalekit.interceptor.trigger': trigger,
        'scalekit.interceptor.decision': 'ALLOW',
        'scalekit.interceptor.outcome': 'handled',
        count: 1,
      },
      {
        'scalekit.interceptor.trigger': trigger,
        'scalekit.interceptor.decision': 'DENY',
        'scalekit.interceptor.outcome': 'handled',
        count: 1,
      },
      {
        'scalekit.interceptor.trigger': trigger,
        'scalekit.interceptor.decision': 'none',
        'scalekit.interceptor.outcome': 'timeout',
        count: 1,
      },
      {
        'scalekit.interceptor.trigger': trigger,
        'scalekit.interceptor.decision': 'none',
        'scalekit.interceptor.outcome': 'invalid',
        count: 1,
      },
      // Refused before verification: no trigger, since it would come from unverified input.
      { 'scalekit.interceptor.decision': 'none', 'scalekit.interceptor.outcome': 'rejected', count: 1 },
      { 'scalekit.interceptor.decision': 'DENY', 'scalekit.interceptor.outcome': 'rejected', count: 1 },
      // An undocumented trigger is bounded to `other`.
      {
        'scalekit.interceptor.trigger': 'other',
        'scalekit.interceptor.decision': 'ALLOW',
        'scalekit.interceptor.outcome': 'handled',
        count: 1,
      },
      {
        'scalekit.interceptor.trigger': trigger,
        'scalekit.interceptor.decision': 'none',
        'scalekit.interceptor.outcome': 'error',
        count: 1,
      },
      {
        'scalekit.interceptor.trigger': trigger,
        'scalekit.interceptor.decision': 'DENY',
        'scalekit.interceptor.outcome': 'error',
        count: 1,
      },
    ];
    expect(points).toEqual(expect.arrayContaining(expected));
    expect(points).toHaveLength(expected.length);
    expect(points.flatMap((point) => Object.values(point))).not.toContain('POST_SOMETHING_NEW');

    const durations = await otel.points('scalekit.interceptor.duration');
    expect(durations.map((point) => point.attributes)).toEqual(
      expect.arrayContaining(expected.map(({ count: _count, ...attributes }) => attributes)),
    );
    const timeout = durations.find((point) => point.attributes['scalekit.interceptor.outcome'] === 'timeout')!;
    expect((timeout.value as { sum: number }).sum).toBeGreaterThanOrEqual((TIMEOUT_MS - 50) / 1000);
  });

  it('traces each verified call in a span under the HTTP server span, with the handler’s own spans below it', async () => {
    otel.resetSpans();
    const allowed = await call(t, signup('ada@example.com'));
    const thrown = await call(t, signup('throw@example.com'));
    expect((await call(t, signup('ada@example.com'), secret())).status).toBe(401);

    const spans = otel.spans();
    const byId = (id: string): ReadableSpan => {
      const found = spans.filter(
        (span) => span.name === 'scalekit.interceptor' && span.attributes['scalekit.interceptor.id'] === id,
      );
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    const ok = byId(allowed.sent.headers['interceptor-id']!);
    expect(ok.attributes).toMatchObject({
      'scalekit.interceptor.trigger': 'PRE_SIGNUP',
      'scalekit.interceptor.decision': 'ALLOW',
      'scalekit.interceptor.outcome': 'handled',
      'http.response.status_code': 200,
    });
    expect(ok.status.code).toBe(api.SpanStatusCode.UNSET);
    const http = spans.find((span) => span.spanContext().spanId === ok.parentSpanContext?.spanId);
    expect(http?.kind).toBe(api.SpanKind.SERVER);
    expect(http?.spanContext().traceId).toBe(ok.spanContext().traceId);
    const inner = spans.filter(
      (span) => span.name === 'policy.lookup' && span.parentSpanContext?.spanId === ok.spanContext().spanId,
    );
    expect(inner).toHaveLength(1);

    const failed = byId(thrown.sent.headers['interceptor-id']!);
    expect(failed.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(failed.events.map((event) => event.name)).toContain('exception');
    expect(failed.attributes['scalekit.interceptor.outcome']).toBe('error');

    // The refused call: only the HTTP span, no interceptor span.
    expect(spans.filter((span) => span.name === 'scalekit.interceptor')).toHaveLength(2);
    // Nothing of the payload became an attribute.
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('example.com');
  });
});
