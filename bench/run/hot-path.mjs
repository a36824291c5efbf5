import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BENCH_DIR, fmtInt, ROOT } from '../common.mjs';
import { commandLine, LIB_ARGV, log, QUICK } from './options.mjs';

// ---------------------------------------------------------------------------------------------------------------
// 2b. Per-delivery steps (bench/hot-path.mjs).

export function runHotPath() {
  const script = join(BENCH_DIR, 'hot-path.mjs');
  const args = [...LIB_ARGV, script, '--json', ...(QUICK ? ['--quick'] : [])];
  const output = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  const result = JSON.parse(output.trim().split('\n').pop());
  for (const [name, ns] of Object.entries(result.nsPerCall)) log(`  ${name.padEnd(12)} ${fmtInt(ns)} ns`);
  return { ...result, command: commandLine(args) };
}
