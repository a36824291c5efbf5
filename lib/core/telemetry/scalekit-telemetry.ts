import type * as Otel from '@opentelemetry/api';
import { isKnownScalekitEventType } from '../catalogue.js';
import { isKnownScalekitInterceptorTrigger } from '../interceptors/interceptor-types.js';

/** The meter and tracer name. Dashboards and alerts select on it: never change it. */
export const SCALEKIT_TELEMETRY_NAME = 'nestjs-scalekit-webhooks';

/** How a delivery was answered, as the `scalekit.webhook.outcome` attribute says it. */
export type ScalekitDeliveryOutcome =
  'processed' | 'duplicate' | 'queued' | 'in_flight' | 'rejected' | 'failed' | 'unavailable';

/** What a verified delivery is known by. Nothing else of the payload ever becomes an attribute. */
export interface ScalekitDeliveryIds {
  eventId?: string;
  eventType?: string;
  webhookId: string;
}

/** The trace context a queued job carries from the span that enqueued it to the worker's span (W3C `traceparent`). */
export interface ScalekitTraceCarrier {
  traceparent?: string;
}

/** One delivery, from the request to the answer. */
export interface ScalekitDeliveryTelemetry {
  /** The delivery passed verification: starts its span (a child of the active HTTP server span, if any). */
  verified(ids: ScalekitDeliveryIds): void;
  /** Runs `fn` with the delivery's span active, so that handler spans and enqueues become its children. */
  within<T>(fn: () => T): T;
  /** The trace context to store with a queued job, if tracing is on. */
  carrier(): ScalekitTraceCarrier | undefined;
  /** Records the answer: counter, duration histogram, span end. Only the first call counts. */
  finish(outcome: ScalekitDeliveryOutcome, status: number, error?: unknown): void;
}

/**
 * How an interceptor call ended, as the `scalekit.interceptor.outcome` attribute says it: `handled` (the handler's
 * answer was sent), `timeout` (no answer within `timeoutMs`), `error` (the handler threw, or no handler exists),
 * `invalid` (the handler's answer failed its check), `rejected` (refused before any handler: verification, size,
 * media type, request shape).
 */
export type ScalekitInterceptorOutcome = 'handled' | 'timeout' | 'error' | 'invalid' | 'rejected';

/** The decision sent to Scalekit, as `scalekit.interceptor.decision` says it: `none` when the answer was a failure. */
export type ScalekitInterceptorDecisionValue = 'ALLOW' | 'DENY' | 'none';

/** One interceptor call, from the request to the answer. */
export interface ScalekitInterceptorTelemetry {
  /** The call passed verification and names its trigger: starts its span (a child of the active HTTP span). */
  verified(trigger: string, interceptorId: string): void;
  /** Runs `fn` with the call's span active, so that spans the handler starts become its children. */
  within<T>(fn: () => T): T;
  /** Records the answer: counter, duration histogram, span end. Only the first call counts. */
  finish(
    outcome: ScalekitInterceptorOutcome,
    decision: ScalekitInterceptorDecisionValue,
    status: number,
    error?: unknown,
  ): void;
}

/** Metrics and traces of the module, through `@opentelemetry/api` when an SDK is registered; otherwise no-ops. */
export interface ScalekitTelemetry {
  /** `false` when `@opentelemetry/api` is absent or no SDK was registered when the app started. */
  readonly enabled: boolean;
  /** Starts timing a delivery, now. `endpoint` is the registration's `name`, when it has one. */
  delivery(endpoint?: string): ScalekitDeliveryTelemetry;
  /**
   * Runs one handler call in its own span (`scalekit.handler` = `Class.method`) and records its duration with its
   * outcome; the promise it returns settles as `run`'s does.
   */
  handler<T>(handler: string, eventType: string, run: () => T | Promise<T>): T | Promise<T>;
  /** Runs a worker's attempt inside a span that continues the trace of the delivery that enqueued it. */
  job<T>(ids: ScalekitDeliveryIds, carrier: ScalekitTraceCarrier | undefined, run: () => Promise<T>): Promise<T>;
  /** Counts an event that failed its last attempt. */
  deadLetter(eventType: string): void;
  /** Starts timing an interceptor call, now. */
  interceptor(): ScalekitInterceptorTelemetry;
}

