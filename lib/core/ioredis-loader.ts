import { ScalekitWebhookError } from './errors.js';

/** An ioredis client class, as far as this package needs to know it (ioredis is an optional peer dependency). */
export type RedisClientConstructor<C> = new (...args: unknown[]) => C;

/**
 * Imports ioredis on demand, for a store or queue that creates its own connections. `import()` stays an `import()`
 * in the ES module build and becomes a `require` in the CommonJS build; ioredis is CommonJS, so the class may sit
 * on `Redis`, on `default`, or be `default` itself. `user` names the class that needs it, for the error message.
 */
export async function loadRedisClientConstructor<C>(user: string): Promise<RedisClientConstructor<C>> {
  let mod: unknown;
  try {
    mod = await import('ioredis');
  } catch (error) {
    throw new ScalekitWebhookError(
      'invalid_options',
      `${user} with \`connection\` needs the optional peer dependency "ioredis" (npm install ioredis), or pass your own client as \`client\``,
      { cause: error },
    );
  }
  const m = mod as { Redis?: unknown; default?: unknown };
  const d = m.default as { Redis?: unknown } | undefined;
  const candidate = [m.Redis, d?.Redis, m.default].find((c) => typeof c === 'function');
  if (candidate === undefined) {
    throw new ScalekitWebhookError('invalid_options', `${user}: the installed "ioredis" exports no Redis class`);
  }
  return candidate as RedisClientConstructor<C>;
}
