import { ScalekitWebhookError } from './errors.js';

/** An event pattern: an exact type, a prefix wildcard (`organization.directory.*`) or `*` for everything. */
export type ScalekitEventPattern = string;

/** What a registry entry must provide; the Nest layer adds how to call the method. */
export interface ScalekitRegisteredHandler {
  /** `ClassName.methodName`, for logs. */
  readonly name: string;
}

interface Wildcard<H> {
  readonly prefix: string;
  readonly handler: H;
}

/** Bound on the lookup cache of types seen at run time (types only come from verified deliveries). */
const MAX_CACHED_TYPES = 4096;

/**
 * Maps event types to handlers. Patterns are checked when added; lookups are answered from a table built once,
 * so the cost of a lookup does not depend on how many handlers exist.
 */
export class ScalekitHandlerRegistry<H extends ScalekitRegisteredHandler = ScalekitRegisteredHandler> {
  readonly #exact = new Map<string, H[]>();
  readonly #wildcards: Wildcard<H>[] = [];
  readonly #cache = new Map<string, readonly H[]>();
  #size = 0;

  /** Checks a pattern and returns its wildcard prefix, or `undefined` for an exact type. */
  static parsePattern(pattern: unknown): { exact: string } | { prefix: string } {
    if (typeof pattern !== 'string' || pattern.trim().length === 0 || pattern !== pattern.trim()) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `@OnScalekitEvent() needs an event type like 'organization.created', a prefix like 'organization.*', or '*' (got ${JSON.stringify(pattern)})`,
      );
    }
    const star = pattern.indexOf('*');
    if (star === -1) {
      return { exact: pattern };
    }
    if (star !== pattern.length - 1) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `@OnScalekitEvent('${pattern}'): '*' is only allowed at the end of a pattern (prefix wildcard), e.g. 'organization.directory.*'`,
      );
    }
    return { prefix: pattern.slice(0, -1) };
  }

  /** The number of (pattern, handler) registrations. */
  get size(): number {
    return this.#size;
  }

  add(pattern: ScalekitEventPattern, handler: H): void {
    const parsed = ScalekitHandlerRegistry.parsePattern(pattern);
    if ('exact' in parsed) {
      const list = this.#exact.get(parsed.exact) ?? [];
      if (!list.includes(handler)) {
        list.push(handler);
      }
      this.#exact.set(parsed.exact, list);
    } else {
      this.#wildcards.push({ prefix: parsed.prefix, handler });
    }
    this.#size++;
    this.#cache.clear();
  }

  /** Precomputes the lookup table for the given types (for example the whole catalogue). */
  prepare(types: Iterable<string>): void {
    for (const type of types) {
      this.match(type);
    }
    for (const type of this.#exact.keys()) {
      this.match(type);
    }
  }

  /** Every handler for a type, each once: exact handlers first, then wildcards in registration order. */
  match(type: string): readonly H[] {
    const cached = this.#cache.get(type);
    if (cached !== undefined) {
      return cached;
    }
    const result: H[] = [...(this.#exact.get(type) ?? [])];
    for (const { prefix, handler } of this.#wildcards) {
      if (type.startsWith(prefix) && !result.includes(handler)) {
        result.push(handler);
      }
    }
    const frozen = Object.freeze(result);
    if (this.#cache.size < MAX_CACHED_TYPES) {
      this.#cache.set(type, frozen);
    }
    return frozen;
  }
}

export interface ScalekitHandlerFailure<H> {
  handler: H;
  error: unknown;
}

/**
 * Runs every handler concurrently and waits for all of them. Gives the failures in handler order (empty when all
 * succeeded); a handler that throws synchronously counts as a failure, never as a crash. When no handler returned a
 * promise, the failures are given at once, with no promise at all; otherwise a promise of them.
 */
export function runScalekitHandlers<H, A extends unknown[]>(
  handlers: readonly H[],
  invoke: (handler: H, ...args: A) => unknown,
  ...args: A
): ScalekitHandlerFailure<H>[] | Promise<ScalekitHandlerFailure<H>[]> {
  // Allocated on the first failure, and the list of promises on the first asynchronous handler: the usual delivery
  // (handlers that succeed, often synchronously) allocates neither, nor a closure per handler.
  let errors: unknown[] | undefined;
  let pending: Promise<void>[] | undefined;
  for (let index = 0; index < handlers.length; index++) {
    try {
      const result = invoke(handlers[index]!, ...args);
      if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
        (pending ??= []).push(
          Promise.resolve(result).then(undefined, (error: unknown) => {
            (errors ??= new Array(handlers.length))[index] = error;
          }),
        );
      }
    } catch (error) {
      (errors ??= new Array(handlers.length))[index] = error;
    }
  }
  if (pending !== undefined) {
    return Promise.all(pending).then(() => failuresOf(handlers, errors));
  }
  return failuresOf(handlers, errors);
}

function failuresOf<H>(handlers: readonly H[], errors: unknown[] | undefined): ScalekitHandlerFailure<H>[] {
  if (errors === undefined) {
    return [];
  }
  const failures: ScalekitHandlerFailure<H>[] = [];
  for (let index = 0; index < handlers.length; index++) {
    if (index in errors) {
      failures.push({ handler: handlers[index]!, error: errors[index] });
    }
  }
  return failures;
}
