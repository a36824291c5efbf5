import { ScalekitWebhookError } from '../errors.js';

/**
 * What a receiver decided about one signed call, as plain data. Adapters (the Nest controller and guard, the CLI's
 * `node:http` server, tests) only write it: they never decide a status themselves, and never ask the receiver
 * afterwards how it got there.
 */
export interface ScalekitReceiverOutcome<B = unknown> {
  readonly status: number;
  /** Extra response headers (`Retry-After`, …). The body is always JSON. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: B;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** A 2xx outcome with a JSON body. */
export function scalekitOutcome<B>(status: number, body: B, headers = NO_HEADERS): ScalekitReceiverOutcome<B> {
  return { status, headers, body };
}

/**
 * The outcome of a failure: a {@link ScalekitWebhookError} keeps its status, public body (never which signature
 * check failed) and headers; anything else is a `500 handler_failed` (its message stays in the logs).
 */
export function scalekitOutcomeOfError(error: unknown): ScalekitReceiverOutcome {
  const known =
    error instanceof ScalekitWebhookError
      ? error
      : new ScalekitWebhookError('handler_failed', error instanceof Error ? error.message : String(error), {
          cause: error,
        });
  return { status: known.status, headers: known.headers, body: known.toResponseBody() };
}
