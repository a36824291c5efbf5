import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { DEFAULT_IDEMPOTENCY_KEY_PREFIX, RedisIdempotencyStore, ScalekitWebhookError } from 'nestjs-scalekit-webhooks';
import { type RedisServerHandle, startRedisServer } from '../../support/redis-server.js';
import { describeIdempotencyStoreContract } from '../../support/store-contract.js';

let server: RedisServerHandle;
/** The raw connection the tests use to look at keys. */
let raw: Redis;
/** Separate connections for the race tests. */
let racers: Redis[] = [];
let prefixCounter = 0;

beforeAll(async () => {
  server = await startRedisServer();
  raw = new Redis(server.url);
  racers = Array.from({ length: 8 }, () => new Redis(server.url));
  await Promise.all([raw, ...racers].map((c) => c.ping()));
}, 30_000);

afterAll(async () => {
  await Promise.all([raw, ...racers].filter(Boolean).map((c) => c.quit().catch(() => c.disconnect())));
  await server?.stop();
});

function freshPrefix(): string {
  return `test:${process.pid}:${prefixCounter++}:`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Time-based cases wait in real time for Redis to expire keys (PX). The eviction bound is a memory-store property:
// here every key carries an expiry, and Redis's own maxmemory policy governs memory, so it is not tested.
describeIdempotencyStoreContract(
  'RedisIdempotencyStore',
  async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisIdempotencyStore({ client: raw, keyPrefix });
    const peers = racers.map((client) => new RedisIdempotencyStore({ client, keyPrefix }));
    return {
      store,
      peers,
      advance: sleep,
      dispose: async () => {
        const keys = await raw.keys(`${keyPrefix}*`);
        if (keys.length > 0) {
          await raw.del(...keys);
        }
      },
    };
  },
  { shortMs: 150, slackMs: 60 },
);

