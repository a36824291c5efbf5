import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { ScalekitEventExplorer } from './scalekit-event.explorer.js';
import { ScalekitEventConsumer } from './scalekit-event.consumer.js';
import { ScalekitWebhookReceiver } from './core/receiver/webhook-receiver.js';
import { ScalekitBodyLimitCheck } from './scalekit-webhook.body-limit.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import { ScalekitWebhookGuard } from './scalekit-webhook.guard.js';
import { ConfigurableScalekitWebhookModule } from './scalekit-webhook.module-definition.js';

/**
 * Receives Scalekit webhooks: `ScalekitWebhookModule.forRoot({ secret })` (or `forRootAsync`) registers a verified
 * endpoint and routes events to `@OnScalekitEvent()` methods, at once (inline) or through a queue and its workers.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ScalekitBodyLimitCheck,
    ScalekitEventDispatcher,
    ScalekitEventExplorer,
    ScalekitEventConsumer,
    ScalekitWebhookGuard,
  ],
  exports: [ScalekitWebhookGuard, ScalekitWebhookConfig, ScalekitEventDispatcher, ScalekitWebhookReceiver],
})
export class ScalekitWebhookModule extends ConfigurableScalekitWebhookModule {}
