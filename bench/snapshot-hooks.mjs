// Module resolution hook (registered by bench/use-snapshot.mjs): `nestjs-scalekit-webhooks` resolves to the copy of
// dist/esm that run.mjs took at start (bench/.snapshot/esm), so a rebuild of dist/ by someone else during a long
// run neither breaks the run nor mixes two builds. Other specifiers resolve as usual (the copy lives inside the
// package, so its imports of @nestjs/* find the same node_modules as the benchmark scripts).
// SCALEKIT_BENCH_LIB=<folder holding an ESM build's index.js> resolves it there instead (bench/queue.mjs --against
// sets it for the processes that run the other build; keep that folder inside this package for the same reason).
// A script run on its own, before run.mjs ever took a copy, gets dist/esm.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';

const SNAPSHOT = new URL('./.snapshot/esm/index.js', import.meta.url);
const DIST = new URL('../dist/esm/index.js', import.meta.url);

function libraryUrl() {
  const dir = process.env.SCALEKIT_BENCH_LIB;
  if (dir) {
    const entry = join(isAbsolute(dir) ? dir : resolvePath(dir), 'index.js');
    if (!existsSync(entry)) throw new Error(`SCALEKIT_BENCH_LIB: no ${entry}`);
    return pathToFileURL(entry).href;
  }
  return (existsSync(SNAPSHOT) ? SNAPSHOT : DIST).href;
}

const LIBRARY = libraryUrl();

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'nestjs-scalekit-webhooks') {
    return { url: LIBRARY, shortCircuit: true, format: 'module' };
  }
  return nextResolve(specifier, context);
}
