// Queue mode throughput (issue 7): how fast deliveries are acknowledged (202) and how long until their handlers have
// all run, with 1 and with 2 worker processes sharing one BullMQ queue on a throw-away redis-server.
//   npm run build && node bench/queue.mjs            10,000 events
//   node bench/queue.mjs --quick                     500 events (smoke run; figures meaningless)
// Options: --events N  --delay MS (simulated I/O per handler, default 5)  --concurrency C (jobs per worker, default 10)
//          --connections C (HTTP requests in flight, default 64)  --workers 1,2  --json (one JSON line at the end)
// Processes: this one sends the deliveries (pre-signed) and watches the queue; the receiver (queue mode,
// `workers: false`) and each worker (`receiver: false`, a Nest application context) are forked copies of this script.
// Needs `redis-server` on PATH (or REDIS_URL) and the built package (dist/), imported by its name.
// Exit status: non-zero when a delivery is not answered 202 or not every event is processed.
import 'reflect-metadata';
import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { decorateMethod, defineMethod, fmt, fmtInt, namedClass, PATH, ROOT, SECRET, signPool } from './common.mjs';

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
};
const QUICK = has('--quick');
const config = {
  events: Number(value('--events') ?? (QUICK ? 500 : 10_000)),
  delayMs: Number(value('--delay') ?? 5),
  concurrency: Number(value('--concurrency') ?? 10),
  connections: Number(value('--connections') ?? 64),
  workers: (value('--workers') ?? '1,2').split(',').map(Number),
  warmup: QUICK ? 100 : 1_000,
};
const log = (...parts) => console.error(...parts);

// ---------------------------------------------------------------------------------------------------------------
// Child roles: a receiver (HTTP, enqueue only) and a worker (no HTTP).

