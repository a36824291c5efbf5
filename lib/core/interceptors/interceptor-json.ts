// Small JSON helpers of the interceptor checks. (The webhook envelope has private twins of `kindOf` and
// `withoutExcerpt`; they belong in one shared place once the receiver core settles.)

/** Deepest nesting accepted inside `claims` (and an unknown trigger's `response`). */
export const MAX_INTERCEPTOR_JSON_DEPTH = 32;

/** At most this many problems are listed for one value (a long array of bad items would flood the log). */
const MAX_JSON_PROBLEMS = 10;

/** A JSON object as `JSON.parse` makes them: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An object literal (or `Object.create(null)`): not an array, a `Date`, a `Map`, a class instance or a promise. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isJsonObject(value)) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** How a value is described in a problem: its kind, never its content (it may be personal data). */
export function kindOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  switch (typeof value) {
    case 'object': {
      if (typeof (value as { then?: unknown }).then === 'function') {
        return 'a promise';
      }
      const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      if (isPlainObject(value) || typeof name !== 'string' || name === '' || name === 'Object') {
        return 'an object';
      }
      return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
    }
    case 'string':
      return value.length === 0 ? 'an empty string' : 'a string';
    case 'undefined':
      return 'nothing';
    case 'number':
      return Number.isFinite(value) ? 'a number' : String(value);
    default:
      return `a ${typeof value}`;
  }
}

/** Sets an own data property, also for the key `__proto__` (a plain assignment would change the prototype). */
export function defineJsonProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A plain-JSON copy of `value`, or the problems that keep it from being one (each naming its path). Accepted:
 * strings, finite numbers, booleans, `null`, arrays and plain objects, at most {@link MAX_INTERCEPTOR_JSON_DEPTH}
 * deep. An object property whose value is `undefined` is left out, as `JSON.stringify` does; everything else that
 * `JSON.stringify` would change or drop silently (`NaN`, a `Date`, a function, `undefined` in an array) is a problem.
 */
export function copyJson(
  value: unknown,
  path: string,
): { ok: true; value: unknown } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  let more = false;
  const report = (problem: string): void => {
    if (problems.length < MAX_JSON_PROBLEMS) {
      problems.push(problem);
    } else {
      more = true;
    }
  };
  const open = new Set<object>();

  const visit = (current: unknown, at: string, depth: number): unknown => {
    if (current === null || typeof current === 'string' || typeof current === 'boolean') {
      return current;
    }
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) {
        report(`${at} must be a finite number (got ${kindOf(current)})`);
      }
      return current;
    }
    if (typeof current !== 'object') {
      report(`${at} must be a JSON value (got ${kindOf(current)})`);
      return undefined;
    }
    if (depth > MAX_INTERCEPTOR_JSON_DEPTH) {
      report(`${at} is nested more than ${MAX_INTERCEPTOR_JSON_DEPTH} levels deep`);
      return undefined;
    }
    if (open.has(current)) {
      report(`${at} refers back to an enclosing object (a cycle cannot be sent as JSON)`);
      return undefined;
    }
    if (Array.isArray(current)) {
      open.add(current);
      const copy = Array.from(current, (item, index) => visit(item, `${at}[${index}]`, depth + 1));
      open.delete(current);
      return copy;
    }
    if (!isPlainObject(current)) {
      report(`${at} must be a plain JSON object (got ${kindOf(current)})`);
      return undefined;
    }
    open.add(current);
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(current)) {
      const item = current[key];
      if (item !== undefined) {
        defineJsonProperty(copy, key, visit(item, `${at}.${key}`, depth + 1));
      }
    }
    open.delete(current);
    return copy;
  };

  const copy = visit(value, path, 1);
  if (more) {
    problems.push(`${path} has more problems than these`);
  }
  return problems.length === 0 ? { ok: true, value: copy } : { ok: false, problems };
}

/**
 * V8's JSON.parse messages quote part of the input, which may hold personal data: only the position-free part of
 * the reason is kept.
 */
export function withoutExcerpt(reason: string): string {
  return reason
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, ' is not valid JSON')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\(line \d+ column \d+\)$/, '')
    .replace(/"[^"]*"/g, '"…"')
    .slice(0, 120);
}
