import { RedisMemoryServer } from 'redis-memory-server';
import { findRedisServerBinary, ping, REDIS_INSTALL_HINT, redisServerCommand } from './redis-binary.mjs';

export { findRedisServerBinary, REDIS_INSTALL_HINT };

export interface RedisServerHandle {
  port: number;
  /** `redis://127.0.0.1:<port>` (or `REDIS_URL` when set). */
  url: string;
  /** Stops the server started here and waits until it has exited. A no-op for `REDIS_URL`. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Starts the server again on the same port (after `stop()`, or stops it first), empty: it keeps nothing on disk.
   * Not available for `REDIS_URL`.
   */
  restart(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** The server binary: a path, or a name looked up on PATH. Default `REDISMS_SYSTEM_BINARY`, else `redis-server`. */
  command?: string;
  /** Use this server instead of starting one. Default `process.env.REDIS_URL`; `null` to always start one. */
  url?: string | null;
  /** Start on this port (fails if it is taken). Default: a free port. */
  port?: number;
}

const START_ATTEMPTS = 3;

/**
 * Starts a throw-away `redis-server` (no persistence) on 127.0.0.1 through redis-memory-server, and waits until it is
 * ready. The binary is the one on PATH (or `REDISMS_SYSTEM_BINARY`): the library never downloads or builds one here.
 * When `REDIS_URL` is set, uses that server instead. Fails loudly (never skips) when Redis is not available.
 *
 * The server never keeps the test process alive, and never outlives it: the library's watchdog process stops it when
 * the test process is gone, however it ended.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const external = options.url === undefined ? process.env['REDIS_URL'] : options.url;
  if (external !== undefined && external !== null && external !== '') {
    return useExternal(external);
  }
  const command = options.command ?? redisServerCommand();
  const binary = findRedisServerBinary(command);
  if (binary === undefined) {
    throw new Error(`${command} was not found (PATH=${process.env['PATH'] ?? ''}). ${REDIS_INSTALL_HINT}`);
  }
  let lastError: unknown;
  // A free port can be taken by someone else between the check and the start: try again with another one.
  for (let attempt = 1; attempt <= (options.port === undefined ? START_ATTEMPTS : 1); attempt++) {
    const server = new RedisMemoryServer({
      binary: { systemBinary: binary },
      instance: { ip: '127.0.0.1', port: options.port ?? null },
    });
    if (options.port !== undefined) {
      // The library's own way to come back on a port (what its restart uses): the port is used as is, where its port
      // finder would hand out another one (it holds back ports it gave out recently, even once they are free).
      server._previousInstanceConfig = { port: options.port };
    }
    try {
      await start(server, command);
    } catch (error) {
      lastError = error;
      await server.stop().catch(() => {});
      if (!/already in use/i.test((error as Error).message)) {
        break;
      }
      continue;
    }
    const port = server.instanceInfoSync!.port;
    if (options.port !== undefined && port !== options.port) {
      await server.stop();
      throw new Error(`port ${options.port} is taken: cannot start ${command} there`);
    }
    return handleFor(server, command, port);
  }
  throw lastError;
}

function handleFor(server: RedisMemoryServer, command: string, port: number): RedisServerHandle {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= server.stop().then(
      () => {},
      (error: unknown) => {
        throw new Error(`could not stop ${command} on port ${port}: ${describe(error)}`);
      },
    ));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    restart: async () => {
      await stop();
      await start(server, command);
      if (server.instanceInfoSync!.port !== port) {
        await server.stop();
        throw new Error(`${command} came back on port ${server.instanceInfoSync!.port}, not ${port}`);
      }
      stopping = undefined;
    },
  };
}

async function start(server: RedisMemoryServer, command: string): Promise<void> {
  try {
    await server.start();
  } catch (error) {
    // The library rejects with a string for some failures ("redis-server instance closed with code ...").
    const reason = describe(error);
    const hint = /already in use/i.test(reason) ? '' : ` ${REDIS_INSTALL_HINT}`;
    throw new Error(`${command} exited before it was ready: ${reason}.${hint}`);
  }
  // A forgotten server must not keep jest waiting for open handles (the library's watchdog stops it when we exit).
  const info = server.instanceInfoSync!;
  const killer = (info.instance as unknown as { killerProcess?: ChildProcessLike | null }).killerProcess;
  for (const child of [info.childProcess, killer]) {
    unref(child as ChildProcessLike | null | undefined);
  }
}

interface ChildProcessLike {
  unref(): void;
  stdin?: unknown;
  stdout?: unknown;
  stderr?: unknown;
}

function unref(child: ChildProcessLike | null | undefined): void {
  if (!child) {
    return;
  }
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null | undefined)?.unref?.();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  return {
    port,
    url,
    stop: async () => {},
    restart: () => Promise.reject(new Error(`cannot restart the server at REDIS_URL=${url}: it was not started here`)),
  };
}