/** The bounded value of `scalekit.event.type`: a catalogue type as itself, anything else as `other`. */
export function boundedEventType(type: string | undefined): string {
  return type !== undefined && isKnownScalekitEventType(type) ? type : 'other';
}

/** The bounded value of `scalekit.interceptor.trigger`: a documented trigger as itself, anything else as `other`. */
export function boundedInterceptorTrigger(trigger: string | undefined): string {
  return isKnownScalekitInterceptorTrigger(trigger) ? trigger : 'other';
}

const NOOP_INTERCEPTOR: ScalekitInterceptorTelemetry = {
  verified: () => {},
  within: (fn) => fn(),
  finish: () => {},
};

const NOOP_DELIVERY: ScalekitDeliveryTelemetry = {
  verified: () => {},
  within: (fn) => fn(),
  carrier: () => undefined,
  finish: () => {},
};

/** Telemetry that records nothing and allocates nothing per delivery. */
export const NOOP_SCALEKIT_TELEMETRY: ScalekitTelemetry = {
  enabled: false,
  delivery: () => NOOP_DELIVERY,
  handler: (_handler, _type, run) => run(),
  job: (_ids, _carrier, run) => run(),
  deadLetter: () => {},
  interceptor: () => NOOP_INTERCEPTOR,
};

/**
 * Loads `@opentelemetry/api` (an optional peer dependency) and builds the module's instruments, or returns
 * {@link NOOP_SCALEKIT_TELEMETRY} when the API is absent or neither a meter nor a tracer provider is registered
 * (the API's own no-ops would still cost attribute objects and spans on every delivery). Call it once the SDK is
 * started, i.e. at application bootstrap.
 */
export async function loadScalekitTelemetry(): Promise<ScalekitTelemetry> {
  let api: typeof Otel;
  try {
    const mod = (await import('@opentelemetry/api')) as typeof Otel & { default?: typeof Otel };
    api = typeof mod.metrics === 'object' ? mod : mod.default!;
  } catch {
    return NOOP_SCALEKIT_TELEMETRY;
  }
  return createScalekitTelemetry(api);
}

/**
 * Builds the telemetry on a given `@opentelemetry/api` module (the one the app registered its SDK with). Typed
 * `unknown` on purpose: a parameter of the API's type would make the published declarations import
 * `@opentelemetry/api`, an optional peer, and fail to type-check in apps without it.
 */
export function createScalekitTelemetry(otel: unknown): ScalekitTelemetry {
  const api = otel as typeof Otel;
  const meter = api.metrics.getMeterProvider().getMeter(SCALEKIT_TELEMETRY_NAME);
  const metricsOn = !(meter instanceof (api.createNoopMeter().constructor as new () => unknown));
  const noopTracing = new api.ProxyTracerProvider().getDelegate();
  const provider = api.trace.getTracerProvider() as Otel.TracerProvider & { getDelegate?(): Otel.TracerProvider };
  const tracingOn = (provider.getDelegate?.() ?? provider) !== noopTracing;
  if (!metricsOn && !tracingOn) {
    return NOOP_SCALEKIT_TELEMETRY;
  }
  return new OtelScalekitTelemetry(api, metricsOn ? meter : undefined, tracingOn);
}

interface Instruments {
  deliveries: Otel.Counter;
  duration: Otel.Histogram;
  handlerDuration: Otel.Histogram;
  deadLetters: Otel.Counter;
  interceptorDecisions: Otel.Counter;
  interceptorDuration: Otel.Histogram;
}

class OtelScalekitTelemetry implements ScalekitTelemetry {
  readonly enabled = true;
  readonly #api: typeof Otel;
  readonly #instruments: Instruments | undefined;
  readonly #tracer: Otel.Tracer | undefined;

