export { DEFAULT_WEBHOOK_PATH } from './core/protocol.js';

/** Metadata key under which `@OnScalekitEvent()` stores its registrations on a method. */
export const SCALEKIT_EVENT_HANDLER_METADATA = 'nestjs-scalekit-webhooks:event-handler';

/** Where the guard leaves the verified delivery on the request (shared across ESM and CJS copies). */
export const SCALEKIT_DELIVERY_KEY: unique symbol = Symbol.for('nestjs-scalekit-webhooks:delivery') as never;

/** Logger context of every line this module writes. */
export const SCALEKIT_LOGGER_CONTEXT = 'ScalekitWebhook';

/** Metadata key of `@ScalekitWebhookEndpoint(name)`: which registration's secret `ScalekitWebhookGuard` uses. */
export const SCALEKIT_ENDPOINT_METADATA = 'nestjs-scalekit-webhooks:endpoint';

/** Marks the module's own controllers, whose guard always uses their own registration. */
export const SCALEKIT_BUILT_IN_ROUTE_METADATA = 'nestjs-scalekit-webhooks:built-in-route';

/** Token of the telemetry of a registration, loaded once at start-up (no-ops without an OpenTelemetry SDK). */
export const SCALEKIT_TELEMETRY: unique symbol = Symbol('nestjs-scalekit-webhooks:telemetry') as never;
