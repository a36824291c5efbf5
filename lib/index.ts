export * from './core/index.js';
export * from './core/queue/index.js';
export { OnScalekitEvent, type ScalekitEventHandlerMetadata } from './scalekit-event.decorator.js';
export { ScalekitEventDispatcher, type ScalekitEventHandler } from './scalekit-event.dispatcher.js';
export { ScalekitEventProcessor, type ScalekitProcessingOutcome } from './scalekit-event.processor.js';
export { ScalekitEventWorker, type ScalekitJobRequest } from './scalekit-event.worker.js';
export { SCALEKIT_DELIVERY_KEY, SCALEKIT_EVENT_HANDLER_METADATA } from './scalekit-webhook.constants.js';
export { ScalekitWebhookConfig, type ScalekitProcessingConfig } from './scalekit-webhook.config.js';
export type { ScalekitWebhookReceipt } from './scalekit-webhook.controller.js';
export { ScalekitWebhookHttpException } from './scalekit-webhook.exception.js';
export { ScalekitWebhookExceptionFilter } from './scalekit-webhook.filter.js';
export { ScalekitWebhookDelivery, ScalekitWebhookEvent } from './scalekit-webhook-params.decorator.js';
export { ScalekitWebhookEndpoint } from './scalekit-webhook-endpoint.decorator.js';
export { ScalekitWebhookGuard, type ScalekitWebhookRequest } from './scalekit-webhook.guard.js';
export type {
  OnScalekitEventOptions,
  ScalekitDeadLetterInfo,
  ScalekitDelivery,
  ScalekitDeliveryJob,
  ScalekitIdempotencyOptions,
  ScalekitQueueProcessingOptions,
  ScalekitWebhookModuleExtras,
  ScalekitWebhookModuleOptions,
  ScalekitWebhookOptionsFactory,
} from './scalekit-webhook.interfaces.js';
export {
  SCALEKIT_WEBHOOK_MODULE_OPTIONS,
  type ScalekitWebhookForRootAsyncOptions,
  type ScalekitWebhookForRootOptions,
} from './scalekit-webhook.module-definition.js';
export { ScalekitWebhookModule } from './scalekit-webhook.module.js';
