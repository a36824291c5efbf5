import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createServer, type Server } from 'node:http';
import { ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { buildScalekitEvent, sendScalekitWebhook, signScalekitWebhook } from 'nestjs-scalekit-webhooks/testing';
import { closedPort } from '../support/cli-harness.js';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { nowSeconds, OTHER_SECRET, SECRET } from '../support/events.js';
import { CallLog, DirectoryHandlers } from '../support/handlers.js';

const metadata = () => ({
  imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
  providers: [CallLog, DirectoryHandlers],
});

describe.each(PLATFORMS)('sendScalekitWebhook (%s)', (platform) => {
  describe('to a listening app', () => {
    let t: TestApp;
    let log: CallLog;
    beforeAll(async () => {
      t = await startApp(platform, metadata());
      log = t.app.get(CallLog);
    });
    afterAll(() => t.close());
    beforeEach(() => log.clear());

    it('posts the exact signed bytes to the module route and returns the parsed response', async () => {
      const event = buildScalekitEvent('organization.directory.user_created', { data: { email: 'ada@example.com' } });
      const res = await sendScalekitWebhook(t.app, event, { secret: SECRET });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
      expect(res.text).toBe('{"received":true}');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.url).toBe(`${t.url}/webhooks/scalekit`);
      const call = log.calls.find((c) => c.handler === 'userCreated')!;
      expect(call.event).toEqual(event);
      expect(call.delivery.webhookId).toBe(res.sent.headers['webhook-id']);
      expect(res.sent.body).toBe(JSON.stringify(event));
      expect(t.app.getHttpServer().listening).toBe(true); // the app's own listener is left alone
    });

    it('wrong secret: the generic 401', async () => {
      const res = await sendScalekitWebhook(t.app, buildScalekitEvent('role.created'), { secret: OTHER_SECRET });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'signature_verification_failed',
        message: 'Webhook signature verification failed',
      });
      expect(log.calls).toHaveLength(0);
    });

    it('id, timestamp and headers control the delivery (retry, replay window, missing header)', async () => {
      const event = buildScalekitEvent('role.created');
      const first = await sendScalekitWebhook(t.app, event, { secret: SECRET, id: 'msg_retry_1' });
      const retry = await sendScalekitWebhook(t.app, event, { secret: SECRET, id: 'msg_retry_1' });
      expect([first.status, retry.status]).toEqual([200, 200]);
      expect(first.sent.headers['webhook-id']).toBe('msg_retry_1');
      expect(new Set(log.calls.map((c) => c.delivery.webhookId))).toEqual(new Set(['msg_retry_1']));

      const stale = await sendScalekitWebhook(t.app, buildScalekitEvent('role.created'), {
        secret: SECRET,
        timestamp: nowSeconds() - 301,
      });
      expect(stale.status).toBe(401);
      const missing = await sendScalekitWebhook(t.app, buildScalekitEvent('role.created'), {
        secret: SECRET,
        headers: { 'Webhook-Signature': undefined },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.problems).toEqual(['webhook-signature header is missing']);
    });

    it('sends a string body as it is (invalid JSON: 400); a GET is not a delivery (404)', async () => {
      const res = await sendScalekitWebhook(t.app, '{"not json', { secret: SECRET });
      expect(res.status).toBe(400); // the framework's JSON parser or the module: never a handler call
      expect(log.calls).toHaveLength(0);
      const notFound = await sendScalekitWebhook(t.url, buildScalekitEvent('role.created'), {
        secret: SECRET,
        method: 'GET',
      });
      expect(notFound.status).toBe(404);
    });

    it('to a URL: a base URL gets the default path, a full URL is used as it is, `path` is appended', async () => {
      const event = () => buildScalekitEvent('role.created');
      expect((await sendScalekitWebhook(t.url, event(), { secret: SECRET })).url).toBe(`${t.url}/webhooks/scalekit`);
      const full = await sendScalekitWebhook(`${t.url}/webhooks/scalekit`, event(), { secret: SECRET });
      expect([full.status, full.url]).toEqual([200, `${t.url}/webhooks/scalekit`]);
      const viaUrl = await sendScalekitWebhook(new URL(t.url), event(), { secret: SECRET, path: '/webhooks/scalekit' });
      expect(viaUrl.status).toBe(200);
      const wrong = await sendScalekitWebhook(t.url, event(), { secret: SECRET, path: 'elsewhere' });
      expect([wrong.status, wrong.url]).toEqual([404, `${t.url}/elsewhere`]);
      expect(log.calls.filter((c) => c.handler === 'everything')).toHaveLength(3);
    });

    it('to a listening node:http Server', async () => {
      const res = await sendScalekitWebhook(t.app.getHttpServer() as Server, buildScalekitEvent('role.created'), {
        secret: SECRET,
      });
      expect(res.status).toBe(200);
    });
  });

  describe('to an app that is not listening (as in a Test.createTestingModule suite)', () => {
    let app: INestApplication;
    beforeAll(async () => {
      @Module(metadata())
      class NotListeningModule {}
      app = await NestFactory.create(
        NotListeningModule,
        platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
        {
          rawBody: true,
          logger: false,
        },
      );
      // No app.init() and no app.listen(): the helper initialises the app and listens only for the call.
    });
    afterAll(() => app.close());

    it('listens on a random port for the call, then closes again; concurrent calls share the listener', async () => {
      const server = app.getHttpServer() as Server;
      expect(server.listening).toBe(false);
      const res = await sendScalekitWebhook(app, buildScalekitEvent('organization.created'), { secret: SECRET });
      expect(res.status).toBe(200);
      expect(res.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/scalekit$/);
      expect(server.listening).toBe(false);

      const many = await Promise.all(
        Array.from({ length: 8 }, () =>
          sendScalekitWebhook(app, buildScalekitEvent('role.created'), { secret: SECRET }),
        ),
      );
      expect(many.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(server.listening).toBe(false);
      const log = app.get(CallLog);
      expect(log.calls.filter((c) => c.handler === 'everything')).toHaveLength(9);
    });
  });
});

