import { Logger, type Provider } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  IdempotencyGate,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  ScalekitWebhookVerifier,
} from './core/index.js';
import type { ScalekitQueue } from './core/queue/index.js';
import { ScalekitWebhookReceiver } from './core/receiver/webhook-receiver.js';
import { ScalekitEventConsumer } from './scalekit-event.consumer.js';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { SCALEKIT_LOGGER_CONTEXT, SCALEKIT_TELEMETRY } from './scalekit-webhook.constants.js';
import { loadScalekitTelemetry, type ScalekitTelemetry } from './core/telemetry/scalekit-telemetry.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import type { ScalekitWebhookModuleOptions } from './interfaces/scalekit-webhook.interfaces.js';
import { ScalekitWebhookLifecycle } from './scalekit-webhook.lifecycle.js';
import {
  getScalekitIdempotencyStoreToken,
  getScalekitQueueToken,
  getScalekitVerifierToken,
} from './scalekit-webhook.tokens.js';

const RAW_BODY_MISSING =
  'req.rawBody is not set, so the signature cannot be verified over the bytes Scalekit signed. ' +
  'Create the app with `NestFactory.create(AppModule, { rawBody: true })` (Express and Fastify alike) and do not ' +
  'pass `bodyParser: false`; a custom JSON body parser must keep the raw body (`app.useBodyParser("json", { limit })` does).';

/**
 * The resources of one registration, each a provider under its own token (so users can inject and override them),
 * and the receiver and lifecycle built on them. Every factory injects the checked config first, so a bad option
 * stops the app with the config's message before any resource is made.
 */
export function scalekitRegistrationProviders(optionsToken: string, name: string | undefined): Provider[] {
  const storeToken = getScalekitIdempotencyStoreToken(name);
  const queueToken = getScalekitQueueToken(name);
  const verifierToken = getScalekitVerifierToken(name);
  return [
    // Loaded at start-up: a no-op when @opentelemetry/api is absent or no SDK is registered by then.
    { provide: SCALEKIT_TELEMETRY, useFactory: () => loadScalekitTelemetry() },
    {
      provide: verifierToken,
      useFactory: (options: ScalekitWebhookModuleOptions, _config: ScalekitWebhookConfig) =>
        new ScalekitWebhookVerifier(options),
      inject: [optionsToken, ScalekitWebhookConfig],
    },
    {
      provide: storeToken,
      useFactory: (options: ScalekitWebhookModuleOptions, config: ScalekitWebhookConfig): IdempotencyStore | null =>
        config.idempotency ? ((options.idempotency || undefined)?.store ?? new MemoryIdempotencyStore()) : null,
      inject: [optionsToken, ScalekitWebhookConfig],
    },
    {
      provide: queueToken,
      useFactory: (options: ScalekitWebhookModuleOptions, config: ScalekitWebhookConfig): ScalekitQueue | null =>
        config.processing.mode === 'queue' && typeof options.processing === 'object' ? options.processing.queue : null,
      inject: [optionsToken, ScalekitWebhookConfig],
    },
    {
      provide: ScalekitWebhookReceiver,
      useFactory: (
        config: ScalekitWebhookConfig,
        verifier: ScalekitWebhookVerifier,
        store: IdempotencyStore | null,
        queue: ScalekitQueue | null,
        dispatcher: ScalekitEventDispatcher,
        telemetry: ScalekitTelemetry,
      ) =>
        new ScalekitWebhookReceiver({
          verifier,
          maxBodyBytes: config.maxBodyBytes,
          ...(config.idempotency && store
            ? {
                idempotency: new IdempotencyGate(store, {
                  leaseMs: config.idempotency.leaseMs,
                  ttlMs: config.idempotency.ttlMs,
                }),
              }
            : {}),
          ...(config.processing.mode === 'queue' && queue ? { queue } : {}),
          responseTimeoutMs: config.responseTimeoutMs,
          shutdownTimeoutMs: config.shutdownTimeoutMs,
          ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
          dispatcher,
          logger: new Logger(SCALEKIT_LOGGER_CONTEXT),
          debugEnabled: () => Logger.isLevelEnabled('debug'),
          rawBodyMissing: RAW_BODY_MISSING,
          telemetry,
        }),
      inject: [
        ScalekitWebhookConfig,
        verifierToken,
        storeToken,
        queueToken,
        ScalekitEventDispatcher,
        SCALEKIT_TELEMETRY,
      ],
    },
    {
      provide: ScalekitWebhookLifecycle,
      useFactory: (
        config: ScalekitWebhookConfig,
        receiver: ScalekitWebhookReceiver,
        consumer: ScalekitEventConsumer,
        store: IdempotencyStore | null,
        queue: ScalekitQueue | null,
        discovery: DiscoveryService,
      ) => new ScalekitWebhookLifecycle(config, receiver, consumer, store, queue, discovery),
      inject: [
        ScalekitWebhookConfig,
        ScalekitWebhookReceiver,
        ScalekitEventConsumer,
        storeToken,
        queueToken,
        DiscoveryService,
      ],
    },
  ];
}
