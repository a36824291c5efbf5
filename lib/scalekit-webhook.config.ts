import { ScalekitWebhookError, ScalekitWebhookVerifier } from './core/index.js';
import { DEFAULT_MAX_BODY_BYTES } from './scalekit-webhook.constants.js';
import type { ScalekitWebhookModuleOptions } from './scalekit-webhook.interfaces.js';

/**
 * The checked settings of one registration. Built once at start-up from the module options, so a bad secret,
 * tolerance or size limit stops the app with a clear message. Holds no secret in readable form.
 */
export class ScalekitWebhookConfig {
  readonly verifier: ScalekitWebhookVerifier;
  readonly maxBodyBytes: number;

  constructor(
    options: ScalekitWebhookModuleOptions,
    readonly endpoint: string | undefined,
  ) {
    if (options === null || typeof options !== 'object') {
      throw new ScalekitWebhookError('invalid_options', 'ScalekitWebhookModule needs options: { secret: "whsec_…" }');
    }
    this.verifier = new ScalekitWebhookVerifier(options);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isSafeInteger(this.maxBodyBytes) || this.maxBodyBytes <= 0) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `Scalekit webhook maxBodyBytes must be a positive whole number of bytes (got ${String(options.maxBodyBytes)})`,
      );
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      toleranceSeconds: this.verifier.toleranceSeconds,
      maxBodyBytes: this.maxBodyBytes,
      secret: '[hidden]',
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ScalekitWebhookConfig ${JSON.stringify(this.toJSON())}`;
  }
}
