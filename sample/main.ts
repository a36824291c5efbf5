import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  buildScalekitEvent,
  buildScalekitInterceptorRequest,
  sendScalekitInterceptor,
  signScalekitWebhook,
} from 'nestjs-scalekit-webhooks/testing';
import { AppModule, DEMO_INTERCEPTOR_SECRET, DEMO_SECRET } from './app.module.js';

/**
 * Starts the sample on PORT (default 3000), then posts one signed example event to itself so you can see it
 * verified and routed. `--once` exits after the demo delivery (used by CI).
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Sample');
  const secret = process.env.SCALEKIT_WEBHOOK_SECRET || DEMO_SECRET;
  if (!process.env.SCALEKIT_WEBHOOK_SECRET) {
    logger.warn(`SCALEKIT_WEBHOOK_SECRET is not set: using the demo secret ${DEMO_SECRET} (local use only)`);
  }
  // rawBody: true is required: signatures are computed over the exact bytes Scalekit sent.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { rawBody: true });
  // Express's JSON limit (100 kb) is below the module's maxBodyBytes (1 MiB); the module warns at start-up until raised.
  app.useBodyParser('json', { limit: '1mb' });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const url = `${await app.getUrl()}/webhooks/scalekit`.replace('[::1]', '127.0.0.1');
  logger.log(`Receiving Scalekit webhooks at POST ${url}`);

  // The catalogue's example for this type, with a fresh event id and the current time.
  const event = buildScalekitEvent('organization.directory.user_created', {
    data: { email: 'dayton.jaquelin@example.com', given_name: 'Dayton', family_name: 'Jaquelin' },
  });
  const { rawBody, headers } = signScalekitWebhook({ secret, payload: event });
  logger.log(`Sending a signed ${event.type} example to ${url}`);
  const response = await fetch(url, { method: 'POST', headers, body: rawBody });
  logger.log(`Scalekit would see: ${response.status} ${await response.text()}`);

  // Two interceptor calls, signed with the interceptor's secret: one sign-up allowed, one denied.
  const interceptorSecret = process.env.SCALEKIT_INTERCEPTOR_SECRET || DEMO_INTERCEPTOR_SECRET;
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const decisions: string[] = [];
  for (const email of ['john.doe@acmecorp.com', 'eve@blocked.example']) {
    const request = buildScalekitInterceptorRequest('PRE_SIGNUP', { interceptor_context: { user_email: email } });
    const answer = await sendScalekitInterceptor(base, request, { secret: interceptorSecret });
    decisions.push(answer.decision ?? `status ${answer.status}`);
    logger.log(`PRE_SIGNUP for ${email}: Scalekit would see ${answer.status} ${answer.text}`);
  }

  if (process.argv.includes('--once')) {
    await app.close();
    process.exit(response.status === 200 && decisions.join(',') === 'ALLOW,DENY' ? 0 : 1);
  }
  logger.log('Try it yourself: send another signed event, or stop with Ctrl+C');
}

void bootstrap();
