import { afterEach, describe, expect, it } from '@jest/globals';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { from, switchMap } from 'rxjs';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, SECRET, signed } from '../support/events.js';
import { send } from '../support/http.js';

// The guard hands each verified delivery to the built-in controller without writing on the request. A host
// interceptor that waits for I/O lets other deliveries be verified in between: each handler must still get its own.

/** Waits a different few milliseconds for each request before the route runs (a cache or rate-limit lookup, say). */
@Injectable()
class SlowHostInterceptor implements NestInterceptor {
  private calls = 0;
  intercept(_context: ExecutionContext, next: CallHandler) {
    const wait = (this.calls++ * 7) % 23;
    return from(new Promise((resolve) => setTimeout(resolve, wait))).pipe(switchMap(() => next.handle()));
  }
}

@Injectable()
class Seen {
  readonly pairs: string[] = [];
  @OnScalekitEvent('*')
  onEvent(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.pairs.push(`${event.id} ${delivery.webhookId}`);
  }
}

describe.each(PLATFORMS)('verified delivery hand-over (%s)', (platform) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('30 concurrent deliveries through a host interceptor that waits: each handler gets the delivery of its own request', async () => {
    t = await startApp(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
      providers: [Seen, { provide: APP_INTERCEPTOR, useClass: SlowHostInterceptor }],
    });
    const sent = Array.from({ length: 30 }, (_, i) => {
      const event = eventOf('organization.created');
      return { event, webhookId: `msg_handover_${i}`, signed: signed(event, { id: `msg_handover_${i}` }) };
    });
    const answers = await Promise.all(
      sent.map((s) =>
        send(`${t!.url}/webhooks/scalekit`, {
          body: s.signed.body,
          headers: { ...s.signed.headers, 'content-type': 'application/json' },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(sent.map(() => 200));
    const seen = t.app.get(Seen).pairs;
    expect([...seen].sort()).toEqual(sent.map((s) => `${s.event.id} ${s.webhookId}`).sort());
  });
});
