import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, ROOT } from '../common.mjs';
import { commandLine, LIB_ARGV, log, QUICK } from './options.mjs';

// ---------------------------------------------------------------------------------------------------------------
// 4b. Scripts written separately and quoted as they print: the idempotency store's memory
// (bench/idempotency-memory.mjs) and queue mode (bench/queue.mjs, needs redis-server).

export async function runQuoted(name, nodeFlags = []) {
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
      command: commandLine(args),
      output: output.trim(),
      seconds: (performance.now() - startedAt) / 1000,
    };
  } catch (error) {
    const detail = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim() || error.message;
    throw new Error(`bench/${name} failed:\n${detail}`);
  }
}
