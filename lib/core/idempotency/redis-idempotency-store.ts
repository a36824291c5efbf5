import { createHash, randomUUID } from 'node:crypto';
import { ScalekitWebhookError } from '../errors.js';
import { loadRedisClientConstructor } from '../ioredis-loader.js';
import { checkDuration, checkKey, checkToken, type ClaimResult, type IdempotencyStore } from './idempotency-store.js';

export const DEFAULT_IDEMPOTENCY_KEY_PREFIX = 'scalekit:webhook:';
/** Longest wait for one store operation, connection included: Redis answers in well under a millisecond when up. */
export const DEFAULT_IDEMPOTENCY_OPERATION_TIMEOUT_MS = 1_000;

/**
 * Options under which the store's own client fails fast while Redis is down and reconnects by itself: no offline
 * queue (a command sent while disconnected fails at once instead of waiting for the reconnection), no resending of
 * commands lost with a connection (a claim resent after the store gave up on it would hold a key nobody works on),
 * a short connect timeout, and reconnection forever with a backoff capped at 2 s.
 */
const OWN_CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
};

/**
 * An ioredis `Redis` or `Cluster` instance, described by the methods the store uses, so that the published types
 * do not require ioredis (an optional peer dependency, loaded lazily when the store creates its own client).
 */
export interface RedisIdempotencyClient {
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(lua: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export interface RedisIdempotencyStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) of your own. Used as it is (its own `keyPrefix` applies too) and never
   * closed by the store. Give either `client` or `connection`.
   */
  client?: RedisIdempotencyClient;
  /**
   * ioredis connection options or a `redis://` URL. The store creates its client on first use (importing the
   * optional peer dependency `ioredis` then) and closes it in {@link RedisIdempotencyStore.close}.
   */
  connection?: string | Readonly<Record<string, unknown>>;
  /** Prepended to every key. Default `scalekit:webhook:`. */
  keyPrefix?: string;
  /**
   * Longest wait for one operation, waiting for the connection included; past it the operation rejects (the
   * delivery is answered 503 and retried). Applies to a `client` of yours too, whatever its options: the store only
   * sends a command when the client is connected, so nothing waits in its offline queue. Default 1000.
   */
  operationTimeoutMs?: number;
}

// Values stored at a key: `in-flight:<token>` while claimed, `done` once completed. Each carries an expiry (PX).
// Any other value is treated as in flight, so that a foreign value never lets two claimers in.

/** KEYS[1] key; ARGV[1] token, ARGV[2] lease in ms. Returns 'claimed', 'in-flight' or 'done'. */
const CLAIM_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'in-flight:' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if v == 'done' then
  return 'done'
end
return 'in-flight'
`;

/** KEYS[1] key; ARGV[1] token, ARGV[2] TTL in ms. Returns 1 when the key is done afterwards, 0 when held by another. */
const COMPLETE_LUA = `
local v = redis.call('GET', KEYS[1])
if v == 'done' then
  return 1
