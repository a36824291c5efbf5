import { performance } from 'node:perf_hooks';
import { describeError } from '../describe-error.js';
import { ScalekitWebhookError } from '../errors.js';
import { readHeader, type ScalekitHeadersInput } from '../headers.js';
import { type ScalekitReceiverOutcome, scalekitOutcome, scalekitOutcomeOfError } from '../receiver/outcome.js';
import { ScalekitResponseDeadlines } from '../receiver/response-deadlines.js';
import { checkScalekitInterceptorAnswer } from './interceptor-answer.js';
import {
  SCALEKIT_INTERCEPTOR_FALLBACK,
  type ScalekitInterceptorHandler,
  type ScalekitInterceptorHandlerLookup,
} from './interceptor-handlers.js';
import {
  checkScalekitInterceptorOptions,
  type ScalekitInterceptorOptions,
  type ScalekitInterceptorSettings,
} from './interceptor-options.js';
import { INTERCEPTOR_HEADERS } from './interceptor-protocol.js';
import { parseScalekitInterceptorRequest } from './interceptor-request.js';
import type { ScalekitInterceptorAnswer, ScalekitInterceptorContext } from './interceptor-types.js';
import {
  NOOP_SCALEKIT_TELEMETRY,
  type ScalekitInterceptorOutcome,
  type ScalekitInterceptorTelemetry,
  type ScalekitTelemetry,
} from '../telemetry/scalekit-telemetry.js';

