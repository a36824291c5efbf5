import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { describeError, stackOf } from './core/describe-error.js';
import { ScalekitWebhookError } from './core/index.js';
import { SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { ScalekitOutcomeException, ScalekitWebhookHttpException } from './scalekit-webhook.exception.js';

/**
 * Answers every error on the webhook route itself. Being scoped to the controller, it takes precedence over the
 * host app's global filters, which therefore cannot turn a rejected delivery into a 2xx.
 */
@Catch()
@Injectable()
export class ScalekitWebhookExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    if (!(exception instanceof HttpException) && !(exception instanceof ScalekitWebhookError)) {
      this.logger.error(`Unexpected error on the webhook route: ${describeError(exception)}`, stackOf(exception));
    }
    const http = ScalekitWebhookHttpException.from(exception);
    const headers =
      http instanceof ScalekitWebhookHttpException
        ? http.error.headers
        : http instanceof ScalekitOutcomeException
          ? http.outcome.headers
          : {};
    for (const [name, value] of Object.entries(headers)) {
      adapter.setHeader(response, name, value);
    }
    const body = http.getResponse();
    adapter.reply(
      response,
      typeof body === 'string' ? { statusCode: http.getStatus(), message: body } : body,
      http.getStatus(),
    );
  }
}
