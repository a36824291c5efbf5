/**
 * Every failure the receiver can report, with its HTTP status in one table.
 *
 * Verification failures (401) carry a precise `message` for logs, but responses only ever show the generic
 * {@link publicMessage} so that an attacker learns nothing about which check failed.
 */
export type ScalekitWebhookErrorCode =
  | 'missing_headers'
  | 'invalid_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'raw_body_missing'
  | 'invalid_json'
  | 'invalid_payload'
  | 'handler_failed'
  | 'in_flight'
  | 'handler_timeout'
  | 'store_unavailable'
  | 'shutting_down'
  | 'queue_unavailable'
  | 'invalid_options';

interface ErrorKind {
  readonly status: number;
  /** What a response body may say. Never the detail of a signature failure. */
  readonly publicMessage: string;
  /** The `error` field of the response body, when it must not reveal the code. */
  readonly publicCode?: string;
}

const SIGNATURE_FAILURE: ErrorKind = {
  status: 401,
  publicMessage: 'Webhook signature verification failed',
  publicCode: 'signature_verification_failed',
};

/** The one place where error codes map to HTTP status codes. */
export const SCALEKIT_WEBHOOK_ERRORS: Readonly<Record<ScalekitWebhookErrorCode, ErrorKind>> = Object.freeze({
  missing_headers: { status: 400, publicMessage: 'Missing webhook headers' },
  invalid_headers: { status: 400, publicMessage: 'Invalid webhook headers' },
  invalid_timestamp: { status: 400, publicMessage: 'Invalid webhook-timestamp header' },
  timestamp_too_old: SIGNATURE_FAILURE,
  timestamp_too_new: SIGNATURE_FAILURE,
  no_matching_signature: SIGNATURE_FAILURE,
  payload_too_large: { status: 413, publicMessage: 'Webhook payload too large' },
  unsupported_media_type: { status: 415, publicMessage: 'Webhook payload must be sent as application/json' },
  // Scalekit shows this body in its delivery log, often the first place the app's owner looks: say how to fix it.
  raw_body_missing: {
    status: 500,
    publicMessage:
      'Webhook receiver misconfigured: raw request body unavailable. Create the Nest app with rawBody: true: NestFactory.create(AppModule, { rawBody: true })',
  },
  invalid_json: { status: 400, publicMessage: 'Webhook payload is not valid JSON' },
  invalid_payload: { status: 400, publicMessage: 'Webhook payload is not a valid Scalekit event' },
  handler_failed: { status: 500, publicMessage: 'Webhook handler failed' },
  in_flight: { status: 409, publicMessage: 'This event is already being processed' },
  handler_timeout: { status: 503, publicMessage: 'Webhook handlers are still running: retry later' },
  store_unavailable: { status: 503, publicMessage: 'Webhook receiver temporarily unavailable' },
  shutting_down: { status: 503, publicMessage: 'Webhook receiver is shutting down' },
  queue_unavailable: { status: 503, publicMessage: 'Webhook queue temporarily unavailable' },
  invalid_options: { status: 500, publicMessage: 'Webhook receiver misconfigured' },
});

export interface ScalekitWebhookErrorOptions {
  /** Detail lines safe to show the sender (payload validation problems, missing header names). */
  problems?: readonly string[];
  /** Extra response headers (for example `Retry-After`). */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

export class ScalekitWebhookError extends Error {
  override readonly name = 'ScalekitWebhookError';
  readonly status: number;
  readonly problems: readonly string[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ScalekitWebhookErrorCode,
    message: string,
    options: ScalekitWebhookErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = SCALEKIT_WEBHOOK_ERRORS[code].status;
    this.problems = options.problems ?? [];
    this.headers = options.headers ?? {};
  }

  /** The message a response may carry: generic for signature failures, specific otherwise. */
  get publicMessage(): string {
    return SCALEKIT_WEBHOOK_ERRORS[this.code].publicMessage;
  }

  /** The JSON body the HTTP layer sends for this error. */
  toResponseBody(): { statusCode: number; error: string; message: string; problems?: readonly string[] } {
    return {
      statusCode: this.status,
      error: SCALEKIT_WEBHOOK_ERRORS[this.code].publicCode ?? this.code,
      message: this.publicMessage,
      ...(this.problems.length > 0 ? { problems: this.problems } : {}),
    };
  }
}

export function isScalekitWebhookError(value: unknown): value is ScalekitWebhookError {
  return value instanceof ScalekitWebhookError;
}
