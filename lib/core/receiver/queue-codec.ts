import type { AnyScalekitEvent } from '../envelope.js';
import type { ScalekitQueueJob } from '../queue/scalekit-queue.js';
import type { ScalekitTraceCarrier } from '../telemetry/scalekit-telemetry.js';
import type { ScalekitDelivery } from './delivery.js';

/**
 * The one codec of a queued delivery: the receiver encodes what it enqueues, the worker decodes what it runs. The
 * job is JSON (dates as ISO 8601 strings); `trace` carries the delivery's trace context when telemetry is on.
 */
export function encodeScalekitQueueJob(
  event: AnyScalekitEvent,
  delivery: ScalekitDelivery,
  trace?: ScalekitTraceCarrier,
): ScalekitQueueJob {
  return {
    event,
    delivery: {
      webhookId: delivery.webhookId,
      timestamp: delivery.timestamp.toISOString(),
      receivedAt: delivery.receivedAt.toISOString(),
      headers: { ...delivery.headers },
      ...(delivery.endpoint === undefined ? {} : { endpoint: delivery.endpoint }),
    },
    ...(trace === undefined ? {} : { trace }),
  };
}

/** The `ScalekitDelivery` of a queued job for its `attempt` (from 1), dates restored. */
export function decodeScalekitQueueJob(job: ScalekitQueueJob, attempt: number): ScalekitDelivery {
  const { delivery } = job;
  return {
    webhookId: delivery.webhookId,
    timestamp: new Date(delivery.timestamp),
    receivedAt: new Date(delivery.receivedAt),
    headers: { ...delivery.headers },
    ...(delivery.endpoint === undefined ? {} : { endpoint: delivery.endpoint }),
    job: { attempt },
  };
}
