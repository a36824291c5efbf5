import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { buildScalekitEvent, sendScalekitWebhook } from 'nestjs-scalekit-webhooks/testing';
import { PLATFORMS } from '../support/app.js';
import { SECRET } from '../support/events.js';
import { CallLog, DirectoryHandlers } from '../support/handlers.js';

// The README's "Testing your handlers" example: Nest's testing module, app.init() (no listen), the two helpers.
describe.each(PLATFORMS)('README example with Test.createTestingModule (%s)', (platform) => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
      providers: [CallLog, DirectoryHandlers],
    }).compile();
    app =
      platform === 'express'
        ? moduleRef.createNestApplication({ rawBody: true, logger: false })
        : moduleRef.createNestApplication(new FastifyAdapter(), { rawBody: true, logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('delivers a built event to the handlers in three lines', async () => {
    const event = buildScalekitEvent('organization.directory.user_created', {
      data: { id: 'diruser_1', email: 'ada@example.com' },
    });
    const res = await sendScalekitWebhook(app, event, { secret: SECRET });
    expect(res.status).toBe(200);
    const call = app.get(CallLog).calls.find((c) => c.handler === 'userCreated');
    expect(call?.event.data).toMatchObject({ id: 'diruser_1', email: 'ada@example.com', given_name: 'Dayton' });
  });
});
