// Interceptor decisions over HTTP: ScalekitInterceptorModule next to a hand-written Nest route that verifies with
// @scalekit-sdk/node's verifyInterceptorPayload, measured like the webhook cases of run.mjs (each server in its own
// process, one at a time, order alternating between rounds, medians; server CPU per request from the server itself).
//   npm run build && node bench/interceptor.mjs      3 rounds × 10 s per case and platform
//   node bench/interceptor.mjs --quick               1 round × 1.5 s (smoke run; figures meaningless)
// Options: --rounds N  --duration S  --connections C  --platforms express,fastify  --json (one JSON line at the end)
// Servers are forked copies of this script (`--role server --case sdk|module --platform …`).
// Exit status: non-zero when any answer is not a 200 ALLOW from the handler (counted in the server).
import 'reflect-metadata';
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, fmtInt, median, namedClass, decorateMethod, defineMethod, ROOT, SECRET } from './common.mjs';

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
};
const QUICK = has('--quick');
const config = {
  rounds: Number(value('--rounds') ?? (QUICK ? 1 : 3)),
  duration: Number(value('--duration') ?? (QUICK ? 1.5 : 10)),
  warmup: QUICK ? 0.5 : 2,
  connections: Number(value('--connections') ?? 50),
  platforms: (value('--platforms') ?? 'express,fastify').split(','),
};
const PATH = '/scalekit/interceptors';
const TRIGGER = 'PRE_SIGNUP';
const CASES = {
  sdk: 'hand-written Nest route + @scalekit-sdk/node verifyInterceptorPayload',
  module: 'ScalekitInterceptorModule, 1 handler',
};
const KEY = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
const log = (...parts) => console.error(...parts);

// ---------------------------------------------------------------------------------------------------------------
// Servers (child processes).

/** Requests that reached the code under test, and handler decisions. */
const counter = { requests: 0, calls: 0 };

/** The handler's policy, the same in both cases: a domain check, then ALLOW. */
function decide(request) {
  counter.calls++;
  const domain = request.interceptor_context?.user_email?.split('@')[1];
  return domain === 'blocked.example'
    ? { decision: 'DENY', error: { message: 'Sign-ups from this domain are not accepted', code: 'DOMAIN_BLOCKED' } }
    : { decision: 'ALLOW' };
}

async function runServer(caseId, platform) {
  const { Controller, HttpCode, Injectable, Module, Post, Req, UnauthorizedException } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const AppModule = namedClass('InterceptorBenchModule');
  if (caseId === 'sdk') {
    // What Scalekit's docs teach, in a Nest controller: SDK verification over the raw body, then switch on the trigger.
    const { ScalekitClient } = await import('@scalekit-sdk/node');
    const scalekit = new ScalekitClient('https://bench.invalid', 'skc_bench', 'bench_client_secret');
    const SdkInterceptorController = namedClass('SdkInterceptorController');
    defineMethod(SdkInterceptorController, 'receive', function receive(req) {
      counter.requests++;
      try {
        scalekit.verifyInterceptorPayload(SECRET, req.headers, req.rawBody.toString('utf8'));
      } catch {
        throw new UnauthorizedException('Invalid interceptor signature');
      }
      switch (req.body.trigger_point) {
        case TRIGGER:
          return decide(req.body);
        default:
          return { decision: 'ALLOW' };
      }
    });
    Controller(PATH.slice(1))(SdkInterceptorController);
    Req()(SdkInterceptorController.prototype, 'receive', 0);
    decorateMethod(SdkInterceptorController, 'receive', Post(), HttpCode(200));
    Module({ controllers: [SdkInterceptorController] })(AppModule);
  } else if (caseId === 'module') {
    const { OnScalekitInterceptor, ScalekitInterceptorModule } = await import('nestjs-scalekit-webhooks');
    const SignupPolicy = namedClass('SignupPolicy');
    defineMethod(SignupPolicy, 'preSignup', function preSignup(request) {
      counter.requests++;
      return decide(request);
    });
    Injectable()(SignupPolicy);
    decorateMethod(SignupPolicy, 'preSignup', OnScalekitInterceptor(TRIGGER));
    Module({ imports: [ScalekitInterceptorModule.forRoot({ secret: SECRET })], providers: [SignupPolicy] })(AppModule);
  } else {
    throw new Error(`unknown case ${JSON.stringify(caseId)}`);
  }
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      process.send({ type: 'stats', ...counter, cpu: process.cpuUsage() });
    } else if (message.type === 'close') {
      await app.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.send({ type: 'ready', port: app.getHttpServer().address().port });
}

// ---------------------------------------------------------------------------------------------------------------
// Load generator (the parent).

/** Distinct signed calls (own `interceptor-id`), pre-signed before the measured window. */
function signPool(count, tag) {
  const body = Buffer.from(
    JSON.stringify(
      JSON.parse(readFileSync(join(ROOT, 'catalogue', 'interceptor-examples', `${TRIGGER}.json`), 'utf8')),
    ),
  );
  const timestamp = String(Math.floor(Date.now() / 1000));
  const sign = (i) => {
    const id = `icp_bench${tag}${i.toString(36).padStart(7, '0')}`;
    const signature = createHmac('sha256', KEY).update(`${id}.${timestamp}.`).update(body).digest('base64');
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'interceptor-id': id,
        'interceptor-timestamp': timestamp,
        'interceptor-signature': `v1,${signature}`,
      },
    };
  };
  const pool = Array.from({ length: count }, (_, i) => sign(i));
  pool.sign = sign;
  pool.bytes = body.length;
  return pool;
}

