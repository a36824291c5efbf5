import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { signScalekitWebhook } from 'nestjs-scalekit-webhooks';
import { AppModule, DEMO_SECRET } from '../app.module.js';
import { AuditLogHandler } from '../audit-log.handler.js';
import { DirectoryUsersHandler } from '../directory-users.handler.js';
import { OrganizationEventsHandler } from '../organization-events.handler.js';

describe('sample app', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    delete process.env.SCALEKIT_WEBHOOK_SECRET;
    app = await NestFactory.create(AppModule, { rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/webhooks/scalekit`;
  });
  afterAll(() => app.close());

  const post = (payload: object, secret = DEMO_SECRET) => {
    const { rawBody, headers } = signScalekitWebhook({ secret, payload });
    return fetch(url, { method: 'POST', headers, body: rawBody });
  };
  const envelope = (type: string, data: object) => ({
    spec_version: '1',
    id: `evt_${type.replace(/\W/g, '')}${Math.random().toString(36).slice(2)}`,
    type,
    object: 'DirectoryUser',
    occurred_at: '2025-01-06T18:44:25.153954Z',
    environment_id: 'env_1',
    organization_id: 'org_1',
    data,
  });

  it('routes directory users to the directory handler, organization.* and the audit log', async () => {
    const created = envelope('organization.directory.user_created', { id: 'diruser_1', email: 'a@example.com', given_name: 'Ada' });
    const response = await post(created);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });
    expect(app.get(DirectoryUsersHandler).users.get('diruser_1')).toEqual({ email: 'a@example.com', name: 'Ada', active: true });
    expect(app.get(OrganizationEventsHandler).seen).toContain('organization.directory.user_created');
    expect(app.get(AuditLogHandler).entries.map((e) => e.eventId)).toContain(created.id);

    expect((await post(envelope('organization.directory.user_deleted', { id: 'diruser_1' }))).status).toBe(200);
    expect(app.get(DirectoryUsersHandler).users.has('diruser_1')).toBe(false);
  });

  it('rejects a delivery signed with another secret', async () => {
    const response = await post(envelope('user.login', {}), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(response.status).toBe(401);
  });
});
