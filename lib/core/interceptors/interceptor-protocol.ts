import { signatureHeaderNames, type SignatureHeaderNames } from '../protocol.js';

/**
 * What interceptor calls look like on the wire, next to the webhook facts in `protocol.ts`: the same signing scheme
 * (Standard Webhooks) under the `interceptor-` header prefix, with the interceptor's own secret.
 */

/** Header prefix of interceptor calls. */
export const INTERCEPTOR_HEADER_PREFIX = 'interceptor';
/** `interceptor-id`, `interceptor-timestamp`, `interceptor-signature`. */
export const INTERCEPTOR_HEADERS: SignatureHeaderNames = signatureHeaderNames(INTERCEPTOR_HEADER_PREFIX);

/** Route of the interceptor module's endpoint, and where the testing helpers and the CLI post by default. */
export const DEFAULT_INTERCEPTOR_PATH = 'scalekit/interceptors';

/**
 * The handler's time budget. Scalekit's dashboard example waits 5 s; 4 s leaves room for the network, so the
 * configured failure answer still arrives before Scalekit gives up.
 */
export const DEFAULT_INTERCEPTOR_TIMEOUT_MS = 4000;

/** Largest accepted interceptor body (as for webhooks: 1 MiB). */
export const DEFAULT_INTERCEPTOR_MAX_BODY_BYTES = 1024 * 1024;