/** Where the receiver writes its log lines. Never given a payload or a secret. */
export interface ScalekitInterceptorLogger {
  log?(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ScalekitInterceptorReceiverOptions extends ScalekitInterceptorOptions {
  /** Which handler decides a trigger. */
  handlers: ScalekitInterceptorHandlerLookup;
  /** @default console */
  logger?: ScalekitInterceptorLogger;
  /**
   * Metrics and traces (`scalekit.interceptor.decisions`, `scalekit.interceptor.duration`, one span per verified
   * call); the Nest module loads them at bootstrap.
   * @default no-ops
   */
  telemetry?: ScalekitTelemetry;
  /**
   * Clock in milliseconds, for tests (the timestamp window and the deadline).
   * @default Date.now
   */
  now?: () => number;
}

/** One call as an adapter hands it over: nothing of its framework. */
export interface ScalekitInterceptorReceiveInput {
  headers: ScalekitHeadersInput;
  /** The body exactly as received; `undefined` when the framework did not keep it (a misconfiguration). */
  rawBody: Buffer | Uint8Array | undefined;
  /** The `content-type` header, when not read from `headers`. */
  contentType?: string;
  /** Aborted when the request goes away: the handler's signal is aborted with it. */
  signal?: AbortSignal;
}

/** The body of the `503` answered under `onError: 'fail'`: generic, like every error body. */
export const SCALEKIT_INTERCEPTOR_FAILURE_BODY = Object.freeze({
  statusCode: 503,
  error: 'interceptor_failed',
  message: 'Interceptor could not decide',
});

/** The `DENY` answered under `onError: 'deny'` (and `onVerificationFailure: 'deny'`); Scalekit shows the message. */
export const SCALEKIT_INTERCEPTOR_FAILURE_DENY: ScalekitInterceptorAnswer = Object.freeze({
  decision: 'DENY',
  error: Object.freeze({
    message: 'This request cannot be completed right now. Please try again later.',
    code: 'INTERCEPTOR_FAILED',
  }),
}) as ScalekitInterceptorAnswer;

const ALLOW: ScalekitInterceptorAnswer = Object.freeze({ decision: 'ALLOW' }) as ScalekitInterceptorAnswer;
const EMPTY = Buffer.alloc(0);
/** Triggers without a handler are logged once each; beyond this many, not at all. */
const MAX_LOGGED_MISSING = 100;

/**
 * Receives Scalekit interceptor calls, framework-free: verify (the webhook scheme under `interceptor-*` headers, with
 * the interceptor secret) → parse → route by `trigger_point` to exactly one handler → run it within `timeoutMs` →
 * check its answer → an outcome (`200` with the JSON decision, or an error status) that an adapter writes. Never
 * throws; nothing is stored or queued: an interceptor is answered inline.
 *
 * Only a checked `ALLOW` from a handler, or `onError: 'allow'` chosen explicitly, ever produces an `ALLOW`.
 */
export class ScalekitInterceptorReceiver {
  readonly settings: ScalekitInterceptorSettings;
  readonly #handlers: ScalekitInterceptorHandlerLookup;
  readonly #logger: ScalekitInterceptorLogger;
  readonly #now: () => number;
  readonly #telemetry: ScalekitTelemetry;
  readonly #loggedMissing = new Set<string>();
  /** The deadlines of the calls whose handlers are pending: one timer for all of them. */
  readonly #deadlines: ScalekitResponseDeadlines<PendingCall>;

  constructor(options: ScalekitInterceptorReceiverOptions) {
    this.settings = checkScalekitInterceptorOptions(options, options.now);
    if (typeof options.handlers?.handlerFor !== 'function') {
      throw new ScalekitWebhookError(
        'invalid_options',
        'Scalekit interceptor receiver needs handlers: an object with handlerFor(trigger)',
      );
    }
    this.#handlers = options.handlers;
    this.#logger = options.logger ?? console;
    this.#now = options.now ?? Date.now;
    this.#telemetry = options.telemetry ?? NOOP_SCALEKIT_TELEMETRY;
    this.#deadlines = new ScalekitResponseDeadlines(this.settings.timeoutMs, (pending) => pending.expire());
  }

  async receive(input: ScalekitInterceptorReceiveInput): Promise<ScalekitReceiverOutcome> {
    const timing = this.#telemetry.interceptor();
    let verified: { id: string; timestamp: number };
    let rawBody: Buffer | Uint8Array;
    try {
      rawBody = this.#rawBodyOf(input);
      const { webhookId, timestamp } = this.settings.verifier.verify(rawBody, input.headers);
      verified = { id: webhookId, timestamp };
    } catch (error) {
      return recorded(timing, 'rejected', this.#refuse(error, input.headers), error);
    }

    const parsed = parseScalekitInterceptorRequest(rawBody);
    if (!parsed.ok) {
      const error = new ScalekitWebhookError(parsed.code, parsed.problems.join('; '), { problems: parsed.problems });
      this.#logger.warn(`Rejected interceptor call ${quote(verified.id)} (${parsed.code}): ${error.message}`);
      return recorded(timing, 'rejected', scalekitOutcomeOfError(error), error);
    }
    const request = parsed.request;
    const trigger = request.trigger_point;
    timing.verified(trigger, verified.id);
    const handler = this.#handlers.handlerFor(trigger) ?? this.#handlers.handlerFor(SCALEKIT_INTERCEPTOR_FALLBACK);
    const started = performance.now();
    const call = { trigger, id: verified.id, started };
    if (handler === undefined) {
      if (this.#loggedMissing.size < MAX_LOGGED_MISSING && !this.#loggedMissing.has(trigger)) {
        this.#loggedMissing.add(trigger);
        this.#logger.error(
          `No interceptor handler for ${quote(trigger)} (and no '*' handler): add @OnScalekitInterceptor(${quote(trigger)}) or @OnScalekitInterceptor('*'). Each call of this trigger is answered as onError '${this.settings.onError}' says (logged once per trigger)`,
        );
      }
      return recorded(timing, 'error', this.#failureOutcome(), new Error(`no interceptor handler for this trigger`));
    }
    return this.#decide(handler, request, verified, call, input, timing);
  }

  /**
   * Runs the handler within `timeoutMs` and checks its answer. A handler that answers at once (no promise) is answered
   * at once; a pending one waits under the receiver's one deadline timer.
   */
  #decide(
    handler: ScalekitInterceptorHandler,
    request: Parameters<ScalekitInterceptorHandler['invoke']>[0],
    verified: { id: string; timestamp: number },
    call: { trigger: string; id: string; started: number },
    input: ScalekitInterceptorReceiveInput,
    timing: ScalekitInterceptorTelemetry,
  ): ScalekitReceiverOutcome | Promise<ScalekitReceiverOutcome> {
    const context = new InterceptorCallContext(
      verified,
      new Date(this.#now() + this.settings.timeoutMs),
      call.trigger,
      input,
    );
    let answer: unknown;
    try {
      answer = this.#telemetry.enabled
        ? timing.within(() => handler.invoke(request, context))
        : handler.invoke(request, context);
    } catch (error) {
      context.end();
      return this.#checked(handler, call, timing, { kind: 'error', error });
    }
    if (answer === null || typeof (answer as PromiseLike<unknown>)?.then !== 'function') {
      context.end();
      return this.#checked(handler, call, timing, { kind: 'value', value: answer });
    }
    return new Promise<ScalekitReceiverOutcome>((resolve) => {
      const pending: PendingCall = {
        expire: () => {
          context.end();
          const reason = new Error(`the interceptor deadline of ${this.settings.timeoutMs} ms passed`);
          reason.name = 'TimeoutError';
          context.abort(reason);
          resolve(this.#checked(handler, call, timing, { kind: 'timeout', reason }));
        },
      };
      this.#deadlines.add(pending);
      const settle = (result: HandlerResult) => {
        // After the deadline, the late answer is ignored: the failure answer was sent.
        if (this.#deadlines.delete(pending)) {
          context.end();
          resolve(this.#checked(handler, call, timing, result));
        }
      };
      Promise.resolve(answer).then(
        (value: unknown) => settle({ kind: 'value', value }),
        (error: unknown) => settle({ kind: 'error', error }),
      );
    });
  }

  /** The outcome of a handler's result: its checked answer, or the failure answer. */
  #checked(
    handler: ScalekitInterceptorHandler,
    call: { trigger: string; id: string; started: number },
    timing: ScalekitInterceptorTelemetry,
    result: HandlerResult,
  ): ScalekitReceiverOutcome {
    const { timeoutMs } = this.settings;
    if (result.kind === 'timeout') {
      const outcome = this.#fail(call, `${handler.name} did not answer within timeoutMs (${timeoutMs} ms)`);
      return recorded(timing, 'timeout', outcome, result.reason);
    }
    if (result.kind === 'error') {
      const outcome = this.#fail(call, `${handler.name} threw: ${describeError(result.error)}`);
      return recorded(timing, 'error', outcome, result.error);
    }
    const checked = checkScalekitInterceptorAnswer(call.trigger, result.value);
    if (checked.ok) {
      for (const warning of checked.warnings) {
        this.#logger.warn(`Interceptor ${describeCall(call)}: ${handler.name} answered with a warning: ${warning}`);
      }
      return recorded(timing, 'handled', scalekitOutcome(200, checked.answer));
    }
    const problems = checked.problems.join('; ');
    if (checked.deny !== undefined) {
      // The handler meant DENY: send that DENY with its valid parts rather than a failure answer that may allow.
      this.#logger.error(
        `Interceptor ${describeCall(call)} after ${elapsed(call)} ms: ${handler.name} returned an invalid DENY (${problems}); answered DENY without the invalid parts`,
      );
      return recorded(timing, 'invalid', scalekitOutcome(200, checked.deny), new Error('invalid answer'));
    }
    const outcome = this.#fail(call, `${handler.name} returned an invalid answer: ${problems}`);
    return recorded(timing, 'invalid', outcome, new Error('invalid answer'));
  }

  #fail(call: { trigger: string; id: string; started: number }, reason: string): ScalekitReceiverOutcome {
    const outcome = this.#failureOutcome();
    this.#logger.error(
      `Interceptor ${describeCall(call)} failed after ${elapsed(call)} ms: ${reason}; answered ${describeOutcome(outcome)} (onError '${this.settings.onError}')`,
    );
    return outcome;
  }

  #failureOutcome(): ScalekitReceiverOutcome {
    switch (this.settings.onError) {
      case 'deny':
        return scalekitOutcome(200, SCALEKIT_INTERCEPTOR_FAILURE_DENY);
      case 'allow':
        return scalekitOutcome(200, ALLOW);
      default:
        return { status: 503, headers: {}, body: SCALEKIT_INTERCEPTOR_FAILURE_BODY };
    }
  }