async function loadLib() {
  if (!existsSync(join(ROOT, 'dist', 'esm', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  return import('nestjs-scalekit-webhooks');
}

async function runChild(role) {
  const { BullMqScalekitQueue, OnScalekitEvent, ScalekitWebhookModule } = await loadLib();
  const queue = new BullMqScalekitQueue({
    connection: value('--redis'),
    prefix: value('--prefix'),
    concurrency: config.concurrency,
    removeOnComplete: false, // the parent counts completed jobs
  });
  const AppModule = namedClass(role === 'receiver' ? 'QueueBenchReceiverModule' : 'QueueBenchWorkerModule');
  const providers = [];
  if (role === 'worker') {
    const Handler = namedClass('QueueBenchHandler');
    const delay = config.delayMs;
    defineMethod(Handler, 'handle', function handle() {
      // Stands for the I/O a real handler does (a database write, an API call).
      return delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : undefined;
    });
    decorateMethod(Handler, 'handle', OnScalekitEvent('*'));
    Injectable()(Handler);
    providers.push(Handler);
  }
  Module({
    imports: [
      ScalekitWebhookModule.forRoot({
        secret: SECRET,
        receiver: role === 'receiver',
        processing: { mode: 'queue', queue, workers: role === 'worker' },
      }),
    ],
    providers,
  })(AppModule);
  let app;
  let port;
  if (role === 'receiver') {
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: ['error', 'warn'] });
    await app.listen(0, '127.0.0.1');
    port = app.getHttpServer().address().port;
  } else {
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
    await app.init();
  }
  process.on('message', async (message) => {
    if (message.type === 'close') {
      await app.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.send({ type: 'ready', port });
}

// ---------------------------------------------------------------------------------------------------------------
// The parent: Redis, children, load, measurements.

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  if (process.env.REDIS_URL) {
    return { url: process.env.REDIS_URL, stop: async () => {} };
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('error', (error) => {
    log(`cannot start redis-server: ${error.message} (apt-get install redis-server, or set REDIS_URL)`);
    process.exit(2);
  });
  process.on('exit', () => child.kill('SIGKILL'));
  const { Redis } = await import('ioredis');
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      if (i > 200) throw new Error('redis-server did not start');
      probe.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function forkChild(role, redisUrl, prefix) {
  const child = fork(SELF, ['--role', role, '--redis', redisUrl, '--prefix', prefix, ...argv], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (message) =>
      message.type === 'ready' ? resolve(message) : reject(new Error(String(message))),
    );
    child.once('exit', (code) => reject(new Error(`${role} exited early (code ${code})`)));
  });
  return {
    ready,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
      }),
  };
}

function post(agent, port, { body, headers }) {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path: PATH,
        method: 'POST',
        headers: { ...headers, 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Posts every delivery with `connections` in flight; resolves with the status counts. */
async function burst(port, pool) {
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
  const counts = {};
  let next = 0;
  const worker = async () => {
    while (next < pool.length) {
      const status = await post(agent, port, pool[next++]);
      counts[status] = (counts[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: config.connections }, worker));
  agent.destroy();
  return counts;
}

async function waitCompleted(queue, target, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const completed = await queue.getCompletedCount();
    if (completed >= target) return completed;
    if (performance.now() > deadline)
      throw new Error(`only ${completed} of ${target} jobs completed in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One scenario: a receiver and `workers` worker processes; a warm-up, then the measured burst. */
async function scenario(redis, workers, tag) {
  const prefix = `qbench-${tag}`;
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('scalekit-webhooks', { connection, prefix });
  const receiver = forkChild('receiver', redis.url, prefix);
  const workerProcs = Array.from({ length: workers }, () => forkChild('worker', redis.url, prefix));
  const [{ port }] = await Promise.all([receiver.ready, ...workerProcs.map((w) => w.ready)]);
  try {
    // Warm-up (JIT, connections), not measured.
    const warm = signPool(config.warmup, `${tag}w`);
    await burst(port, warm);
    if (workers > 0) await waitCompleted(queue, config.warmup, 120_000);
    const baseline = workers > 0 ? await queue.getCompletedCount() : 0;

    const pool = signPool(config.events, tag);
    const started = performance.now();
    const counts = await burst(port, pool);
    const ackMs = performance.now() - started;
    let doneMs = NaN;
    if (workers > 0) {
      await waitCompleted(queue, baseline + config.events, 600_000);
      doneMs = performance.now() - started;
    }
    const failed = Object.entries(counts).filter(([status]) => status !== '202');
    return { workers, ackMs, doneMs, counts, ok: failed.length === 0 };
  } finally {
    await Promise.all([receiver.close(), ...workerProcs.map((w) => w.close())]);
    await queue.close();
    await connection.quit();
  }
}

async function main() {
  await loadLib(); // fails early with a hint when dist/ is missing
  const redis = await startRedis();
  log(
    `queue bench: ${fmtInt(config.events)} events, handler ${config.delayMs} ms, ${config.concurrency} jobs per worker, ` +
      `${config.connections} requests in flight${QUICK ? ' (quick: figures meaningless)' : ''}`,
  );
  const results = [];
  try {
    for (const workers of [0, ...config.workers]) {
      log(`  ${workers === 0 ? 'receiver only' : `${workers} worker process(es)`}…`);
      results.push(await scenario(redis, workers, `s${workers}${Date.now().toString(36)}`));
    }
  } finally {
    await redis.stop();
  }
  const rate = (ms) => (config.events / ms) * 1000;
  const lines = [
    '',
    `| workers | ack all (202) | ack rate | all processed | processing rate | processed / ack time |`,
    `|---|---|---|---|---|---|`,
  ];
  for (const r of results) {
    lines.push(
      `| ${r.workers === 0 ? 'none (enqueue only)' : r.workers} | ${fmtInt(r.ackMs)} ms | ${fmtInt(rate(r.ackMs))}/s | ` +
        `${r.workers === 0 ? '–' : `${fmtInt(r.doneMs)} ms`} | ${r.workers === 0 ? '–' : `${fmtInt(rate(r.doneMs))}/s`} | ` +
        `${r.workers === 0 ? '–' : `${fmt(r.doneMs / r.ackMs)}×`} |`,
    );
  }
  const one = results.find((r) => r.workers === 1);
  const two = results.find((r) => r.workers === 2);
  if (one && two) {
    lines.push('', `2 workers vs 1: processing ${fmt(one.doneMs / two.doneMs)}× faster (time with 1 / time with 2).`);
  }
  const theory = (1000 / Math.max(config.delayMs, 0.001)) * config.concurrency;
  lines.push(
    `Handler-bound ceiling per worker: ${fmtInt(theory)} events/s (${config.concurrency} jobs × 1 / ${config.delayMs} ms). ` +
      `Every process shares this machine's ${(await import('node:os')).availableParallelism()} core(s) with Redis and the load generator.`,
  );
  console.log(lines.join('\n'));
  if (has('--json')) {
    console.log(JSON.stringify({ config, results }));
  }
  const bad = results.filter((r) => !r.ok);
  if (bad.length > 0) {
    log(`non-202 answers: ${JSON.stringify(bad.map((r) => r.counts))}`);
    process.exitCode = 1;
  }
}

const role = value('--role');
if (role === 'receiver' || role === 'worker') {
  await runChild(role);
} else {
  await main();
}
