import { createParamDecorator, type ExecutionContext, Logger } from '@nestjs/common';
import { describeError } from '../core/describe-error.js';
import { parseScalekitEventPayload, ScalekitWebhookError } from '../core/index.js';
import { LogLimiter } from '../core/log-limiter.js';
import { SCALEKIT_DELIVERY_KEY, SCALEKIT_LOGGER_CONTEXT } from '../scalekit-webhook.constants.js';
import { ScalekitWebhookHttpException } from '../scalekit-webhook.exception.js';
import type { ScalekitWebhookRequest } from '../scalekit-webhook.guard.js';

const logger = new Logger(SCALEKIT_LOGGER_CONTEXT);
/** Routes already reported, so that a misconfigured route logs its fix once, not once per request. */
const reported = new Set<string>();
const MAX_REPORTED = 100;
const refusals = new LogLimiter();

/**
 * The verified delivery the guard left on the request. Without it the request was never verified (the route lacks
 * `ScalekitWebhookGuard`): refuse, rather than hand forged input to user code as a verified event.
 */
function verifiedDelivery(context: ExecutionContext, decorator: string) {
  const request = context.switchToHttp().getRequest<ScalekitWebhookRequest>();
  const delivery = request[SCALEKIT_DELIVERY_KEY];
  if (delivery === undefined) {
    const route = `${context.getClass()?.name ?? '?'}.${context.getHandler()?.name ?? '?'}`;
    const message = `${decorator} on ${route} found no verified delivery: the route lacks ScalekitWebhookGuard. Add @UseGuards(ScalekitWebhookGuard) to the route (or its controller); answered 500`;
    if (!reported.has(route) && reported.size < MAX_REPORTED) {
      reported.add(route);
      logger.error(message);
    }
    throw new ScalekitWebhookHttpException(new ScalekitWebhookError('invalid_options', message));
  }
  return { request, delivery };
}

/**
 * On a route guarded by `ScalekitWebhookGuard`: the verified event, parsed from the raw body and validated
 * (400 with the list of problems otherwise). On a route without the guard it refuses with 500.
 * @deprecated Use {@link ScalekitEventParam} (same behaviour; a name that says it is a parameter decorator).
 */
export const ScalekitWebhookEvent = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const { request, delivery } = verifiedDelivery(context, '@ScalekitWebhookEvent()');
  try {
    return parseScalekitEventPayload(request.rawBody ?? Buffer.alloc(0));
  } catch (error) {
    // A verified delivery refused on your own route is logged like on the built-in one (never the payload).
    const code = error instanceof ScalekitWebhookError ? error.code : 'invalid_payload';
    const suppressed = refusals.take(code);
    if (suppressed !== undefined) {
      logger.warn(
        `Refused delivery ${JSON.stringify(delivery.webhookId.slice(0, 100))} with 400 ${code}: ${describeError(error)}${suppressed > 0 ? ` [${suppressed} more ${code} refusal(s) not logged]` : ''}`,
      );
    }
    throw ScalekitWebhookHttpException.from(error);
  }
});

/**
 * On a route guarded by `ScalekitWebhookGuard`: the verified `ScalekitDelivery` (500 on a route without the guard).
 * @deprecated Use {@link ScalekitDeliveryParam} (same behaviour; a name that says it is a parameter decorator).
 */
export const ScalekitWebhookDelivery = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => verifiedDelivery(context, '@ScalekitWebhookDelivery()').delivery,
);

/**
 * Parameter decorator, on a route guarded by `ScalekitWebhookGuard`: the verified event, parsed from the raw body and
 * validated (400 with the list of problems otherwise). Named like Nest's own parameter decorators (`@Body()`):
 * `@ScalekitEventParam() event: ScalekitEvent<'organization.created'>`.
 */
export const ScalekitEventParam: typeof ScalekitWebhookEvent = ScalekitWebhookEvent;

/**
 * Parameter decorator, on a route guarded by `ScalekitWebhookGuard`: the verified `ScalekitDelivery`
 * (`@ScalekitDeliveryParam() delivery: ScalekitDelivery`).
 */
export const ScalekitDeliveryParam: typeof ScalekitWebhookDelivery = ScalekitWebhookDelivery;