  #refuse(error: unknown, headers: ScalekitHeadersInput): ScalekitReceiverOutcome {
    const id = safeRead(headers, INTERCEPTOR_HEADERS.id);
    const label = typeof id === 'string' ? ` ${quote(id.slice(0, 64))}` : '';
    const message = describeError(error);
    const known = error instanceof ScalekitWebhookError;
    if (known && error.status === 401 && this.settings.onVerificationFailure === 'deny') {
      this.#logger.warn(`Denied unverified interceptor call${label} (${error.code}): ${message}`);
      return scalekitOutcome(200, SCALEKIT_INTERCEPTOR_FAILURE_DENY);
    }
    if (known && error.status < 500) {
      this.#logger.warn(`Rejected interceptor call${label} (${error.code}): ${message}`);
    } else {
      this.#logger.error(`Cannot verify interceptor call${label}: ${message}`);
    }
    return scalekitOutcomeOfError(error);
  }

  /** Size limit first, then media type, as for webhooks. */
  #rawBodyOf(input: ScalekitInterceptorReceiveInput): Buffer | Uint8Array {
    const headers = input.headers;
    const declared = Number(safeRead(headers, 'content-length'));
    const raw = input.rawBody;
    const size = ArrayBuffer.isView(raw) ? raw.byteLength : declared;
    if (size > this.settings.maxBodyBytes) {
      throw new ScalekitWebhookError(
        'payload_too_large',
        `body of ${size} bytes exceeds maxBodyBytes (${this.settings.maxBodyBytes})`,
      );
    }
    const hasBody =
      (ArrayBuffer.isView(raw) && raw.byteLength > 0) ||
      safeRead(headers, 'transfer-encoding') !== undefined ||
      declared > 0;
    if (!hasBody) {
      return EMPTY;
    }
    const type = String(input.contentType ?? safeRead(headers, 'content-type') ?? '');
    if (type.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw new ScalekitWebhookError(
        'unsupported_media_type',
        `content-type ${JSON.stringify(type.slice(0, 100))} is not application/json`,
      );
    }
    if (ArrayBuffer.isView(raw)) {
      return raw;
    }
    throw new ScalekitWebhookError(
      'raw_body_missing',
      'the raw request body is not available, so the signature cannot be verified: create the Nest app with `rawBody: true`',
    );
  }
}

