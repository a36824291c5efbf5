import { SetMetadata } from '@nestjs/common';
import { SCALEKIT_ENDPOINT_METADATA } from '../scalekit-webhook.constants.js';

/**
 * On a route (or controller) guarded by `ScalekitWebhookGuard`: verify with the secret of the registration named
 * `name` (the `name` given to `forRoot`/`forRootAsync`). Without it, the guard uses the registration it was
 * injected from, which is the first one imported when there are several.
 */
export const ScalekitWebhookEndpoint = (name: string): ClassDecorator & MethodDecorator => {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('@ScalekitWebhookEndpoint() needs the name of a ScalekitWebhookModule registration');
  }
  return SetMetadata(SCALEKIT_ENDPOINT_METADATA, name);
};
