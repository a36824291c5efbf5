import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------------------------
// Small arbitraries
// ---------------------------------------------------------------------------------------------------------------

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const base62Arb = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...BASE62), minLength: min, maxLength: max });

/** Printable ASCII without space and comma: what a `webhook-id` may be. */
const ID_CHARS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter(
  (c) => c !== ',',
);

/** A `webhook-id`: mostly Svix-like `msg_…`, sometimes any printable ASCII up to the 256-character limit. */
export const webhookIdArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: base62Arb(10, 32).map((s) => `msg_${s}`) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 250, maxLength: 256 }) },
);

/** A name re-cased: all lower, all upper, Title-Case, or a random mask. */
export type Casing = 'lower' | 'upper' | 'title' | number;
export const casingArb: fc.Arbitrary<Casing> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Casing>('lower') },
  { weight: 1, arbitrary: fc.constant<Casing>('upper') },
  { weight: 2, arbitrary: fc.constant<Casing>('title') },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 0x3fffff }) },
);

export function recase(name: string, casing: Casing): string {
  if (casing === 'lower') {
    return name.toLowerCase();
  }
  if (casing === 'upper') {
    return name.toUpperCase();
  }
  if (casing === 'title') {
    return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
  }
  return [...name].map((c, i) => ((casing >> (i % 22)) & 1 ? c.toUpperCase() : c.toLowerCase())).join('');
}

/** Texts that break parsers: whitespace of every kind, NUL and control bytes, separators, unicode, latin-1. */
export const nastyTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ' ',
    '  ',
    '\t',
    '\r\n',
    '\n',
    '\r',
    '\v',
    '\f',
    '\0',
    '\0\0\0',
    '\x7f',
    '\x1b[0m',
    '\u00a0',
    '\u2028',
    '\u2029',
    '\ufeff',
    '\u200b',
    '\u0130',
    '\u212a',
    'é',
    'ÿ',
    '\u00ad',
    '日本',
    '🚀',
    '\ud800',
    '\udfff',
    ',',
    ', ',
    ';',
    '=',
    '==',
    '.',
    '..',
    '+',
    '-',
    '/',
    '_',
    '0',
    '00',
    'v1,',
    ' v1,',
    '%00',
    '\\',
    '"',
    "'",
    '<script>',
    '${',
    '__proto__',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }),
);
