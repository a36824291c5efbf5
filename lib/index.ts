/**
 * `nestjs-scalekit-webhooks`: the Nest module, its decorators, guard and types, and every name of the framework-free
 * core (`nestjs-scalekit-webhooks/core`), so a Nest app imports from one place.
 *
 * This list is deliberate: it is the public surface, documented in the README's API reference and checked against
 * the built package by `.ci/check-public-api.mjs`. Anything not exported here is internal and may change.
 */
export * from './core/public.js';
export { OnScalekitEvent } from './decorators/on-scalekit-event.decorator.js';
export type { ScalekitJobRequest } from './scalekit-event.consumer.js';
export type { ScalekitWebhookReceipt } from './scalekit-webhook.controller.js';
export { ScalekitWebhookHttpException } from './scalekit-webhook.exception.js';
export { ScalekitWebhookExceptionFilter } from './scalekit-webhook.filter.js';
export {
  ScalekitDeliveryParam,
  ScalekitEventParam,
  ScalekitWebhookDelivery,
  ScalekitWebhookEvent,
} from './decorators/scalekit-webhook-params.decorator.js';
export { ScalekitWebhookEndpoint } from './decorators/scalekit-webhook-endpoint.decorator.js';
export { ScalekitWebhookGuard, type ScalekitWebhookRequest } from './scalekit-webhook.guard.js';
export type {
  OnScalekitEventOptions,
  ScalekitDeadLetterInfo,
  ScalekitDelivery,
  ScalekitJobAttempt,
  ScalekitDeliveryJob,
  ScalekitIdempotencyOptions,
  ScalekitQueueProcessingOptions,
  ScalekitWebhookModuleExtras,
  ScalekitWebhookModuleOptions,
  ScalekitWebhookOptionsFactory,
} from './interfaces/scalekit-webhook.interfaces.js';
export type {
  ScalekitWebhookForRootAsyncOptions,
  ScalekitWebhookForRootOptions,
} from './scalekit-webhook.module-definition.js';
export { ScalekitWebhookModule } from './scalekit-webhook.module.js';
export {
  OnScalekitInterceptor,
  type ScalekitInterceptorHandlerMethod,
  type ScalekitInterceptorRequestOf,
  type ScalekitInterceptorResponseOf,
} from './decorators/on-scalekit-interceptor.decorator.js';
export type {
  ScalekitInterceptorModuleExtras,
  ScalekitInterceptorModuleOptions,
} from './interfaces/scalekit-interceptor.interfaces.js';
export type {
  ScalekitInterceptorForRootAsyncOptions,
  ScalekitInterceptorForRootOptions,
} from './interceptors/scalekit-interceptor.module-definition.js';
export { ScalekitInterceptorModule } from './interceptors/scalekit-interceptor.module.js';
export {
  getScalekitIdempotencyStoreToken,
  getScalekitQueueToken,
  getScalekitVerifierToken,
  InjectScalekitIdempotencyStore,
  InjectScalekitQueue,
  InjectScalekitVerifier,
} from './scalekit-webhook.tokens.js';
