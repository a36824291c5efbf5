import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/** A metric reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface MetricPoint {
  value: unknown;
  attributes: Record<string, unknown>;
}

/** The real OpenTelemetry SDKs (metrics and traces) registered globally, with in-memory readers. */
export interface OtelHarness {
  /** Data points of one metric, by name, as collected now (cumulative since start). */
  points(name: string): Promise<MetricPoint[]>;
  /** Names of every metric with at least one data point. */
  metricNames(): Promise<string[]>;
  spans(): ReadableSpan[];
  /** Forgets the spans exported so far. */
  resetSpans(): void;
  /** Unregisters the SDKs. */
  uninstall(): Promise<void>;
}

export function installOtel(): OtelHarness {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.metrics.setGlobalMeterProvider(meterProvider);
  api.trace.setGlobalTracerProvider(tracerProvider);

  const collect = async () => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  return {
    points: async (name) =>
      (await collect())
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) =>
          (metric.dataPoints as Array<DataPoint<unknown>>).map((point) => ({
            value: point.value,
            attributes: { ...point.attributes },
          })),
        ),
    metricNames: async () =>
      (await collect()).filter((metric) => metric.dataPoints.length > 0).map((metric) => metric.descriptor.name),
    spans: () => exporter.getFinishedSpans(),
    resetSpans: () => exporter.reset(),
    uninstall: async () => {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      api.metrics.disable();
      api.trace.disable();
      api.context.disable();
    },
  };
}

/**
 * Makes every request of `server` run inside an active SERVER span, as HTTP instrumentation does: the span starts
 * when the request arrives and ends when the response is finished. Works for Express and Fastify alike, since both
 * answer through the Node server's `request` listeners.
 */
export function instrumentHttpServer(server: import('node:http').Server): void {
  const tracer = api.trace.getTracer('test-http-server');
  for (const listener of server.listeners('request') as Array<(...args: unknown[]) => void>) {
    server.off('request', listener);
    server.on(
      'request',
      (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => {
        const span = tracer.startSpan(`HTTP ${request.method}`, { kind: api.SpanKind.SERVER });
        response.once('finish', () => span.end());
        api.context.with(api.trace.setSpan(api.context.active(), span), () => listener(request, response));
      },
    );
  }
}
