import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  buildScalekitEvent,
  buildScalekitInterceptorRequest,
  sendScalekitInterceptor,
  sendScalekitWebhook,
} from 'nestjs-scalekit-webhooks/testing';
import { AppModule, DEMO_INTERCEPTOR_SECRET, DEMO_SECRET } from '../app.module.js';
import { AuditLogHandler } from '../audit-log.handler.js';
import { DirectoryUsersHandler } from '../directory-users.handler.js';
import { OrganizationEventsHandler } from '../organization-events.handler.js';

// Only the package's testing helpers: build a valid event from Scalekit's examples, deliver it signed.
describe('sample app', () => {
  let app: INestApplication;

  beforeAll(async () => {
    delete process.env.SCALEKIT_WEBHOOK_SECRET;
    delete process.env.SCALEKIT_INTERCEPTOR_SECRET;
    app = await NestFactory.create(AppModule, { rawBody: true, logger: false });
    await app.init(); // not listening: sendScalekitWebhook listens on a random port for each call
  });
  afterAll(() => app.close());

  it('routes directory users to the directory handler, organization.* and the audit log', async () => {
    const created = buildScalekitEvent('organization.directory.user_created', {
      data: { id: 'diruser_1', email: 'a@example.com', given_name: 'Ada', family_name: null, active: undefined },
    });
    const response = await sendScalekitWebhook(app, created, { secret: DEMO_SECRET });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });
    expect(app.get(DirectoryUsersHandler).users.get('diruser_1')).toEqual({
      email: 'a@example.com',
      name: 'Ada',
      active: true,
    });
    expect(app.get(OrganizationEventsHandler).seen).toContain('organization.directory.user_created');
    expect(app.get(AuditLogHandler).entries.map((e) => e.eventId)).toContain(created.id);

    const deleted = buildScalekitEvent('organization.directory.user_deleted', { data: { id: 'diruser_1' } });
    expect((await sendScalekitWebhook(app, deleted, { secret: DEMO_SECRET })).status).toBe(200);
    expect(app.get(DirectoryUsersHandler).users.has('diruser_1')).toBe(false);
  });

  it('rejects a delivery signed with another secret', async () => {
    const response = await sendScalekitWebhook(app, buildScalekitEvent('user.login'), {
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    expect(response.status).toBe(401);
  });

  it('denies a sign-up from the blocked domain and provisions a known domain into its organization', async () => {
    const signup = (email: string) =>
      buildScalekitInterceptorRequest('PRE_SIGNUP', { interceptor_context: { user_email: email } });
    const denied = await sendScalekitInterceptor(app, signup('eve@blocked.example'), {
      secret: DEMO_INTERCEPTOR_SECRET,
    });
    expect([denied.status, denied.decision]).toEqual([200, 'DENY']);
    expect(denied.body.error).toEqual({
      message: 'Sign-ups from this domain are not accepted',
      code: 'DOMAIN_BLOCKED',
    });

    const known = await sendScalekitInterceptor(app, signup('john.doe@acmecorp.com'), {
      secret: DEMO_INTERCEPTOR_SECRET,
    });
    expect(known.body).toEqual({
      decision: 'ALLOW',
      response: { create_organization_membership: { organization_id: 'org_58342286432109876', roles: ['member'] } },
    });
    const other = await sendScalekitInterceptor(app, signup('ada@example.com'), { secret: DEMO_INTERCEPTOR_SECRET });
    expect(other.body).toEqual({ decision: 'ALLOW' });
  });

  it('adds a plan claim to sessions, and refuses the webhook secret on the interceptor route', async () => {
    const session = await sendScalekitInterceptor(app, buildScalekitInterceptorRequest('PRE_SESSION_CREATION'), {
      secret: DEMO_INTERCEPTOR_SECRET,
    });
    expect(session.body).toEqual({ decision: 'ALLOW', response: { claims: { plan: 'pro' } } });
    const webhookSecret = await sendScalekitInterceptor(app, buildScalekitInterceptorRequest('PRE_SESSION_CREATION'), {
      secret: DEMO_SECRET,
    });
    expect(webhookSecret.status).toBe(401);
  });
});
