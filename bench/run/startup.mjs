import { fmt, median } from '../common.mjs';
import { config, log } from './options.mjs';
import { forkChild } from './children.mjs';

// ---------------------------------------------------------------------------------------------------------------
// 3. Start-up.

async function startupOnce(mode, logger) {
  const child = forkChild('startup.mjs', [mode, ...(logger ? ['--logger'] : [])]);
  const result = await child.next('startup');
  const exit = await child.exit();
  if (exit.code !== 0) throw new Error(`startup ${mode}: exited with ${exit.code}\n${child.stderr()}`);
  return result;
}

export async function runStartup() {
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
