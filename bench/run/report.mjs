import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fmt, fmtInt, mib, ROOT, signPool } from '../common.mjs';
import { argv, CASE_LABEL, config, PROFILE, QUICK, SNAPSHOT } from './options.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Report.

export function machine() {
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

export const targets = [];
function target(name, actual, threshold, unit = '×') {
  const pass = unit === 'ms' || unit === 'ns' ? actual < threshold : actual >= threshold;
  targets.push({ name, actual, threshold, unit, pass });
}

export function formatTarget(t) {
  if (t.unit === 'ms') return `${fmt(t.actual, 1)} ms`;
  if (t.unit === 'ns') return `${fmtInt(t.actual)} ns`;
  return `${fmt(t.actual, 3)}×`;
}

export function report({
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
      // Issue 15's targets: d/c ≥ 0.93 on Express and ≥ 0.85 on Fastify, e/d ≥ 0.97 on both.
      for (const [x, y, t] of [
        ['d', 'c', platform === 'fastify' ? 0.85 : 0.93],
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