describe('sendScalekitWebhook to a plain node:http server', () => {
  it('returns text bodies as text, and leaves a listening server listening', async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(req.url === '/empty' ? 204 : 202, {
          'content-type': 'text/plain',
          'x-seen': req.headers['webhook-id'] as string,
        });
        res.end(req.url === '/empty' ? undefined : `got ${Buffer.concat(chunks).length} bytes`);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const event = buildScalekitEvent('user.login');
      const res = await sendScalekitWebhook(server, event, { secret: SECRET, path: '/hook', id: 'msg_plain' });
      expect(res).toMatchObject({
        status: 202,
        body: `got ${JSON.stringify(event).length} bytes`,
        text: `got ${JSON.stringify(event).length} bytes`,
      });
      expect(res.headers['x-seen']).toBe('msg_plain');
      const empty = await sendScalekitWebhook(server, event, { secret: SECRET, path: '/empty' });
      expect([empty.status, empty.body, empty.text]).toEqual([204, '', '']);
      expect(server.listening).toBe(true);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});

describe('sendScalekitWebhook errors', () => {
  it('rejects with the network error for an unreachable URL', async () => {
    const port = await closedPort();
    await expect(sendScalekitWebhook(`http://127.0.0.1:${port}`, {}, { secret: SECRET })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('refuses a missing secret, a bad target and a non-http URL', async () => {
    await expect(sendScalekitWebhook('http://127.0.0.1:1', {}, {} as never)).rejects.toThrow(/options\.secret/);
    await expect(sendScalekitWebhook({} as never, {}, { secret: SECRET })).rejects.toThrow(
      /Nest application, a node:http Server or a URL/,
    );
    await expect(sendScalekitWebhook('ftp://x', {}, { secret: SECRET })).rejects.toThrow(/only http: and https:/);
    await expect(sendScalekitWebhook('not a url', {}, { secret: SECRET })).rejects.toThrow(/not a valid URL/);
  });

  it('re-exports signScalekitWebhook', () => {
    const signed = signScalekitWebhook({
      secret: SECRET,
      payload: '{"test": 2432232314}',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
    });
    expect(signed.headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