describe('RedisIdempotencyStore', () => {
  it('refuses neither client nor connection, with a clear message', () => {
    expect(() => new RedisIdempotencyStore({})).toThrow(ScalekitWebhookError);
    expect(() => new RedisIdempotencyStore({})).toThrow(/needs either `client`.*or `connection`/);
    expect(() => new RedisIdempotencyStore(undefined as never)).toThrow(/needs either `client`/);
  });

  it('refuses both client and connection', () => {
    expect(() => new RedisIdempotencyStore({ client: raw, connection: server.url })).toThrow(
      /either `client` or `connection`, not both/,
    );
  });

  it('refuses something that is not an ioredis client', () => {
    expect(() => new RedisIdempotencyStore({ client: {} as never })).toThrow(/must be an ioredis/);
    expect(() => new RedisIdempotencyStore({ connection: 42 as never })).toThrow(/`connection` must be/);
  });

  it('uses the default key prefix scalekit:webhook:', async () => {
    expect(DEFAULT_IDEMPOTENCY_KEY_PREFIX).toBe('scalekit:webhook:');
    const store = new RedisIdempotencyStore({ client: raw });
    const key = `evt_default_prefix_${process.pid}`;
    try {
      const claim = await store.claim(key, 10_000);
      expect(claim.status).toBe('claimed');
      expect(await raw.get(`scalekit:webhook:${key}`)).toBe(`in-flight:${(claim as { token: string }).token}`);
    } finally {
      await raw.del(`scalekit:webhook:${key}`);
    }
  });

  it('stores in-flight claims and done marks under the key prefix, each with an expiry', async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisIdempotencyStore({ client: raw, keyPrefix });
    const claim = await store.claim('evt_1', 10_000);
    const token = (claim as { token: string }).token;
    expect(await raw.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}evt_1`]);
    expect(await raw.get(`${keyPrefix}evt_1`)).toBe(`in-flight:${token}`);
    let ttl = await raw.pttl(`${keyPrefix}evt_1`);
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);

    await store.complete('evt_1', token, 86_400_000);
    expect(await raw.get(`${keyPrefix}evt_1`)).toBe('done');
    ttl = await raw.pttl(`${keyPrefix}evt_1`);
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);

    // A store with another prefix sees nothing of it.
    const other = new RedisIdempotencyStore({ client: raw, keyPrefix: freshPrefix() });
    expect((await other.claim('evt_1', 10_000)).status).toBe('claimed');
    await raw.del(`${keyPrefix}evt_1`);
  });

  it('stacks with the client’s own ioredis keyPrefix', async () => {
    const client = new Redis(server.url, { keyPrefix: 'app:' });
    try {
      const store = new RedisIdempotencyStore({ client, keyPrefix: 'idem:' });
      await store.claim('evt_stack', 10_000);
      expect(await raw.get('app:idem:evt_stack')).toMatch(/^in-flight:/);
      await raw.del('app:idem:evt_stack');
    } finally {
      await client.quit();
    }
  });

  it('leaves the user’s own client open on close()', async () => {
    const client = new Redis(server.url);
    try {
      const store = new RedisIdempotencyStore({ client, keyPrefix: freshPrefix() });
      await store.claim('evt_own', 10_000);
      await store.close();
      await store.close();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
      await expect(store.claim('evt_other', 10_000)).rejects.toThrow(/closed/);
    } finally {
      await client.quit();
    }
  });

  async function clientNames(): Promise<string[]> {
    const list = (await raw.client('LIST')) as string;
    return [...list.matchAll(/ name=(\S*)/g)].map((m) => m[1]!);
  }

  it('creates its client from connection options, and closes it', async () => {
    const connectionName = `idem_opts_${process.pid}`;
    const store = new RedisIdempotencyStore({
      connection: { host: '127.0.0.1', port: server.port, connectionName },
      keyPrefix: freshPrefix(),
    });
    expect(await clientNames()).not.toContain(connectionName); // nothing is opened before first use
    const claim = await store.claim('evt_opts', 10_000);
    expect(claim.status).toBe('claimed');
    expect(await store.complete('evt_opts', (claim as { token: string }).token, 10_000)).toBe(true);
    expect(await clientNames()).toContain(connectionName);

    await store.close();
    await sleep(50);
    expect(await clientNames()).not.toContain(connectionName);
    await expect(store.claim('evt_opts', 10_000)).rejects.toThrow(/closed/);
  });

  it('creates its client from a redis:// URL, and closes it', async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisIdempotencyStore({ connection: server.url, keyPrefix });
    const results = await Promise.all([store.claim('evt_url', 10_000), store.claim('evt_url', 10_000)]);
    expect(results.map((r) => r.status).sort()).toEqual(['claimed', 'in-flight']);
    expect(await raw.get(`${keyPrefix}evt_url`)).toMatch(/^in-flight:/);
    await store.close();
  });

  it('close() without any use opens nothing', async () => {
    const store = new RedisIdempotencyStore({ connection: server.url });
    await store.close();
    await expect(store.claim('evt', 1_000)).rejects.toThrow(/closed/);
  });

  it('loads its scripts again after SCRIPT FLUSH', async () => {
    const store = new RedisIdempotencyStore({ client: raw, keyPrefix: freshPrefix() });
    const claim = await store.claim('evt_flush', 10_000);
    await raw.script('FLUSH');
    expect(await store.claim('evt_flush', 10_000)).toEqual({ status: 'in-flight' });
    await raw.script('FLUSH');
    expect(await store.release('evt_flush', (claim as { token: string }).token)).toBe(true);
    await raw.script('FLUSH');
    expect((await store.claim('evt_flush', 10_000)).status).toBe('claimed');
  });

  it('propagates Redis errors', async () => {
    const keyPrefix = freshPrefix();
    await raw.hset(`${keyPrefix}evt_hash`, 'a', '1');
    const store = new RedisIdempotencyStore({ client: raw, keyPrefix });
    await expect(store.claim('evt_hash', 10_000)).rejects.toThrow(/WRONGTYPE/);
    await raw.del(`${keyPrefix}evt_hash`);
  });

  it('propagates connection failures', async () => {
    const store = new RedisIdempotencyStore({
      connection: { host: '127.0.0.1', port: 1, maxRetriesPerRequest: 0, retryStrategy: () => null },
    });
    try {
      await expect(store.claim('evt', 1_000)).rejects.toThrow();
    } finally {
      await store.close();
    }
  });

  it('bounds every operation by operationTimeoutMs, even on a client that never answers', async () => {
    const silent = { evalsha: () => new Promise(() => {}), eval: () => new Promise(() => {}) };
    const store = new RedisIdempotencyStore({ client: silent, operationTimeoutMs: 100 });
    for (const operation of [
      () => store.claim('evt', 1_000),
      () => store.complete('evt', 'token', 1_000),
      () => store.release('evt', 'token'),
      () => store.renew('evt', 'token', 1_000),
    ]) {
      const began = Date.now();
      await expect(operation()).rejects.toThrow(/within 100 ms \(operationTimeoutMs\)/);
      expect(Date.now() - began).toBeLessThan(2_000);
    }
  });

  it('never sends a command while a client of yours is disconnected (nothing left in its offline queue)', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, retryStrategy: () => 50 });
    client.on('error', () => {});
    const sent: unknown[] = [];
    const original = client.evalsha.bind(client);
    (client as unknown as { evalsha: unknown }).evalsha = (...args: Parameters<typeof original>) => {
      sent.push(args);
      return original(...args);
    };
    client.connect().catch(() => {});
    const store = new RedisIdempotencyStore({ client, operationTimeoutMs: 200 });
    try {
      await expect(store.claim('evt', 1_000)).rejects.toThrow(/operationTimeoutMs/);
      expect(sent).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('refuses a bad operationTimeoutMs', () => {
    for (const bad of [0, -1, Number.NaN, '100']) {
      expect(() => new RedisIdempotencyStore({ client: raw, operationTimeoutMs: bad as never })).toThrow(
        /operationTimeoutMs` must be a positive number of milliseconds/,
      );
    }
  });

  it('treats a foreign value at a key as in flight', async () => {
    const keyPrefix = freshPrefix();
    await raw.set(`${keyPrefix}evt_foreign`, 'something-else', 'PX', 10_000);
    const store = new RedisIdempotencyStore({ client: raw, keyPrefix });
    expect(await store.claim('evt_foreign', 10_000)).toEqual({ status: 'in-flight' });
    expect(await store.release('evt_foreign', 'something-else')).toBe(false);
    expect(await raw.get(`${keyPrefix}evt_foreign`)).toBe('something-else');
    await raw.del(`${keyPrefix}evt_foreign`);
  });
});