end
if v and v ~= 'in-flight:' .. ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
return 1
`;

/** KEYS[1] key; ARGV[1] token. Returns 1 when the claim was deleted. */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == 'in-flight:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** KEYS[1] key; ARGV[1] token, ARGV[2] lease in ms. Returns 1 when the claim was extended (still held by the token). */
const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == 'in-flight:' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

interface Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

const CLAIM = script(CLAIM_LUA);
const COMPLETE = script(COMPLETE_LUA);
const RELEASE = script(RELEASE_LUA);
const RENEW = script(RENEW_LUA);

type ScriptClient = RedisIdempotencyClient;

interface OwnedClient extends ScriptClient {
  readonly status: string;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

/** What the store reads of any ioredis client (its own or yours) to avoid queueing commands while disconnected. */
interface ObservableClient {
  readonly status?: unknown;
  once?(event: string, listener: () => void): unknown;
  removeListener?(event: string, listener: () => void): unknown;
}

/**
 * An {@link IdempotencyStore} in Redis (through ioredis), shared by every process that uses the same server and key
 * prefix. Each operation is one Lua script (run by `EVALSHA`, falling back to `EVAL` when the server does not have it
 * cached), hence atomic across processes. Every key carries an expiry (the lease or the done TTL), so Redis never
 * accumulates keys. Errors from Redis reject the operation unchanged.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #keyPrefix: string;
  readonly #connection: string | Readonly<Record<string, unknown>> | undefined;
  readonly #ownsClient: boolean;
  readonly #operationTimeoutMs: number;
  #client: Promise<ScriptClient> | undefined;
  #closed = false;
  /** Whether the store's own client was connected once: from then on it fails fast instead of waiting to reconnect. */
  #connectedOnce = false;

  constructor(options: RedisIdempotencyStoreOptions) {
    const {
      client,
      connection,
      keyPrefix = DEFAULT_IDEMPOTENCY_KEY_PREFIX,
      operationTimeoutMs = DEFAULT_IDEMPOTENCY_OPERATION_TIMEOUT_MS,
    } = options ?? {};
    if ((client === undefined) === (connection === undefined)) {
      throw new ScalekitWebhookError(
        'invalid_options',
        client === undefined
          ? 'RedisIdempotencyStore needs either `client` (an ioredis instance of yours) or `connection` (ioredis options or a redis:// URL)'
          : 'RedisIdempotencyStore takes either `client` or `connection`, not both',
      );
    }
    if (client !== undefined && (typeof client !== 'object' || client === null || !hasScriptMethods(client))) {
      throw new ScalekitWebhookError(
        'invalid_options',
        'RedisIdempotencyStore `client` must be an ioredis Redis or Cluster instance',
      );
    }
    const connectionOk = typeof connection === 'string' || (typeof connection === 'object' && connection !== null);
    if (connection !== undefined && !connectionOk) {
      throw new ScalekitWebhookError(
        'invalid_options',
        'RedisIdempotencyStore `connection` must be ioredis options or a redis:// URL',
      );
    }
    if (typeof keyPrefix !== 'string') {
      throw new ScalekitWebhookError('invalid_options', 'RedisIdempotencyStore `keyPrefix` must be a string');
    }
    if (typeof operationTimeoutMs !== 'number' || !Number.isFinite(operationTimeoutMs) || operationTimeoutMs <= 0) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `RedisIdempotencyStore \`operationTimeoutMs\` must be a positive number of milliseconds (got ${String(operationTimeoutMs)})`,
      );
    }
    this.#operationTimeoutMs = operationTimeoutMs;
    this.#keyPrefix = keyPrefix;
    this.#connection = connection;
    this.#ownsClient = client === undefined;
    this.#client = client === undefined ? undefined : Promise.resolve(client as unknown as ScriptClient);
  }

  get keyPrefix(): string {
    return this.#keyPrefix;
  }

  async claim(key: string, leaseMs: number): Promise<ClaimResult> {
    checkKey(key);
    const lease = checkDuration(leaseMs, 'leaseMs');
    const token = randomUUID();
    const reply = await this.#run(CLAIM, this.#keyPrefix + key, token, lease);
    switch (String(reply)) {
      case 'claimed':
        return { status: 'claimed', token };
      case 'done':
        return { status: 'done' };
      case 'in-flight':
        return { status: 'in-flight' };
      default:
        throw new Error(`RedisIdempotencyStore: unexpected reply from the claim script: ${String(reply)}`);
    }
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const ttl = checkDuration(ttlMs, 'ttlMs');
    return Number(await this.#run(COMPLETE, this.#keyPrefix + key, token, ttl)) === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    return Number(await this.#run(RELEASE, this.#keyPrefix + key, token)) === 1;
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    checkKey(key);
    checkToken(token);
    const lease = checkDuration(leaseMs, 'leaseMs');
    return Number(await this.#run(RENEW, this.#keyPrefix + key, token, lease)) === 1;
  }

  /** Health checks: a Redis `PING`, bounded by `operationTimeoutMs` like every operation. */
  async ping(): Promise<void> {
    await this.#bounded(async (client) => {
      const { ping } = client as ScriptClient & { ping?(): Promise<unknown> };
      if (typeof ping !== 'function') {
        throw new Error('the Redis client has no ping()');
      }
      return ping.call(client);
    });
  }

  /** Closes the client the store created from `connection`; a client passed as `client` stays open. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    if (!this.#ownsClient || this.#client === undefined) {
      return;
    }
    let client: OwnedClient;
    try {
      client = (await this.#client) as OwnedClient;
    } catch {
      return; // It was never created.
    }
    if (client.status === 'end') {
      return; // Already closed (for example: it gave up reconnecting). disconnect() would arm a useless timer.
    }
    try {
      await client.quit();
    } catch {
      if (client.status !== 'end') {
        client.disconnect();
      }
    }
  }

  /** Runs a script within the operation time limit. */
  #run(s: Script, key: string, ...args: Array<string | number>): Promise<unknown> {
    return this.#bounded(async (client) => {
      try {
        return await client.evalsha(s.sha, 1, key, ...args);
      } catch (error) {
        if (!isNoScript(error)) {
          throw error;
        }
        // The server restarted, flushed its script cache, or never saw this script: EVAL loads it again.
        return client.eval(s.lua, 1, key, ...args);
      }
    });
  }

  /** Runs `operation` on the client once it is connected, all within `operationTimeoutMs`. */
  async #bounded<T>(operation: (client: ScriptClient) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `RedisIdempotencyStore: no answer from Redis within ${this.#operationTimeoutMs} ms (operationTimeoutMs)`,
            ),
          ),
        this.#operationTimeoutMs,
      );
    });
    let stop: (() => void) | undefined;
    const attempt = this.#attempt(operation, (cancel) => (stop = cancel));
    attempt.catch(() => {}); // it may settle after the deadline answered
    try {
      return await Promise.race([attempt, deadline]);
    } finally {
      clearTimeout(timer);
      stop?.();
    }
  }

  async #attempt<T>(operation: (client: ScriptClient) => Promise<T>, onWait: (cancel: () => void) => void): Promise<T> {
    const client = await this.#getClient();
    if (!(this.#ownsClient && this.#connectedOnce)) {
      // Yours, or ours before its first connection: wait for the connection (within the time limit) rather than
      // fail a delivery that arrives while the app is still connecting. Ours, once connected, has no offline queue:
      // while Redis is down a command fails at once.
      await whenReady(client as ObservableClient, onWait);
    }
    return operation(client);
  }

  #getClient(): Promise<ScriptClient> {
    if (this.#closed) {
      return Promise.reject(new Error('RedisIdempotencyStore is closed'));
    }
    if (this.#client === undefined) {
      const connection = this.#connection;
      const created = loadRedisClientConstructor<OwnedClient>('RedisIdempotencyStore').then((Redis) => {
        const client =
          typeof connection === 'string'
            ? new Redis(connection, OWN_CLIENT_OPTIONS)
            : new Redis({ ...OWN_CLIENT_OPTIONS, ...connection });
        // Connection errors surface as failed operations (503, logged once per outage by the module); without a
        // listener ioredis would print each reconnection failure as an unhandled error event.
        client.on('error', () => {});
        (client as unknown as { once(event: 'ready', listener: () => void): unknown }).once('ready', () => {
          this.#connectedOnce = true;
        });
        return client;
      });
      // A failed import is not cached: installing ioredis and retrying must work without a restart.
      created.catch(() => {
        if (this.#client === created) {
          this.#client = undefined;
        }
      });
      this.#client = created;
    }
    return this.#client;
  }
}

function hasScriptMethods(client: object): boolean {
  const c = client as Partial<ScriptClient>;
  return typeof c.evalsha === 'function' && typeof c.eval === 'function';
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Resolves once `client` is connected, so that no command waits in an offline queue (it would run whenever Redis
 * comes back, long after the store gave up on it). A client without a `status` (not ioredis) is used as it is.
 */
function whenReady(client: ObservableClient, onWait: (cancel: () => void) => void): Promise<void> {
  const status = client.status;
  if (typeof status !== 'string' || status === 'ready' || typeof client.once !== 'function') {
    return Promise.resolve();
  }
  if (status === 'end') {
    return Promise.reject(new Error('RedisIdempotencyStore: the Redis client is closed'));
  }
  return new Promise((resolve) => {
    const ready = () => resolve();
    client.once!('ready', ready);
    onWait(() => client.removeListener?.('ready', ready));
  });
}
