// A worker-only Nest application (no HTTP server: `NestFactory.createApplicationContext`, `receiver: false`) run as a
// separate process by test/core/queue/worker-crash.e2e.spec.ts, which compiles it together with lib/ (hence the
// relative import). Its handler says `started <event id>` on stdout, then sleeps long enough to be killed.
//
// Environment: REDIS_URL, PREFIX (BullMQ prefix), LOCK_MS, SECRET. Prints `ready` once its workers run.
// Exits when its stdin closes, so that it never outlives the test process.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AnyScalekitEvent, BullMqScalekitQueue, OnScalekitEvent, ScalekitWebhookModule } from '../../lib/index.js';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`worker-child: ${name} is not set`);
  }
  return value;
}

@Injectable()
class SlowHandler {
  @OnScalekitEvent('*')
  async handle(event: AnyScalekitEvent): Promise<void> {
    process.stdout.write(`started ${event.id}\n`);
    await new Promise((resolve) => setTimeout(resolve, 600_000));
    process.stdout.write(`completed ${event.id}\n`);
  }
}

@Module({
  imports: [
    ScalekitWebhookModule.forRoot({
      secret: env('SECRET'),
      receiver: false,
      processing: {
        mode: 'queue',
        queue: new BullMqScalekitQueue({
          connection: env('REDIS_URL'),
          prefix: env('PREFIX'),
          lockDuration: Number(env('LOCK_MS')),
          stalledInterval: Number(env('LOCK_MS')),
        }),
      },
    }),
  ],
  providers: [SlowHandler],
})
class WorkerChildModule {}

process.stdin.on('end', () => process.exit(1));
process.stdin.on('close', () => process.exit(1));
process.stdin.resume();

const app = await NestFactory.createApplicationContext(WorkerChildModule, { logger: ['error', 'warn'] });
await app.init();
process.stdout.write('ready\n');