describe('startRedisServer (test helper)', () => {
  it('fails loudly, with the install command, when the binary is missing', async () => {
    await expect(startRedisServer({ command: 'redis-server-missing-binary', url: null })).rejects.toThrow(
      /redis-server-missing-binary was not found.*apt-get install -y redis-server/,
    );
  });

  it('fails loudly when the server exits at start', async () => {
    await expect(startRedisServer({ command: 'false', url: null })).rejects.toThrow(/exited before it was ready/);
  }, 20_000);

  it('starts servers on distinct free ports, and stops them (twice is fine)', async () => {
    const [a, b] = await Promise.all([startRedisServer({ url: null }), startRedisServer({ url: null })]);
    expect(a.port).not.toBe(b.port);
    expect(a.url).toBe(`redis://127.0.0.1:${a.port}`);
    await Promise.all([a.stop(), b.stop()]);
    await a.stop();
    await expect(startRedisServer({ url: a.url })).rejects.toThrow(/does not answer PING/);
  }, 20_000);

  it('restarts a stopped server on the same port, empty', async () => {
    const own = await startRedisServer({ url: null });
    try {
      const before = new Redis(own.url);
      await before.set('restart-probe', '1');
      await before.quit();
      await own.stop();
      await expect(startRedisServer({ url: own.url })).rejects.toThrow(/does not answer PING/);
      await own.restart();
      const again = new Redis(own.url, { maxRetriesPerRequest: 0 });
      expect(await again.ping()).toBe('PONG');
      expect(await again.get('restart-probe')).toBeNull();
      await again.quit();
    } finally {
      await own.stop();
    }
  }, 20_000);

  it('starts on a given port, and refuses one that is taken', async () => {
    const own = await startRedisServer({ url: null });
    await own.stop();
    const onPort = await startRedisServer({ url: null, port: own.port });
    try {
      expect(onPort.port).toBe(own.port);
      await expect(startRedisServer({ url: null, port: own.port })).rejects.toThrow(/taken|in use/);
    } finally {
      await onPort.stop();
    }
  }, 20_000);

  it('uses an existing server given as a URL (REDIS_URL), and does not stop it', async () => {
    const external = await startRedisServer({ url: server.url });
    expect(external.port).toBe(server.port);
    await external.stop();
    expect(await raw.ping()).toBe('PONG');
  });
});
