import { ScalekitWebhookError } from './errors.js';

/**
 * The one way options are checked: each owner (the module, a queue, the verifier) makes a checker with its name, and
 * every error it throws is `invalid_options` with a message that starts with that name and ends with what was given,
 * e.g. `Scalekit webhook idempotency.ttlSeconds must be a positive number of seconds (got 0)`. A value that is
 * `undefined` takes the default, which is declared once, next to the option (with `@default` in its JSDoc).
 */
export class OptionsChecker {
  /**
   * @param owner Starts every message (`Scalekit webhook`, `InMemoryScalekitQueue:`, `BullMqScalekitQueue`).
   * @param quoteNames Whether option names are shown as code (`` `attempts` ``).
   */
  constructor(
    readonly owner: string,
    private readonly quoteNames = false,
  ) {}

  /** An `invalid_options` error for a message about this owner's options. */
  error(message: string): ScalekitWebhookError {
    return new ScalekitWebhookError('invalid_options', `${this.owner} ${message}`);
  }

  /** A number of seconds > 0 (fractions allowed). */
  positiveSeconds(name: string, value: unknown, fallback: number): number {
    return this.#check(name, value, fallback, 'a positive number of seconds', (v) => Number.isFinite(v) && v > 0);
  }

  /** A number of seconds ≥ 0 (fractions allowed). */
  nonNegativeSeconds(name: string, value: unknown, fallback: number): number {
    return this.#check(name, value, fallback, 'a finite number of seconds >= 0', (v) => Number.isFinite(v) && v >= 0);
  }

  /** A number of milliseconds ≥ 0 (fractions allowed). */
  nonNegativeMilliseconds(name: string, value: unknown, fallback: number): number {
    return this.#check(name, value, fallback, 'a number of milliseconds ≥ 0', (v) => Number.isFinite(v) && v >= 0);
  }

  /** A whole number > 0; `unit` names what is counted (`bytes`). */
  positiveWholeNumber(name: string, value: unknown, fallback: number, unit?: string): number {
    const what = unit === undefined ? 'a positive whole number' : `a positive whole number of ${unit}`;
    return this.#check(name, value, fallback, what, (v) => Number.isSafeInteger(v) && v > 0);
  }

  /** A whole number ≥ `min`. */
  wholeNumber(name: string, value: unknown, fallback: number, min: number): number {
    return this.#check(name, value, fallback, `a whole number ≥ ${min}`, (v) => Number.isSafeInteger(v) && v >= min);
  }

  /** The option's name as messages show it. */
  name(name: string): string {
    return this.quoteNames ? `\`${name}\`` : name;
  }

  #check(name: string, value: unknown, fallback: number, what: string, ok: (value: number) => boolean): number {
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'number' || !ok(value)) {
      throw this.error(`${this.name(name)} must be ${what} (got ${describeValue(value)})`);
    }
    return value;
  }
}

/** A value as error messages show it: strings quoted and cut at 40 characters, anything else as `String()`. */
export function describeValue(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value);
}
