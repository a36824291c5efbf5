// What OpenTelemetry costs per delivery: case d (this module, one handler, default options) in four variants, each
// its own server process, measured in interleaved rounds (so that machine load drifts hit every variant alike).
//   hidden         `@opentelemetry/api` cannot be resolved (a resolve hook, bench/otel.mjs --hide): the module as
//                  installed without the API. The API is a devDependency here, so this is how "without it" is had
//                  without uninstalling anything; the code under test is the same build, untouched.
//   noop           the API installed, no SDK registered: the module must cost the same as `hidden` (it checks once at
//                  bootstrap and keeps an allocation-free no-op).
//   metrics        an SDK MeterProvider with a periodic reader (every second, to an exporter that discards).
//   metrics+traces the same plus a TracerProvider with a batch span processor (exporter that discards) and the
//                  AsyncLocalStorage context manager, as @opentelemetry/sdk-node sets up.
//   npm run build && node bench/otel.mjs          5 rounds × 5 s per variant, Fastify and Express
//   node bench/otel.mjs --quick                   1 round × 1 s, Fastify only (smoke run; figures meaningless)
// Options: --rounds N  --seconds S  --connections C (default 50)  --platforms fastify,express
// Figures: req/s, and the server process's CPU time (user + system) per handled delivery over each measured window,
// which other processes on a shared machine disturb much less than throughput. Cost of a variant = its CPU per
// delivery minus `hidden`'s.
import 'reflect-metadata';
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EVENT_TYPE, fmt, fmtInt, median, PATH, SECRET, signPool } from './common.mjs';

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
};
const QUICK = has('--quick');
const VARIANTS = ['hidden', 'noop', 'metrics', 'metrics+traces'];
const log = (...parts) => console.error(...parts);

if (has('--hide')) {
  // Makes `@opentelemetry/api` unresolvable in this process, exactly as for an app that did not install it.
  register(
    `data:text/javascript,${encodeURIComponent(`
      export async function resolve(specifier, context, next) {
        if (specifier === '@opentelemetry/api' || specifier.startsWith('@opentelemetry/api/')) {
          const error = new Error("Cannot find package '@opentelemetry/api' (hidden by bench/otel.mjs)");
          error.code = 'ERR_MODULE_NOT_FOUND';
          throw error;
        }
        return next(specifier, context);
      }`)}`,
  );
}

if (has('--serve')) {
  await serve(value('--serve'), value('--platform') ?? 'fastify');
} else {
  await measure();
}

async function serve(variant, platform) {
  let reader;
  if (variant === 'metrics' || variant === 'metrics+traces') {
    // Registered before the app is created, as the README's setup does.
    const api = await import('@opentelemetry/api');
    const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } =
      await import('@opentelemetry/sdk-metrics');
    const discardMetrics = {
      export: (_metrics, done) => done({ code: 0 }),
      forceFlush: async () => {},
      shutdown: async () => {},
      selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    };
    reader = new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 1000 });
    api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    if (variant === 'metrics+traces') {
      const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
      const { BatchSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace');
      const discardSpans = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
      api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      api.trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new BatchSpanProcessor(discardSpans)] }));
    }
  }
  const { Injectable, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  const { OnScalekitEvent, ScalekitWebhookModule } = await import('nestjs-scalekit-webhooks');
  let handled = 0;
  class DirectoryUsers {
    userCreated() {
      handled++;
    }
  }
  Injectable()(DirectoryUsers);
  const descriptor = Object.getOwnPropertyDescriptor(DirectoryUsers.prototype, 'userCreated');
  OnScalekitEvent(EVENT_TYPE)(DirectoryUsers.prototype, 'userCreated', descriptor);
  class AppModule {}
  Module({ imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })], providers: [DirectoryUsers] })(AppModule);
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  process.send({ type: 'ready', port: app.getHttpServer().address().port });
  process.on('message', async (message) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'cpu', us: user + system, handled });
    }
    if (message.type === 'stats') {
      // Proof that each variant is what it claims: the API really is absent, or the module really records.
      const apiLoads = await import('@opentelemetry/api').then(
        () => true,
        () => false,
      );
      const collected = reader ? (await reader.collect()).resourceMetrics.scopeMetrics : [];
      const metrics = collected.flatMap((scope) => scope.metrics.map((metric) => metric.descriptor.name));
      process.send({ type: 'stats', handled, apiLoads, metrics });
    }
    if (message.type === 'close') {
      await app.close();
      process.exit(0);
    }
  });
}

