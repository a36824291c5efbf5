import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import {
  diagnoseScalekitDelivery,
  signScalekitInterceptor,
  signScalekitWebhook,
  verifyScalekitWebhook,
} from 'nestjs-scalekit-webhooks/core';
import { buildScalekitEvent, buildScalekitInterceptorRequest } from 'nestjs-scalekit-webhooks/testing';
import { OTHER_SECRET, SECRET } from '../support/events.js';

const event = buildScalekitEvent('organization.created');
const body = JSON.stringify(event);

function codes(diagnosis: ReturnType<typeof diagnoseScalekitDelivery>): string[] {
  return diagnosis.findings.map((f) => f.code);
}

describe('diagnoseScalekitDelivery', () => {
  it('finds an authentic delivery with a valid event valid, like verify', () => {
    const signed = signScalekitWebhook({ secret: SECRET, payload: body });
    expect(() => verifyScalekitWebhook({ secret: SECRET, payload: body, headers: signed.headers })).not.toThrow();
    const diagnosis = diagnoseScalekitDelivery({ secret: SECRET, payload: body, headers: signed.headers });
    expect(diagnosis.valid).toBe(true);
    expect(codes(diagnosis)).toEqual(['signature_valid', 'event_valid']);
    expect(diagnosis.findings[0]!.severity).toBe('ok');
  });

  it('names a re-serialised body', () => {
    const signed = signScalekitWebhook({ secret: SECRET, payload: body });
    const pretty = JSON.stringify(event, null, 2);
    const diagnosis = diagnoseScalekitDelivery({ secret: SECRET, payload: pretty, headers: signed.headers });
    expect(diagnosis.valid).toBe(false);
    expect(codes(diagnosis)).toEqual(['no_matching_signature', 'body_not_raw']);
    expect(diagnosis.findings[1]!.message).toContain('re-serialised as compact JSON');
  });

  it('names a secret used without base64-decoding, and never shows a secret', () => {
    const signed = signScalekitWebhook({ secret: SECRET, payload: body });
    const id = signed.headers['webhook-id'];
    const ts = signed.headers['webhook-timestamp'];
    const undecoded = createHmac('sha256', Buffer.from(SECRET)).update(`${id}.${ts}.${body}`).digest('base64');
    const headers = { ...signed.headers, 'webhook-signature': `v1,${undecoded}` };
    const diagnosis = diagnoseScalekitDelivery({ secret: SECRET, payload: body, headers });
    expect(codes(diagnosis)).toEqual(['no_matching_signature', 'secret_not_decoded']);
    expect(diagnosis.findings[1]!.severity).toBe('warning');
    expect(JSON.stringify(diagnosis)).not.toContain(SECRET.slice('whsec_'.length));
  });

  it('explains a too-old delivery signed with another secret with a related finding', () => {
    const signed = signScalekitWebhook({ secret: OTHER_SECRET, payload: body, timestamp: 1_600_000_000 });
    const diagnosis = diagnoseScalekitDelivery({ secret: SECRET, payload: body, headers: signed.headers });
    expect(codes(diagnosis)).toEqual(['timestamp_too_old']);
    expect(diagnosis.findings[0]!.details).toContain('the signature does not match either:');
    expect(diagnosis.findings[0]!.related?.map((f) => f.code)).toEqual(['no_matching_signature']);
  });

  it('lists missing headers, and the source it was given', () => {
    const diagnosis = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: body,
      headers: { 'svix-id': 'msg_1' },
      headersSource: 'the capture',
    });
    expect(diagnosis.findings[0]).toMatchObject({
      code: 'missing_headers',
      severity: 'error',
      message: 'missing headers: webhook-id, webhook-timestamp, webhook-signature',
    });
    expect(diagnosis.findings[0]!.details[0]).toBe('the capture has svix-id');
  });

  it('refuses a bad secret like the verifier (invalid_options)', () => {
    expect(() => diagnoseScalekitDelivery({ secret: '', payload: body, headers: {} })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});

describe("diagnoseScalekitDelivery({ kind: 'interceptor' })", () => {
  const request = JSON.stringify(buildScalekitInterceptorRequest('PRE_SIGNUP'));

  it('finds an authentic interceptor call valid, under the interceptor-* headers', () => {
    const signed = signScalekitInterceptor({ secret: SECRET, payload: request });
    const diagnosis = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: request,
      headers: signed.headers,
      kind: 'interceptor',
    });
    expect(diagnosis.valid).toBe(true);
    expect(codes(diagnosis)).toEqual(['signature_valid', 'interceptor_request_valid']);
    expect(diagnosis.findings[0]!.details[0]).toBe(`interceptor-id         ${signed.headers['interceptor-id']}`);
    expect(diagnosis.findings[1]!.message).toBe('valid interceptor request  PRE_SIGNUP');
    // The same capture is no webhook delivery, and says what it is.
    const asWebhook = diagnoseScalekitDelivery({ secret: SECRET, payload: request, headers: signed.headers });
    expect(codes(asWebhook)).toEqual(['missing_headers']);
    expect(asWebhook.findings[0]!.details).toContain(
      'hint: interceptor-* headers were found: this is an interceptor call, not a webhook delivery (check it with --interceptor)',
    );
  });

  it('names a webhook delivery sent as an interceptor call', () => {
    const signed = signScalekitWebhook({ secret: SECRET, payload: request });
    const diagnosis = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: request,
      headers: signed.headers,
      kind: 'interceptor',
    });
    expect(diagnosis.valid).toBe(false);
    expect(diagnosis.findings[0]).toMatchObject({
      code: 'missing_headers',
      message: 'missing headers: interceptor-id, interceptor-timestamp, interceptor-signature',
    });
    expect(diagnosis.findings[0]!.details).toContain(
      'an interceptor call carries interceptor-id, interceptor-timestamp and interceptor-signature (names are case-insensitive)',
    );
    expect(diagnosis.findings[0]!.details.join('\n')).toContain('webhook-* headers were found');
  });

  it('explains a call signed with another secret, a re-serialised body, a stale call and a body that is no request', () => {
    const signed = signScalekitInterceptor({ secret: OTHER_SECRET, payload: request });
    const wrong = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: request,
      headers: signed.headers,
      kind: 'interceptor',
    });
    expect(codes(wrong)).toEqual(['no_matching_signature']);
    expect(wrong.findings[0]!.details.join('\n')).toContain("is not this interceptor's signing secret");
    expect(wrong.findings[0]!.details.join('\n')).toContain('interceptor-signature has 1 entry');

    const own = signScalekitInterceptor({ secret: SECRET, payload: request });
    const pretty = JSON.stringify(JSON.parse(request), null, 2);
    const reserialised = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: pretty,
      headers: own.headers,
      kind: 'interceptor',
    });
    expect(codes(reserialised)).toEqual(['no_matching_signature', 'body_not_raw']);

    const old = signScalekitInterceptor({
      secret: SECRET,
      payload: request,
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    const stale = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: request,
      headers: old.headers,
      kind: 'interceptor',
    });
    expect(codes(stale)).toEqual(['timestamp_too_old']);
    expect(stale.findings[0]!.details.join('\n')).toContain(
      `only the time is outside the window (interceptor-id ${old.headers['interceptor-id']})`,
    );

    const noTrigger = '{"data":{}}';
    const bare = signScalekitInterceptor({ secret: SECRET, payload: noTrigger });
    const invalid = diagnoseScalekitDelivery({
      secret: SECRET,
      payload: noTrigger,
      headers: bare.headers,
      kind: 'interceptor',
    });
    expect(invalid.valid).toBe(false);
    expect(codes(invalid)).toEqual(['signature_valid', 'invalid_payload']);
    expect(invalid.findings[1]!.message).toBe(
      'the body is not an interceptor request (the module answers 400 invalid_payload):',
    );
  });
});
