import type { IncomingHttpHeaders } from 'node:http';

/** The second argument of every handler. */
export interface ScalekitDelivery {
  /** `webhook-id`: the message id, the same on every retry of this event. */
  webhookId: string;
  /** `webhook-timestamp` of this attempt. */
  timestamp: Date;
  /** When this process received the request. */
  receivedAt: Date;
  /** The request's headers as received. */
  headers: IncomingHttpHeaders;
  /** The `name` of the endpoint that received it, when set. */
  endpoint?: string;
  /** Queue mode only: the job running the handlers. */
  job?: ScalekitJobAttempt;
}

/** In queue mode, which attempt at the event this is. */
export interface ScalekitJobAttempt {
  /** 1 for the first run, 2 for the first retry… */
  attempt: number;
}

/** @deprecated Renamed {@link ScalekitJobAttempt} (only `ScalekitDelivery` is called a delivery); this alias goes in the next minor release. */
export type ScalekitDeliveryJob = ScalekitJobAttempt;
