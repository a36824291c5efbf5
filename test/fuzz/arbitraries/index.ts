/**
 * fast-check generators for the fuzz suites: valid signed Scalekit deliveries (as pure "plans" that are turned into
 * bytes against a clock and a set of signing keys), and mutations of them.
 *
 * Everything here is independent of the library under test: signatures are computed with node:crypto from the raw
 * key bytes, so the oracle (../oracle.ts) does not trust the library's own secret parsing or signer.
 */
export { MAX_VALID_ENTRIES, WEBHOOK_HEADERS, type WebhookHeader } from './webhook-headers.js';
export { FIXTURE_TYPES } from './fixtures.js';
export { hmacBase64, secretArb, secretOf, type SigningSecret } from './secrets-and-signing.js';
export { type Casing, casingArb, nastyTextArb, recase, webhookIdArb } from './small-arbitraries.js';
export { type BodyPlan, bodyPlanArb, buildBody, type BuiltBody, type HostilePiece, hugeBodyPlanArb } from './bodies.js';
export { decoyArb, type DecoyKind, type DecoyPlan, decoyText } from './signature-header-entries.js';
export {
  type BuildContext,
  buildDelivery,
  type Delivery,
  type DeliveryPlan,
  deliveryPlanArb,
  type HeaderEntry,
  type HeaderValue,
} from './deliveries.js';
export {
  applyMutation,
  bodyMutationArb,
  CONTENT_TYPES,
  describeWire,
  type ForgeKind,
  harmlessMutationArb,
  initialWire,
  isHarmless,
  type Mutation,
  mutationArb,
  type MutationContext,
  sanitizeForHttp,
  type TimestampForm,
  type Wire,
} from './mutations.js';
