import { fork } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, ROOT } from '../common.mjs';
import { LIB_ARGV } from './options.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Child processes.

/** Forks a script; resolves when it sends a message of `type`; rejects when it exits early or times out. */
export function forkChild(script, args, { execArgv = [], silent = true } = {}) {
  const child = fork(join(BENCH_DIR, script), args, { execArgv: [...LIB_ARGV, ...execArgv], silent, cwd: ROOT });
  let stderr = '';
  if (silent) {
    child.stdout.resume();
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
    });
  }
  const waiters = [];
  let exited = null;
  child.on('message', (message) => {
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index !== -1) waiters.splice(index, 1)[0].resolve(message);
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const w of waiters.splice(0)) {
      w.reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before '${w.type}'\n${stderr}`));
    }
  });
  const api = {
    child,
    stderr: () => stderr,
    next(type, timeoutMs = 120_000) {
      if (exited)
        return Promise.reject(new Error(`${script} ${args.join(' ')} already exited (${exited.code})\n${stderr}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${script} ${args.join(' ')}: no '${type}' within ${timeoutMs} ms\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    ask(type) {
      const reply = api.next(type);
      child.send({ type });
      return reply;
    },
    exit() {
      if (exited) return Promise.resolve(exited);
      return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    },
  };
  return api;
}
