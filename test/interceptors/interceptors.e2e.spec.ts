import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, Injectable, Module, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  OnScalekitInterceptor,
  type ScalekitInterceptorContext,
  ScalekitInterceptorDecision,
  ScalekitInterceptorModule,
  type ScalekitInterceptorModuleOptions,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorRequestBody,
  type ScalekitInterceptorResponse,
  type AnyScalekitInterceptorRequest,
  type AnyScalekitInterceptorResponse,
  ScalekitWebhookModule,
  signScalekitInterceptor,
  signScalekitWebhook,
} from 'nestjs-scalekit-webhooks';
import { buildScalekitInterceptorRequest, sendScalekitInterceptor } from 'nestjs-scalekit-webhooks/testing';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { send } from '../support/http.js';

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;
const SECRET = secret();
const SECOND_SECRET = secret();
const WEBHOOK_SECRET = secret();
const PATH = 'scalekit/interceptors';
const GENERIC_401 = {
  statusCode: 401,
  error: 'signature_verification_failed',
  message: 'Webhook signature verification failed',
};
/** The handlers' time budget in the apps below: short, so slow handlers overrun it quickly. */
const TIMEOUT_MS = 400;

/** Signed by an implementation independent of the library: node:crypto, as Scalekit documents the scheme. */
function signIndependently(body: string, key: string, id = `icp_${randomBytes(8).toString('hex')}`, at?: number) {
  const timestamp = String(at ?? Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', Buffer.from(key.slice('whsec_'.length), 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return {
    'content-type': 'application/json',
    'interceptor-id': id,
    'interceptor-timestamp': timestamp,
    'interceptor-signature': `v1,${signature}`,
  };
}

const signup = (email: string) =>
  buildScalekitInterceptorRequest('PRE_SIGNUP', { interceptor_context: { user_email: email } });

/** What the handlers saw, for assertions. */
@Injectable()
class Observations {
  readonly aborted: { email: string; at: number; reason: string }[] = [];
  /** What a handler saw of its signal once the client had gone away. */
  readonly gone: { email: string; aborted: boolean; reason: string }[] = [];
  readonly contexts: ScalekitInterceptorContext[] = [];
  readonly scoped: { instance: number; requestTrigger: unknown }[] = [];
  scopedInstances = 0;
}

@Injectable()
class SignupPolicy {
  constructor(@Inject(Observations) private readonly seen: Observations) {}

  @OnScalekitInterceptor('PRE_SIGNUP')
  async preSignup(
    request: ScalekitInterceptorRequest<'PRE_SIGNUP'>,
    context: ScalekitInterceptorContext<'PRE_SIGNUP'>,
  ): Promise<ScalekitInterceptorResponse<'PRE_SIGNUP'>> {
    this.seen.contexts.push(context);
    const email = request.interceptor_context.user_email ?? '';
    const [local, domain] = email.split('@');
    if (domain === 'blocked.example') {
      return ScalekitInterceptorDecision.deny('Sign-ups from this domain are closed', 'DOMAIN_BLOCKED');
    }
    if (domain === 'acmecorp.com') {
      return ScalekitInterceptorDecision.allow({
        create_organization_membership: { organization_id: 'org_acme', roles: ['member'] },
      });
    }
    switch (local) {
      case 'throws':
        throw new Error('the policy database is down');
      case 'invalid':
        // Not a PRE_SIGNUP field: an invalid answer, never sent as given.
        return { decision: 'ALLOW', response: { claims: { plan: 'pro' } } } as never;
      case 'lowercase':
        return { decision: 'allow' } as never;
      case 'invalid-deny':
        return { decision: 'DENY', error: { message: '', code: 'EMPTY' } } as never;
      case 'gone-before-read':
        // The client goes away while this waits; the signal is first read afterwards.
        await new Promise((resolve) => setTimeout(resolve, 200));
        this.seen.gone.push({ email, aborted: context.signal.aborted, reason: String(context.signal.reason) });
        return ScalekitInterceptorDecision.allow();
      case 'gone-after-read': {
        const signal = context.signal;
        await new Promise((resolve) => {
          signal.addEventListener('abort', resolve);
          setTimeout(resolve, 300).unref();
        });
        this.seen.gone.push({ email, aborted: signal.aborted, reason: String(signal.reason) });
        return ScalekitInterceptorDecision.allow();
      }
      case 'slow':
        // Waits for the deadline, then answers ALLOW: too late, that ALLOW must never be sent.
        await new Promise<void>((resolve) => {
          const started = Date.now();
          context.signal.addEventListener('abort', () => {
            this.seen.aborted.push({ email, at: Date.now() - started, reason: String(context.signal.reason) });
            resolve();
          });
          setTimeout(resolve, 10_000).unref();
        });
        return ScalekitInterceptorDecision.allow();
      default:
        return ScalekitInterceptorDecision.allow();
    }
  }

