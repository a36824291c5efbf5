// Jest's globalSetup. The suites talk to a real Redis (never a mock): check once, before any test, that one can be
// had, and otherwise stop with one line that says what to install, instead of dozens of failures, one per test.

import { spawnSync } from 'node:child_process';
import { findRedisServerBinary, ping, REDIS_INSTALL_HINT, redisServerCommand } from './redis-binary.mjs';

export default async function requireRedis() {
  const problem = await findProblem();
  if (problem !== undefined) {
    process.stderr.write(`\nCannot run the tests: ${problem}. ${REDIS_INSTALL_HINT}.\n\n`);
    process.exit(1);
  }
}

async function findProblem() {
  const url = process.env['REDIS_URL'];
  if (url !== undefined && url !== '') {
    try {
      const parsed = new URL(url);
      await ping(parsed.hostname || '127.0.0.1', parsed.port === '' ? 6379 : Number(parsed.port), 2_000);
      return undefined;
    } catch (error) {
      return `REDIS_URL=${url} does not answer PING (${error.message})`;
    }
  }
  const command = redisServerCommand();
  const binary = findRedisServerBinary(command);
  if (binary === undefined) {
    return `they need a real Redis server, and ${command} was not found on PATH`;
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0) {
    return `${binary} --version failed (${version.error?.message ?? `exit code ${String(version.status)}`})`;
  }
  return undefined;
}
