// Benchmarks of nestjs-scalekit-webhooks, measured side by side in one run (issue 5).
//   npm run bench                 full run (a few minutes), writes bench/RESULTS.md
//   npm run bench -- --quick      smoke run for CI (about a minute), writes bench/RESULTS.quick.md; figures meaningless
// Options: --rounds N  --duration S  --connections C  --cases a,b,c,d,e  --platforms express,fastify
//          --only http,memory,verify,hot,startup,store,queue,interceptor,otel  --out FILE  --no-write
//          --no-snapshot: import dist/esm directly instead of a copy taken at start; --keep-snapshot: reuse the copy of
//          the previous run (profile the very build that was measured)
//          --profile [--profile-no-inline]: run the module's servers (d, e) under `node --cpu-prof`, write the
//          profiles to bench/profiles/ and their summary to bench/profiles/SUMMARY.md (throughput is then distorted).
// Exit status: non-zero when a script breaks or any response is not 2xx; a missed target is reported, not fatal.
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, fmt, fmtInt, median, mib, PATH, ROOT, signPool } from './common.mjs';
import { summarizeProfile } from './profile-summary.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Options.

const argv = process.argv.slice(2);
const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
};
const QUICK = has('--quick');
const PROFILE = has('--profile') || has('--profile-no-inline');
const config = {
  rounds: Number(value('--rounds') ?? (QUICK ? 1 : 3)),
  duration: Number(value('--duration') ?? (QUICK ? 1.5 : 10)),
  warmup: QUICK ? 0.5 : 2,
  connections: Number(value('--connections') ?? 50),
  cases: (value('--cases') ?? 'a,b,c,d,e').split(','),
  platforms: (value('--platforms') ?? 'express,fastify').split(','),
  only: value('--only')?.split(','),
  memoryRounds: QUICK ? 5 : 10,
  memoryPerRound: QUICK ? 2_000 : 20_000,
  verifyRounds: QUICK ? 2 : 7,
  verifySliceMs: QUICK ? 50 : 400,
  startupRuns: QUICK ? 2 : 9,
  startupLoggerRuns: QUICK ? 1 : 5,
  maxPool: 500_000,
  /** A measurement during which other processes used more than this share of a core is repeated (full runs). */
  maxOthersCpu: 0.15,
  retries: QUICK ? 0 : 2,
  /** Before each measurement, wait up to this long for a second in which the machine uses < quietCores. */
  quietWaitMs: QUICK ? 0 : 30_000,
  quietCores: 0.25,
};
const sections = new Set(
  config.only ?? ['http', 'memory', 'verify', 'hot', 'startup', 'store', 'queue', 'interceptor', 'otel'],
);
const outFile =
  value('--out') ?? join(BENCH_DIR, PROFILE ? 'profiles/SUMMARY.md' : QUICK ? 'RESULTS.quick.md' : 'RESULTS.md');
const PROFILE_DIR = join(BENCH_DIR, 'profiles');
/** Every process resolves the library to a copy of dist/esm taken at start (see snapshot-hooks.mjs). */
const SNAPSHOT = !has('--no-snapshot');
const SNAPSHOT_DIR = join(BENCH_DIR, '.snapshot');
const LIB_ARGV = SNAPSHOT ? ['--import', join(BENCH_DIR, 'use-snapshot.mjs')] : [];

const CASE_LABEL = {
  a: 'a. raw node:http + node:crypto + JSON.parse',
  b: 'b. bare Nest POST route, no verification',
  c: 'c. Nest controller + @scalekit-sdk/node verifyWebhookPayload',
  d: 'd. this module, 1 handler',
  e: 'e. this module, 1,000 handler methods / 100 providers',
  f: 'f. (diagnosis) d with `idempotency: false`',
};

const failures = [];
const log = (...parts) => console.error(...parts);

// ---------------------------------------------------------------------------------------------------------------
// Child processes.

/** Forks a script; resolves when it sends a message of `type`; rejects when it exits early or times out. */
function forkChild(script, args, { execArgv = [], silent = true } = {}) {
  const child = fork(join(BENCH_DIR, script), args, { execArgv: [...LIB_ARGV, ...execArgv], silent, cwd: ROOT });
  let stderr = '';
  if (silent) {
    child.stdout.resume();
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
    });
  }
  const waiters = [];
  let exited = null;
  child.on('message', (message) => {
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index !== -1) waiters.splice(index, 1)[0].resolve(message);
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const w of waiters.splice(0)) {
      w.reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before '${w.type}'\n${stderr}`));
    }
  });
  const api = {
    child,
    stderr: () => stderr,
    next(type, timeoutMs = 120_000) {
      if (exited)
        return Promise.reject(new Error(`${script} ${args.join(' ')} already exited (${exited.code})\n${stderr}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${script} ${args.join(' ')}: no '${type}' within ${timeoutMs} ms\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    ask(type) {
      const reply = api.next(type);
      child.send({ type });
      return reply;
    },
    exit() {
      if (exited) return Promise.resolve(exited);
      return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    },
  };
  return api;
}

