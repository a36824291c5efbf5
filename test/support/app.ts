import { type INestApplication, type LoggerService, type ModuleMetadata, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Captures every log line, so tests can assert what was (and was not) logged. */
export class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  private record(level: string, message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const text = [message, ...rest.slice(0, -1)]
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
      .join(' ');
    this.lines.push({ level, message: text, context });
  }
  log(message: unknown, ...rest: unknown[]) {
    this.record('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.record('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.record('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.record('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.record('verbose', message, rest);
  }
  text(): string {
    return this.lines.map((l) => `${l.level} ${l.context ?? ''} ${l.message}`).join('\n');
  }
  matching(pattern: RegExp) {
    return this.lines.filter((l) => pattern.test(l.message));
  }
}

export interface TestApp {
  app: INestApplication;
  url: string;
  logger: CapturingLogger;
  close(): Promise<void>;
}

/** Starts a real Nest app on 127.0.0.1 with a random port. */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  options: { rawBody?: boolean; bodyParser?: boolean; configure?: (app: INestApplication) => void } = {},
): Promise<TestApp> {
  @Module(metadata)
  class TestAppModule {}

  const logger = new CapturingLogger();
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(TestAppModule, adapter, {
    rawBody: options.rawBody ?? true,
    ...(options.bodyParser === undefined ? {} : { bodyParser: options.bodyParser }),
    logger,
    abortOnError: false,
  });
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    logger,
    close: () => app.close(),
  };
}
