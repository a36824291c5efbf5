import { isJsonObject, kindOf, withoutExcerpt } from './interceptor-json.js';
import type { ScalekitInterceptorRequestBody } from './interceptor-types.js';

/** Longest accepted `trigger_point`. */
export const MAX_INTERCEPTOR_TRIGGER_LENGTH = 256;

/** The outcome of parsing a request body. The codes are the webhook error table's (both are HTTP 400). */
export type ScalekitInterceptorRequestParse =
  | { ok: true; request: ScalekitInterceptorRequestBody }
  | {
      ok: false;
      /** `invalid_json`: not UTF-8 JSON; `invalid_payload`: JSON, but not an interceptor request. */
      code: 'invalid_json' | 'invalid_payload';
      /** One line per problem, safe to log and to answer with (no body content is quoted). */
      problems: string[];
    };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and parses an interceptor request body. The only requirement beyond "a JSON object" is a non-empty string
 * `trigger_point` (at most {@link MAX_INTERCEPTOR_TRIGGER_LENGTH} characters), because it routes the request to its
 * handler. Everything else is kept exactly as sent and not checked: Scalekit lets a user reshape the body with a
 * request template, and such a body must still reach a handler that accepts it (so `display_name`,
 * `interceptor_context` and `data` may be missing). Unknown trigger points are accepted. Never throws.
 */
export function parseScalekitInterceptorRequest(raw: Buffer | Uint8Array | string): ScalekitInterceptorRequestParse {
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else if (ArrayBuffer.isView(raw)) {
    // Not `instanceof Uint8Array`: a Buffer from another realm (jest's sandbox, a worker) would fail that test.
    try {
      text = UTF8.decode(raw);
    } catch {
      return { ok: false, code: 'invalid_json', problems: ['body is not valid UTF-8'] };
    }
  } else {
    return { ok: false, code: 'invalid_payload', problems: [`body is missing (got ${kindOf(raw)})`] };
  }

  if (text.trim().length === 0) {
    return { ok: false, code: 'invalid_payload', problems: ['body is empty'] };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = withoutExcerpt(error instanceof Error ? error.message : String(error));
    return { ok: false, code: 'invalid_json', problems: [`body is not valid JSON: ${reason}`] };
  }

  if (!isJsonObject(parsed)) {
    return { ok: false, code: 'invalid_payload', problems: [`body must be a JSON object (got ${kindOf(parsed)})`] };
  }

  const trigger = Object.hasOwn(parsed, 'trigger_point') ? parsed.trigger_point : undefined;
  const problem =
    trigger === undefined
      ? 'trigger_point is required (it routes the request; a request template must keep it)'
      : typeof trigger !== 'string'
        ? `trigger_point must be a string (got ${kindOf(trigger)})`
        : trigger.length === 0
          ? 'trigger_point must not be empty'
          : trigger.length > MAX_INTERCEPTOR_TRIGGER_LENGTH
            ? `trigger_point must be at most ${MAX_INTERCEPTOR_TRIGGER_LENGTH} characters long`
            : undefined;
  if (problem !== undefined) {
    return { ok: false, code: 'invalid_payload', problems: [problem] };
  }
  return { ok: true, request: parsed as ScalekitInterceptorRequestBody };
}
