// Finding the redis-server that the tests run, shared by jest's globalSetup (plain JavaScript: jest loads it without
// the TypeScript transform) and the test helper test/support/redis-server.ts.

import { accessSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';

export const REDIS_INSTALL_HINT =
  'Install it with: apt-get update && apt-get install -y redis-server (macOS: brew install redis), ' +
  'or set REDISMS_SYSTEM_BINARY to its path, or REDIS_URL to a running server';

/** The binary asked for: `REDISMS_SYSTEM_BINARY` (redis-memory-server's own setting), else `redis-server`. */
export function redisServerCommand() {
  const configured = process.env['REDISMS_SYSTEM_BINARY'];
  return configured === undefined || configured === '' ? 'redis-server' : configured;
}

/** The absolute path of `command` (a path, or a name looked up on PATH) if it is an executable file. */
export function findRedisServerBinary(command = redisServerCommand()) {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : join(process.cwd(), command)]
    : (process.env['PATH'] ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Sends an inline PING and resolves on `+PONG`. */
export function ping(host, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    const finish = (error) => {
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
