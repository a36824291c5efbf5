// Module resolution hook (registered by bench/use-snapshot.mjs): `nestjs-scalekit-webhooks` resolves to the copy of
// dist/esm that run.mjs took at start (bench/.snapshot/esm), so a rebuild of dist/ by someone else during a long
// run neither breaks the run nor mixes two builds. Other specifiers resolve as usual (the copy lives inside the
// package, so its imports of @nestjs/* find the same node_modules as the benchmark scripts).
const SNAPSHOT = new URL('./.snapshot/esm/index.js', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'nestjs-scalekit-webhooks') {
    return { url: SNAPSHOT, shortCircuit: true, format: 'module' };
  }
  return nextResolve(specifier, context);
}