function start(variant, platform) {
  const child = fork(SELF, ['--serve', variant, '--platform', platform, ...(variant === 'hidden' ? ['--hide'] : [])], {
    silent: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = `${stderr}${chunk}`.slice(-10_000)));
  child.stdout.resume();
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`otel server ${variant} exited (${code})\n${stderr}`));
      const onMessage = (message) => {
        if (message.type === type) {
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(message);
        }
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return { child, next, ready: next('ready') };
}

function load(port, pool, offset, seconds, connections) {
  let next = offset;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}${PATH}`,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            setupRequest: (request) => {
              const delivery = next < pool.length ? pool[next] : pool.sign(next);
              next++;
              return { ...request, method: 'POST', path: PATH, headers: delivery.headers, body: delivery.body };
            },
          },
        ],
      },
      (error, result) =>
        error
          ? reject(error)
          : resolve({ rps: result['2xx'] / result.duration, non2xx: result.non2xx, sent: next - offset }),
    );
  });
}

async function measure() {
  const rounds = Number(value('--rounds') ?? (QUICK ? 1 : 5));
  const seconds = Number(value('--seconds') ?? (QUICK ? 1 : 5));
  const connections = Number(value('--connections') ?? 50);
  const platforms = (value('--platforms') ?? (QUICK ? 'fastify' : 'fastify,express')).split(',');
  const pool = signPool(QUICK ? 20_000 : 200_000, 'o');
  const lines = [];
  let failed = false;
  for (const platform of platforms) {
    const servers = {};
    for (const variant of VARIANTS) {
      servers[variant] = start(variant, platform);
      servers[variant].port = (await servers[variant].ready).port;
    }
    const rps = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
    const cpuPerDelivery = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
    let offset = 0;
    for (const variant of VARIANTS) {
      // Warm-up (JIT, pools), not measured.
      const warm = await load(servers[variant].port, pool, offset, QUICK ? 0.5 : 2, connections);
      offset += warm.sent;
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const cpu = async () => {
          const answer = servers[variant].next('cpu');
          servers[variant].child.send({ type: 'cpu' });
          return answer;
        };
        const before = await cpu();
        const result = await load(servers[variant].port, pool, offset, seconds, connections);
        const after = await cpu();
        offset += result.sent;
        cpuPerDelivery[variant].push((after.us - before.us) / (after.handled - before.handled));
        if (result.non2xx > 0) {
          failed = true;
          log(`${platform} ${variant}: ${result.non2xx} non-2xx answers`);
        }
        rps[variant].push(result.rps);
        log(
          `  ${platform} round ${round + 1} ${variant}: ${fmtInt(result.rps)} req/s, ${fmt(cpuPerDelivery[variant].at(-1), 1)} µs CPU/delivery`,
        );
      }
    }
    for (const variant of VARIANTS) {
      const stats = servers[variant].next('stats');
      servers[variant].child.send({ type: 'stats' });
      const { apiLoads, metrics, handled } = await stats;
      const recording = metrics.includes('scalekit.webhook.deliveries');
      if (apiLoads === (variant === 'hidden') || recording !== variant.startsWith('metrics') || handled === 0) {
        failed = true;
        log(
          `${platform} ${variant} is not what it claims: api loads ${apiLoads}, metrics [${metrics}], handled ${handled}`,
        );
      }
      servers[variant].child.send({ type: 'close' });
    }
    const base = median(rps.hidden);
    const baseCpu = median(cpuPerDelivery.hidden);
    lines.push(`${platform}:`);
    for (const variant of VARIANTS) {
      const m = median(rps[variant]);
      const c = median(cpuPerDelivery[variant]);
      lines.push(
        `  ${variant.padEnd(15)} ${fmtInt(m).padStart(7)} req/s (ratio ${fmt(m / base, 3)})  server CPU ${fmt(c, 1).padStart(6)} µs/delivery (ratio ${fmt(c / baseCpu, 3)}` +
          (variant === 'hidden' ? ')' : `, ${c >= baseCpu ? '+' : ''}${fmt(c - baseCpu, 1)} µs)`),
      );
    }
  }
  console.log(
    [
      `OpenTelemetry cost, case d (medians of ${rounds} round(s) × ${seconds} s per variant, ${connections} connections; ` +
        'server CPU per delivery is the steadier figure on a shared machine):',
      ...lines,
    ].join('\n'),
  );
  if (failed) process.exit(1);
}
