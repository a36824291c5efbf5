import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { parseScalekitEventPayload } from './core/index.js';
import { SCALEKIT_DELIVERY_KEY } from './scalekit-webhook.constants.js';
import { ScalekitWebhookHttpException } from './scalekit-webhook.exception.js';
import type { ScalekitWebhookRequest } from './scalekit-webhook.guard.js';

/**
 * On a route guarded by `ScalekitWebhookGuard`: the verified event, parsed from the raw body and validated
 * (400 with the list of problems otherwise).
 * @deprecated Use {@link ScalekitEventParam} (same behaviour; a name that says it is a parameter decorator).
 */
export const ScalekitWebhookEvent = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<ScalekitWebhookRequest>();
  try {
    return parseScalekitEventPayload(request.rawBody ?? Buffer.alloc(0));
  } catch (error) {
    throw ScalekitWebhookHttpException.from(error);
  }
});

/**
 * On a route guarded by `ScalekitWebhookGuard`: the verified `ScalekitDelivery`.
 * @deprecated Use {@link ScalekitDeliveryParam} (same behaviour; a name that says it is a parameter decorator).
 */
export const ScalekitWebhookDelivery = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<ScalekitWebhookRequest>()[SCALEKIT_DELIVERY_KEY],
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
