import fc from 'fast-check';
import { createHmac } from 'node:crypto';

// ---------------------------------------------------------------------------------------------------------------
// Secrets and signing
// ---------------------------------------------------------------------------------------------------------------

export interface SigningSecret {
  /** The HMAC key: the decoded base64 part of the secret. */
  key: Buffer;
  /** The secret as configured (`whsec_<base64>`, unpadded, without prefix, with surrounding spaces). */
  text: string;
}

export function secretOf(
  key: Uint8Array,
  form: 'prefixed' | 'unpadded' | 'bare' | 'spaced' = 'prefixed',
): SigningSecret {
  const bytes = Buffer.from(key);
  const b64 = bytes.toString('base64');
  const text =
    form === 'prefixed'
      ? `whsec_${b64}`
      : form === 'unpadded'
        ? `whsec_${b64.replace(/=+$/, '')}`
        : form === 'bare'
          ? b64
          : `  whsec_${b64}\t`;
  return { key: bytes, text };
}

/** A random `whsec_` secret: 1 to 64 key bytes (short keys exist in official vectors), in one of its accepted forms. */
export const secretArb: fc.Arbitrary<SigningSecret> = fc
  .record({
    key: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 24, maxLength: 32 })),
    form: fc.constantFrom('prefixed', 'prefixed', 'unpadded', 'bare', 'spaced' as const),
  })
  .map(({ key, form }) => secretOf(key, form));

/** `base64(HMAC-SHA256(key, "<id>.<ts>." + body))`, computed here, not by the library. */
export function hmacBase64(key: Buffer, id: string, timestamp: string, body: Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}
