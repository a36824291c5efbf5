import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { checkScalekitHealth, type ScalekitHealthCheckOptions } from '../core/health/scalekit-health.js';
import { ScalekitWebhookReceiver } from '../core/receiver/webhook-receiver.js';
import { ScalekitWebhookConfig } from '../scalekit-webhook.config.js';

/**
 * A `@nestjs/terminus` health indicator for a `ScalekitWebhookModule` registration: the idempotency store and the
 * queue answer (a Redis `PING` for the Redis ones), this instance's workers run (when it should run them), and the
 * dead letters stay within `maxDeadLetters`. Provide it in a module that imports `TerminusModule` and sees the
 * registration, then: `this.health.check([() => this.scalekit.isHealthy('scalekit')])`.
 */
@Injectable()
export class ScalekitWebhookHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
    @Inject(ScalekitWebhookReceiver) private readonly receiver: ScalekitWebhookReceiver,
  ) {}

  async isHealthy<const Key extends string>(
    key: Key,
    options: ScalekitHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const { processing } = this.config;
    const { store, queue } = this.receiver;
    const details = await checkScalekitHealth(
      {
        ...(store ? { store } : {}),
        ...(queue ? { queue, workers: processing.mode === 'queue' && processing.workers } : {}),
      },
      options,
    );
    const { status, ...data } = details;
    return status === 'up' ? indicator.up(data) : indicator.down(data);
  }
}
