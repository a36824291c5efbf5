import { join } from 'node:path';
import { fmt, fmtInt, median, signPool } from '../common.mjs';
import { config, failures, has, log, PROFILE, PROFILE_DIR, QUICK } from './options.mjs';
import { forkChild } from './children.mjs';
import { checkResponses, load, machineBusyMs, newTag, waitForQuiet } from './load.mjs';

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

export async function runHttp() {
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