  @OnScalekitInterceptor('PRE_SESSION_CREATION')
  preSession(
    request: ScalekitInterceptorRequest<'PRE_SESSION_CREATION'>,
  ): ScalekitInterceptorResponse<'PRE_SESSION_CREATION'> {
    return ScalekitInterceptorDecision.allow({ claims: { plan: 'pro', user: request.data.user.id } });
  }
}

/** Request-scoped: a fresh instance per call, whose REQUEST is the interceptor request. */
@Injectable({ scope: Scope.REQUEST })
class InvitationPolicy {
  private readonly instance: number;
  constructor(
    @Inject(REQUEST) private readonly request: ScalekitInterceptorRequestBody,
    @Inject(Observations) private readonly seen: Observations,
  ) {
    this.instance = ++seen.scopedInstances;
  }

  @OnScalekitInterceptor('PRE_USER_INVITATION')
  invite(
    request: ScalekitInterceptorRequest<'PRE_USER_INVITATION'>,
  ): ScalekitInterceptorResponse<'PRE_USER_INVITATION'> {
    this.seen.scoped.push({ instance: this.instance, requestTrigger: this.request.trigger_point });
    return request.data.organization.id === 'org_closed'
      ? ScalekitInterceptorDecision.deny('Invitations are closed')
      : ScalekitInterceptorDecision.allow();
  }
}

/** The fallback, provided as a value (useValue). */
class Fallback {
  @OnScalekitInterceptor('*')
  any(request: AnyScalekitInterceptorRequest, context: ScalekitInterceptorContext): AnyScalekitInterceptorResponse {
    return ScalekitInterceptorDecision.deny(`fallback for ${context.trigger}`, request.trigger_point.slice(0, 50));
  }
}
const fallback = { provide: 'FALLBACK', useValue: new Fallback() };

const PROVIDERS = [Observations, SignupPolicy, InvitationPolicy, fallback];

function interceptorApp(platform: (typeof PLATFORMS)[number], options: Partial<ScalekitInterceptorModuleOptions> = {}) {
  return startApp(platform, {
    imports: [
      ScalekitInterceptorModule.forRoot({ secret: [SECRET, SECOND_SECRET], timeoutMs: TIMEOUT_MS, ...options }),
    ],
    providers: PROVIDERS,
  });
}

