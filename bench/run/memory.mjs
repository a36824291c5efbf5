import { fmtInt, mib, signPool } from '../common.mjs';
import { config, log } from './options.mjs';
import { forkChild } from './children.mjs';
import { checkResponses, load, newTag } from './load.mjs';

// ---------------------------------------------------------------------------------------------------------------
// 4a. Memory after 100,000 requests through the module.

export async function runMemory(platform) {
  const server = forkChild('server.mjs', ['d', platform], { execArgv: ['--expose-gc'] });
  try {
    const ready = await server.next('ready');
    const rounds = [];
    const start = (await server.ask('stats')).memory;
    for (let round = 0; round < config.memoryRounds; round++) {
      const pool = signPool(config.memoryPerRound, newTag());
      const result = await load(ready.port, pool, { amount: config.memoryPerRound });
      checkResponses(`memory/${platform} round ${round + 1}`, result);
      const stats = await server.ask('stats');
      rounds.push({
        requests: stats.requests,
        rss: stats.memory.rss,
        heapUsed: stats.memory.heapUsed,
        external: stats.memory.external,
      });
      log(
        `  memory/${platform} after ${fmtInt(stats.requests)} requests: RSS ${mib(stats.memory.rss)} MiB, heap ${mib(stats.memory.heapUsed)} MiB`,
      );
    }
    server.child.send({ type: 'close' });
    const exit = await server.exit();
    if (exit.code !== 0) throw new Error(`memory/${platform}: server exited with ${exit.code}`);
    return { platform, start, rounds };
  } catch (error) {
    server.child.kill();
    throw error;
  }
}
