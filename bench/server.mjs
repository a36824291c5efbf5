// One server under test, in its own process (forked by run.mjs): `node bench/server.mjs <case> <platform>`.
//   a  raw node:http + node:crypto verification + JSON.parse (platform ignored)
//   b  bare Nest POST route, no verification
//   c  hand-written Nest controller verifying with @scalekit-sdk/node's verifyWebhookPayload over req.rawBody
//   d  this module, one handler
//   e  this module, 1,000 handler methods over 100 providers (wildcards included)
//   f  (diagnosis, not run by default) d with `idempotency: false`
//   g  (diagnosis, not run by default) c plus a busy wait of SCALEKIT_BENCH_BURN_US µs per request (default 15): how
//      the server's CPU per request grows when it does a fixed amount of extra work (kernel time included)
// Protocol (IPC): sends {type:'ready', port, info}; answers {type:'stats'} with counters and memory (after a GC
// when run with --expose-gc); exits on {type:'close'}.
import 'reflect-metadata';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { Body, Controller, HttpCode, Injectable, Module, Post, Req, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ScalekitClient } from '@scalekit-sdk/node';
import * as lib from 'nestjs-scalekit-webhooks';
import {
  bigAppPattern,
  decorateMethod,
  defineMethod,
  EVENT_TYPE,
  namedClass,
  PATH,
  RECEIPT_JSON,
  SECRET,
} from './common.mjs';

const { OnScalekitEvent, ScalekitWebhookModule, SCALEKIT_EVENT_TYPES } = lib;
// The dispatcher is internal (not exported by the package): taken from the very build the package name resolves to
// (run.mjs's snapshot, or dist/esm), only to report how many handlers a delivery runs.
const { ScalekitEventDispatcher } = await import(
  new URL('./scalekit-event.dispatcher.js', import.meta.resolve('nestjs-scalekit-webhooks')).href
);

const [caseId, platform = 'express'] = process.argv.slice(2);
/** Requests that reached the code under test, and handler calls. */
const counter = { requests: 0, calls: 0 };
let session;

async function main() {
  let server;
  let info = {};
  if (caseId === 'a') {
    server = await startRaw();
  } else {
    const built = buildNestModule(caseId);
    info = built.info;
    const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
    const app = await NestFactory.create(built.module, adapter, { rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    if (caseId === 'd' || caseId === 'e' || caseId === 'f') {
      const dispatcher = app.get(ScalekitEventDispatcher, { strict: false });
      info.registrations = dispatcher.handlerCount;
      info.handlersPerDelivery = dispatcher.handlersFor(EVENT_TYPE).length;
    }
    server = { port: app.getHttpServer().address().port, close: () => app.close() };
  }
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      if (typeof globalThis.gc === 'function') {
        globalThis.gc();
        globalThis.gc();
      }
      process.send({ type: 'stats', ...counter, memory: process.memoryUsage(), cpu: process.cpuUsage() });
    } else if (message.type === 'profile-start') {
      // CPU profile of the measured window only (not start-up nor warm-up), for run.mjs --profile.
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: message.intervalUs ?? 250 });
      await session.post('Profiler.start');
      process.send({ type: 'profile-started' });
    } else if (message.type === 'profile-stop') {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(message.file, JSON.stringify(profile));
      process.send({ type: 'profile-stopped', file: message.file });
    } else if (message.type === 'close') {
      await server.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: server.port, info });
}

// ---------------------------------------------------------------------------------------------------------------
// a: node:http, the machine's ceiling. Same checks as a careful hand-written receiver: headers, window, v1 HMAC.

function startRaw() {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const reply = (res, status, body = RECEIPT_JSON) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) {
      reply(res, 404, '{}');
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      counter.requests++;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const id = req.headers['webhook-id'];
      const ts = req.headers['webhook-timestamp'];
      const sig = req.headers['webhook-signature'];
      if (!id || !ts || !sig) return reply(res, 400, '{}');
      const seconds = Number(ts);
      if (!Number.isInteger(seconds) || Math.abs(Math.floor(Date.now() / 1000) - seconds) > 300) {
        return reply(res, 401, '{}');
      }
      const expected = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest();
      let ok = false;
      for (const entry of sig.split(' ')) {
        if (entry.startsWith('v1,')) {
          const candidate = Buffer.from(entry.slice(3), 'base64');
          if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
            ok = true;
            break;
          }
        }
      }
      if (!ok) return reply(res, 401, '{}');
      let event;
      try {
        event = JSON.parse(body);
      } catch {
        return reply(res, 400, '{}');
      }
      switch (event.type) {
        case EVENT_TYPE:
          counter.calls++;
          break;
        default:
          break;
      }
      reply(res, 200);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: server.address().port, close: () => new Promise((done) => server.close(done)) }),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Nest apps.