describe.each(PLATFORMS)('interceptors on %s', (platform) => {
  let t: TestApp;
  const call = (request: object, options: { secret?: string; headers?: Record<string, string | undefined> } = {}) =>
    sendScalekitInterceptor(t.url, request, { secret: options.secret ?? SECRET, path: PATH, headers: options.headers });

  beforeAll(async () => {
    t = await interceptorApp(platform);
  });
  afterAll(() => t?.close());

  it('answers ALLOW for a request signed independently with node:crypto', async () => {
    const body = JSON.stringify(signup('ada@example.com'));
    const res = await send(`${t.url}/${PATH}`, { headers: signIndependently(body, SECRET), body });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ decision: 'ALLOW' });
  });

  it('accepts any of the configured secrets (one per interceptor)', async () => {
    const res = await call(signup('ada@example.com'), { secret: SECOND_SECRET });
    expect([res.status, res.decision]).toEqual([200, 'ALLOW']);
  });

  it('answers DENY with the message and code the handler gave', async () => {
    const res = await call(signup('eve@blocked.example'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      decision: 'DENY',
      error: { message: 'Sign-ups from this domain are closed', code: 'DOMAIN_BLOCKED' },
    });
    expect(res.decision).toBe('DENY');
  });

  it('sends an organization membership with PRE_SIGNUP', async () => {
    const res = await call(signup('john@acmecorp.com'));
    expect(res.body).toEqual({
      decision: 'ALLOW',
      response: { create_organization_membership: { organization_id: 'org_acme', roles: ['member'] } },
    });
  });

  it('sends claims with PRE_SESSION_CREATION', async () => {
    const res = await call(buildScalekitInterceptorRequest('PRE_SESSION_CREATION'));
    expect(res.body).toEqual({
      decision: 'ALLOW',
      response: { claims: { plan: 'pro', user: 'usr_58342297654321098' } },
    });
  });

  it("routes a trigger without its own handler to '*', documented or unknown", async () => {
    const m2m = await call(buildScalekitInterceptorRequest('PRE_M2M_TOKEN_CREATION'));
    expect(m2m.body).toEqual({
      decision: 'DENY',
      error: { message: 'fallback for PRE_M2M_TOKEN_CREATION', code: 'PRE_M2M_TOKEN_CREATION' },
    });
    const unknown = await call(buildScalekitInterceptorRequest('POST_USER_AUTHENTICATION'));
    expect(unknown.status).toBe(200);
    expect(unknown.body.error.message).toBe('fallback for POST_USER_AUTHENTICATION');
  });

  it('gives the handler the context: id, signed timestamp, deadline, signal, trigger', async () => {
    const seen = t.app.get(Observations);
    const before = seen.contexts.length;
    const at = Math.floor(Date.now() / 1000) - 10;
    await sendScalekitInterceptor(t.url, signup('ctx@example.com'), {
      secret: SECRET,
      path: PATH,
      id: 'icp_context_test',
      timestamp: at,
    });
    const context = seen.contexts[before]!;
    expect(context.interceptorId).toBe('icp_context_test');
    expect(context.timestamp.getTime()).toBe(at * 1000);
    expect(context.trigger).toBe('PRE_SIGNUP');
    expect(context.signal.aborted).toBe(false);
    const budget = context.deadline.getTime() - Date.now();
    expect(budget).toBeLessThanOrEqual(TIMEOUT_MS);
  });

  it('runs a request-scoped handler on a fresh instance per call, its REQUEST being the interceptor request', async () => {
    const seen = t.app.get(Observations);
    const first = await call(buildScalekitInterceptorRequest('PRE_USER_INVITATION'));
    const second = await call(
      buildScalekitInterceptorRequest('PRE_USER_INVITATION', { data: { organization: { id: 'org_closed' } } }),
    );
    expect(first.body).toEqual({ decision: 'ALLOW' });
    expect(second.body).toEqual({ decision: 'DENY', error: { message: 'Invitations are closed' } });
    const calls = seen.scoped.slice(-2);
    expect(calls.map((c) => c.requestTrigger)).toEqual(['PRE_USER_INVITATION', 'PRE_USER_INVITATION']);
    expect(calls[0]!.instance).not.toBe(calls[1]!.instance);
  });

  it('refuses a wrong secret, a webhook secret, webhook headers and an old timestamp', async () => {
    const wrong = await call(signup('ada@example.com'), { secret: secret() });
    expect([wrong.status, wrong.body]).toEqual([401, GENERIC_401]);
    const webhookSecret = await call(signup('ada@example.com'), { secret: WEBHOOK_SECRET });
    expect([webhookSecret.status, webhookSecret.body]).toEqual([401, GENERIC_401]);

    // The right secret, but the webhook scheme's header names: not an interceptor call.
    const asWebhook = signScalekitWebhook({ secret: SECRET, payload: signup('ada@example.com') });
    const webhookHeaders = await send(`${t.url}/${PATH}`, { headers: asWebhook.headers, body: asWebhook.rawBody });
    expect(webhookHeaders.status).toBe(400);
    expect(webhookHeaders.body.problems).toEqual([
      'interceptor-id header is missing',
      'interceptor-timestamp header is missing',
      'interceptor-signature header is missing',
    ]);

    const body = JSON.stringify(signup('ada@example.com'));
    const old = await send(`${t.url}/${PATH}`, {
      headers: signIndependently(body, SECRET, undefined, Math.floor(Date.now() / 1000) - 301),
      body,
    });
    expect([old.status, old.body]).toEqual([401, GENERIC_401]);
    // The body was never handed to a handler, and no payload reached the log.
    expect(t.logger.text()).not.toContain('ada@example.com');
  });

  it('answers 413, 415 and 400 as for webhooks', async () => {
    const big = JSON.stringify({ ...signup('ada@example.com'), pad: 'x'.repeat(1024 * 1024) });
    const tooLarge = await send(`${t.url}/${PATH}`, { headers: signIndependently(big, SECRET), body: big });
    expect(tooLarge.status).toBe(413);

    const body = JSON.stringify(signup('ada@example.com'));
    const text = await send(`${t.url}/${PATH}`, {
      headers: { ...signIndependently(body, SECRET), 'content-type': 'text/plain' },
      body,
    });
    expect(text.status).toBe(415);

    const broken = '{"trigger_point": "PRE_SIGNUP",';
    const badJson = await send(`${t.url}/${PATH}`, { headers: signIndependently(broken, SECRET), body: broken });
    expect(badJson.status).toBe(400);
    const noTrigger = JSON.stringify({ data: {} });
    const missing = await send(`${t.url}/${PATH}`, { headers: signIndependently(noTrigger, SECRET), body: noTrigger });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_payload');
  });

  it("answers 503 under onError 'fail' when the handler throws, and logs trigger, id, elapsed time and reason", async () => {
    const res = await call(signup('throws@example.com'));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ statusCode: 503, error: 'interceptor_failed', message: 'Interceptor could not decide' });
    expect(res.decision).toBeUndefined();
    const line = t.logger.matching(/policy database is down/)[0]!;
    expect(line.level).toBe('error');
    expect(line.message).toMatch(
      /"PRE_SIGNUP" \(interceptor-id "icp_[^"]+"\) failed after \d+ ms: SignupPolicy\.preSignup threw/,
    );
    expect(t.logger.text()).not.toContain('throws@example.com');
  });

  it('never sends an invalid answer: 503 instead, and a lowercase allow is not an ALLOW', async () => {
    const invalid = await call(signup('invalid@example.com'));
    expect(invalid.status).toBe(503);
    expect(t.logger.text()).toMatch(/returned an invalid answer: response\.claims is not accepted for PRE_SIGNUP/);
    const lowercase = await call(signup('lowercase@example.com'));
    expect(lowercase.status).toBe(503);
  });

  it('sends an invalid DENY as a DENY (without its invalid parts)', async () => {
    const res = await call(signup('invalid-deny@example.com'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ decision: 'DENY' });
  });

  it('aborts the handler signal when the client goes away, whether the handler read it before or after', async () => {
    const seen = t.app.get(Observations);
    for (const email of ['gone-before-read@example.com', 'gone-after-read@example.com']) {
      const body = JSON.stringify(signup(email));
      const { port } = new URL(t.url);
      await new Promise<void>((resolve) => {
        const client = httpRequest({
          port,
          host: '127.0.0.1',
          path: `/${PATH}`,
          method: 'POST',
          headers: { ...signIndependently(body, SECRET), 'content-length': Buffer.byteLength(body) },
        });
        client.on('error', () => resolve());
        client.end(body);
        setTimeout(() => {
          client.destroy();
          resolve();
        }, 60);
      });
      for (let waited = 0; !seen.gone.some((g) => g.email === email) && waited < 2_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    expect(seen.gone).toEqual([
      { email: 'gone-before-read@example.com', aborted: true, reason: expect.any(String) },
      { email: 'gone-after-read@example.com', aborted: true, reason: expect.any(String) },
    ]);
  });

  it("answers 503 at the deadline under onError 'fail', aborts the signal and ignores the late ALLOW", async () => {
    const seen = t.app.get(Observations);
    const started = Date.now();
    const res = await call(signup('slow@example.com'));
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(took).toBeLessThan(5000);
    const aborted = seen.aborted.find((a) => a.email === 'slow@example.com')!;
    expect(aborted.reason).toMatch(/deadline of 400 ms/);
    expect(t.logger.text()).toMatch(/did not answer within timeoutMs \(400 ms\); answered 503 \(onError 'fail'\)/);
  });
});

