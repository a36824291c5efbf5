import { spawn } from 'node:child_process';
import { Socket } from 'node:net';

/**
 * Starts `redis-server` on a given port (to bring Redis "back" where a stopped one was; test/support/redis-server.ts
 * picks a free port of its own). Like that helper, the server runs under a small watchdog that stops it when the
 * test process goes away, however it ends, and it never keeps the test process alive.
 */
export async function startRedisOnPort(port: number): Promise<{ stop(): Promise<void> }> {
  const watchdog = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const server = spawn(command, args, { stdio: 'ignore' });
const stop = () => server.kill('SIGTERM');
server.on('exit', (code) => process.exit(code ?? 1));
server.on('error', () => process.exit(127));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(process.execPath, ['-e', watchdog, 'redis-server', ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await ping(port);
      return { stop };
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not start on port ${port}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.setTimeout(500, () => {
      socket.destroy();
      reject(new Error('PING timed out'));
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
    socket.once('data', (chunk) => {
      socket.destroy();
      if (chunk.toString('utf8').startsWith('+PONG')) {
        resolve();
      } else {
        reject(new Error(`unexpected reply ${chunk.toString('utf8').trim()}`));
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
