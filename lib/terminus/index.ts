export { ScalekitWebhookHealthIndicator } from './scalekit-webhook.health-indicator.js';
export type {
  ScalekitHealthCheckOptions,
  ScalekitHealthDetails,
  ScalekitHealthStatus,
} from '../core/health/scalekit-health.js';
