/**
 * `nestjs-scalekit-webhooks/testing`: build valid Scalekit events and deliver them, signed, to the app under test.
 *
 * ```ts
 * const event = buildScalekitEvent('organization.directory.user_created', { data: { email: 'ada@example.com' } });
 * const res = await sendScalekitWebhook(app, event, { secret: 'whsec_…' });
 * expect(res.status).toBe(200);
 * ```
 *
 * Free of `@nestjs/testing` and of any HTTP client: it works with whatever test runner and app factory you use.
 */
export {
  buildScalekitEvent,
  type DeepPartial,
  type ScalekitEventOverrides,
  type ScalekitEventTypeInput,
  scalekitExampleTypes,
} from './build-event.js';
export { SCALEKIT_EVENT_EXAMPLES } from './examples.js';
export {
  describeIdempotencyStoreContract,
  type IdempotencyStoreContractHarness,
  type IdempotencyStoreContractOptions,
  type IdempotencyStoreContractRunner,
} from './idempotency-store-contract.js';
export {
  type ScalekitWebhookResponse,
  type ScalekitWebhookTarget,
  type SendScalekitWebhookOptions,
  sendScalekitWebhook,
} from './send.js';
export { type SignedScalekitWebhook, type SignScalekitWebhookInput, signScalekitWebhook } from '../core/sign.js';
export type { AnyScalekitEvent, ScalekitEvent } from '../core/envelope.js';
export type { ScalekitEventType } from '../core/catalogue.js';
export {
  buildScalekitInterceptorRequest,
  type ScalekitInterceptorRequestOverrides,
} from './build-interceptor-request.js';
export { SCALEKIT_INTERCEPTOR_EXAMPLES } from './interceptor-examples.js';
export { sendScalekitInterceptor } from './send-interceptor.js';
export type {
  ScalekitInterceptorCallResponse,
  SendScalekitInterceptorOptions,
} from '../core/interceptors/interceptor-send.js';
export {
  type SignedScalekitInterceptor,
  type SignScalekitInterceptorInput,
  signScalekitInterceptor,
} from '../core/interceptors/interceptor-sign.js';
