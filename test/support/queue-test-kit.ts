import { Inject, Injectable, type ModuleMetadata } from '@nestjs/common';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  type ScalekitWebhookForRootOptions,
  ScalekitWebhookModule,
} from 'nestjs-scalekit-webhooks';
import { type Platform, startApp, type TestApp } from './app.js';
import { SECRET, signed } from './events.js';
import { type RawResponse, send } from './http.js';

export const PATH = '/webhooks/scalekit';

/** One run of the probe handler. */
export interface JobRun {
  eventId: string;
  attempt: number | undefined;
  startedAt: number;
  delivery: ScalekitDelivery;
}

/**
 * What the queue tests' handler does and saw, per event id: each run with its attempt number and start time,
 * completed runs, and per-event behaviour (a delay, a number of failures before success, or always failing).
 */
@Injectable()
export class JobProbe {
  readonly runs: JobRun[] = [];
  readonly completed = new Map<string, number>();
  /** Milliseconds each run sleeps before completing. */
  delayMs = 0;
  /** Event id → how many runs still fail (Infinity: always). */
  readonly failures = new Map<string, number>();
  readonly #waiters: Array<() => void> = [];

  async run(event: AnyScalekitEvent, delivery: ScalekitDelivery): Promise<void> {
    this.runs.push({ eventId: event.id, attempt: delivery.job?.attempt, startedAt: Date.now(), delivery });
    this.#wake();
    if (this.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    }
    const left = this.failures.get(event.id) ?? 0;
    if (left > 0) {
      this.failures.set(event.id, left - 1);
      throw new Error(`probe was told to fail ${event.id} (${left === Infinity ? 'always' : `${left} more time(s)`})`);
    }
    this.completed.set(event.id, (this.completed.get(event.id) ?? 0) + 1);
    this.#wake();
  }

  runsOf(id: string): JobRun[] {
    return this.runs.filter((r) => r.eventId === id);
  }

  completedCount(id: string): number {
    return this.completed.get(id) ?? 0;
  }

  get totalCompleted(): number {
    let total = 0;
    for (const n of this.completed.values()) {
      total += n;
    }
    return total;
  }

  /** Resolves once `condition()` holds (checked after every run starts or completes), or rejects after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) {
      wake();
    }
  }
}

@Injectable()
export class JobProbeHandler {
  constructor(@Inject(JobProbe) private readonly probe: JobProbe) {}

  @OnScalekitEvent('*')
  handle(event: AnyScalekitEvent, delivery: ScalekitDelivery): Promise<void> {
    return this.probe.run(event, delivery);
  }
}

/** A real app with the probe handler and the module registered with `options` (secret included). */
export function startQueueApp(
  platform: Platform,
  options: Omit<ScalekitWebhookForRootOptions, 'secret'>,
  metadata: ModuleMetadata = {},
): Promise<TestApp> {
  return startApp(platform, {
    imports: [
      ScalekitWebhookModule.forRoot({ secret: SECRET, ...options } as ScalekitWebhookForRootOptions),
      ...(metadata.imports ?? []),
    ],
    providers: [JobProbe, JobProbeHandler, ...(metadata.providers ?? [])],
  });
}

/** Posts one signed copy of `event` to the app's webhook route. */
export function deliver(
  t: TestApp | string,
  event: unknown,
  options: Parameters<typeof signed>[1] = {},
): Promise<RawResponse> {
  const s = signed(event, options);
  return send(`${typeof t === 'string' ? t : t.url}${PATH}`, { body: s.rawBody, headers: s.headers });
}

/** A unique prefix per test file and run, so that tests sharing one Redis never see each other's queues. */
export function uniquePrefix(label: string): string {
  return `skq-${label}-${process.pid}-${Date.now().toString(36)}`;
}
