/**
 * Lets through at most `perWindow` lines per key in each window of `windowMs`, and counts the rest, so that a
 * storm of identical refusals cannot flood the log while the first of each kind is always seen.
 */
export class LogLimiter {
  readonly #windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `undefined` when the line must be dropped; otherwise how many lines of this key were dropped before it (to be
   * mentioned in the line).
   */
  take(key: string): number | undefined {
    const now = this.now();
    let window = this.#windows.get(key);
    if (window === undefined || now - window.start >= this.windowMs) {
      const suppressed = window?.suppressed ?? 0;
      window = { start: now, count: 0, suppressed: 0 };
      this.#windows.set(key, window);
      window.count++;
      return suppressed;
    }
    if (window.count < this.perWindow) {
      window.count++;
      const suppressed = window.suppressed;
      window.suppressed = 0;
      return suppressed;
    }
    window.suppressed++;
    return undefined;
  }
}
