/**
 * A thrown value as text for a log line. Never throws itself: a value without a usable `toString` (an object with
 * a null prototype, a throwing `Symbol.toPrimitive`) is described by its kind instead.
 */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) {
      return error.message;
    }
    return String(error);
  } catch {
    try {
      const kind = error === null ? 'null' : typeof error;
      const constructor = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return `a thrown ${typeof constructor === 'string' && constructor ? constructor : kind} that cannot be shown as text`;
    } catch {
      return 'a thrown value that cannot be shown as text';
    }
  }
}

/** The stack of a thrown `Error`, if it has a readable one. */
export function stackOf(error: unknown): string | undefined {
  try {
    return error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
  } catch {
    return undefined;
  }
}
