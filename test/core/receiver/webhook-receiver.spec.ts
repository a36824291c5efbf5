import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AnyScalekitEvent,
  IdempotencyGate,
  MemoryIdempotencyStore,
  ScalekitWebhookError,
  ScalekitWebhookVerifier,
} from '../../../lib/core/index.js';
import { InMemoryScalekitQueue, type ScalekitQueueJob } from '../../../lib/core/queue/index.js';
import type { ScalekitDelivery } from '../../../lib/core/receiver/delivery.js';
import type { ScalekitHandlerScope } from '../../../lib/core/receiver/handler-port.js';
import { decodeScalekitQueueJob, encodeScalekitQueueJob } from '../../../lib/core/receiver/queue-codec.js';
import {
  ScalekitWebhookReceiver,
  type ScalekitWebhookReceiverOptions,
} from '../../../lib/core/receiver/webhook-receiver.js';
import { eventOf, OTHER_SECRET, SECRET, signed } from '../../support/events.js';

// The framework-free receiver on its own, as the CLI drives it: no Nest, no HTTP server. The e2e suites drive the
// same receiver through the Nest guard and controller on both platforms.

interface Harness {
  receiver: ScalekitWebhookReceiver;
  dispatched: Array<{ event: AnyScalekitEvent; delivery: ScalekitDelivery; scope: ScalekitHandlerScope | undefined }>;
  lines: string[];
  /** Makes the next dispatches wait until the returned function is called, or fail with `fail`. */
  behaviour: { hold?: Promise<void>; fail?: Error };
}

function receiverWith(options: Partial<ScalekitWebhookReceiverOptions> = {}): Harness {
  const dispatched: Harness['dispatched'] = [];
  const lines: string[] = [];
  const behaviour: Harness['behaviour'] = {};
  const record = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const receiver = new ScalekitWebhookReceiver({
    verifier: new ScalekitWebhookVerifier({ secret: SECRET }),
    maxBodyBytes: 10_000,
    idempotency: new IdempotencyGate(new MemoryIdempotencyStore(), { leaseMs: 60_000, ttlMs: 600_000 }),
    responseTimeoutMs: 5_000,
    shutdownTimeoutMs: 200,
    endpoint: 'production',
    dispatcher: {
      dispatch: async (event, delivery, scope) => {
        dispatched.push({ event, delivery, scope });
        await behaviour.hold;
        if (behaviour.fail) {
          throw new ScalekitWebhookError('handler_failed', behaviour.fail.message);
        }
      },
    },
    logger: { log: record('log'), warn: record('warn'), error: record('error'), debug: record('debug') },
    ...options,
  });
  return { receiver, dispatched, lines, behaviour };
}

/** Verifies and receives one signed copy of `event`, as an adapter does. */
async function deliver(h: Harness, event: unknown, scope?: ScalekitHandlerScope, secret = SECRET) {
  const s = signed(event, { secret });
  const rawBody = Buffer.from(s.body);
  const headers = { ...s.headers, 'content-type': 'application/json', 'content-length': String(rawBody.length) };
  const delivery = h.receiver.verify({ headers, rawBody });
  return h.receiver.receive({ rawBody, delivery, ...(scope ? { scope } : {}) });
}

describe('ScalekitWebhookReceiver.verify', () => {
  const h = receiverWith({ rawBodyMissing: 'keep the raw body' });
  const body = Buffer.from(JSON.stringify(eventOf('user.login')));
  const good = signed(JSON.parse(body.toString()) as unknown);

  const verifyError = (request: Parameters<ScalekitWebhookReceiver['verify']>[0]): ScalekitWebhookError => {
    try {
      h.receiver.verify(request);
    } catch (error) {
      return error as ScalekitWebhookError;
    }
    throw new Error('verify did not throw');
  };

  it('returns the delivery, with the endpoint name and the signed timestamp', () => {
    const rawBody = Buffer.from(good.body);
    const delivery = h.receiver.verify({ headers: { ...good.headers, 'content-type': 'application/json' }, rawBody });
    expect(delivery.webhookId).toBe(good.headers['webhook-id']);
    expect(delivery.endpoint).toBe('production');
    expect(delivery.timestamp.getTime()).toBe(Number(good.headers['webhook-timestamp']) * 1000);
  });

  it('checks the size first, then the media type, then the raw body, then the signature', () => {
    expect(verifyError({ headers: { 'content-length': '10001' }, rawBody: undefined }).code).toBe('payload_too_large');
    expect(verifyError({ headers: { 'content-type': 'text/plain' }, rawBody: body }).code).toBe(
      'unsupported_media_type',
    );
    const missing = verifyError({
      headers: { 'content-type': 'application/json', 'content-length': '5' },
      rawBody: undefined,
    });
    expect([missing.code, missing.message]).toEqual(['raw_body_missing', 'keep the raw body']);
    const forged = signed(JSON.parse(body.toString()) as unknown, { secret: OTHER_SECRET });
    const bad = verifyError({ headers: { ...forged.headers, 'content-type': 'application/json' }, rawBody: body });
    expect(bad.status).toBe(401);
  });
});