function buildNestModule(id) {
  const AppModule = namedClass('BenchAppModule');
  const route = PATH.slice(1);
  if (id === 'b') {
    // The framework's ceiling: same route, same body parsing (rawBody: true), no verification.
    const BareController = namedClass('BareController');
    defineMethod(BareController, 'receive', function receive(body) {
      counter.requests++;
      if (body.type === EVENT_TYPE) counter.calls++;
      return { received: true };
    });
    Controller(route)(BareController);
    Body()(BareController.prototype, 'receive', 0);
    decorateMethod(BareController, 'receive', Post(), HttpCode(200));
    Module({ controllers: [BareController] })(AppModule);
    return { module: AppModule, info: {} };
  }
  if (id === 'c' || id === 'g') {
    // g: the same route, plus a fixed amount of CPU work per request.
    const burnNs = id === 'g' ? BigInt(Math.round(Number(process.env.SCALEKIT_BENCH_BURN_US ?? 15) * 1000)) : 0n;
    // What Scalekit's docs teach, in a Nest controller: SDK verification over the raw body, then switch on type.
    const scalekit = new ScalekitClient('https://bench.invalid', 'skc_bench', 'bench_client_secret');
    const SdkWebhookController = namedClass('SdkWebhookController');
    const onUserCreated = () => {
      counter.calls++;
    };
    defineMethod(SdkWebhookController, 'receive', function receive(req) {
      counter.requests++;
      const payload = req.rawBody.toString('utf8');
      try {
        scalekit.verifyWebhookPayload(SECRET, req.headers, payload);
      } catch {
        throw new UnauthorizedException('Invalid webhook signature');
      }
      if (burnNs > 0n) {
        const until = process.hrtime.bigint() + burnNs;
        while (process.hrtime.bigint() < until);
      }
      const event = req.body;
      switch (event.type) {
        case 'organization.directory.user_created':
          onUserCreated(event);
          break;
        case 'organization.directory.user_updated':
        case 'organization.directory.user_deleted':
          break;
        default:
          break;
      }
      return { received: true };
    });
    Controller(route)(SdkWebhookController);
    Req()(SdkWebhookController.prototype, 'receive', 0);
    decorateMethod(SdkWebhookController, 'receive', Post(), HttpCode(200));
    Module({ controllers: [SdkWebhookController] })(AppModule);
    return { module: AppModule, info: {} };
  }
  if (id === 'd' || id === 'f') {
    // f (diagnosis only, not in the default set): d with `idempotency: false`.
    const DirectoryUsers = namedClass('DirectoryUsers');
    defineMethod(DirectoryUsers, 'userCreated', function userCreated() {
      counter.requests++;
      counter.calls++;
    });
    Injectable()(DirectoryUsers);
    decorateMethod(DirectoryUsers, 'userCreated', OnScalekitEvent(EVENT_TYPE));
    const options = id === 'f' ? { secret: SECRET, idempotency: false } : { secret: SECRET };
    Module({ imports: [ScalekitWebhookModule.forRoot(options)], providers: [DirectoryUsers] })(AppModule);
    return { module: AppModule, info: { methods: 1, providers: 1 } };
  }
  if (id === 'e') {
    const providers = bigProviders(100, 10);
    Module({ imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })], providers })(AppModule);
    return { module: AppModule, info: { methods: 1000, providers: 100 } };
  }
  throw new Error(`unknown case ${JSON.stringify(id)}`);
}

/** `count` provider classes with `perClass` decorated methods each. */
function bigProviders(count, perClass) {
  const total = count * perClass;
  const classes = [];
  for (let p = 0; p < count; p++) {
    const Cls = namedClass(`BenchHandlers${String(p).padStart(3, '0')}`);
    for (let m = 0; m < perClass; m++) {
      const index = p * perClass + m;
      const pattern = bigAppPattern(index, total, SCALEKIT_EVENT_TYPES);
      const name = `on${m}`;
      // The exact handler of the benchmarked type counts requests; every handler counts calls.
      defineMethod(
        Cls,
        name,
        pattern === EVENT_TYPE
          ? function exact() {
              counter.requests++;
              counter.calls++;
            }
          : function other() {
              counter.calls++;
            },
      );
      decorateMethod(Cls, name, OnScalekitEvent(pattern));
    }
    Injectable()(Cls);
    classes.push(Cls);
  }
  return classes;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
