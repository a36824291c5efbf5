// Start-up cost of discovery, one measurement per fresh process (forked by run.mjs):
//   node bench/startup.mjs <with|without> [--logger]
// with:    1,000 providers × 5 methods, every method decorated with @OnScalekitEvent, plus ScalekitWebhookModule.
// without: the same 1,000 classes and methods, no decorators, no module.
// Times NestFactory.create() and app.init() (init runs onModuleInit, where the module discovers handlers).
// Default: `logger: false`. With --logger, Nest's default logger writes to stdout (a pipe the parent drains), as in
// an app with default logging; the module then logs one "Mapped" line per handler method.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { performance } from 'node:perf_hooks';
import { OnScalekitEvent, SCALEKIT_EVENT_TYPES, ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { bigAppPattern, decorateMethod, defineMethod, namedClass, SECRET } from './common.mjs';

const [mode, ...rest] = process.argv.slice(2);
if (mode !== 'with' && mode !== 'without') {
  throw new Error('usage: node bench/startup.mjs <with|without> [--logger]');
}
const withModule = mode === 'with';
const logger = rest.includes('--logger');
const PROVIDERS = 1000;
const METHODS = 5;

const providers = [];
for (let p = 0; p < PROVIDERS; p++) {
  const Cls = namedClass(`StartupHandlers${String(p).padStart(4, '0')}`);
  for (let m = 0; m < METHODS; m++) {
    const name = `on${m}`;
    defineMethod(Cls, name, function handler() {});
    if (withModule) {
      decorateMethod(
        Cls,
        name,
        OnScalekitEvent(bigAppPattern(p * METHODS + m, PROVIDERS * METHODS, SCALEKIT_EVENT_TYPES)),
      );
    }
  }
  Injectable()(Cls);
  providers.push(Cls);
}
const AppModule = namedClass('StartupAppModule');
Module({
  imports: withModule ? [ScalekitWebhookModule.forRoot({ secret: SECRET })] : [],
  providers,
})(AppModule);

const t0 = performance.now();
const app = await NestFactory.create(AppModule, new ExpressAdapter(), {
  rawBody: true,
  ...(logger ? {} : { logger: false }),
});
const t1 = performance.now();
await app.init();
const t2 = performance.now();
await app.close();
process.send({ type: 'startup', mode, logger, createMs: t1 - t0, initMs: t2 - t1, totalMs: t2 - t0 });