function load(port, pool, duration) {
  let next = 0;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${PATH}`,
        connections: config.connections,
        pipelining: 1,
        timeout: 10,
        duration,
        requests: [
          {
            method: 'POST',
            path: PATH,
            setupRequest: (request) => {
              const call = next < pool.length ? pool[next] : pool.sign(next);
              next++;
              request.method = 'POST';
              request.path = PATH;
              request.headers = call.headers;
              request.body = call.body;
              return request;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const sorted = latencies.subarray(0, count).sort();
        const pct = (p) => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.floor((p / 100) * count))]);
        resolve({
          reqPerSec: result['2xx'] / result.duration,
          total2xx: result['2xx'],
          bad: result.non2xx + result.errors + result.timeouts,
          statusCodeStats: result.statusCodeStats,
          p50: pct(50),
          p99: pct(99),
        });
      },
    );
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

function forkServer(caseId, platform) {
  const child = fork(SELF, ['--role', 'server', '--case', caseId, '--platform', platform], {
    cwd: ROOT,
    execArgv: process.execArgv, // keeps run.mjs's --import of the snapshot
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  child.on('message', (message) => waiting.get(message.type)?.(message));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const next = (type) =>
    new Promise((resolve, reject) => {
      waiting.set(type, resolve);
      exited.then((code) => reject(new Error(`${caseId}/${platform} server exited (${code}) before '${type}'`)));
    });
  return {
    next,
    ask: (type) => {
      const reply = next(type);
      child.send({ type });
      return reply;
    },
    close: async () => {
      if (child.exitCode === null) child.send({ type: 'close' });
      return exited;
    },
    kill: () => child.kill(),
  };
}

let tags = 0;
async function measure(caseId, platform) {
  const server = forkServer(caseId, platform);
  try {
    const { port } = await server.next('ready');
    const warm = await load(port, signPool(10_000, `w${tags++}`), config.warmup);
    const pool = signPool(Math.min(500_000, Math.max(20_000, Math.ceil(warm.reqPerSec * config.duration * 2))), tags++);
    const before = await server.ask('stats');
    const result = await load(port, pool, config.duration);
    const after = await server.ask('stats');
    const handled = after.requests - before.requests;
    const calls = after.calls - before.calls;
    const label = `${caseId}/${platform}`;
    if (warm.bad > 0 || result.bad > 0 || result.total2xx === 0) {
      throw new Error(`${label}: answers other than 2xx: ${JSON.stringify(result.statusCodeStats)}`);
    }
    // Every 2xx must be a decision of the handler. Calls in flight when a load run stops are handled but not counted:
    // at most one per connection at the end of the warm-up and at the end of the measured run.
    if (calls !== handled || handled < result.total2xx || handled > result.total2xx + 2 * config.connections) {
      throw new Error(`${label}: ${handled} requests, ${calls} decisions for ${result.total2xx} 2xx answers`);
    }
    const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
    return { ...result, cpuUs: (cpuMs * 1000) / handled, bytes: pool.bytes };
  } finally {
    const code = await server.close();
    if (code !== 0) log(`  ${caseId}/${platform} server exited with ${code}`);
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'esm', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  const entries = config.platforms.flatMap((platform) => Object.keys(CASES).map((caseId) => ({ caseId, platform })));
  const samples = new Map(entries.map((e) => [`${e.caseId}/${e.platform}`, []]));
  log(
    `interceptor bench: ${config.rounds} round(s) × ${config.duration} s, ${config.connections} connections` +
      `${QUICK ? ' (quick: figures meaningless)' : ''}`,
  );
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? entries : [...entries].reverse();
    for (const { caseId, platform } of order) {
      const r = await measure(caseId, platform);
      samples.get(`${caseId}/${platform}`).push(r);
      log(
        `  round ${round + 1} ${caseId}/${platform}: ${fmtInt(r.reqPerSec)} req/s  p50 ${fmt(r.p50)} ms  ` +
          `p99 ${fmt(r.p99)} ms  server ${fmt(r.cpuUs, 0)} µs CPU/req`,
      );
    }
  }
  const summary = {};
  for (const [key, runs] of samples) {
    summary[key] = {
      reqPerSec: median(runs.map((r) => r.reqPerSec)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
    };
  }
  const bytes = samples.values().next().value[0].bytes;
  const lines = [
    `\`${TRIGGER}\` calls (catalogue/interceptor-examples/${TRIGGER}.json, ${bytes} bytes minified), each with its own ` +
      '`interceptor-id` and signature; both handlers run the same policy and answer `200 {"decision":"ALLOW"}`.',
    '',
    '| platform | case | req/s (median) | p50 ms | p99 ms | server CPU µs/req |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const platform of config.platforms) {
    for (const caseId of Object.keys(CASES)) {
      const s = summary[`${caseId}/${platform}`];
      lines.push(
        `| ${platform} | ${CASES[caseId]} | ${fmtInt(s.reqPerSec)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.cpuUs, 0)} |`,
      );
    }
  }
  lines.push(
    '',
    '| platform | module / hand-written (req/s) | by server CPU/req | module p99 ms | hand-written p99 ms |',
  );
  lines.push('|---|---:|---:|---:|---:|');
  for (const platform of config.platforms) {
    const m = summary[`module/${platform}`];
    const s = summary[`sdk/${platform}`];
    lines.push(
      `| ${platform} | ${fmt(m.reqPerSec / s.reqPerSec, 3)} | ${fmt(s.cpuUs / m.cpuUs, 3)} | ${fmt(m.p99)} | ${fmt(s.p99)} |`,
    );
  }
  console.log(lines.join('\n'));
  if (has('--json')) console.log(JSON.stringify({ config, summary }));
}

if (value('--role') === 'server') {
  await runServer(value('--case'), value('--platform') ?? 'express');
} else {
  await main();
}
