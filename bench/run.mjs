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
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './common.mjs';
import {
  config,
  failures,
  has,
  log,
  outFile,
  PROFILE,
  PROFILE_DIR,
  QUICK,
  sections,
  SNAPSHOT,
  SNAPSHOT_DIR,
} from './run/options.mjs';
import { runHttp } from './run/http.mjs';
import { runMemory } from './run/memory.mjs';
import { runQuoted } from './run/quoted.mjs';
import { runVerify } from './run/verify.mjs';
import { runHotPath } from './run/hot-path.mjs';
import { runStartup } from './run/startup.mjs';
import { formatTarget, machine, report, targets } from './run/report.mjs';
import { profileReport } from './run/profiles.mjs';

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
