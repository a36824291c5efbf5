import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';

export interface RedisServerHandle {
  port: number;
  /** `redis://127.0.0.1:<port>` (or `REDIS_URL` when set). */
  url: string;
  /** Kills the server started here and waits until it has exited. A no-op for `REDIS_URL`. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** The server binary. Default `redis-server` from PATH. */
  command?: string;
  /** Use this server instead of starting one. Default `process.env.REDIS_URL`; `null` to always start one. */
  url?: string | null;
}

const INSTALL_HINT =
  'Install it with: apt-get update && apt-get install -y redis-server (or set REDIS_URL to a running server)';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
/** Exit code of the watchdog when the server binary does not exist. */
const NOT_FOUND = 127;

/**
 * A tiny Node process between the test and redis-server: it forwards the server's output, stops the server on
 * SIGTERM (SIGKILL after a grace period), and also when its stdin closes, which happens when the test process dies
 * in any way (even SIGKILL). Inside jest, `process.on('exit')` cannot do this: tests see a copy of `process` that
 * never emits `exit`.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const server = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.kill('SIGTERM');
  setTimeout(() => server.kill('SIGKILL'), ${STOP_TIMEOUT_MS - 1_000}).unref();
};
server.on('error', (error) => {
  process.stderr.write('watchdog: cannot start ' + command + ': ' + error.message + '\\n');
  process.exit(error.code === 'ENOENT' ? ${NOT_FOUND} : 126);
});
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
`;

/**
 * Starts a throw-away `redis-server` (no persistence) on a free port of 127.0.0.1 and waits until it answers PING.
 * When `REDIS_URL` is set, uses that server instead. Fails loudly (never skips) when Redis is not available.
 *
 * The server never keeps the test process alive, and never outlives it: if a test forgets `stop()` or the process
 * is killed, the server is stopped too.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const command = options.command ?? 'redis-server';
  const external = options.url === undefined ? process.env['REDIS_URL'] : options.url;
  if (external !== undefined && external !== null && external !== '') {
    return useExternal(external);
  }
  let lastError: unknown;
  // A free port can be taken by someone else between the check and the start: try again with another one.
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await spawnRedis(command, await freePort());
    } catch (error) {
      lastError = error;
      if (!/address already in use/i.test((error as Error).message)) {
        break;
      }
    }
  }
  throw lastError;
}

async function useExternal(url: string): Promise<RedisServerHandle> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a valid URL: ${url}`);
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const host = parsed.hostname === '' ? '127.0.0.1' : parsed.hostname;
  try {
    await ping(host, port, 2_000);
  } catch (error) {
    throw new Error(`REDIS_URL=${url} does not answer PING: ${(error as Error).message}`);
  }
  return { port, url, stop: async () => {} };
}

async function spawnRedis(command: string, port: number): Promise<RedisServerHandle> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const child = spawn(process.execPath, ['-e', WATCHDOG, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });

  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 20_000) {
      output += chunk.toString('utf8');
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.stdin?.on('error', () => {}); // EPIPE once the watchdog is gone.

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`could not start the redis-server watchdog: ${error.message}`)));
    void exited.then(({ code, signal }) => {
      const detail = output.trim();
      reject(
        code === NOT_FOUND
          ? new Error(`${command} was not found (PATH=${process.env['PATH'] ?? ''}). ${INSTALL_HINT}`)
          : new Error(
              `${command} exited before it was ready (code ${String(code)}, signal ${String(signal)}) on port ${port}.` +
                `${detail === '' ? '' : `\n${detail}`}\n${INSTALL_HINT}`,
            ),
      );
    });
  });
  failed.catch(() => {});

  // A forgotten server must not keep jest waiting for open handles (the watchdog stops it when we exit).
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const stop = once(() => killAndWait(child, exited));
  try {
    await Promise.race([failed, waitForPing(port, () => child.exitCode === null && child.signalCode === null)]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, url: `redis://127.0.0.1:${port}`, stop };
}

/** SIGTERM to the watchdog (which stops the server and exits with it), SIGKILL if that takes too long. */
async function killAndWait(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return;
  }
  const waitExit = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return done;
  };
  child.kill('SIGTERM');
  if (!(await waitExit(STOP_TIMEOUT_MS))) {
    child.stdin?.destroy(); // The watchdog also stops the server when its stdin closes.
    child.kill('SIGKILL');
    await waitExit(STOP_TIMEOUT_MS);
  }
}

async function waitForPing(port: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline && alive()) {
    try {
      await ping('127.0.0.1', port, 500);
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  if (!alive()) {
    return new Promise<never>(() => {}); // The caller reports the exit, with the server's output.
  }
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms (${(lastError as Error)?.message}). ${INSTALL_HINT}`,
  );
}

/** Sends an inline PING and resolves on `+PONG`. */
function ping(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    const finish = (error?: Error): void => {
      socket.destroy();
      if (error) {
        reject(error);
      } else {
        resolve();
      }
    };
    socket.setTimeout(timeoutMs, () => finish(new Error('PING timed out')));
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        finish(reply.startsWith('+PONG') ? undefined : new Error(`unexpected PING reply: ${reply.trim()}`));
      }
    });
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}