describe.each(PLATFORMS)("onError 'deny' and 'allow' on %s", (platform) => {
  let deny: TestApp;
  let allow: TestApp;
  beforeAll(async () => {
    deny = await interceptorApp(platform, { onError: 'deny', onVerificationFailure: 'deny' });
    allow = await interceptorApp(platform, { onError: 'allow' });
  });
  afterAll(async () => {
    await deny?.close();
    await allow?.close();
  });
  const failureDeny = {
    decision: 'DENY',
    error: {
      message: 'This request cannot be completed right now. Please try again later.',
      code: 'INTERCEPTOR_FAILED',
    },
  };

  it("'deny' answers 200 DENY with a generic message for a slow, throwing or invalid handler", async () => {
    for (const email of ['slow@example.com', 'throws@example.com', 'invalid@example.com']) {
      const res = await sendScalekitInterceptor(deny.url, signup(email), { secret: SECRET, path: PATH });
      expect([res.status, res.body]).toEqual([200, failureDeny]);
    }
  });

  it("onVerificationFailure 'deny' answers a bad signature with 200 DENY", async () => {
    const res = await sendScalekitInterceptor(deny.url, signup('ada@example.com'), { secret: secret(), path: PATH });
    expect([res.status, res.body]).toEqual([200, failureDeny]);
  });

  it("'allow' answers 200 ALLOW for a slow handler, and warned at start-up that it fails open", async () => {
    const res = await sendScalekitInterceptor(allow.url, signup('slow@example.com'), { secret: SECRET, path: PATH });
    expect([res.status, res.body]).toEqual([200, { decision: 'ALLOW' }]);
    expect(allow.logger.matching(/onError is 'allow'.*fail open/).length).toBe(1);
    // A verification failure is still a 401 under 'allow': only a verified call can be allowed.
    const forged = await sendScalekitInterceptor(allow.url, signup('ada@example.com'), {
      secret: secret(),
      path: PATH,
    });
    expect(forged.status).toBe(401);
  });
});

