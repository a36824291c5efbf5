import { performance } from 'node:perf_hooks';

/**
 * The response deadlines of the deliveries in flight, kept by one timer for all of them instead of one timer (and a
 * `Promise.race`) per delivery. Every delivery gets the same time limit, so arrival order is deadline order: the
 * entries sit in a `Map` in insertion order, and the one timer is armed for the oldest entry still waiting. Adding and
 * removing an entry are two `Map` operations; a delivery answered in time never touches the timer.
 */
export class ScalekitResponseDeadlines<T> {
  /** Waiting entries, each with its deadline (`performance.now()` milliseconds), oldest first. */
  readonly #waiting = new Map<T, number>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param timeoutMs how long an entry may wait.
   * @param expire called once for each entry still waiting at its deadline (it is removed first).
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly expire: (entry: T) => void,
  ) {}

  get size(): number {
    return this.#waiting.size;
  }

  add(entry: T): void {
    this.#waiting.set(entry, performance.now() + this.timeoutMs);
    if (this.#timer === undefined) {
      this.#arm(this.timeoutMs);
    }
  }

  /** The entry was answered: it no longer waits. Whether it was still waiting (not expired nor taken). */
  delete(entry: T): boolean {
    return this.#waiting.delete(entry);
  }

  /** Removes and returns every waiting entry (shutdown answers them all at once). */
  takeAll(): T[] {
    const entries = [...this.#waiting.keys()];
    this.#waiting.clear();
    return entries;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#due(), Math.max(1, Math.ceil(delayMs)));
    // The deadline answers a request: it never keeps a process alive on its own.
    this.#timer.unref();
  }

  #due(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const [entry, deadline] of this.#waiting) {
      if (deadline > now) {
        this.#arm(deadline - now);
        return;
      }
      this.#waiting.delete(entry);
      this.expire(entry);
    }
  }
}
