// A Nest app run as a separate process by test/core/receiver/response-deadline.e2e.spec.ts (compiled by
// crash-harness.ts, which also compiles lib/ next to it: hence the relative import). Its only handler never settles
// (and keeps a long timer alive, as a real stuck call would). It listens with shutdown hooks on, so SIGTERM runs
// app.close() and then exits.
//
// Environment: PLATFORM (express or fastify), SECRET, SHUTDOWN_TIMEOUT_SECONDS, RESPONSE_TIMEOUT_SECONDS.
// Prints `listening <port>` once ready, `started <event id>` when the handler starts, `closed` when app.close() ends.
// Exits when its stdin closes, so that it never outlives the test process.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { type AnyScalekitEvent, OnScalekitEvent, ScalekitWebhookModule } from '../../lib/index.js';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`hang-child-app: ${name} is not set`);
  }
  return value;
}

@Injectable()
class StuckHandler {
  @OnScalekitEvent('*')
  async handle(event: AnyScalekitEvent): Promise<void> {
    process.stdout.write(`started ${event.id}\n`);
    await new Promise((resolve) => setTimeout(resolve, 600_000));
  }
}

@Module({
  imports: [
    ScalekitWebhookModule.forRoot({
      secret: env('SECRET'),
      shutdownTimeoutSeconds: Number(env('SHUTDOWN_TIMEOUT_SECONDS')),
      responseTimeoutSeconds: Number(env('RESPONSE_TIMEOUT_SECONDS')),
    }),
  ],
  providers: [StuckHandler],
})
class HangChildModule {
  onApplicationShutdown(): void {
    process.stdout.write('closed\n');
  }
}

process.stdin.on('end', () => process.exit(1));
process.stdin.on('close', () => process.exit(1));
process.stdin.resume();

const adapter = env('PLATFORM') === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
const app = await NestFactory.create(HangChildModule, adapter, { rawBody: true, logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
process.stdout.write(`listening ${(app.getHttpServer().address() as AddressInfo).port}\n`);
