import { describe, expect, it } from '@jest/globals';
import {
  type ScalekitInterceptorContext,
  ScalekitInterceptorDecision,
  ScalekitInterceptorHandlerRegistry,
  ScalekitInterceptorReceiver,
  type ScalekitInterceptorReceiverOptions,
  ScalekitWebhookVerifier,
  signScalekitInterceptor,
} from 'nestjs-scalekit-webhooks/core';
import { buildScalekitInterceptorRequest } from 'nestjs-scalekit-webhooks/testing';
import { signatureHeaderNames } from '../../../lib/core/protocol.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function receiverWith(
  decide: (request: unknown) => unknown,
  options: Partial<ScalekitInterceptorReceiverOptions> = {},
): { receiver: ScalekitInterceptorReceiver; lines: string[] } {
  const lines: string[] = [];
  const handlers = new ScalekitInterceptorHandlerRegistry();
  handlers.register('PRE_SIGNUP', { name: 'Policy.preSignup', invoke: (request) => decide(request) });
  const receiver = new ScalekitInterceptorReceiver({
    secret: SECRET,
    handlers,
    logger: { warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) },
    ...options,
  });
  return { receiver, lines };
}

function signed(payload: unknown, secret = SECRET) {
  const { rawBody, headers } = signScalekitInterceptor({ secret, payload });
  return { rawBody, headers };
}

