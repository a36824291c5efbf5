import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BuiltCli {
  /** The temporary directory holding the build (dist layout: `esm/cli/main.js`). */
  dir: string;
  main: string;
  cleanup(): void;
}

/**
 * Compiles the CLI (lib/cli/main.ts and what it imports, nothing else) with the package's build settings into a
 * fresh directory under .tmp/ — inside the project, so that Node finds node_modules from there — exactly as
 * `npm run build` lays out dist/esm. Each test file gets its own build: no race with other suites or with dist/.
 */
export async function buildCli(): Promise<BuiltCli> {
  const base = join(ROOT, '.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'cli-build-'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: join(dir, 'esm'), declaration: false, sourceMap: false, incremental: false },
      files: [join(ROOT, 'lib/cli/main.ts')],
      include: [],
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const output = await new Promise<string>((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
      (_error, stdout, stderr) => done(`${stdout}${stderr}`),
    );
  });
  // Type errors elsewhere in the tree (files other people are editing) do not stop the emit; ours do.
  const ours = output.split('\n').filter((l) => /lib\/(cli|testing)\//.test(l));
  const main = join(dir, 'esm', 'cli', 'main.js');
  if (ours.length > 0 || !existsSync(main)) {
    throw new Error(`building the CLI failed:\n${output}`);
  }
  return { dir, main, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** The environment a user's shell would give: no secret, no colour settings, none of jest's NODE_OPTIONS. */
function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SCALEKIT_WEBHOOK_SECRET', 'NO_COLOR', 'FORCE_COLOR', 'NODE_OPTIONS']) {
    delete env[name];
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) {
      delete env[name];
    } else {
      env[name] = value;
    }
  }
  return env;
}

/** Runs `node main.js …args` to completion, as a user would: stdin piped from `input` (or empty). */
export function runCli(cli: BuiltCli, args: string[], options: CliRunOptions = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [cli.main, ...args], {
      cwd: options.cwd ?? cli.dir,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // the CLI may exit without reading its input
    child.stdin.end(options.input ?? '');
  });
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (waits for it). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` to this child (by its pid) and resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running command (`serve`). */
export function startCli(cli: BuiltCli, args: string[], options: CliRunOptions = {}): RunningCli {
  const child = spawn(process.execPath, [cli.main, ...args], {
    cwd: options.cwd ?? cli.dir,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (pattern, timeoutMs = 10_000) =>
      new Promise((done, fail) => {
        const started = Date.now();
        const poll = () => {
          const match = out.match(pattern);
          if (match) {
            done(match);
          } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
            fail(new Error(`no ${pattern} in the output (exit ${child.exitCode}):\n${out}\n${err}`));
          } else {
            setTimeout(poll, 20);
          }
        };
        poll();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
