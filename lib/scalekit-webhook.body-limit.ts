import { Inject, Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Readable } from 'node:stream';
import { SCALEKIT_LOGGER_CONTEXT } from './scalekit-webhook.constants.js';
import { SCALEKIT_WEBHOOK_DEFAULTS } from './interfaces/scalekit-webhook.interfaces.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';

/** What the app's JSON body parser does with a body of `maxBodyBytes`. */
export type JsonLimitProbe = 'accepts' | 'too-small' | 'no-parser' | 'unknown';

const PROBE_TIMEOUT_MS = 2000;

/**
 * Warns at start-up when the platform's JSON body limit is below `maxBodyBytes`: such bodies are answered `413` by
 * the body parser before this module sees them, and Express's default (100 kb) is far below the module's 1 MiB.
 */
@Injectable()
export class ScalekitBodyLimitCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(SCALEKIT_LOGGER_CONTEXT);

  constructor(
    @Inject(ScalekitWebhookConfig) private readonly config: ScalekitWebhookConfig,
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.config.receiver || !adapter) {
      return;
    }
    const bytes = this.config.maxBodyBytes;
    const where = `/${this.config.path}`;
    const type = adapter.getType();
    if (type === 'express') {
      const probe = await probeExpressJsonLimit(adapter.getInstance(), bytes);
      const fix = `app.useBodyParser('json', { limit: ${bytes === SCALEKIT_WEBHOOK_DEFAULTS.maxBodyBytes ? "'1mb'" : bytes} })`;
      if (probe === 'too-small') {
        this.logger.warn(
          `Express's JSON body limit is below maxBodyBytes (${bytes} bytes) of ${where}: larger signed events get 413 from Express before they reach this module (the default limit is 100 kb). In main.ts, before listen(): ${fix} (keeps rawBody)`,
        );
      } else if (probe === 'unknown') {
        this.logger.warn(
          `Cannot tell whether Express's JSON body limit is at least maxBodyBytes (${bytes} bytes) of ${where}; the default is 100 kb, and larger signed events would get 413 before reaching this module. In main.ts, before listen(): ${fix} (keeps rawBody)`,
        );
      }
    } else if (type === 'fastify') {
      const limit = (adapter.getInstance() as { initialConfig?: { bodyLimit?: unknown } }).initialConfig?.bodyLimit;
      if (typeof limit === 'number' && limit < bytes) {
        this.logger.warn(
          `Fastify's bodyLimit (${limit} bytes) is below maxBodyBytes (${bytes} bytes) of ${where}: larger signed events get 413 from Fastify before they reach this module. Raise it: new FastifyAdapter({ bodyLimit: ${bytes} })`,
        );
      }
    }
  }
}

interface ExpressLayer {
  handle?: { name?: string } & ((req: unknown, res: unknown, next: (error?: unknown) => void) => void);
}

/**
 * Asks the app's first JSON body parser (the one that runs) what it would do with a body of `bytes`: a request that
 * declares that length but sends nothing. body-parser compares the declared length with its limit before reading, so
 * it answers `entity.too.large` at once when the limit is lower, and a size mismatch otherwise. The limit itself is
 * private to the parser; this is the only way to read it.
 */
export function probeExpressJsonLimit(app: unknown, bytes: number): Promise<JsonLimitProbe> {
  const express = app as { router?: { stack?: ExpressLayer[] }; _router?: { stack?: ExpressLayer[] } };
  let stack: ExpressLayer[] | undefined;
  try {
    stack = (express.router ?? express._router)?.stack;
  } catch {
    return Promise.resolve('unknown');
  }
  if (!Array.isArray(stack)) {
    return Promise.resolve('unknown');
  }
  const parser = stack.find((layer) => layer?.handle?.name === 'jsonParser')?.handle;
  if (typeof parser !== 'function') {
    return Promise.resolve('no-parser'); // bodyParser: false: the raw body is missing anyway, and that is reported
  }
  return new Promise<JsonLimitProbe>((resolve) => {
    const request = Object.assign(
      new Readable({
        read() {
          this.push(null);
        },
      }),
      {
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/json', 'content-length': String(bytes) },
      },
    );
    const timer = setTimeout(() => finish('unknown'), PROBE_TIMEOUT_MS);
    function finish(result: JsonLimitProbe): void {
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    }
    try {
      parser(request, {}, (error?: unknown) => {
        const kind = (error as { type?: unknown } | undefined)?.type;
        finish(kind === 'entity.too.large' ? 'too-small' : kind === 'request.size.invalid' ? 'accepts' : 'unknown');
      });
    } catch {
      finish('unknown');
    }
  });
}