describe('ScalekitInterceptorReceiver (framework-free)', () => {
  it('verifies, routes and answers with the checked decision', async () => {
    const { receiver } = receiverWith(() => ScalekitInterceptorDecision.deny('No', 'NO'));
    const outcome = await receiver.receive(signed(buildScalekitInterceptorRequest('PRE_SIGNUP')));
    expect(outcome).toEqual({
      status: 200,
      headers: {},
      body: { decision: 'DENY', error: { message: 'No', code: 'NO' } },
    });
  });

  it('answers 401 for another secret and never calls the handler', async () => {
    let called = false;
    const { receiver } = receiverWith(() => {
      called = true;
      return ScalekitInterceptorDecision.allow();
    });
    const outcome = await receiver.receive(
      signed(buildScalekitInterceptorRequest('PRE_SIGNUP'), 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'),
    );
    expect(outcome.status).toBe(401);
    expect(called).toBe(false);
  });

  it('answers 500 raw_body_missing when a body was sent but not kept', async () => {
    const { receiver } = receiverWith(() => ScalekitInterceptorDecision.allow());
    const { headers, rawBody } = signed(buildScalekitInterceptorRequest('PRE_SIGNUP'));
    const outcome = await receiver.receive({
      headers: { ...headers, 'content-length': String(rawBody.length) },
      rawBody: undefined,
    });
    expect(outcome.status).toBe(500);
    expect((outcome.body as { error: string }).error).toBe('raw_body_missing');
  });

  it('never turns a failure into an ALLOW unless onError is allow', async () => {
    for (const onError of ['fail', 'deny'] as const) {
      const { receiver, lines } = receiverWith(
        () => {
          throw new Error('boom');
        },
        { onError },
      );
      const outcome = await receiver.receive(signed(buildScalekitInterceptorRequest('PRE_SIGNUP')));
      expect((outcome.body as { decision?: string }).decision).not.toBe('ALLOW');
      expect(lines.join('\n')).toMatch(/Policy\.preSignup threw: boom/);
    }
  });

  it('refuses bad options at construction', () => {
    const handlers = new ScalekitInterceptorHandlerRegistry();
    expect(() => new ScalekitInterceptorReceiver({ secret: SECRET, handlers, timeoutMs: 60_000 })).toThrow(
      /timeoutMs must be at most 30000/,
    );
    expect(() => new ScalekitInterceptorReceiver({ secret: SECRET, handlers, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new ScalekitInterceptorReceiver({ secret: SECRET, handlers, onError: 'open' as never })).toThrow(
      /onError must be 'fail', 'deny' or 'allow'/,
    );
    expect(() => new ScalekitInterceptorReceiver({ secret: SECRET, handlers: {} as never })).toThrow(/handlerFor/);
  });
});

describe('ScalekitInterceptorHandlerRegistry', () => {
  it('refuses a second handler for a trigger, naming both', () => {
    const registry = new ScalekitInterceptorHandlerRegistry();
    registry.register('PRE_SIGNUP', { name: 'A.one', invoke: () => undefined });
    expect(() => registry.register('PRE_SIGNUP', { name: 'B.two', invoke: () => undefined })).toThrow(
      /Two interceptor handlers for 'PRE_SIGNUP': A\.one and B\.two/,
    );
  });
});

describe('signScalekitInterceptor', () => {
  it('signs under interceptor-* headers, verifiable only with the interceptor header names', () => {
    const { rawBody, headers } = signed({ trigger_point: 'PRE_SIGNUP' });
    const interceptor = new ScalekitWebhookVerifier({
      secret: SECRET,
      headerNames: signatureHeaderNames('interceptor'),
    });
    expect(interceptor.verify(rawBody, headers).webhookId).toBe(headers['interceptor-id']);
    expect(() => new ScalekitWebhookVerifier({ secret: SECRET }).verify(rawBody, headers)).toThrow(
      /Missing all webhook headers/,
    );
  });
});

describe('the handler signal', () => {
  function receiverFor(invoke: (request: unknown, context: ScalekitInterceptorContext) => unknown, timeoutMs = 2_000) {
    const handlers = new ScalekitInterceptorHandlerRegistry();
    handlers.register('PRE_SIGNUP', { name: 'Policy.preSignup', invoke });
    return new ScalekitInterceptorReceiver({
      secret: SECRET,
      handlers,
      timeoutMs,
      logger: { warn: () => undefined, error: () => undefined },
    });
  }

  it('is aborted when the request goes away (the input signal), with that reason, while the handler waits', async () => {
    const gone = new AbortController();
    let reason: unknown;
    const receiver = receiverFor(
      (_request, context) =>
        new Promise((resolve) => {
          context.signal.addEventListener('abort', () => {
            reason = context.signal.reason;
            resolve(ScalekitInterceptorDecision.deny('Gone', 'GONE'));
          });
        }),
    );
    const pending = receiver.receive({ ...signed(buildScalekitInterceptorRequest('PRE_SIGNUP')), signal: gone.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    gone.abort();
    expect((await pending).body).toEqual({ decision: 'DENY', error: { message: 'Gone', code: 'GONE' } });
    expect(String(reason)).toMatch(/the request went away/);
  });

  it('is aborted at the deadline, also when the handler reads it only then; a handler that answered keeps it unaborted', async () => {
    let late: ScalekitInterceptorContext | undefined;
    const slow = receiverFor((_request, context) => {
      late = context;
      return new Promise(() => undefined); // never answers
    }, 50);
    const outcome = await slow.receive(signed(buildScalekitInterceptorRequest('PRE_SIGNUP')));
    expect(outcome.status).toBe(503);
    expect(late!.signal.aborted).toBe(true);
    expect(String(late!.signal.reason)).toMatch(/deadline of 50 ms/);

    let done: ScalekitInterceptorContext | undefined;
    const quick = receiverFor((_request, context) => {
      done = context;
      return ScalekitInterceptorDecision.allow();
    });
    const gone = new AbortController();
    const answer = await quick.receive({
      ...signed(buildScalekitInterceptorRequest('PRE_SIGNUP')),
      signal: gone.signal,
    });
    expect(answer.body).toEqual({ decision: 'ALLOW' });
    gone.abort(); // after the answer: the call is over
    expect(done!.signal.aborted).toBe(false);
    expect(Object.isFrozen(done)).toBe(true);
  });
});
