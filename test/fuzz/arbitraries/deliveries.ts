import fc from 'fast-check';
import { MAX_VALID_ENTRIES } from './webhook-headers.js';
import { hmacBase64 } from './secrets-and-signing.js';
import { type Casing, casingArb, recase, webhookIdArb } from './small-arbitraries.js';
import { type BodyPlan, bodyPlanArb, buildBody, type BuiltBody } from './bodies.js';
import { decoyArb, type DecoyPlan, decoyText } from './signature-header-entries.js';

// ---------------------------------------------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------------------------------------------

export type HeaderValue = string | string[] | number;
export type HeaderEntry = [name: string, value: HeaderValue];

export interface DeliveryPlan {
  body: BodyPlan;
  webhookId: string;
  /** Where in the window the timestamp lies: -1 is the oldest accepted, +1 the newest. */
  offset: number;
  /** Indices (modulo the number of configured keys) of the keys that sign: one valid entry each. */
  signers: number[];
  /** Keys that are not configured: their signatures are decoys. */
  foreignKeys: Uint8Array[];
  decoys: DecoyPlan[];
  /** Sort keys that order the signature entries. */
  entryOrder: number[];
  /** Spaces between entries (1–3), and around the whole value. */
  separators: number[];
  pad: [number, number];
  casings: [Casing, Casing, Casing, Casing];
  contentType: string;
  extraHeaders: [string, string][];
  headerOrder: number[];
  /** Core only: give the timestamp header as a number, like some frameworks do. */
  timestampAsNumber: boolean;
}

const EXTRA_HEADER_NAMES = [
  'x-request-id',
  'user-agent',
  'accept',
  'webhook-idx',
  'x-webhook-id',
  'webhook-signatures',
  'webhook-timestamp-ms',
  'svix-id',
  'svix-signature',
  'x-scalekit-signature',
  'interceptor-signature',
];
const PRINTABLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));

export const deliveryPlanArb = (bodyArb: fc.Arbitrary<BodyPlan> = bodyPlanArb): fc.Arbitrary<DeliveryPlan> =>
  fc.record({
    body: bodyArb,
    webhookId: webhookIdArb,
    offset: fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(-1, 1, 0) },
      { weight: 4, arbitrary: fc.double({ min: -1, max: 1, noNaN: true }) },
    ),
    signers: fc.array(fc.nat(7), { minLength: 1, maxLength: 3 }),
    foreignKeys: fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 2 }),
    decoys: fc.array(decoyArb, { maxLength: 10 }),
    entryOrder: fc.array(fc.nat(1000), { minLength: MAX_VALID_ENTRIES, maxLength: MAX_VALID_ENTRIES }),
    separators: fc.array(
      fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }),
      {
        minLength: MAX_VALID_ENTRIES,
        maxLength: MAX_VALID_ENTRIES,
      },
    ),
    pad: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    casings: fc.tuple(casingArb, casingArb, casingArb, casingArb),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
    ),
    extraHeaders: fc.uniqueArray(
      fc.tuple(
        fc.constantFrom(...EXTRA_HEADER_NAMES),
        fc.string({ unit: fc.constantFrom(...PRINTABLE), minLength: 1, maxLength: 40 }),
      ),
      { maxLength: 3, selector: ([name]) => name },
    ),
    headerOrder: fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 }),
    timestampAsNumber: fc.oneof(
      { weight: 9, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });

export interface BuildContext {
  /** The configured keys (the verifier's secrets). */
  keys: readonly Buffer[];
  /** "Now" in Unix seconds, as the signer sees it. */
  nowSeconds: number;
  /** Timestamps are drawn from [now − window, now + window]. */
  windowSeconds: number;
  mode: 'core' | 'http';
  bodyLimit: number;
  uniqueSuffix?: string;
}

export interface Delivery {
  id: string;
  timestamp: string;
  body: BuiltBody;
  signature: string;
  /** The entries of `signature` that are valid for the configured keys. */
  validEntries: string[];
  entryCount: number;
  headers: HeaderEntry[];
}

export function orderBy<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, key: keys[i % keys.length]! * 64 + i }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

/** Builds the bytes and headers of a valid delivery from a plan. */
export function buildDelivery(plan: DeliveryPlan, ctx: BuildContext): Delivery {
  const body = buildBody(plan.body, ctx.bodyLimit, ctx.uniqueSuffix);
  const window = Math.floor(ctx.windowSeconds);
  const timestamp = String(ctx.nowSeconds + Math.trunc(plan.offset * window));
  const id = plan.webhookId;
  const sign = (key: Buffer, ts = timestamp) => `v1,${hmacBase64(key, id, ts, body.bytes)}`;

  const configured = new Set(ctx.keys.map((key) => sign(key)));
  const valid = plan.signers.map((i) => sign(ctx.keys[i % ctx.keys.length]!));
  const resign = (ts: string) => sign(ctx.keys[0]!, ts);
  const others = [
    ...plan.foreignKeys.map((key) => sign(Buffer.from(key))),
    ...plan.decoys.map((decoy) => decoyText(decoy, valid[0]!, resign, timestamp)),
  ].filter((entry) => !configured.has(entry) && entry.length > 0);
  const entries = orderBy([...valid, ...others].slice(0, MAX_VALID_ENTRIES), plan.entryOrder);
  // Leading and trailing spaces too: the verifier must tolerate them (and HTTP strips them on the way).
  const signature =
    ' '.repeat(plan.pad[0]) +
    entries.map((entry, i) => (i === 0 ? '' : ' '.repeat(plan.separators[i]!)) + entry).join('') +
    ' '.repeat(plan.pad[1]);

  const [idCase, tsCase, sigCase, typeCase] = plan.casings;
  const headers: HeaderEntry[] = orderBy(
    [
      [recase('content-type', typeCase), plan.contentType] as HeaderEntry,
      [recase('webhook-id', idCase), id],
      [
        recase('webhook-timestamp', tsCase),
        ctx.mode === 'core' && plan.timestampAsNumber ? Number(timestamp) : timestamp,
      ],
      [recase('webhook-signature', sigCase), signature],
      ...plan.extraHeaders.map(([name, value]) => [name, value] as HeaderEntry),
    ],
    plan.headerOrder,
  );
  return {
    id,
    timestamp,
    body,
    signature,
    validEntries: entries.filter((entry) => configured.has(entry)),
    entryCount: entries.length,
    headers,
  };
}
