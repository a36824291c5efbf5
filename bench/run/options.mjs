import { isAbsolute, join, relative } from 'node:path';
import { BENCH_DIR, ROOT } from '../common.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Options.

export const argv = process.argv.slice(2);
export const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
};
export const QUICK = has('--quick');
export const PROFILE = has('--profile') || has('--profile-no-inline');
export const config = {
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
export const sections = new Set(
  config.only ?? ['http', 'memory', 'verify', 'hot', 'startup', 'store', 'queue', 'interceptor', 'otel'],
);
export const outFile =
  value('--out') ?? join(BENCH_DIR, PROFILE ? 'profiles/SUMMARY.md' : QUICK ? 'RESULTS.quick.md' : 'RESULTS.md');
export const PROFILE_DIR = join(BENCH_DIR, 'profiles');
/** Every process resolves the library to a copy of dist/esm taken at start (see snapshot-hooks.mjs). */
export const SNAPSHOT = !has('--no-snapshot');
export const SNAPSHOT_DIR = join(BENCH_DIR, '.snapshot');
export const LIB_ARGV = SNAPSHOT ? ['--import', join(BENCH_DIR, 'use-snapshot.mjs')] : [];

/** A child's command line as the report quotes it, runnable from the package root (`--import` needs `./`). */
export function commandLine(args) {
  const shown = args.map((arg, i) => {
    if (!isAbsolute(arg)) return arg;
    const path = relative(ROOT, arg) || arg;
    return args[i - 1] === '--import' && !path.startsWith('.') ? `./${path}` : path;
  });
  return `node ${shown.join(' ')}`;
}

export const CASE_LABEL = {
  a: 'a. raw node:http + node:crypto + JSON.parse',
  b: 'b. bare Nest POST route, no verification',
  c: 'c. Nest controller + @scalekit-sdk/node verifyWebhookPayload',
  d: 'd. this module, 1 handler',
  e: 'e. this module, 1,000 handler methods / 100 providers',
  f: 'f. (diagnosis) d with `idempotency: false`',
  g: `g. (diagnosis) c plus a ${Number(process.env.SCALEKIT_BENCH_BURN_US ?? 15)} µs busy wait per request`,
};

export const failures = [];
export const log = (...parts) => console.error(...parts);
