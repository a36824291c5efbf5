import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readHeader } from '../../lib/core/headers.js';
import { signatureHeaderNames, WEBHOOK_HEADERS } from '../../lib/core/protocol.js';
import { scanHeaders } from '../../lib/core/verify.js';

/** A header name: one of the scheme's, in any case, or another name of the same or another length. */
const nameArb = fc.oneof(
  fc
    .constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature', 'interceptor-id')
    .chain((name) =>
      fc
        .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
        .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('')),
    ),
  fc.constantFrom('content-type', 'webhook-ix', 'host', 'webhook-id ', 'x'),
);
const valueArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
  fc.integer(),
  fc.constant(undefined),
);

describe('scanHeaders (the verifier reads the three headers in one pass)', () => {
  it('answers exactly what readHeader answers for each name, duplicates under other cases included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(nameArb, valueArb), { maxLength: 8 }), (entries) => {
        const record: Record<string, unknown> = {};
        for (const [name, value] of entries) record[name] = value;
        for (const names of [WEBHOOK_HEADERS, signatureHeaderNames('interceptor')]) {
          const scanned = { ...scanHeaders(record as never, names) };
          expect(scanned).toEqual({
            id: readHeader(record as never, names.id),
            timestamp: readHeader(record as never, names.timestamp),
            signature: readHeader(record as never, names.signature),
          });
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('ignores inherited keys, as readHeader does', () => {
    const record = Object.create({ 'webhook-id': 'inherited' }) as Record<string, unknown>;
    record['Webhook-Id'] = 'own';
    expect({ ...scanHeaders(record as never, WEBHOOK_HEADERS) }.id).toBe('own');
    expect(readHeader(record as never, 'webhook-id')).toBe('own');
  });
});
