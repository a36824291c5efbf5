import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ScalekitWebhookError } from './core/index.js';
import { describeError } from './core/describe-error.js';
import {
  BullMqScalekitQueue,
  type ScalekitJobFailureInfo,
  type ScalekitQueue,
  type ScalekitQueueJob,
} from './core/queue/index.js';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import { SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import type { ScalekitDelivery } from './scalekit-webhook.interfaces.js';

/**
 * What `@Inject(REQUEST)` gives a request-scoped handler in queue mode: a fresh object per job, so each job gets
 * its own instances, like each HTTP delivery does.
 */
export interface ScalekitJobRequest {
  headers: ScalekitDelivery['headers'];
  scalekitJob: { eventId: string; attempt: number };
}

/** One log line per distinct worker error message per this many milliseconds (Redis down: one per reconnect). */
const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * Queue mode: runs the queue's workers (at bootstrap, once discovery has built the routing table), turning each job
 * back into `(event, delivery)` for the same dispatcher as inline mode; logs failed attempts and dead letters and
 * calls the dead-letter hook; on shutdown stops the workers first (their active jobs finish or go back to the
 * queue) and closes the queue last, after the endpoint stopped accepting deliveries.
 */
@Injectable()
export class ScalekitEventWorker
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);
  private readonly errorsLoggedAt = new Map<string, number>();

  constructor(
    @Inject(ScalekitEventDispatcher) private readonly dispatcher: ScalekitEventDispatcher,
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
  ) {}

  private get queue(): ScalekitQueue | undefined {
    return this.config.processing.mode === 'queue' ? this.config.processing.queue : undefined;
  }

  /** Refuses two registrations of one app on the same queue: each worker would run the other's events. */
  onModuleInit(): void {
    const queue = this.queue;
    if (!queue) {
      return;
    }
    const others = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((i): i is ScalekitWebhookConfig => i instanceof ScalekitWebhookConfig && i !== this.config);
    for (const other of new Set(others)) {
      const theirs = other.processing.mode === 'queue' ? other.processing.queue : undefined;
      if (theirs !== undefined && sameQueue(queue, theirs)) {
        throw new ScalekitWebhookError(
          'invalid_options',
          'Two ScalekitWebhookModule registrations use the same queue: give each its own (for BullMqScalekitQueue, its own `queueName`)',
        );
      }
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const processing = this.config.processing;
    if (processing.mode !== 'queue') {
      return;
    }
    const where = this.config.endpoint === undefined ? '' : ` [endpoint ${this.config.endpoint}]`;
    const name = processing.queue.constructor.name;
    await processing.queue.prepare?.();
    if (processing.queue.durable === false) {
      this.logger.warn(
        `${name} is not durable: queued events are lost if the process stops; use BullMqScalekitQueue in production${where}`,
      );
    }
    if (!processing.workers) {
      this.logger.log(`Queue mode (${name}): this instance enqueues only, workers run elsewhere${where}`);
      return;
    }
    await processing.queue.startWorkers((job, attempt) => this.run(job, attempt), {
      onFailed: (job, error, info) => this.failed(job, error, info),
      onError: (error) => this.workerError(error),
    });
    this.logger.log(
      `Queue mode (${name}): ${this.config.receiver ? 'receiving and processing' : 'worker only, no endpoint'}${where}`,
    );
  }

  /** One attempt at a job: the same dispatch as inline mode, with a fresh request object for request-scoped handlers. */
  private async run(job: ScalekitQueueJob, attempt: number): Promise<void> {
    const delivery = toDelivery(job, attempt);
    const request: ScalekitJobRequest = { headers: delivery.headers, scalekitJob: { eventId: job.event.id, attempt } };
    await this.dispatcher.dispatch(job.event, delivery, request);
  }

  private async failed(job: ScalekitQueueJob, error: unknown, info: ScalekitJobFailureInfo): Promise<void> {
    const { event } = job;
    if (!info.final) {
      this.logger.warn(
        `Event ${event.id} (${event.type}) failed attempt ${info.attemptsMade}: ${errorMessage(error)}; it will be retried`,
      );
      return;
    }
    this.logger.error(
      `Event ${event.id} (${event.type}) failed its last attempt (${info.attemptsMade}): ${errorMessage(error)}. Dead-lettered: it is not retried again`,
    );
    const onFailed = this.config.processing.mode === 'queue' ? this.config.processing.onFailed : undefined;
    if (!onFailed) {
      return;
    }
    try {
      await onFailed(event, error, { ...info, delivery: toDelivery(job, info.attemptsMade) });
    } catch (hookError) {
      this.logger.error(`The onFailed hook threw for event ${event.id}: ${errorMessage(hookError)}`);
    }
  }

  private workerError(error: unknown): void {
    const message = errorMessage(error);
    const now = Date.now();
    const last = this.errorsLoggedAt.get(message);
    if (last !== undefined && now - last < ERROR_LOG_INTERVAL_MS) {
      return;
    }
    if (this.errorsLoggedAt.size > 100) {
      this.errorsLoggedAt.clear();
    }
    this.errorsLoggedAt.set(message, now);
    this.logger.error(`Queue workers: ${message}`);
  }

  /** First shutdown hook: workers stop taking jobs, while the endpoint still accepts (and enqueues) deliveries. */
  async onModuleDestroy(): Promise<void> {
    const queue = this.queue;
    if (!queue?.stopWorkers || this.config.processing.mode !== 'queue' || !this.config.processing.workers) {
      return;
    }
    try {
      await queue.stopWorkers({ timeoutMs: this.config.shutdownTimeoutMs });
    } catch (error) {
      this.logger.error(`Could not stop the queue workers: ${errorMessage(error)}`);
    }
  }

  /** Last: the HTTP server is closed and in-flight deliveries are drained, so nothing enqueues any more. */
  async onApplicationShutdown(): Promise<void> {
    const queue = this.queue;
    if (!queue) {
      return;
    }
    try {
      await queue.close({ timeoutMs: this.config.shutdownTimeoutMs });
    } catch (error) {
      this.logger.error(`Could not close the queue: ${errorMessage(error)}`);
    }
  }
}

/** The `ScalekitDelivery` of a queued job, dates restored. */
function toDelivery(job: ScalekitQueueJob, attempt: number): ScalekitDelivery {
  const { delivery } = job;
  return {
    webhookId: delivery.webhookId,
    timestamp: new Date(delivery.timestamp),
    receivedAt: new Date(delivery.receivedAt),
    headers: { ...delivery.headers },
    ...(delivery.endpoint === undefined ? {} : { endpoint: delivery.endpoint }),
    job: { attempt },
  };
}

function sameQueue(a: ScalekitQueue, b: ScalekitQueue): boolean {
  if (a === b) {
    return true;
  }
  return (
    a instanceof BullMqScalekitQueue &&
    b instanceof BullMqScalekitQueue &&
    a.queueName === b.queueName &&
    a.prefix === b.prefix
  );
}

function errorMessage(error: unknown): string {
  return describeError(error);
}
