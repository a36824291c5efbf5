import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import * as api from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import ts from 'typescript';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  OnScalekitInterceptor,
  ScalekitInterceptorDecision,
  ScalekitInterceptorModule,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { buildScalekitInterceptorRequest, sendScalekitInterceptor } from 'nestjs-scalekit-webhooks/testing';
import { PLATFORMS, startApp, type TestApp } from '../../support/app.js';
import { eventOf, SECRET, signed } from '../../support/events.js';
import { send } from '../../support/http.js';

// The README's OpenTelemetry setup, run exactly as written there (read from README.md, transpiled as a user's build
// would), then a Nest app per platform with both modules, real signed calls, and a real scrape of /metrics over HTTP.

const README_SETUP = /```ts\n(\/\/ instrumentation\.ts[\s\S]*?)```/;
const INTERCEPTOR_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

@Injectable()
class Handlers {
  @OnScalekitEvent('organization.created')
  onCreated(_event: AnyScalekitEvent): void {}

  @OnScalekitInterceptor('PRE_SIGNUP')
  preSignup() {
    return ScalekitInterceptorDecision.allow();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('the README observability setup', () => {
  let sdk: { shutdown(): Promise<void> };
  let port: number;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    const source = README_SETUP.exec(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8'))?.[1];
    expect(source).toBeDefined();
    const js = ts.transpileModule(source!, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    port = await freePort();
    process.env.METRICS_PORT = String(port);
    process.env.OTEL_TRACES_EXPORTER = 'none'; // no collector here: the test reads metrics only
    const module = { exports: {} as { sdk?: typeof sdk } };
    new Function('require', 'module', 'exports', js)(createRequire(import.meta.url), module, module.exports);
    sdk = module.exports.sdk!;
    expect(typeof sdk.shutdown).toBe('function');

    // Apps start after the SDK, as in main.ts.
    for (const platform of PLATFORMS) {
      apps.push(
        await startApp(platform, {
          imports: [
            ScalekitWebhookModule.forRoot({ secret: SECRET, name: 'production' }),
            ScalekitInterceptorModule.forRoot({ secret: INTERCEPTOR_SECRET }),
          ],
          providers: [Handlers],
        }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await sdk?.shutdown();
    api.metrics.disable();
    api.trace.disable();
    api.context.disable();
    delete process.env.METRICS_PORT;
    delete process.env.OTEL_TRACES_EXPORTER;
  });

  it('serves every metric of the README table on /metrics, under the Prometheus names it lists', async () => {
    for (const t of apps) {
      const delivery = signed(eventOf('organization.created'));
      expect(
        (await send(`${t.url}/webhooks/scalekit`, { body: delivery.rawBody, headers: delivery.headers })).status,
      ).toBe(200);
      const call = await sendScalekitInterceptor(t.url, buildScalekitInterceptorRequest('PRE_SIGNUP'), {
        secret: INTERCEPTOR_SECRET,
      });
      expect(call.decision).toBe('ALLOW');
    }

    const response = await fetch(`http://localhost:${port}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const line = (pattern: RegExp) => text.split('\n').find((candidate) => pattern.test(candidate));

    expect(
      line(
        /^scalekit_webhook_deliveries_total\{.*scalekit_webhook_outcome="processed".*scalekit_event_type="organization\.created".*\} 2\b/,
      ),
    ).toBeDefined();
    expect(line(/^scalekit_webhook_deliveries_total\{.*scalekit_endpoint="production"/)).toBeDefined();
    expect(line(/^scalekit_webhook_duration_count\{.*\} 2\b/)).toBeDefined();
    expect(line(/^scalekit_webhook_duration_bucket\{/)).toBeDefined();
    expect(line(/^scalekit_webhook_duration_sum\{/)).toBeDefined();
    expect(
      line(/^scalekit_webhook_handler_duration_count\{.*scalekit_handler="Handlers\.onCreated".*\} 2\b/),
    ).toBeDefined();
    const decisions = line(/^scalekit_interceptor_decisions_total\{.*\} 2\b/);
    expect(decisions).toContain('scalekit_interceptor_trigger="PRE_SIGNUP"');
    expect(decisions).toContain('scalekit_interceptor_decision="ALLOW"');
    expect(decisions).toContain('scalekit_interceptor_outcome="handled"');
    expect(line(/^scalekit_interceptor_duration_count\{.*\} 2\b/)).toBeDefined();
    // Exported with their unit as metadata, not as a name suffix.
    expect(text).toMatch(/^# UNIT scalekit_webhook_duration s$/m);
    // No payload value reaches the exporter (the delivery's event id is not a label).
    expect(text).not.toMatch(/evt_test/);
  });
});
