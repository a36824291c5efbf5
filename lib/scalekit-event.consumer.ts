import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError } from './core/describe-error.js';
import type { ScalekitDelivery } from './core/receiver/delivery.js';
import { decodeScalekitQueueJob } from './core/receiver/queue-codec.js';
import type { ScalekitJobFailureInfo, ScalekitQueue, ScalekitQueueJob } from './core/queue/index.js';
import { ScalekitEventDispatcher } from './scalekit-event.dispatcher.js';
import type { ScalekitTelemetry } from './core/telemetry/scalekit-telemetry.js';
import { SCALEKIT_LOGGER_CONTEXT, SCALEKIT_TELEMETRY } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';

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
 * Queue mode, the job consumer: runs the queue's workers, turning each job back into `(event, delivery)` (through
 * the one queue codec) for the same dispatcher as inline mode; logs failed attempts and dead letters and calls the
 * dead-letter hook. Started and stopped by `ScalekitWebhookLifecycle`, which holds the shutdown order.
 */
@Injectable()
export class ScalekitEventConsumer {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);
  private readonly errorsLoggedAt = new Map<string, number>();

  constructor(
    @Inject(ScalekitEventDispatcher) private readonly dispatcher: ScalekitEventDispatcher,
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
    @Inject(SCALEKIT_TELEMETRY) private readonly telemetry: ScalekitTelemetry,
  ) {}

  /** Prepares the queue, then (unless this instance only enqueues) starts its workers. */
  async start(queue: ScalekitQueue): Promise<void> {
    const processing = this.config.processing;
    if (processing.mode !== 'queue') {
      return;
    }
    const where = this.config.endpoint === undefined ? '' : ` [endpoint ${this.config.endpoint}]`;
    const name = queue.constructor.name;
    await queue.prepare?.();
    if (queue.durable === false) {
      this.logger.warn(
        `${name} is not durable: queued events are lost if the process stops; use BullMqScalekitQueue in production${where}`,
      );
    }
    if (!processing.workers) {
      this.logger.log(`Queue mode (${name}): this instance enqueues only, workers run elsewhere${where}`);
      return;
    }
    await queue.startWorkers((job, attempt) => this.run(job, attempt), {
      onFailed: (job, error, info) => this.failed(job, error, info),
      onError: (error) => this.workerError(error),
    });
    this.logger.log(
      `Queue mode (${name}): ${this.config.receiver ? 'receiving and processing' : 'worker only, no endpoint'}${where}`,
    );
  }

  /** Workers stop taking jobs (active ones finish or go back to the queue), while enqueueing still works. */
  async stop(queue: ScalekitQueue): Promise<void> {
    if (!queue.stopWorkers || this.config.processing.mode !== 'queue' || !this.config.processing.workers) {
      return;
    }
    try {
      await queue.stopWorkers({ timeoutMs: this.config.shutdownTimeoutMs });
    } catch (error) {
      this.logger.error(`Could not stop the queue workers: ${describeError(error)}`);
    }
  }

  /** One attempt at a job: the same dispatch as inline mode, with a fresh request object for request-scoped handlers. */
  private async run(job: ScalekitQueueJob, attempt: number): Promise<void> {
    const delivery = decodeScalekitQueueJob(job, attempt);
    const request: ScalekitJobRequest = { headers: delivery.headers, scalekitJob: { eventId: job.event.id, attempt } };
    const ids = { webhookId: delivery.webhookId, eventId: job.event.id, eventType: job.event.type };
    await this.telemetry.job(ids, job.trace, async () =>
      this.dispatcher.dispatch(job.event, delivery, this.dispatcher.scopeFor(request)),
    );
  }

  private async failed(job: ScalekitQueueJob, error: unknown, info: ScalekitJobFailureInfo): Promise<void> {
    const { event } = job;
    if (!info.final) {
      this.logger.warn(
        `Event ${event.id} (${event.type}) failed attempt ${info.attemptsMade}: ${describeError(error)}; it will be retried`,
      );
      return;
    }
    this.telemetry.deadLetter(event.type);
    this.logger.error(
      `Event ${event.id} (${event.type}) failed its last attempt (${info.attemptsMade}): ${describeError(error)}. Dead-lettered: it is not retried again`,
    );
    const onFailed = this.config.processing.mode === 'queue' ? this.config.processing.onFailed : undefined;
    if (!onFailed) {
      return;
    }
    try {
      await onFailed(event, error, { ...info, delivery: decodeScalekitQueueJob(job, info.attemptsMade) });
    } catch (hookError) {
      this.logger.error(`The onFailed hook threw for event ${event.id}: ${describeError(hookError)}`);
    }
  }

  private workerError(error: unknown): void {
    const message = describeError(error);
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
}
