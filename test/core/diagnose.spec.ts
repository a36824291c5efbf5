import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { diagnoseScalekitDelivery, signScalekitWebhook, verifyScalekitWebhook } from 'nestjs-scalekit-webhooks/core';
import { buildScalekitEvent } from 'nestjs-scalekit-webhooks/testing';
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
