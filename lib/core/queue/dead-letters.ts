/**
 * Dead letters: queued events whose last attempt failed. A durable queue keeps them (BullMQ: in its failed set) so an
 * operator can look at them and, once a fix is deployed, run them again through the same handlers or drop them.
 */

/** One dead-lettered event, as listed for an operator. Nothing of the payload beyond its id and type. */
export interface ScalekitDeadLetter {
  /** The event id (`evt_…`): what `retryFailed` and `removeFailed` take. */
  eventId: string;
  /** The id the queue stores the job under (differs from `eventId` when the queue had to encode it). */
  jobId: string;
  /** The event type. */
  type: string;
  /** Attempts made, the last failed one included. */
  attemptsMade: number;
  /** The message of the error the last attempt failed with (as the queue recorded it). */
  lastError: string;
  /** When the last attempt failed, if the queue recorded it. */
  failedAt: Date | undefined;
}

export interface ScalekitDeadLetterListOptions {
  /** How many to skip, newest first. @default 0 */
  offset?: number;
  /** How many to return at most. @default 100 */
  limit?: number;
}

export interface ScalekitDeadLetterBulkOptions {
  /** Called after each event is handled, with how many are done and how many were asked for (for a progress line). */
  onProgress?(done: number, total: number): void;
}

/** The outcome of a retry or a removal. */
export interface ScalekitDeadLetterResult {
  /** Event ids that were retried (moved back to the waiting jobs) or removed. */
  done: string[];
  /** Event ids asked for that are not dead letters (unknown, already retried, completed, or still running). */
  notFound: string[];
}

/** Every dead letter, or the ones with these event ids. */
export type ScalekitDeadLetterTarget = 'all' | readonly string[];
