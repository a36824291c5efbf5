import { HttpException } from '@nestjs/common';
import { describeError } from './core/describe-error.js';
import { ScalekitWebhookError } from './core/index.js';

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