describe.each(PLATFORMS)('registration on %s', (platform) => {
  it('answers a trigger without any handler as onError says, and logs it once', async () => {
    @Injectable()
    class OnlySignup {
      @OnScalekitInterceptor('PRE_SIGNUP')
      preSignup(): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
        return ScalekitInterceptorDecision.allow();
      }
    }
    const t = await startApp(platform, {
      imports: [ScalekitInterceptorModule.forRoot({ secret: SECRET })],
      providers: [OnlySignup],
    });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await sendScalekitInterceptor(t.app, buildScalekitInterceptorRequest('PRE_SESSION_CREATION'), {
          secret: SECRET,
        });
        expect(res.status).toBe(503);
      }
      expect(t.logger.matching(/No interceptor handler for "PRE_SESSION_CREATION"/)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('finds a handler on a controller too', async () => {
    @Controller('policies')
    class PolicyController {
      @OnScalekitInterceptor('PRE_USER_INVITATION')
      invite(): ScalekitInterceptorResponse<'PRE_USER_INVITATION'> {
        return ScalekitInterceptorDecision.deny('Invitations are reviewed by hand');
      }
    }
    const t = await startApp(platform, {
      imports: [ScalekitInterceptorModule.forRoot({ secret: SECRET })],
      controllers: [PolicyController],
    });
    try {
      const res = await sendScalekitInterceptor(t.app, buildScalekitInterceptorRequest('PRE_USER_INVITATION'), {
        secret: SECRET,
      });
      expect(res.body).toEqual({ decision: 'DENY', error: { message: 'Invitations are reviewed by hand' } });
    } finally {
      await t.close();
    }
  });

  it('refuses two registrations on one path, and serves two on their own paths', async () => {
    await expect(
      startApp(platform, {
        imports: [
          ScalekitInterceptorModule.forRoot({ secret: SECRET }),
          ScalekitInterceptorModule.forRoot({ secret: SECOND_SECRET, path: 'Scalekit/Interceptors/' }),
        ],
        providers: PROVIDERS,
      }),
    ).rejects.toThrow(/Two ScalekitInterceptorModule registrations use the path/);

    const t = await startApp(platform, {
      imports: [
        ScalekitInterceptorModule.forRoot({ secret: SECRET }),
        ScalekitInterceptorModule.forRoot({ secret: SECOND_SECRET, path: 'other/interceptors' }),
      ],
      providers: PROVIDERS,
    });
    try {
      const first = await sendScalekitInterceptor(t.url, signup('eve@blocked.example'), { secret: SECRET });
      const second = await sendScalekitInterceptor(t.url, signup('eve@blocked.example'), {
        secret: SECOND_SECRET,
        path: 'other/interceptors',
      });
      const crossed = await sendScalekitInterceptor(t.url, signup('eve@blocked.example'), { secret: SECOND_SECRET });
      expect([first.decision, second.decision, crossed.status]).toEqual(['DENY', 'DENY', 401]);
    } finally {
      await t.close();
    }
  });

  it('refuses two handlers for one trigger at start-up, naming both', async () => {
    @Injectable()
    class First {
      @OnScalekitInterceptor('PRE_SIGNUP')
      decide(): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
        return ScalekitInterceptorDecision.allow();
      }
    }
    @Injectable()
    class Second {
      @OnScalekitInterceptor('PRE_SIGNUP')
      alsoDecide(): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
        return ScalekitInterceptorDecision.deny();
      }
    }
    await expect(
      startApp(platform, {
        imports: [ScalekitInterceptorModule.forRoot({ secret: SECRET })],
        providers: [First, Second],
      }),
    ).rejects.toThrow(/Two interceptor handlers for 'PRE_SIGNUP': First\.decide and Second\.alsoDecide/);
  });

  it('forRootAsync takes the path beside the factory, and refuses one returned by the factory', async () => {
    @Module({ providers: [{ provide: 'INTERCEPTOR_SECRET', useValue: SECRET }], exports: ['INTERCEPTOR_SECRET'] })
    class SecretsModule {}
    const t = await startApp(platform, {
      imports: [
        ScalekitInterceptorModule.forRootAsync({
          imports: [SecretsModule],
          inject: ['INTERCEPTOR_SECRET'],
          useFactory: (key: string) => ({ secret: key }),
          path: 'hooks/decide',
        }),
      ],
      providers: PROVIDERS,
    });
    try {
      const res = await sendScalekitInterceptor(t.url, signup('ada@example.com'), {
        secret: SECRET,
        path: 'hooks/decide',
      });
      expect([res.status, res.decision]).toEqual([200, 'ALLOW']);
    } finally {
      await t.close();
    }
    await expect(
      startApp(platform, {
        imports: [
          ScalekitInterceptorModule.forRootAsync({
            useFactory: () => ({ secret: SECRET, path: 'elsewhere' }) as ScalekitInterceptorModuleOptions,
          }),
        ],
      }),
    ).rejects.toThrow(/route option `path` returned by the forRootAsync factory would be ignored/);
  });

  it('keeps webhooks and interceptors apart in one app: each refuses the other credentials', async () => {
    const events: string[] = [];
    @Injectable()
    class Both {
      @OnScalekitEvent('user.login')
      login(event: AnyScalekitEvent) {
        events.push(event.id);
      }
      @OnScalekitInterceptor('PRE_SIGNUP')
      preSignup(): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
        return ScalekitInterceptorDecision.allow();
      }
    }
    const t = await startApp(platform, {
      imports: [
        ScalekitWebhookModule.forRoot({ secret: WEBHOOK_SECRET }),
        ScalekitInterceptorModule.forRoot({ secret: SECRET }),
      ],
      providers: [Both],
    });
    try {
      const event = {
        spec_version: '1',
        id: `evt_${randomBytes(6).toString('hex')}`,
        type: 'user.login',
        object: 'User',
        environment_id: 'env_1',
        occurred_at: new Date().toISOString(),
        data: { id: 'usr_1' },
      };
      const webhook = signScalekitWebhook({ secret: WEBHOOK_SECRET, payload: event });
      const okWebhook = await send(`${t.url}/webhooks/scalekit`, { headers: webhook.headers, body: webhook.rawBody });
      expect(okWebhook.status).toBe(200);
      expect(events).toEqual([event.id]);

      // Interceptor credentials on the webhook route: its headers are missing, and its secret does not verify.
      const asInterceptor = signScalekitInterceptor({ secret: SECRET, payload: { ...event, id: 'evt_other1' } });
      const onWebhookRoute = await send(`${t.url}/webhooks/scalekit`, {
        headers: asInterceptor.headers,
        body: asInterceptor.rawBody,
      });
      expect(onWebhookRoute.status).toBe(400);
      const interceptorSecret = signScalekitWebhook({ secret: SECRET, payload: { ...event, id: 'evt_other2' } });
      const wrongSecret = await send(`${t.url}/webhooks/scalekit`, {
        headers: interceptorSecret.headers,
        body: interceptorSecret.rawBody,
      });
      expect([wrongSecret.status, wrongSecret.body]).toEqual([401, GENERIC_401]);
      expect(events).toEqual([event.id]);

      const okInterceptor = await sendScalekitInterceptor(t.url, signup('ada@example.com'), { secret: SECRET });
      expect([okInterceptor.status, okInterceptor.decision]).toEqual([200, 'ALLOW']);
      const withWebhookSecret = await sendScalekitInterceptor(t.url, signup('ada@example.com'), {
        secret: WEBHOOK_SECRET,
      });
      expect([withWebhookSecret.status, withWebhookSecret.body]).toEqual([401, GENERIC_401]);
    } finally {
      await t.close();
    }
  });
});

