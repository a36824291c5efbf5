import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import {
  OnScalekitInterceptor,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorResponse,
  ScalekitInterceptorDecision,
  ScalekitInterceptorModule,
} from 'nestjs-scalekit-webhooks';
import { startApp, type TestApp } from '../support/app.js';
import { type BuiltCli, buildCli, runCli } from '../support/cli-harness.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

@Injectable()
class Policy {
  @OnScalekitInterceptor('PRE_SIGNUP')
  preSignup(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    return request.interceptor_context.user_email?.endsWith('@blocked.example')
      ? ScalekitInterceptorDecision.deny('Blocked domain', 'BLOCKED')
      : ScalekitInterceptorDecision.allow();
  }
}

let cli: BuiltCli;
let t: TestApp;
beforeAll(async () => {
  [cli, t] = await Promise.all([
    buildCli(),
    startApp('express', { imports: [ScalekitInterceptorModule.forRoot({ secret: SECRET })], providers: [Policy] }),
  ]);
}, 60_000);
afterAll(async () => {
  await t?.close();
  cli?.cleanup();
});

describe('intercept', () => {
  it('sends a signed example to the default path and prints the decision', async () => {
    const res = await runCli(cli, ['intercept', 'PRE_SIGNUP', '--url', t.url, '--secret', SECRET]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /PRE_SIGNUP → 200 ALLOW in \d+ ms \(http:\/\/127\.0\.0\.1:\d+\/scalekit\/interceptors\)/,
    );
  });

  it('prints a DENY with --email, as JSON with --json, with the secret from the environment', async () => {
    const res = await runCli(
      cli,
      ['intercept', 'PRE_SIGNUP', '--url', t.url, '--email', 'eve@blocked.example', '--json'],
      {
        env: { SCALEKIT_INTERCEPTOR_SECRET: SECRET },
      },
    );
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      status: 200,
      decision: 'DENY',
      body: { decision: 'DENY', error: { message: 'Blocked domain', code: 'BLOCKED' } },
    });
  });

  it('exits 1 on an error status (a wrong secret), 2 on an unknown trigger or a missing secret', async () => {
    const wrong = await runCli(cli, [
      'intercept',
      'PRE_SIGNUP',
      '--url',
      t.url,
      '--secret',
      `whsec_${randomBytes(24).toString('base64')}`,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/401 no decision/);
    const unknown = await runCli(cli, ['intercept', 'PRE_SINGUP', '--url', t.url, '--secret', SECRET]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Did you mean: PRE_SIGNUP/);
    const noSecret = await runCli(cli, ['intercept', 'PRE_SIGNUP', '--url', t.url], {
      env: { SCALEKIT_INTERCEPTOR_SECRET: undefined, SCALEKIT_WEBHOOK_SECRET: SECRET },
    });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/SCALEKIT_INTERCEPTOR_SECRET/);
  });
});

describe('list --interceptors', () => {
  it('lists the documented trigger points', async () => {
    const res = await runCli(cli, ['list', '--interceptors', '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).map((entry: { trigger: string }) => entry.trigger)).toEqual([
      'PRE_SIGNUP',
      'PRE_SESSION_CREATION',
      'PRE_USER_INVITATION',
      'PRE_M2M_TOKEN_CREATION',
    ]);
    const text = await runCli(cli, ['list', '--interceptors']);
    expect(text.stdout).toMatch(/PRE_M2M_TOKEN_CREATION\s+m2m_token_claims/);
  });
});
