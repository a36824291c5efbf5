import { Inject, Injectable } from '@nestjs/common';
import { type AnyScalekitEvent, OnScalekitEvent } from 'nestjs-scalekit-webhooks';

/**
 * Records, per event id, how many handler runs started and how many ran to completion, and lets a test hold a run
 * (in flight until released), make it fail once, or give every run a delay. One per app.
 */
@Injectable()
export class Probe {
  readonly started = new Map<string, number>();
  readonly completed = new Map<string, number>();
  /** Event ids whose next run throws (once each). */
  readonly failOnce = new Set<string>();
  /** Milliseconds each run sleeps before completing: a number, or a function of the event id. */
  delayMs: number | ((id: string) => number) = 0;
  readonly #holds = new Map<string, Promise<void>>();
  readonly #startWaiters = new Map<string, Array<() => void>>();

  /** Keeps the next runs of `id` in flight until the returned function is called. */
  hold(id: string): () => void {
    let release!: () => void;
    this.#holds.set(id, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.#holds.delete(id);
      release();
    };
  }

  /** Resolves once a run of `id` has started (at once if one already did). */
  whenStarted(id: string): Promise<void> {
    if ((this.started.get(id) ?? 0) > 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const waiters = this.#startWaiters.get(id) ?? [];
      waiters.push(resolve);
      this.#startWaiters.set(id, waiters);
    });
  }

  async run(event: AnyScalekitEvent): Promise<void> {
    const id = event.id;
    this.started.set(id, (this.started.get(id) ?? 0) + 1);
    for (const wake of this.#startWaiters.get(id) ?? []) {
      wake();
    }
    this.#startWaiters.delete(id);
    const held = this.#holds.get(id);
    if (held) {
      await held;
    }
    const delay = typeof this.delayMs === 'function' ? this.delayMs(id) : this.delayMs;
    if (delay > 0) {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    if (this.failOnce.delete(id)) {
      throw new Error(`probe was told to fail ${id} once`);
    }
    this.completed.set(id, (this.completed.get(id) ?? 0) + 1);
  }

  startedCount(id: string): number {
    return this.started.get(id) ?? 0;
  }

  completedCount(id: string): number {
    return this.completed.get(id) ?? 0;
  }

  reset(): void {
    this.started.clear();
    this.completed.clear();
    this.failOnce.clear();
    this.delayMs = 0;
  }
}

/** One wildcard handler that runs every event through the app's {@link Probe}. */
@Injectable()
export class ProbeHandler {
  constructor(@Inject(Probe) private readonly probe: Probe) {}

  @OnScalekitEvent('*')
  handle(event: AnyScalekitEvent): Promise<void> {
    return this.probe.run(event);
  }
}
