import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuiltChildApp } from '../../support/crash-harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CHILD_SOURCE = join(ROOT, 'test/queue/support/worker-child.ts');

/**
 * Compiles worker-child.ts and the part of lib/ it imports into a fresh directory under .tmp/ (as
 * test/support/crash-harness.ts does for its child app), so the child runs the current sources as real JavaScript.
 * Start it with `startChildApp` from that harness.
 */
export async function buildWorkerChild(): Promise<BuiltChildApp> {
  const base = join(ROOT, '.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'worker-child-'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { rootDir: ROOT, outDir: join(dir, 'out'), declaration: false, sourceMap: false, incremental: false },
      files: [CHILD_SOURCE],
      include: [],
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const output = await new Promise<string>((done) => {
    execFile(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], (_error, stdout, stderr) =>
      done(`${stdout}${stderr}`),
    );
  });
  // Type errors in files other people are editing do not stop the emit; errors in the child or the queue code do.
  const ours = output.split('\n').filter((l) => /worker-child|lib\/core\/queue|scalekit-event\.worker/.test(l));
  const main = join(dir, 'out', 'test', 'queue', 'support', 'worker-child.js');
  if (ours.length > 0 || !existsSync(main)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building the worker child failed:\n${output}`);
  }
  return { dir, main, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
