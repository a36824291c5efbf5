import {
  type BeforeApplicationShutdown,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { describeError } from './core/describe-error.js';
import { type IdempotencyStore, ScalekitWebhookError } from './core/index.js';
import type { ScalekitQueue } from './core/queue/index.js';
import type { ScalekitWebhookReceiver } from './core/receiver/webhook-receiver.js';
import type { ScalekitEventConsumer } from './scalekit-event.consumer.js';
import { SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import type { ScalekitWebhookConfig } from './scalekit-webhook.config.js';

/**
 * The start-up and shutdown of one registration, in one place. On shutdown, in this order:
 * 1. (`onModuleDestroy`) the queue's workers stop taking jobs; the endpoint still accepts and enqueues deliveries;
 * 2. (`beforeApplicationShutdown`) the receiver refuses new deliveries and drains those in flight, answering and
 *    releasing the claims of those still running at `shutdownTimeoutSeconds`;
 * 3. (`onApplicationShutdown`, once the HTTP server is closed and nothing enqueues any more) the idempotency store and
 *    the queue are closed, together.
 */
export class ScalekitWebhookLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  constructor(
    private readonly config: ScalekitWebhookConfig,
    private readonly receiver: ScalekitWebhookReceiver,
    private readonly consumer: ScalekitEventConsumer,
    private readonly store: IdempotencyStore | null,
    /** The registration's queue, in queue mode. */
    readonly queue: ScalekitQueue | null,
    private readonly discovery: DiscoveryService,
  ) {}

  /** Refuses two registrations of one app on the same queue: each one's workers would run the other's events. */
  onModuleInit(): void {
    const queue = this.queue;
    if (!queue) {
      return;
    }
    const others = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((i): i is ScalekitWebhookLifecycle => i instanceof ScalekitWebhookLifecycle && i !== this);
    for (const other of new Set(others)) {
      if (other.queue && (other.queue === queue || (queue.id !== undefined && other.queue.id === queue.id))) {
        throw new ScalekitWebhookError(
          'invalid_options',
          'Two ScalekitWebhookModule registrations use the same queue: give each its own (for BullMqScalekitQueue, its own `queueName`)',
        );
      }
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.queue) {
      await this.consumer.start(this.queue);
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.queue) {
      await this.consumer.stop(this.queue);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.receiver.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.closeStore(), this.closeQueue()]);
  }

  private async closeStore(): Promise<void> {
    await this.store?.close?.();
  }

  private async closeQueue(): Promise<void> {
    if (!this.queue) {
      return;
    }
    try {
      await this.queue.close({ timeoutMs: this.config.shutdownTimeoutMs });
    } catch (error) {
      this.logger.error(`Could not close the queue: ${describeError(error)}`);
    }
  }
}