/** How a handler's call ended: its value, its error, or no answer by the deadline. */
type HandlerResult =
  { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout'; reason: Error };

/** A call whose handler is pending, under the deadline timer. */
interface PendingCall {
  expire(): void;
}

/**
 * The context of one call. Its `signal` is made only when the handler reads it (most never do): then it is linked
 * to the request's own signal while the call runs, and it is aborted at the deadline, even when first read after it.
 */
class InterceptorCallContext implements ScalekitInterceptorContext {
  readonly interceptorId: string;
  readonly timestamp: Date;
  #controller: AbortController | undefined;
  /** Why the call was aborted before its signal was made, if it was. */
  #abortedWith: Error | undefined;
  /** The call's input until the call is over (its signal tells when the request goes away). */
  #input: ScalekitInterceptorReceiveInput | undefined;
  #unlink: (() => void) | undefined;

  constructor(
    verified: { id: string; timestamp: number },
    readonly deadline: Date,
    readonly trigger: string,
    input: ScalekitInterceptorReceiveInput,
  ) {
    this.interceptorId = verified.id;
    this.timestamp = new Date(verified.timestamp * 1000);
    this.#input = input;
    Object.freeze(this);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#abortedWith !== undefined) {
        controller.abort(this.#abortedWith);
      } else {
        this.#link(controller);
      }
    }
    return this.#controller.signal;
  }

  /** The call is over: the request going away no longer aborts the signal. */
  end(): void {
    this.#input = undefined;
    this.#unlink?.();
    this.#unlink = undefined;
  }

  abort(reason: Error): void {
    if (this.#controller === undefined) {
      this.#abortedWith = reason;
    } else {
      this.#controller.abort(reason);
    }
  }

  #link(controller: AbortController): void {
    const request = this.#input?.signal;
    if (request === undefined) {
      return;
    }
    const onGone = () => controller.abort(new Error('the request went away'));
    if (request.aborted) {
      onGone();
      return;
    }
    request.addEventListener('abort', onGone, { once: true });
    this.#unlink = () => request.removeEventListener('abort', onGone);
  }
}

/** Records how a call ended (the decision is the one actually sent, `none` for an error status) and passes it on. */
function recorded(
  timing: ScalekitInterceptorTelemetry,
  kind: ScalekitInterceptorOutcome,
  outcome: ScalekitReceiverOutcome,
  error?: unknown,
): ScalekitReceiverOutcome {
  const decision = outcome.status === 200 ? (outcome.body as { decision?: unknown }).decision : undefined;
  timing.finish(kind, decision === 'ALLOW' || decision === 'DENY' ? decision : 'none', outcome.status, error);
  return outcome;
}

function safeRead(headers: ScalekitHeadersInput, name: string): unknown {
  try {
    const value = headers === null || typeof headers !== 'object' ? undefined : readHeader(headers, name);
    return Array.isArray(value) ? value[0] : value;
  } catch {
    return undefined;
  }
}

function describeCall(call: { trigger: string; id: string }): string {
  return `${quote(call.trigger)} (interceptor-id ${quote(call.id.slice(0, 64))})`;
}

function elapsed(call: { started: number }): number {
  return Math.round(performance.now() - call.started);
}

function describeOutcome(outcome: ScalekitReceiverOutcome): string {
  const decision = (outcome.body as { decision?: unknown }).decision;
  return typeof decision === 'string' ? `${outcome.status} ${decision}` : String(outcome.status);
}

function quote(text: string): string {
  return JSON.stringify(text);
}