// ---------------------------------------------------------------------------------------------------------------
// Load.

/**
 * Runs autocannon against `port`, each request a distinct delivery: pre-signed ones from `pool`, then (if the run
 * outlasts the pool) signed on the fly, never repeated. Latency percentiles are computed from autocannon's
 * per-response times (sub-millisecond), 2xx only.
 */
function load(port, pool, { duration, amount }) {
  let next = 0;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const opts = {
    url: `http://127.0.0.1:${port}${PATH}`,
    connections: config.connections,
    pipelining: 1,
    timeout: 10,
    ...(amount ? { amount } : { duration }),
    requests: [
      {
        method: 'POST',
        path: PATH,
        setupRequest: (request) => {
          // Never repeat a delivery: with idempotency, a copy is acknowledged without running handlers.
          const delivery = next < pool.length ? pool[next] : pool.sign(next);
          next++;
          request.method = 'POST';
          request.path = PATH;
          request.headers = delivery.headers;
          request.body = delivery.body;
          return request;
        },
      },
    ],
  };
  return new Promise((resolve, reject) => {
    const cpuBefore = process.cpuUsage();
    const instance = autocannon(opts, (error, result) => {
      if (error) return reject(error);
      const cpu = process.cpuUsage(cpuBefore);
      const sorted = latencies.subarray(0, count).sort();
      const pct = (p) => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.floor((p / 100) * count))]);
      resolve({
        reqPerSec: result['2xx'] / result.duration,
        total2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodeStats: result.statusCodeStats,
        sent: next,
        durationS: result.duration,
        p50: pct(50),
        p99: pct(99),
        loadGenCpuMs: (cpu.user + cpu.system) / 1000,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
  });
}

/** Busy CPU time of the whole machine in ms (Linux /proc/stat), or undefined elsewhere. */
function machineBusyMs() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxWaitMs`) for a second during which the machine is nearly idle, since other jobs on a shared
 * machine take CPU from the server or the load generator. Returns the busy share of the last second (in cores).
 */
async function waitForQuiet(maxWaitMs) {
  const deadline = Date.now() + maxWaitMs;
  let busy = NaN;
  for (;;) {
    const before = machineBusyMs();
    if (before === undefined) return NaN;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    busy = (machineBusyMs() - before) / 1000;
    if (busy < config.quietCores || Date.now() >= deadline) return busy;
  }
}

function checkResponses(label, result) {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    const detail = `${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (status codes ${JSON.stringify(result.statusCodeStats)})`;
    failures.push(detail);
    throw new Error(`NON-2xx RESPONSES — ${detail}`);
  }
  if (result.total2xx === 0) {
    failures.push(`${label}: no 2xx response at all`);
    throw new Error(`${label}: no 2xx response at all`);
  }
}

let poolTag = 0;
const newTag = () => (poolTag++).toString(36) + 'r';

// ---------------------------------------------------------------------------------------------------------------
// 1. HTTP throughput.

async function measureServer(caseId, platform, round) {
  const label = `${caseId}${caseId === 'a' ? '' : `/${platform}`} round ${round + 1}`;
  const execArgv = PROFILE && has('--profile-no-inline') ? ['--no-turbo-inlining'] : [];
  const profileFile = join(PROFILE_DIR, `${caseId}-${caseId === 'a' ? 'node' : platform}-r${round + 1}.cpuprofile`);
  const server = forkChild('server.mjs', [caseId, platform], { execArgv });
  try {
    const ready = await server.next('ready', 120_000);
    // Warm-up (discarded): JIT, connection set-up; its rate sizes the pool of the measured run.
    const warm = await load(ready.port, signPool(20_000, newTag()), { duration: config.warmup });
    checkResponses(`${label} (warm-up)`, warm);
    // Enough distinct deliveries for the measured run (twice the warm-up rate), within maxPool.
    const expected = Math.ceil(warm.reqPerSec * config.duration * 2);
    const pool = signPool(Math.min(config.maxPool, Math.max(QUICK ? 20_000 : 100_000, expected)), newTag());
    if (config.quietWaitMs > 0) await waitForQuiet(config.quietWaitMs);
    if (PROFILE) {
      const started = server.next('profile-started');
      server.child.send({ type: 'profile-start' });
      await started;
    }
    const before = await server.ask('stats');
    const busyBefore = machineBusyMs();
    const result = await load(ready.port, pool, { duration: config.duration });
    const busyAfter = machineBusyMs();
    const after = await server.ask('stats');
    if (PROFILE) {
      const stopped = server.next('profile-stopped');
      server.child.send({ type: 'profile-stop', file: profileFile });
      await stopped;
    }
    checkResponses(label, result);
    const handled = after.requests - before.requests;
    const calls = after.calls - before.calls;
    const perDelivery = ready.info.handlersPerDelivery ?? 1;
    // Responses still in flight when autocannon stops are handled but not counted: allow one per connection.
    if (
      handled < result.total2xx ||
      handled > result.total2xx + config.connections ||
      calls !== handled * perDelivery
    ) {
      const detail = `${label}: server handled ${handled} deliveries / ${calls} handler calls for ${result.total2xx} 2xx responses (expected ${perDelivery} call(s) each)`;
      failures.push(detail);
      throw new Error(detail);
    }
    const serverCpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
    // CPU used on the machine by anything but this load generator and this server (other jobs, the hypervisor).
    const othersCpu =
      busyBefore === undefined
        ? NaN
        : (busyAfter - busyBefore - serverCpuMs - result.loadGenCpuMs) / (result.durationS * 1000);
    server.child.send({ type: 'close' });
    const exit = await server.exit();
    if (exit.code !== 0)
      throw new Error(`${label}: server exited with ${exit.code ?? exit.signal}\n${server.stderr()}`);
    return {
      ...result,
      info: ready.info,
      poolSize: pool.length,
      signedDuringRun: Math.max(0, result.sent - pool.length),
      serverCpuUsPerReq: (serverCpuMs * 1000) / handled,
      handled,
      profileFile: PROFILE ? profileFile : undefined,
      othersCpu: Math.max(0, othersCpu),
    };
  } catch (error) {
    server.child.kill();
    throw error;
  }
}

async function runHttp() {
  const entries = [];
  if (config.cases.includes('a')) entries.push({ caseId: 'a', platform: 'node' });
  for (const platform of config.platforms) {
    for (const caseId of config.cases.filter((c) => c !== 'a')) entries.push({ caseId, platform });
  }
  const samples = new Map(entries.map((e) => [`${e.caseId}/${e.platform}`, []]));
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? entries : [...entries].reverse();
    log(`\n[http] round ${round + 1}/${config.rounds}: ${order.map((e) => `${e.caseId}/${e.platform}`).join(' → ')}`);
    for (const { caseId, platform } of order) {
      let result;
      for (let attempt = 0; ; attempt++) {
        result = await measureServer(caseId, platform === 'node' ? 'express' : platform, round);
        if (!(result.othersCpu > config.maxOthersCpu) || attempt >= config.retries) break;
        log(
          `  ${caseId}/${platform}: other processes used ${fmt(result.othersCpu * 100, 0)}% of a core meanwhile: measuring again`,
        );
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
      samples.get(`${caseId}/${platform}`).push(result);
      log(
        `  ${caseId}/${platform.padEnd(7)} ${fmtInt(result.reqPerSec).padStart(7)} req/s  p50 ${fmt(result.p50)} ms  p99 ${fmt(result.p99)} ms  ` +
          `server ${fmt(result.serverCpuUsPerReq, 0)} µs CPU/req  others ${fmt(result.othersCpu * 100, 0)}%  (${fmtInt(result.total2xx)} × 2xx, pool ${fmtInt(result.poolSize)}${result.signedDuringRun ? `, ${fmtInt(result.signedDuringRun)} signed during the run` : ''})`,
      );
    }
  }
  const summary = {};
  for (const [key, runs] of samples) {
    summary[key] = {
      runs,
      reqPerSec: median(runs.map((r) => r.reqPerSec)),
      min: Math.min(...runs.map((r) => r.reqPerSec)),
      max: Math.max(...runs.map((r) => r.reqPerSec)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUs: median(runs.map((r) => r.serverCpuUsPerReq)),
      othersCpu: Math.max(...runs.map((r) => r.othersCpu)),
      info: runs[0]?.info ?? {},
      signedDuringRun: runs.reduce((sum, r) => sum + r.signedDuringRun, 0),
      responses: runs.reduce((sum, r) => sum + r.total2xx, 0),
    };
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------------------------
// 4a. Memory after 100,000 requests through the module.

async function runMemory(platform) {
  const server = forkChild('server.mjs', ['d', platform], { execArgv: ['--expose-gc'] });
  try {
    const ready = await server.next('ready');
    const rounds = [];
    const start = (await server.ask('stats')).memory;
    for (let round = 0; round < config.memoryRounds; round++) {
      const pool = signPool(config.memoryPerRound, newTag());
      const result = await load(ready.port, pool, { amount: config.memoryPerRound });
      checkResponses(`memory/${platform} round ${round + 1}`, result);
      const stats = await server.ask('stats');
      rounds.push({
        requests: stats.requests,
        rss: stats.memory.rss,
        heapUsed: stats.memory.heapUsed,
        external: stats.memory.external,
      });
      log(
        `  memory/${platform} after ${fmtInt(stats.requests)} requests: RSS ${mib(stats.memory.rss)} MiB, heap ${mib(stats.memory.heapUsed)} MiB`,
      );
    }
    server.child.send({ type: 'close' });
    const exit = await server.exit();
    if (exit.code !== 0) throw new Error(`memory/${platform}: server exited with ${exit.code}`);
    return { platform, start, rounds };
  } catch (error) {
    server.child.kill();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 4b. Scripts written separately and quoted as they print: the idempotency store's memory
// (bench/idempotency-memory.mjs) and queue mode (bench/queue.mjs, needs redis-server).

async function runQuoted(name, nodeFlags = []) {
  const script = join(BENCH_DIR, name);
  const args = [...LIB_ARGV, ...nodeFlags, script, ...(QUICK ? ['--quick'] : [])];
  const startedAt = performance.now();
  try {
    const output = execFileSync(process.execPath, args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 900_000,
      maxBuffer: 10 * 1024 * 1024,
    });
    log(
      output
        .trim()
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n'),
    );
    return {
      command: `node ${args.map((a) => relative(ROOT, a) || a).join(' ')}`,
      output: output.trim(),
      seconds: (performance.now() - startedAt) / 1000,
    };
  } catch (error) {
    const detail = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim() || error.message;
    throw new Error(`bench/${name} failed:\n${detail}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Verify micro-benchmark.

async function runVerify() {
  const child = forkChild('verify.mjs', [
    '--rounds',
    String(config.verifyRounds),
    '--slice-ms',
    String(config.verifySliceMs),
  ]);
  const result = await child.next('verify', 600_000);
  await child.exit();
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// 2b. Per-delivery steps (bench/hot-path.mjs).

function runHotPath() {
  const script = join(BENCH_DIR, 'hot-path.mjs');
  const args = [...LIB_ARGV, script, '--json', ...(QUICK ? ['--quick'] : [])];
  const output = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  const result = JSON.parse(output.trim().split('\n').pop());
  for (const [name, ns] of Object.entries(result.nsPerCall)) log(`  ${name.padEnd(12)} ${fmtInt(ns)} ns`);
  return { ...result, command: `node ${args.map((a) => relative(ROOT, a) || a).join(' ')}` };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Start-up.

async function startupOnce(mode, logger) {
  const child = forkChild('startup.mjs', [mode, ...(logger ? ['--logger'] : [])]);
  const result = await child.next('startup');
  const exit = await child.exit();
  if (exit.code !== 0) throw new Error(`startup ${mode}: exited with ${exit.code}\n${child.stderr()}`);
  return result;
}

async function runStartup() {
  const variants = [
    { logger: false, runs: config.startupRuns },
    { logger: true, runs: config.startupLoggerRuns },
  ];
  const out = [];
  for (const { logger, runs } of variants) {
    const samples = { with: [], without: [] };
    for (let i = 0; i < runs; i++) {
      for (const mode of i % 2 === 0 ? ['with', 'without'] : ['without', 'with']) {
        samples[mode].push(await startupOnce(mode, logger));
      }
    }
    const med = (mode, key) => median(samples[mode].map((s) => s[key]));
    const row = {
      logger,
      runs,
      with: { createMs: med('with', 'createMs'), initMs: med('with', 'initMs'), totalMs: med('with', 'totalMs') },
      without: {
        createMs: med('without', 'createMs'),
        initMs: med('without', 'initMs'),
        totalMs: med('without', 'totalMs'),
      },
    };
    row.addedInitMs = row.with.initMs - row.without.initMs;
    row.addedTotalMs = row.with.totalMs - row.without.totalMs;
    log(
      `  startup (logger ${logger ? 'on' : 'off'}): init +${fmt(row.addedInitMs, 1)} ms, create+init +${fmt(row.addedTotalMs, 1)} ms`,
    );
    out.push(row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Report.

function machine() {
  const cpus = os.cpus();
  const nest = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8')).version;
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', ...name.split('/'), 'package.json'), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (lib/ has uncommitted changes)';
  } catch {
    /* not a git checkout */
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    nest,
    express: version('express'),
    fastify: version('fastify'),
    sdk: version('@scalekit-sdk/node'),
    standardwebhooks: version('standardwebhooks'),
    autocannon: version('autocannon'),
    date: new Date().toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    commit: `${commit}${SNAPSHOT ? '; dist/esm as copied at start' : ''}`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

const targets = [];
function target(name, actual, threshold, unit = '×') {
  const pass = unit === 'ms' || unit === 'ns' ? actual < threshold : actual >= threshold;
  targets.push({ name, actual, threshold, unit, pass });
}

function formatTarget(t) {
  if (t.unit === 'ms') return `${fmt(t.actual, 1)} ms`;
  if (t.unit === 'ns') return `${fmtInt(t.actual)} ns`;
  return `${fmt(t.actual, 3)}×`;
}

function report({
  info,
  http,
  memory,
  store,
  queue,
  interceptor,
  otel,
  verify,
  hot,
  startup,
  loadStart,
  loadEnd,
  elapsedS,
}) {
  const L = [];
  L.push('# Benchmark results', '');
  if (QUICK) {
    L.push(
      '> **QUICK RUN (`--quick`): these figures are NOT meaningful.** One short round per case, only to prove the',
      '> scripts work (CI). Run `npm run bench` for real numbers (bench/RESULTS.md).',
      '',
    );
  }
  if (PROFILE) {
    L.push('> **PROFILING RUN: the module servers ran under `--cpu-prof`; their throughput is distorted.**', '');
  }
  L.push(
    '| machine | |',
    '|---|---|',
    `| CPU | ${info.cpu} |`,
    `| cores | ${info.cores} |`,
    `| RAM | ${info.ramGiB} GiB |`,
    `| OS | ${info.os} |`,
    `| Node | ${info.node} |`,
    `| Nest | ${info.nest} (express ${info.express}, fastify ${info.fastify}) |`,
    `| compared | @scalekit-sdk/node ${info.sdk}, standardwebhooks ${info.standardwebhooks}; load: autocannon ${info.autocannon} |`,
    `| date | ${info.date} |`,
    `| command | \`${info.command}\` |`,
    `| library | ${info.commit} |`,
    `| load average (1 min) | ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end |`,
    `| wall time | ${fmt(elapsedS, 0)} s |`,
    '',
  );

  if (http) {
    L.push(
      '## 1. HTTP throughput',
      '',
      `Every server on 127.0.0.1 in its own process, started one at a time; order alternates between rounds ` +
        `(forward, then reversed). ${config.rounds} round(s) × ${config.duration} s per case after a ${config.warmup} s warm-up, ` +
        `${config.connections} connections, no pipelining. Payload: \`organization.directory.user_created\` from catalogue/examples ` +
        `(${signPool(1, 'z')[0].body.length} bytes minified), each request a distinct delivery (own event \`id\`, \`webhook-id\` ` +
        `and signature), pre-signed before the measured window. Load generator and server share the machine's ` +
        `${info.cores} cores (autocannon is one process on about one core, the server the other): case a mostly measures ` +
        `the load generator. "server CPU" is the server process's CPU time per request (user + system), a figure the ` +
        `load generator does not limit. "others' CPU" is the CPU that other processes on the machine used during the ` +
        `measurement, as a share of one core (a measurement above ${config.maxOthersCpu * 100}% is repeated, up to ${config.retries} times). ` +
        `Medians over rounds; latency percentiles from per-response times (2xx only).`,
      '',
    );
    const platforms = config.platforms;
    for (const platform of platforms) {
      const get = (c) => (c === 'a' ? http['a/node'] : http[`${c}/${platform}`]);
      const base = get('b');
      L.push(
        `### ${platform}`,
        '',
        "| case | req/s (median) | min – max | p50 ms | p99 ms | server CPU µs/req | vs b | others' CPU (max) |",
        '|---|---:|---:|---:|---:|---:|---:|---:|',
      );
      for (const c of config.cases) {
        const s = get(c);
        if (!s) continue;
        const extra = s.info?.handlersPerDelivery
          ? ` (${s.info.registrations} registrations, ${s.info.handlersPerDelivery} run per delivery)`
          : '';
        L.push(
          `| ${CASE_LABEL[c]}${extra} | ${fmtInt(s.reqPerSec)} | ${fmtInt(s.min)} – ${fmtInt(s.max)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.cpuUs, 0)} | ${base ? fmt(s.reqPerSec / base.reqPerSec) : 'n/a'} | ${fmt(s.othersCpu * 100, 0)}% |`,
        );
      }
      const r = (x, y) => (get(x) && get(y) ? get(x).reqPerSec / get(y).reqPerSec : NaN);
      const rc = (x, y) => (get(x) && get(y) ? get(y).cpuUs / get(x).cpuUs : NaN);
      L.push('', '| ratio (req/s) | value | target | | by server CPU/req |', '|---|---:|---:|---|---:|');
      for (const [x, y, t] of [
        ['d', 'c', 0.95],
        ['d', 'b', 0.9],
        ['e', 'd', 0.97],
      ]) {
        const v = r(x, y);
        if (!Number.isFinite(v)) continue;
        target(`${platform}: ${x}/${y} ≥ ${t}`, v, t);
        L.push(`| ${x}/${y} | ${fmt(v, 3)} | ≥ ${t} | ${v >= t ? 'PASS' : 'MISS'} | ${fmt(rc(x, y), 3)} |`);
      }
      L.push('');
    }
    const late = Object.values(http).reduce((sum, s) => sum + s.signedDuringRun, 0);
    if (late > 0) {
      const which = Object.entries(http)
        .filter(([, s]) => s.signedDuringRun > 0)
        .map(([k]) => k)
        .join(', ');
      L.push(
        `Deliveries signed by the load generator during a run (it outlasted the pre-signed pool): ${fmtInt(late)} in ${which}.`,
        '',
      );
    }
  }

  if (verify) {
    L.push(
      '## 2. Verify micro-benchmark (ops/s)',
      '',
      `One process, implementations interleaved (order rotated each round), ${verify.rounds} rounds × ${verify.sliceMs} ms ` +
        'per implementation and case, medians. Ours: `ScalekitWebhookVerifier#verify`, built once. SDK: ' +
        '`ScalekitClient#verifyWebhookPayload` (takes a string). standardwebhooks: `Webhook#verify` with ' +
        '`{ jsonParse: false }` (verification only). **buffer** input = the raw body Buffer as a server holds it ' +
        '(the SDK call includes the `toString("utf8")` its API requires); **string** input = the body already decoded ' +
        '(secondary: favours the string-based libraries).',
      '',
      '| body | input | ours | @scalekit-sdk/node | standardwebhooks | ours/sdk | ours/standardwebhooks |',
      '|---|---|---:|---:|---:|---:|---:|',
    );
    for (const r of verify.results) {
      L.push(
        `| ${r.size} (${fmtInt(r.bytes)} B) | ${r.form} | ${fmtInt(r.ops.ours)} | ${fmtInt(r.ops.sdk)} | ${fmtInt(r.ops.standardwebhooks)} | ${fmt(r.vsSdk)} | ${fmt(r.vsStandard)} |`,
      );
      const secondary = r.form === 'string' ? ' (string input, secondary)' : '';
      target(`verify ${r.size}${secondary}: ours ≥ 1.0 × sdk`, r.vsSdk, 1.0);
      target(`verify ${r.size}${secondary}: ours ≥ 3 × standardwebhooks`, r.vsStandard, 3);
    }
    L.push('');
  }

  if (hot) {
    L.push(
      '## 2b. Per-delivery steps (ns per call)',
      '',
      `\`${hot.command}\`: one process, ${hot.rounds} rounds × ${hot.sliceMs} ms per step, medians. The idempotency store is ` +
        'filled to its bound (100,000 keys) first, so every claim of a new key also evicts one, as in a busy receiver; ' +
        'claim and complete are each awaited.',
      '',
      '| step | ns per call |',
      '|---|---:|',
    );
    const label = {
      envelope: '`parseScalekitEventPayload` of the 1 KiB fixture (decode, `JSON.parse`, envelope rules)',
      'JSON.parse': 'floor: `body.toString()` + `JSON.parse` only',
      store: '`MemoryIdempotencyStore` claim + complete of a new key',
      'store floor': 'floor: the same loop around a store whose methods do nothing (the awaits)',
      verify: '`ScalekitWebhookVerifier#verify`, 1 KiB Buffer',
    };
    for (const [name, ns] of Object.entries(hot.nsPerCall)) L.push(`| ${label[name] ?? name} | ${fmtInt(ns)} |`);
    const storeOwn = hot.nsPerCall.store - hot.nsPerCall['store floor'];
    L.push('', `Memory store's own cost (claim + complete minus the floor): ${fmtInt(storeOwn)} ns.`, '');
    target('memory store: claim + complete (own cost) < 500 ns', storeOwn, 500, 'ns');
  }
  if (startup) {
    L.push(
      '## 3. Start-up',
      '',
      '1,000 providers × 5 methods. **with**: every method decorated with `@OnScalekitEvent` (exact types and a few ' +
        'wildcards) and `ScalekitWebhookModule.forRoot()` imported; **without**: the same classes and methods, no ' +
        'decorators, no module. Express adapter, `rawBody: true`. Each figure is the median of fresh processes ' +
        '(alternating with/without). Discovery runs in `onModuleInit`, i.e. inside `app.init()`.',
      '',
      '| logger | runs | create ms with / without | init ms with / without | **init added** | create + init added |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const s of startup) {
      L.push(
        `| ${s.logger ? 'default (stdout)' : '`logger: false`'} | ${s.runs} | ${fmt(s.with.createMs, 1)} / ${fmt(s.without.createMs, 1)} | ${fmt(s.with.initMs, 1)} / ${fmt(s.without.initMs, 1)} | **${fmt(s.addedInitMs, 1)}** | ${fmt(s.addedTotalMs, 1)} |`,
      );
      target(
        `start-up (logger ${s.logger ? 'on' : 'off'}): discovery adds < 50 ms to app.init()`,
        s.addedInitMs,
        50,
        'ms',
      );
    }
    L.push('');
  }

  if (memory || store) {
    L.push('## 4. Memory', '');
  }
  if (memory) {
    L.push(
      `Module with one handler (case d, default options: idempotency on, in memory, bounded to 100,000 event ids); ` +
        `${config.memoryRounds} rounds × ${fmtInt(config.memoryPerRound)} distinct deliveries; RSS and heap measured in the ` +
        'server after a forced GC. Growth is expected while the idempotency store fills up to its bound; the leak check ' +
        'compares the last four rounds (heap; RSS also moves with allocator fragmentation).',
      '',
    );
    for (const m of memory) {
      L.push(`### ${m.platform}`, '', '| after requests | RSS MiB | heap used MiB |', '|---:|---:|---:|');
      L.push(`| 0 (started) | ${mib(m.start.rss)} | ${mib(m.start.heapUsed)} |`);
      for (const r of m.rounds) L.push(`| ${fmtInt(r.requests)} | ${mib(r.rss)} | ${mib(r.heapUsed)} |`);
      // The default idempotency store keeps up to 100,000 event ids by design (and its Map grows its table once
      // after that): the leak check compares the last four rounds, when the store is full (full run).
      const from = Math.max(0, m.rounds.length - 4);
      const first = m.rounds[from];
      const last = m.rounds[m.rounds.length - 1];
      const heapGrowth = last.heapUsed - first.heapUsed;
      L.push(
        '',
        `Heap from ${fmtInt(first.requests)} to ${fmtInt(last.requests)} requests: ${heapGrowth >= 0 ? '+' : ''}${mib(heapGrowth)} MiB; ` +
          `RSS ${last.rss - first.rss >= 0 ? '+' : ''}${mib(last.rss - first.rss)} MiB ` +
          `(${Math.abs(heapGrowth) < 2 * 1048576 ? 'no growth' : 'GROWING: investigate'}).`,
        '',
      );
    }
  }
  if (store) {
    L.push('### Default idempotency store', '');
    L.push(
      `\`${store.command}\` (quoted as it printed; ${fmt(store.seconds, 0)} s):`,
      '',
      '```',
      store.output,
      '```',
      '',
    );
  }
  if (queue) {
    L.push('## 5. Queue mode (BullMQ)', '');
    L.push(
      `\`${queue.command}\` (quoted as it printed; ${fmt(queue.seconds, 0)} s):`,
      '',
      '```',
      queue.output,
      '```',
      '',
    );
  }

  if (interceptor) L.push(...quotedSection('## 6. Interceptors', interceptor));
  if (otel) {
    L.push('## 7. OpenTelemetry (bench/otel.mjs)', '');
    L.push(`\`${otel.command}\` (quoted as it printed; ${fmt(otel.seconds, 0)} s):`, '', '```', otel.output, '```', '');
  }

  if (targets.length) {
    L.push('## Targets', '', '| target | measured | result |', '|---|---:|---|');
    for (const t of targets) {
      L.push(`| ${t.name} | ${formatTarget(t)} | ${t.pass ? 'PASS' : '**MISS**'} |`);
    }
    L.push('');
    if (QUICK) L.push('(Quick run: PASS/MISS above mean nothing.)', '');
  }
  return L.join('\n');
}

/** A section quoting a script's output (a markdown table) as it printed. */
function quotedSection(title, { command, output, seconds }) {
  return [title, '', `\`${command}\` (${fmt(seconds, 0)} s):`, '', output, ''];
}

// ---------------------------------------------------------------------------------------------------------------
// Profiles (--profile): server CPU of the measured windows, per request, by area and by function.

function profileReport(http) {
  const perCase = {};
  for (const [key, s] of Object.entries(http)) {
    const areaMs = {};
    const fnMs = {};
    let handled = 0;
    let busyMs = 0;
    for (const run of s.runs) {
      const summary = summarizeProfile(run.profileFile, 0);
      handled += run.handled;
      busyMs += summary.busyMs;
      for (const [k, v] of Object.entries(summary.areaMs)) areaMs[k] = (areaMs[k] ?? 0) + v;
      for (const [k, v] of Object.entries(summary.fnMs)) fnMs[k] = (fnMs[k] ?? 0) + v;
    }
    const us = (ms) => (ms * 1000) / handled;
    perCase[key] = {
      totalUs: us(busyMs),
      area: Object.fromEntries(Object.entries(areaMs).map(([k, v]) => [k, us(v)])),
      fn: Object.fromEntries(Object.entries(fnMs).map(([k, v]) => [k, us(v)])),
    };
  }
  const L = [
    `## CPU profiles of the measured windows${has('--profile-no-inline') ? ' (`--no-turbo-inlining`: self time stays with the function as written)' : ''}`,
    '',
    'Sampled in each server process (inspector, 250 µs) during the measured window only; profiles in `bench/profiles/`. ' +
      'Figures are self CPU time per handled request (µs), by area (see bench/profile-summary.mjs), then by function.',
    '',
  ];
  const col = (key, area) => perCase[key]?.area[area] ?? 0;
  for (const platform of config.platforms) {
    const keys = ['a/node', ...['b', 'c', 'd', 'e', 'f'].map((c) => `${c}/${platform}`)].filter((k) => perCase[k]);
    const areas = [...new Set(keys.flatMap((k) => Object.keys(perCase[k].area)))].sort(
      (x, y) => (perCase[`d/${platform}`]?.area[y] ?? 0) - (perCase[`d/${platform}`]?.area[x] ?? 0),
    );
    const hasD = Boolean(perCase[`d/${platform}`]);
    const diffs = hasD ? ['c', 'b', 'f'].filter((c) => perCase[`${c}/${platform}`]) : [];
    L.push(`### ${platform}: µs of server CPU per request, by area`, '');
    L.push(`| area | ${keys.join(' | ')} |${diffs.map((c) => ` d − ${c} |`).join('')}`);
    L.push(`|---|${keys.map(() => '---:|').join('')}${diffs.map(() => '---:|').join('')}`);
    for (const area of [...areas, 'TOTAL']) {
      const get = (k) => (area === 'TOTAL' ? perCase[k].totalUs : col(k, area));
      L.push(
        `| ${area} | ${keys.map((k) => fmt(get(k), 1)).join(' | ')} |${diffs.map((c) => ` ${fmt(get(`d/${platform}`) - get(`${c}/${platform}`), 1)} |`).join('')}`,
      );
    }
    L.push('');
    for (const c of ['d', 'e']) {
      const p = perCase[`${c}/${platform}`];
      if (!p) continue;
      const ranked = Object.entries(p.fn).sort((x, y) => y[1] - x[1]);
      L.push(
        `#### ${c}/${platform}: top functions (µs per request, share of the server's CPU)`,
        '',
        '| function | µs/req | share |',
        '|---|---:|---:|',
      );
      for (const [fn, v] of ranked.slice(0, 25))
        L.push(`| \`${fn}\` | ${fmt(v, 2)} | ${fmt((100 * v) / p.totalUs, 1)}% |`);
      L.push(
        '',
        `#### ${c}/${platform}: this library, every function`,
        '',
        '| function | µs/req | share |',
        '|---|---:|---:|',
      );
      for (const [fn, v] of ranked.filter(([fn]) => fn.startsWith('OURS'))) {
        L.push(`| \`${fn}\` | ${fmt(v, 2)} | ${fmt((100 * v) / p.totalUs, 2)}% |`);
      }
      L.push('');
    }
  }
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  if (!existsSync(join(ROOT, 'dist', 'esm', 'index.js'))) {
    throw new Error('dist/esm is missing: run `npm run build` first (npm run bench does).');
  }
  if (SNAPSHOT && has('--keep-snapshot') && existsSync(join(SNAPSHOT_DIR, 'esm', 'index.js'))) {
    register('./snapshot-hooks.mjs', import.meta.url); // the copy of the previous run (e.g. to profile the same build)
  } else if (SNAPSHOT) {
    rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
    cpSync(join(ROOT, 'dist', 'esm'), join(SNAPSHOT_DIR, 'esm'), { recursive: true });
    if (!existsSync(join(SNAPSHOT_DIR, 'esm', 'index.js')))
      throw new Error('dist/esm changed while it was being copied: run again');
    register('./snapshot-hooks.mjs', import.meta.url);
  }
  if (PROFILE) {
    rmSync(PROFILE_DIR, { recursive: true, force: true });
    mkdirSync(PROFILE_DIR, { recursive: true });
  }
  const info = machine();
  const loadStart = os.loadavg()[0];
  log(
    `nestjs-scalekit-webhooks benchmarks${QUICK ? ' (QUICK: figures not meaningful)' : ''} — ${info.cpu}, ${info.cores} cores, Node ${info.node}, Nest ${info.nest}`,
  );
  const results = { info, loadStart };
  if (sections.has('http')) results.http = await runHttp();
  if (sections.has('memory')) {
    log('\n[memory] 100,000 requests in rounds');
    results.memory = [];
    for (const platform of config.platforms) results.memory.push(await runMemory(platform));
  }
  if (sections.has('verify')) {
    log('\n[verify] micro-benchmark');
    results.verify = await runVerify();
  }
  if (sections.has('hot')) {
    log('\n[hot] per-delivery steps');
    results.hot = runHotPath();
  }
  if (sections.has('startup')) {
    log('\n[startup] discovery cost');
    results.startup = await runStartup();
  }
  if (sections.has('store')) {
    log('\n[store] idempotency store memory');
    results.store = await runQuoted('idempotency-memory.mjs', ['--expose-gc']);
  }
  if (sections.has('queue')) {
    log('\n[queue] queue mode: acknowledge and process');
    results.queue = await runQuoted('queue.mjs');
  }
  if (sections.has('interceptor')) {
    log('\n[interceptor] decisions: the module vs a hand-written route with the SDK');
    results.interceptor = await runQuoted('interceptor.mjs');
  }
  if (sections.has('otel')) {
    log('\n[otel] OpenTelemetry: absent, API without SDK, SDK with metrics (and traces)');
    results.otel = await runQuoted('otel.mjs');
  }
  results.loadEnd = os.loadavg()[0];
  results.elapsedS = (performance.now() - started) / 1000;
  let markdown = report(results);
  if (PROFILE && results.http) markdown += `\n${profileReport(results.http)}\n`;
  console.log(`\n${markdown}`);
  for (const t of targets) log(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}  (${formatTarget(t)})`);
  if (!has('--no-write')) {
    mkdirSync(join(outFile, '..'), { recursive: true });
    writeFileSync(outFile, `${markdown}\n`);
    log(`\nwritten to ${relative(ROOT, outFile)}${QUICK ? ' (quick run: not the real results)' : ''}`);
  }
}

main().then(
  () => {
    if (failures.length) {
      log(`\nFAILED:\n${failures.join('\n')}`);
      process.exit(1);
    }
  },
  (error) => {
    log(`\nBENCHMARK BROKE: ${error.stack ?? error}`);
    if (failures.length) log(failures.join('\n'));
    process.exit(1);
  },
);