/**
 * Scalekit's own Node SDK verifies in a child process: it is CommonJS that loads ESM dependencies, which jest's module
 * sandbox cannot require.
 */
function verifyWithSdk(key: string, headers: Record<string, string>, body: string): string {
  const script = `
    const { ScalekitClient } = require('@scalekit-sdk/node');
    const { key, headers, body } = JSON.parse(process.env.SDK_INPUT);
    const client = new ScalekitClient('https://env.example.com', 'skc_1', 'not-used');
    try { process.stdout.write(String(client.verifyInterceptorPayload(key, headers, body))); }
    catch (error) { process.stdout.write('threw ' + error.name); }`;
  return execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, SDK_INPUT: JSON.stringify({ key, headers, body }) },
    encoding: 'utf8',
  });
}

describe("the package's signer", () => {
  it("is accepted by @scalekit-sdk/node's verifyInterceptorPayload, and a tampered body is not", () => {
    const signed = signScalekitInterceptor({ secret: SECRET, payload: buildScalekitInterceptorRequest('PRE_SIGNUP') });
    expect(verifyWithSdk(SECRET, signed.headers, signed.body)).toBe('true');
    expect(verifyWithSdk(SECRET, signed.headers, `${signed.body} `)).toBe('threw WebhookVerificationError');
    // And it matches the independent node:crypto construction byte for byte.
    const independent = signIndependently(
      signed.body,
      SECRET,
      signed.headers['interceptor-id'],
      Number(signed.headers['interceptor-timestamp']),
    );
    expect(signed.headers).toEqual(independent);
  });
});
