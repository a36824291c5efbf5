import { type RedisServerHandle, startRedisServer } from './redis-server.js';

/**
 * Starts a throw-away `redis-server` on a given port, to bring Redis "back" where a stopped one was (the handle of
 * `startRedisServer` can also do it with `restart()`). Fails when the port is taken rather than using another one.
 */
export function startRedisOnPort(port: number): Promise<RedisServerHandle> {
  return startRedisServer({ port, url: null });
}
