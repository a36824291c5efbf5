// Queue mode throughput (issue 7): how fast deliveries are acknowledged (202) and how long until their handlers have
// all run, with 1 and with 2 worker processes sharing one BullMQ queue on a throw-away redis-server. Next to the rates,
// the CPU time (user + system) the receiver spent per delivery and the workers per event: on a shared machine the rates
// move with others' load, the CPU time much less.
//   npm run build && node bench/queue.mjs            10,000 events
//   node bench/queue.mjs --quick                     500 events (smoke run; figures meaningless)
// Options: --events N  --delay MS (simulated I/O per handler, default 5)  --concurrency C (jobs per worker, default 10)
//          --connections C (HTTP requests in flight, default 64)  --workers 1,2  --json (one JSON line at the end)
//          --rounds N (repeat every scenario N times and report medians; default 1, or 3 with --against)
// Before/after: `node bench/queue.mjs --against <dir>` measures this build and another one, built elsewhere, in
// alternating order (this, other; other, this; …) and prints both tables of medians and their ratio. <dir> is the
// other build's dist/esm, its dist/ or its checkout. It is copied to bench/.snapshot/against/esm, inside this package,
// so both builds run on this checkout's node_modules (same Nest, BullMQ, ioredis): only the library differs. Its
// processes resolve the library there through bench/snapshot-hooks.mjs (SCALEKIT_BENCH_LIB). E.g. the library before
// the performance work (issue 15):
//   git worktree add /tmp/before 8a2c90a^ && cp -al node_modules /tmp/before/ && (cd /tmp/before && npm run build)
//   npm run build && node bench/queue.mjs --against /tmp/before        (then git worktree remove --force /tmp/before)
// If the other build's API differs (BullMqScalekitQueue, ScalekitWebhookModule.forRoot, OnScalekitEvent), its
// processes fail at start; 8a2c90a^ has the same API as now.
// Processes: this one sends the deliveries (pre-signed) and watches the queue; the receiver (queue mode,
// `workers: false`) and each worker (`receiver: false`, a Nest application context) are forked copies of this script.
// Needs `redis-server` on PATH (or REDIS_URL) and the built package (dist/), imported by its name.
// Exit status: non-zero when a delivery is not answered 202 or not every event is processed.
import 'reflect-metadata';
import { execFileSync, fork, spawn } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  BENCH_DIR,
  decorateMethod,
  defineMethod,
  fmt,
  fmtInt,
  median,
  namedClass,
  PATH,
  ROOT,
  SECRET,
  signPool,
} from './common.mjs';

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
  against: value('--against'),
};
config.rounds = Number(value('--rounds') ?? (config.against ? 3 : 1));
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
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'cpu', micros: user + system });
    } else if (message.type === 'close') {
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

/** `build.env` / `build.execArgv`: how its processes find the library (this build: as this process does). */
function forkChild(role, redisUrl, prefix, build) {
  const child = fork(SELF, ['--role', role, '--redis', redisUrl, '--prefix', prefix, ...argv], {
    cwd: ROOT,
    stdio: 'inherit',
    env: build.env ?? process.env,
    execArgv: build.execArgv ?? process.execArgv,
  });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (message) =>
      message.type === 'ready' ? resolve(message) : reject(new Error(String(message))),
    );
    child.once('exit', (code) => reject(new Error(`${role} exited early (code ${code})`)));
  });
  return {
    ready,
    /** The process's CPU time so far (user + system), in µs. */
    cpu: () =>
      new Promise((resolve) => {
        const answer = (message) => {
          if (message.type !== 'cpu') return;
          child.off('message', answer);
          resolve(message.micros);
        };
        child.on('message', answer);
        child.send({ type: 'cpu' });
      }),
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
async function scenario(redis, workers, tag, build) {
  const prefix = `qbench-${tag}`;
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('scalekit-webhooks', { connection, prefix });
  const receiver = forkChild('receiver', redis.url, prefix, build);
  const workerProcs = Array.from({ length: workers }, () => forkChild('worker', redis.url, prefix, build));
  const [{ port }] = await Promise.all([receiver.ready, ...workerProcs.map((w) => w.ready)]);
  try {
    // Warm-up (JIT, connections), not measured.
    const warm = signPool(config.warmup, `${tag}w`);
    await burst(port, warm);
    if (workers > 0) await waitCompleted(queue, config.warmup, 120_000);
    const baseline = workers > 0 ? await queue.getCompletedCount() : 0;

    const pool = signPool(config.events, tag);
    const workersCpu = async () => (await Promise.all(workerProcs.map((w) => w.cpu()))).reduce((a, b) => a + b, 0);
    const [receiverCpu0, workersCpu0] = await Promise.all([receiver.cpu(), workersCpu()]);
    const started = performance.now();
    const counts = await burst(port, pool);
    const ackMs = performance.now() - started;
    const receiverCpu1 = await receiver.cpu();
    let doneMs = NaN;
    let workerUs = NaN;
    if (workers > 0) {
      await waitCompleted(queue, baseline + config.events, 600_000);
      doneMs = performance.now() - started;
      workerUs = (await workersCpu()) - workersCpu0;
    }
    const failed = Object.entries(counts).filter(([status]) => status !== '202');
    // CPU time per event: what the load on the machine changes least (throughput drops when others take the cores).
    const receiverUs = (receiverCpu1 - receiverCpu0) / config.events;
    return { workers, ackMs, doneMs, receiverUs, workerUs: workerUs / config.events, counts, ok: failed.length === 0 };
  } finally {
    await Promise.all([receiver.close(), ...workerProcs.map((w) => w.close())]);
    await queue.obliterate({ force: true }); // the next scenario starts on an empty Redis
    await queue.close();
    await connection.quit();
  }
}

/** The build this process resolves `nestjs-scalekit-webhooks` to (dist/esm, or run.mjs's copy under the hook). */
function thisBuild() {
  const lib = relative(ROOT, fileURLToPath(import.meta.resolve('nestjs-scalekit-webhooks')));
  return { label: `this build (${lib})` };
}

/** --against <dir>: the other build, copied into this package; its processes resolve the library to the copy. */
function againstBuild(dir) {
  const at = resolvePath(dir);
  const esm = [at, join(at, 'esm'), join(at, 'dist', 'esm')].find((d) => existsSync(join(d, 'index.js')));
  if (!esm) throw new Error(`--against ${dir}: no index.js in it, in its esm/ or in its dist/esm/`);
  const copy = join(BENCH_DIR, '.snapshot', 'against', 'esm');
  rmSync(copy, { recursive: true, force: true });
  cpSync(esm, copy, { recursive: true });
  let commit = '';
  try {
    const git = ['-C', esm, 'log', '-1', '--format=%h'];
    commit = execFileSync('git', git, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not in a git checkout: the label says the folder only
  }
  const hook = join(BENCH_DIR, 'use-snapshot.mjs');
  const hooked = process.execArgv.some((arg) => arg.endsWith('use-snapshot.mjs'));
  return {
    label: `--against ${dir}${commit ? ` (commit ${commit})` : ''}`,
    env: { ...process.env, SCALEKIT_BENCH_LIB: copy },
    execArgv: hooked ? process.execArgv : [...process.execArgv, '--import', hook],
  };
}

const rate = (ms) => (config.events / ms) * 1000;

/** One row per scenario (each figure the median over the rounds when there are several). */
function table(results) {
  const lines = [
    `| workers | ack all (202) | ack rate | all processed | processing rate | processed / ack time | receiver CPU / delivery | workers' CPU / event |`,
    `|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of results) {
    lines.push(
      `| ${r.workers === 0 ? 'none (enqueue only)' : r.workers} | ${fmtInt(r.ackMs)} ms | ${fmtInt(rate(r.ackMs))}/s | ` +
        `${r.workers === 0 ? '–' : `${fmtInt(r.doneMs)} ms`} | ${r.workers === 0 ? '–' : `${fmtInt(rate(r.doneMs))}/s`} | ` +
        `${r.workers === 0 ? '–' : `${fmt(r.doneMs / r.ackMs)}×`} | ${fmtInt(r.receiverUs)} µs | ` +
        `${r.workers === 0 ? '–' : `${fmtInt(r.workerUs)} µs`} |`,
    );
  }
  const one = results.find((r) => r.workers === 1);
  const two = results.find((r) => r.workers === 2);
  if (one && two) {
    lines.push('', `2 workers vs 1: processing ${fmt(one.doneMs / two.doneMs)}× faster (time with 1 / time with 2).`);
  }
  return lines;
}

/** Per scenario, the median time over the rounds (rounds: one results array per round). */
function medians(rounds) {
  return rounds[0].map((first, i) => ({
    workers: first.workers,
    ackMs: median(rounds.map((results) => results[i].ackMs)),
    doneMs: median(rounds.map((results) => results[i].doneMs)),
    receiverUs: median(rounds.map((results) => results[i].receiverUs)),
    workerUs: median(rounds.map((results) => results[i].workerUs)),
  }));
}

async function main() {
  await loadLib(); // fails early with a hint when dist/ is missing
  const builds = [thisBuild(), ...(config.against ? [againstBuild(config.against)] : [])];
  const loadStart = loadavg()[0];
  const redis = await startRedis();
  log(
    `queue bench: ${fmtInt(config.events)} events, handler ${config.delayMs} ms, ${config.concurrency} jobs per worker, ` +
      `${config.connections} requests in flight${config.rounds > 1 ? `, ${config.rounds} rounds` : ''}` +
      `${QUICK ? ' (quick: figures meaningless)' : ''}`,
  );
  const runs = builds.map(() => []); // runs[build][round] = that round's results, one per scenario
  try {
    for (let round = 0; round < config.rounds; round++) {
      const order = builds.map((_, i) => i);
      if (round % 2 === 1) order.reverse(); // alternate which build goes first
      for (const b of order) {
        const results = [];
        for (const workers of [0, ...config.workers]) {
          const what = workers === 0 ? 'receiver only' : `${workers} worker process(es)`;
          const where = [config.rounds > 1 ? `round ${round + 1}` : '', builds.length > 1 ? builds[b].label : '']
            .filter(Boolean)
            .join(', ');
          log(`  ${where ? `${where}: ` : ''}${what}…`);
          results.push(await scenario(redis, workers, `s${workers}b${b}${Date.now().toString(36)}`, builds[b]));
        }
        runs[b].push(results);
      }
    }
  } finally {
    await redis.stop();
  }
  const lines = [];
  const summary = builds.map((build, b) => medians(runs[b]));
  builds.forEach((build, b) => {
    lines.push('');
    if (builds.length > 1 || config.rounds > 1) {
      lines.push(`${build.label}${config.rounds > 1 ? `, median of ${config.rounds} rounds` : ''}:`, '');
    }
    lines.push(...table(summary[b]));
  });
  if (builds.length > 1) {
    const [mine, other] = summary;
    lines.push(
      '',
      `This build against the other (${builds[1].label}), medians; ratio = this / other (above 1: this build faster):`,
      '',
      `| workers | ack rate: other | ack rate: this | ratio | processing rate: other | processing rate: this | ratio |`,
      `|---|---|---|---|---|---|---|`,
    );
    mine.forEach((r, i) => {
      const o = other[i];
      const done = r.workers === 0 ? ['–', '–', '–'] : [`${fmtInt(rate(o.doneMs))}/s`, `${fmtInt(rate(r.doneMs))}/s`];
      if (r.workers !== 0) done.push(`${fmt(o.doneMs / r.doneMs)}×`);
      lines.push(
        `| ${r.workers === 0 ? 'none (enqueue only)' : r.workers} | ${fmtInt(rate(o.ackMs))}/s | ` +
          `${fmtInt(rate(r.ackMs))}/s | ${fmt(o.ackMs / r.ackMs)}× | ${done.join(' | ')} |`,
      );
    });
    lines.push(
      '',
      `CPU time per event, medians; ratio = other / this (above 1: this build uses less):`,
      '',
      `| workers | receiver per delivery: other | this | ratio | workers per event: other | this | ratio |`,
      `|---|---|---|---|---|---|---|`,
    );
    mine.forEach((r, i) => {
      const o = other[i];
      const work =
        r.workers === 0
          ? ['–', '–', '–']
          : [`${fmtInt(o.workerUs)} µs`, `${fmtInt(r.workerUs)} µs`, `${fmt(o.workerUs / r.workerUs)}×`];
      lines.push(
        `| ${r.workers === 0 ? 'none (enqueue only)' : r.workers} | ${fmtInt(o.receiverUs)} µs | ` +
          `${fmtInt(r.receiverUs)} µs | ${fmt(o.receiverUs / r.receiverUs)}× | ${work.join(' | ')} |`,
      );
    });
  }
  if (config.rounds > 1) {
    lines.push('', 'Every round, rounds 1 to ' + config.rounds + ' (per second):');
    builds.forEach((build, b) => {
      const perScenario = runs[b][0].map((first, i) => {
        const acks = runs[b].map((results) => fmtInt(rate(results[i].ackMs))).join(', ');
        const done = runs[b].map((results) => fmtInt(rate(results[i].doneMs))).join(', ');
        const who = first.workers === 0 ? 'no worker' : `${first.workers} worker(s)`;
        return `${who}: acks ${acks}${first.workers === 0 ? '' : `, processed ${done}`}`;
      });
      lines.push(`- ${build.label}: ${perScenario.join(' | ')}`);
    });
  }
  const theory = (1000 / Math.max(config.delayMs, 0.001)) * config.concurrency;
  if (lines.at(-1) !== '' && (config.rounds > 1 || builds.length > 1)) lines.push('');
  lines.push(
    `Handler-bound ceiling per worker: ${fmtInt(theory)} events/s (${config.concurrency} jobs × 1 / ${config.delayMs} ms). ` +
      `Every process shares this machine's ${availableParallelism()} core(s) with Redis and the load generator.`,
  );
  if (config.rounds > 1 || builds.length > 1) {
    lines.push(`Load average (1 min): ${fmt(loadStart)} at start, ${fmt(loadavg()[0])} at end.`);
  }
  console.log(lines.join('\n'));
  const all = runs.flat(2);
  if (has('--json')) {
    const results = runs[0].length === 1 && builds.length === 1 ? runs[0][0] : undefined;
    console.log(
      JSON.stringify({ config, results, builds: builds.map((build, b) => ({ label: build.label, runs: runs[b] })) }),
    );
  }
  const bad = all.filter((r) => !r.ok);
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
