import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------------------------
// Signature header entries
// ---------------------------------------------------------------------------------------------------------------

export type DecoyKind =
  | 'random-v1'
  | 'v1a'
  | 'v2'
  | 'short-v1'
  | 'long-v1'
  | 'junk'
  | 'valid-other-version'
  | 'valid-truncated'
  | 'valid-swapcase'
  | 'valid-base64url'
  | 'valid-unpadded'
  | 'valid-noncanonical'
  | 'valid-hex'
  | 'other-timestamp';

export interface DecoyPlan {
  kind: DecoyKind;
  bytes: Uint8Array;
  junk: string;
}

const JUNK_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=,.;:_-'];
export const decoyArb: fc.Arbitrary<DecoyPlan> = fc.record({
  kind: fc.constantFrom<DecoyKind>(
    'random-v1',
    'random-v1',
    'v1a',
    'v2',
    'short-v1',
    'long-v1',
    'junk',
    'valid-other-version',
    'valid-truncated',
    'valid-swapcase',
    'valid-base64url',
    'valid-unpadded',
    'valid-noncanonical',
    'valid-hex',
    'other-timestamp',
  ),
  bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  junk: fc.string({ unit: fc.constantFrom(...JUNK_CHARS), minLength: 1, maxLength: 40 }),
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A decoy entry: never valid for the content it sits beside (checked by the caller), never containing a space. */
export function decoyText(
  plan: DecoyPlan,
  valid: string,
  resign: (timestamp: string) => string,
  timestamp: string,
): string {
  const sig = valid.slice(3);
  const random32 = Buffer.from(plan.bytes.subarray(0, 32)).toString('base64');
  switch (plan.kind) {
    case 'random-v1':
      return `v1,${random32}`;
    case 'v1a':
      return `v1a,${Buffer.from(plan.bytes).toString('base64')}`;
    case 'v2':
      return `v2,${random32}`;
    case 'short-v1':
      return `v1,${random32.slice(0, 1 + (plan.bytes[0]! % 42))}`;
    case 'long-v1':
      return `v1,${Buffer.from(plan.bytes.subarray(0, 33 + (plan.bytes[0]! % 31))).toString('base64')}`;
    case 'junk':
      return plan.junk.endsWith(',') ? `${plan.junk}x` : plan.junk;
    case 'valid-other-version':
      return `${['v2', 'v1a', 'V1', 'v0', 'v11', 'v1b'][plan.bytes[0]! % 6]},${sig}`;
    case 'valid-truncated':
      return `v1,${sig.slice(0, sig.length - 1 - (plan.bytes[0]! % 10))}`;
    case 'valid-swapcase':
      return `v1,${[...sig].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')}`;
    case 'valid-base64url':
      return `v1,-${sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
    case 'valid-unpadded':
      return `v1,${sig.replace(/=+$/, '')}`;
    case 'valid-noncanonical': {
      // The last character of a 32-byte base64 carries 2 padding bits: changing them decodes to the same bytes.
      const last = sig[sig.length - 2]!;
      const index = B64.indexOf(last);
      const other = B64[(index & ~3) | (1 + (plan.bytes[0]! % 3))]!;
      return `v1,${sig.slice(0, -2)}${other}=`;
    }
    case 'valid-hex':
      return `v1,${Buffer.from(sig, 'base64').toString('hex')}`;
    case 'other-timestamp':
      return resign(String(Number(timestamp) + 1 + (plan.bytes[0]! % 5)));
  }
}
