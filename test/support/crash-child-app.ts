// A Nest app run as a separate process by test/core/idempotency/crash.e2e.spec.ts (compiled by crash-harness.ts, which
// also compiles lib/ next to it: hence the relative import). It receives webhooks with the Redis idempotency store, and
// its handler counts the run as started in Redis, says so on stdout, then sleeps long enough to be killed.
//
// Environment: REDIS_URL, KEY_PREFIX (of the idempotency store), COUNTER_PREFIX (of the run counters),
// LEASE_SECONDS, SECRET. Prints `listening <port>` once ready and `started <event id>` when a handler starts.
// Exits when its stdin closes, so that it never outlives the test process.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  RedisIdempotencyStore,
  ScalekitWebhookModule,
} from '../../lib/index.js';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`crash-child-app: ${name} is not set`);
  }
  return value;
}

const redisUrl = env('REDIS_URL');
const counterPrefix = env('COUNTER_PREFIX');
const counters = new Redis(redisUrl);

@Injectable()
class SlowHandler {
  @OnScalekitEvent('*')
  async handle(event: AnyScalekitEvent): Promise<void> {
    await counters.incr(`${counterPrefix}started:${event.id}`);
    process.stdout.write(`started ${event.id}\n`);
    await new Promise((resolve) => setTimeout(resolve, 600_000));
    await counters.incr(`${counterPrefix}completed:${event.id}`);
  }
}

@Module({
  imports: [
    ScalekitWebhookModule.forRoot({
      secret: env('SECRET'),
      idempotency: {
        store: new RedisIdempotencyStore({ connection: redisUrl, keyPrefix: env('KEY_PREFIX') }),
        leaseSeconds: Number(env('LEASE_SECONDS')),
      },
    }),
  ],
  providers: [SlowHandler],
})
class CrashChildModule {}

process.stdin.on('end', () => process.exit(1));
process.stdin.on('close', () => process.exit(1));
process.stdin.resume();

const app = await NestFactory.create(CrashChildModule, { rawBody: true, logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
process.stdout.write(`listening ${(app.getHttpServer().address() as AddressInfo).port}\n`);
