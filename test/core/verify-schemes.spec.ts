import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { signatureHeaderNames, WEBHOOK_HEADERS } from '../../lib/core/protocol.js';
import { ScalekitWebhookVerifier } from '../../lib/core/verify.js';
import { ScalekitWebhookError } from '../../lib/core/errors.js';

// One verifier, two header schemes: webhooks (`webhook-*`) and interceptors (`interceptor-*`), signed alike.

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const INTERCEPTOR = signatureHeaderNames('interceptor');

/** Signs independently of the library: HMAC-SHA256 over `id.timestamp.body` with the base64-decoded secret. */
function sign(prefix: string, body: string, id = 'icp_1', timestamp = Math.floor(Date.now() / 1000)) {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(timestamp),
    [`${prefix}-signature`]: `v1,${signature}`,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ScalekitWebhookError);
    return (error as ScalekitWebhookError).code;
  }
}

describe('header schemes', () => {
  const body = '{"trigger_point":"PRE_SIGNUP"}';
  const interceptors = new ScalekitWebhookVerifier({ secret: SECRET, headerNames: INTERCEPTOR });
  const webhooks = new ScalekitWebhookVerifier({ secret: SECRET });

  it('the webhook scheme is the default', () => {
    expect(INTERCEPTOR).toEqual({
      id: 'interceptor-id',
      timestamp: 'interceptor-timestamp',
      signature: 'interceptor-signature',
    });
    expect(WEBHOOK_HEADERS).toEqual({
      id: 'webhook-id',
      timestamp: 'webhook-timestamp',
      signature: 'webhook-signature',
    });
    expect(webhooks.verify(body, sign('webhook', body, 'msg_1'))).toMatchObject({ webhookId: 'msg_1' });
  });

  it('an interceptor verifier accepts interceptor-* headers and names them in its errors', () => {
    expect(interceptors.verify(body, sign('interceptor', body, 'icp_42'))).toMatchObject({ webhookId: 'icp_42' });
    try {
      interceptors.verify(body, {});
      throw new Error('accepted');
    } catch (error) {
      expect((error as ScalekitWebhookError).code).toBe('missing_headers');
      expect((error as ScalekitWebhookError).message).toBe('Missing all interceptor headers');
    }
    const old = sign('interceptor', body, 'icp_1', Math.floor(Date.now() / 1000) - 3600);
    expect(() => interceptors.verify(body, old)).toThrow(/^interceptor-timestamp is 3600s in the past/);
  });

  it('neither scheme accepts the other one’s headers, even correctly signed', () => {
    expect(codeOf(() => interceptors.verify(body, sign('webhook', body)))).toBe('missing_headers');
    expect(codeOf(() => webhooks.verify(body, sign('interceptor', body)))).toBe('missing_headers');
  });
});