  constructor(api: typeof Otel, meter: Otel.Meter | undefined, tracing: boolean) {
    this.#api = api;
    this.#tracer = tracing ? api.trace.getTracer(SCALEKIT_TELEMETRY_NAME) : undefined;
    this.#instruments = meter && {
      deliveries: meter.createCounter('scalekit.webhook.deliveries', {
        description: 'Webhook deliveries answered, by outcome and status code',
        unit: '{delivery}',
      }),
      duration: meter.createHistogram('scalekit.webhook.duration', {
        description: 'Time from the request to the answer of a webhook delivery',
        unit: 's',
      }),
      handlerDuration: meter.createHistogram('scalekit.webhook.handler.duration', {
        description: 'Time one @OnScalekitEvent handler took, inline or in a worker',
        unit: 's',
      }),
      deadLetters: meter.createCounter('scalekit.webhook.dead_letters', {
        description: 'Queued events that failed their last attempt',
        unit: '{event}',
      }),
      interceptorDecisions: meter.createCounter('scalekit.interceptor.decisions', {
        description: 'Interceptor calls answered, by trigger, decision and outcome',
        unit: '{call}',
      }),
      interceptorDuration: meter.createHistogram('scalekit.interceptor.duration', {
        description: 'Time from the request to the answer of an interceptor call',
        unit: 's',
      }),
    };
  }

  delivery(endpoint?: string): ScalekitDeliveryTelemetry {
    return new OtelDelivery(this.#api, this.#instruments, this.#tracer, endpoint);
  }

  handler<T>(handler: string, eventType: string, run: () => T | Promise<T>): T | Promise<T> {
    const api = this.#api;
    const type = boundedEventType(eventType);
    const span = this.#tracer?.startSpan(`scalekit.handler ${handler}`, {
      kind: api.SpanKind.INTERNAL,
      attributes: { 'scalekit.handler': handler, 'scalekit.event.type': type },
    });
    const started = performance.now();
    const done = (error?: unknown, failed = false): void => {
      this.#instruments?.handlerDuration.record((performance.now() - started) / 1000, {
        'scalekit.handler': handler,
        'scalekit.event.type': type,
        'scalekit.handler.outcome': failed ? 'error' : 'success',
      });
      if (span) {
        if (failed) {
          recordFailure(api, span, error);
        }
        span.end();
      }
    };
    let result: T | Promise<T>;
    try {
      result = span ? api.context.with(api.trace.setSpan(api.context.active(), span), run) : run();
    } catch (error) {
      done(error, true);
      throw error;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => {
          done();
          return value;
        },
        (error: unknown) => {
          done(error, true);
          throw error;
        },
      );
    }
    done();
    return result;
  }

  async job<T>(ids: ScalekitDeliveryIds, carrier: ScalekitTraceCarrier | undefined, run: () => Promise<T>): Promise<T> {
    const tracer = this.#tracer;
    if (!tracer) {
      return run();
    }
    const api = this.#api;
    const parent = parseTraceparent(api, carrier?.traceparent);
    const span = tracer.startSpan(
      'scalekit.webhook.job',
      { kind: api.SpanKind.CONSUMER, attributes: eventAttributes(ids) },
      parent ? api.trace.setSpanContext(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT,
    );
    try {
      return await api.context.with(api.trace.setSpan(api.ROOT_CONTEXT, span), run);
    } catch (error) {
      recordFailure(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  deadLetter(eventType: string): void {
    this.#instruments?.deadLetters.add(1, { 'scalekit.event.type': boundedEventType(eventType) });
  }

  interceptor(): ScalekitInterceptorTelemetry {
    return new OtelInterceptorCall(this.#api, this.#instruments, this.#tracer);
  }
}

class OtelInterceptorCall implements ScalekitInterceptorTelemetry {
  readonly #started = performance.now();
  readonly #startedAt = Date.now();
  readonly #parent: Otel.Context;
  #span: Otel.Span | undefined;
  #trigger: string | undefined;
  #finished = false;

  constructor(
    private readonly api: typeof Otel,
    private readonly instruments: Instruments | undefined,
    private readonly tracer: Otel.Tracer | undefined,
  ) {
    this.#parent = api.context.active();
  }

  verified(trigger: string, interceptorId: string): void {
    this.#trigger = boundedInterceptorTrigger(trigger);
    if (this.tracer && !this.#span) {
      this.#span = this.tracer.startSpan(
        'scalekit.interceptor',
        {
          kind: this.api.SpanKind.INTERNAL,
          startTime: this.#startedAt,
          attributes: { 'scalekit.interceptor.trigger': this.#trigger, 'scalekit.interceptor.id': interceptorId },
        },
        this.#parent,
      );
    }
  }

  within<T>(fn: () => T): T {
    const span = this.#span;
    return span ? this.api.context.with(this.api.trace.setSpan(this.#parent, span), fn) : fn();
  }

  finish(
    outcome: ScalekitInterceptorOutcome,
    decision: ScalekitInterceptorDecisionValue,
    status: number,
    error?: unknown,
  ): void {
    if (this.#finished) {
      return;
    }
    this.#finished = true;
    if (this.instruments) {
      const attributes: Otel.Attributes = {
        'scalekit.interceptor.decision': decision,
        'scalekit.interceptor.outcome': outcome,
      };
      // Refused calls never name a trigger: it would come from unverified input.
      if (this.#trigger !== undefined) {
        attributes['scalekit.interceptor.trigger'] = this.#trigger;
      }
      this.instruments.interceptorDecisions.add(1, attributes);
      this.instruments.interceptorDuration.record((performance.now() - this.#started) / 1000, attributes);
    }
    const span = this.#span;
    if (span) {
      span.setAttribute('scalekit.interceptor.decision', decision);
      span.setAttribute('scalekit.interceptor.outcome', outcome);
      span.setAttribute('http.response.status_code', status);
      if (outcome !== 'handled') {
        recordFailure(this.api, span, error);
      }
      span.end();
    }
  }
}

class OtelDelivery implements ScalekitDeliveryTelemetry {
  readonly #started = performance.now();
  readonly #startedAt = Date.now();
  readonly #parent: Otel.Context;
  #span: Otel.Span | undefined;
  #eventType: string | undefined;
  #finished = false;

  constructor(
    private readonly api: typeof Otel,
    private readonly instruments: Instruments | undefined,
    private readonly tracer: Otel.Tracer | undefined,
    private readonly endpoint: string | undefined,
  ) {
    // The active context when the request reached the module: the HTTP server span, if one is instrumented.
    this.#parent = api.context.active();
  }

  verified(ids: ScalekitDeliveryIds): void {
    this.#eventType = boundedEventType(ids.eventType);
    if (this.tracer && !this.#span) {
      this.#span = this.tracer.startSpan(
        'scalekit.webhook.delivery',
        { kind: this.api.SpanKind.INTERNAL, startTime: this.#startedAt, attributes: eventAttributes(ids) },
        this.#parent,
      );
    }
  }

  within<T>(fn: () => T): T {
    const span = this.#span;
    return span ? this.api.context.with(this.api.trace.setSpan(this.#parent, span), fn) : fn();
  }

  carrier(): ScalekitTraceCarrier | undefined {
    const context = this.#span?.spanContext();
    if (!context || !this.api.isSpanContextValid(context)) {
      return undefined;
    }
    const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
    return { traceparent: `00-${context.traceId}-${context.spanId}-${flags}` };
  }

  finish(outcome: ScalekitDeliveryOutcome, status: number, error?: unknown): void {
    if (this.#finished) {
      return;
    }
    this.#finished = true;
    if (this.instruments) {
      const attributes: Otel.Attributes = {
        'scalekit.webhook.outcome': outcome,
        'http.response.status_code': status,
      };
      if (this.#eventType !== undefined) {
        attributes['scalekit.event.type'] = this.#eventType;
      }
      if (this.endpoint !== undefined) {
        attributes['scalekit.endpoint'] = this.endpoint;
      }
      this.instruments.deliveries.add(1, attributes);
      this.instruments.duration.record((performance.now() - this.#started) / 1000, attributes);
    }
    const span = this.#span;
    if (span) {
      span.setAttribute('scalekit.webhook.outcome', outcome);
      span.setAttribute('http.response.status_code', status);
      if (outcome === 'failed' || outcome === 'unavailable') {
        recordFailure(this.api, span, error);
      }
      span.end();
    }
  }
}

function eventAttributes(ids: ScalekitDeliveryIds): Otel.Attributes {
  const attributes: Otel.Attributes = { 'scalekit.webhook.id': ids.webhookId };
  if (ids.eventId !== undefined) {
    attributes['scalekit.event.id'] = ids.eventId;
  }
  attributes['scalekit.event.type'] = boundedEventType(ids.eventType);
  return attributes;
}

function recordFailure(api: typeof Otel, span: Otel.Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
  }
  span.setStatus({
    code: api.SpanStatusCode.ERROR,
    ...(error instanceof Error ? { message: `${error.name}: ${error.message}` } : {}),
  });
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function parseTraceparent(api: typeof Otel, value: string | undefined): Otel.SpanContext | undefined {
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  if (!match) {
    return undefined;
  }
  const context: Otel.SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16),
    isRemote: true,
  };
  return api.isSpanContextValid(context) ? context : undefined;
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