describe('ScalekitWebhookReceiver.receive: the status decision, as plain data', () => {
  it('inline: 200 {"received":true}; a retry of a done event is 200 without a second dispatch; the scope is handed through', async () => {
    const h = receiverWith();
    const scope: ScalekitHandlerScope = { resolve: async () => ({}) as never };
    const event = eventOf('user.login');
    expect(await deliver(h, event, scope)).toEqual({ status: 200, headers: {}, body: { received: true } });
    expect(await deliver(h, event, scope)).toEqual({ status: 200, headers: {}, body: { received: true } });
    expect(h.dispatched).toHaveLength(1);
    expect(h.dispatched[0]!.scope).toBe(scope);
    expect(h.dispatched[0]!.event.id).toBe(event.id);
  });

  it('queue mode: 202 {"received":true,"queued":true} for the first copy and for a retry; the job is the codec\'s', async () => {
    const queue = new InMemoryScalekitQueue();
    const jobs: ScalekitQueueJob[] = [];
    queue.enqueue = async (job) => {
      jobs.push(job);
    };
    const h = receiverWith({ queue });
    const event = eventOf('user.login');
    const queued = { status: 202, headers: {}, body: { received: true, queued: true } };
    expect(await deliver(h, event)).toEqual(queued);
    expect(await deliver(h, event)).toEqual(queued);
    expect(h.dispatched).toHaveLength(0);
    expect(jobs).toHaveLength(1);
    const delivery = decodeScalekitQueueJob(jobs[0]!, 2);
    expect(delivery.job).toEqual({ attempt: 2 });
    expect(delivery.endpoint).toBe('production');
    expect(encodeScalekitQueueJob(jobs[0]!.event, delivery)).toEqual(jobs[0]);
    await queue.close();
  });

  it('failures are outcomes too: 400 invalid payload, 500 handler_failed, 409 in_flight, 503 at the deadline', async () => {
    const h = receiverWith({ responseTimeoutMs: 100 });
    const invalid = await deliver(h, { hello: 'world' });
    expect([invalid.status, (invalid.body as { error: string }).error]).toEqual([400, 'invalid_payload']);

    h.behaviour.fail = new Error('boom');
    const failed = await deliver(h, eventOf('user.login'));
    expect(failed).toEqual({
      status: 500,
      headers: {},
      body: { statusCode: 500, error: 'handler_failed', message: 'Webhook handler failed' },
    });
    h.behaviour.fail = undefined;

    let release!: () => void;
    h.behaviour.hold = new Promise((resolve) => (release = resolve));
    const slow = eventOf('user.login');
    const late = await deliver(h, slow);
    expect([late.status, (late.body as { error: string }).error, late.headers['Retry-After']]).toEqual([
      503,
      'handler_timeout',
      '10',
    ]);
    const retry = await deliver(h, slow);
    expect([retry.status, (retry.body as { error: string }).error]).toEqual([409, 'in_flight']);
    release();
    h.behaviour.hold = undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await deliver(h, slow)).status).toBe(200); // done meanwhile: acknowledged without a second run
    expect(h.dispatched.filter((d) => d.event.id === slow.id)).toHaveLength(1);
  });

  it('synchronous handlers: answered in the same way without waiting (a throw releases the claim, so the retry runs them again)', async () => {
    const runs: string[] = [];
    let fail = true;
    const h = receiverWith({
      dispatcher: {
        dispatch: (event) => {
          runs.push(event.id);
          if (fail) {
            throw new ScalekitWebhookError('handler_failed', 'sync failure');
          }
        },
      },
    });
    const event = eventOf('user.login');
    const failed = await deliver(h, event);
    expect([failed.status, (failed.body as { error: string }).error]).toEqual([500, 'handler_failed']);
    fail = false;
    expect((await deliver(h, event)).status).toBe(200);
    expect((await deliver(h, event)).status).toBe(200);
    expect(runs).toEqual([event.id, event.id]);
    const started = Date.now();
    await h.receiver.drain(); // nothing was left in flight
    expect(Date.now() - started).toBeLessThan(100);
    expect(h.lines.filter((line) => line.startsWith('log Shutting down'))).toEqual([]);
  });

  it('drain: a delivery still running at the shutdown deadline is answered 503 and its claim released; new ones are refused', async () => {
    const h = receiverWith();
    h.behaviour.hold = new Promise(() => {}); // never settles
    const event = eventOf('user.login');
    const pending = deliver(h, event);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.receiver.drain();
    const answered = await pending;
    expect([answered.status, (answered.body as { error: string }).error, answered.headers['Retry-After']]).toEqual([
      503,
      'shutting_down',
      '5',
    ]);
    expect(h.lines).toContainEqual(expect.stringMatching(/^warn Released the claim on event evt_/));
    const refused = await deliver(h, eventOf('user.login'));
    expect([refused.status, (refused.body as { error: string }).error]).toEqual([503, 'shutting_down']);
  });
});

describe('the receiver core', () => {
  it('imports nothing from @nestjs', () => {
    const dir = join(process.cwd(), 'lib/core/receiver');
    for (const file of readdirSync(dir)) {
      expect({ file, nest: /from '@nestjs\//.test(readFileSync(join(dir, file), 'utf8')) }).toEqual({
        file,
        nest: false,
      });
    }
  });
});
