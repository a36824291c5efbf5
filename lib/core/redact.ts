/** Field names whose values never reach a log: `txt_record_secret`, and anything mentioning a secret or token. */
const SENSITIVE = /secret|token/i;
const REDACTED = '[redacted]';
const MAX_DEPTH = 32;

/**
 * A copy of a payload that is safe to log: values of sensitive fields are replaced, `__proto__`-style keys are
 * copied as plain data, and nesting deeper than 32 levels is cut.
 */
export function redactScalekitPayload(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (depth >= MAX_DEPTH) {
    return '[nested too deep]';
  }
  if (Array.isArray(value)) {
    return value.map((item) => redactScalekitPayload(item, depth + 1));
  }
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    copy[key] =
      SENSITIVE.test(key) && field !== null && field !== undefined ? REDACTED : redactScalekitPayload(field, depth + 1);
  }
  return copy;
}

/** `redis://user:secret@host` → `redis://user:***@host`, wherever such a URL appears in `text`. */
export function redactConnectionStrings(text: string): string {
  return text.replace(/(rediss?:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}
