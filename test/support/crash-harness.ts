import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BuiltChildApp {
  dir: string;
  main: string;
  cleanup(): void;
}

/**
 * Compiles a child app (a test file under test/, e.g. `test/support/crash-child-app.ts`) and the part of lib/ it
 * imports, with the package's build settings, into a fresh directory under .tmp/ (inside the project, so Node finds
 * node_modules from there), the way test/support/cli-harness.ts builds the CLI. The child therefore runs the current
 * sources, not a possibly stale dist/. Any type error fails the build.
 */
export async function buildChildApp(source: string): Promise<BuiltChildApp> {
  const base = join(ROOT, '.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'child-app-'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: {
        rootDir: ROOT,
        outDir: join(dir, 'out'),
        declaration: false,
        sourceMap: false,
        incremental: false,
      },
      files: [join(ROOT, source)],
      include: [],
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const { failed, output } = await new Promise<{ failed: boolean; output: string }>((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
      (error, stdout, stderr) => done({ failed: error !== null, output: `${stdout}${stderr}` }),
    );
  });
  const main = join(dir, 'out', source.replace(/\.ts$/, '.js'));
  if (failed || !existsSync(main)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building ${source} failed:\n${output}`);
  }
  return { dir, main, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The child of the idempotency crash test. */
export const buildCrashChildApp = () => buildChildApp('test/support/crash-child-app.ts');

export interface RunningChildApp {
  child: ChildProcess;
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first match of `pattern` in stdout (waits for it). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` to this child (by its pid) and resolves once it has exited. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built child app with `env` added to a clean environment (no jest NODE_OPTIONS). */
export function startChildApp(built: BuiltChildApp, env: Record<string, string>): RunningChildApp {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv['NODE_OPTIONS'];
  const child = spawn(process.execPath, [built.main], {
    cwd: built.dir,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let all = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    all += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (all += chunk));
  child.stdin!.on('error', () => {}); // EPIPE once the child is gone
  return {
    child,
    output: () => all,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((done, fail) => {
        const started = Date.now();
        const poll = (): void => {
          const match = out.match(pattern);
          if (match) {
            done(match);
          } else if (child.exitCode !== null || child.signalCode !== null || Date.now() - started > timeoutMs) {
            fail(
              new Error(
                `no ${pattern} from the child app (exit ${child.exitCode}, signal ${child.signalCode}):\n${all}`,
              ),
            );
          } else {
            setTimeout(poll, 10);
          }
        };
        poll();
      }),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}
