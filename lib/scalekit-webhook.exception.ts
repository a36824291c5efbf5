import { HttpException } from '@nestjs/common';
import { describeError } from './core/describe-error.js';
import { ScalekitWebhookError } from './core/index.js';
import type { ScalekitReceiverOutcome } from './core/receiver/outcome.js';

/**
 * The HTTP form of a {@link ScalekitWebhookError}: its status, and a body that never says which signature check
 * failed. Thrown by the guard, so it also answers correctly on a user's own route.
 */
export class ScalekitWebhookHttpException extends HttpException {
  constructor(readonly error: ScalekitWebhookError) {
    super(error.toResponseBody(), error.status, { cause: error });
  }

  static from(error: unknown): HttpException {
    if (error instanceof HttpException) {
      return error;
    }
    if (error instanceof ScalekitWebhookError) {
      return new ScalekitWebhookHttpException(error);
    }
    return new ScalekitWebhookHttpException(
      new ScalekitWebhookError('handler_failed', describeError(error), {
        cause: error,
      }),
    );
  }
}

/** A failure outcome of the receiver, on its way to the route's exception filter, which writes it as is. */
export class ScalekitOutcomeException extends HttpException {
  constructor(readonly outcome: ScalekitReceiverOutcome) {
    super(outcome.body as Record<string, unknown>, outcome.status);
  }
}
