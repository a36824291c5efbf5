import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { PATH } from '../common.mjs';
import { config, failures } from './options.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Load.

/**
 * Runs autocannon against `port`, each request a distinct delivery: pre-signed ones from `pool`, then (if the run
 * outlasts the pool) signed on the fly, never repeated. Latency percentiles are computed from autocannon's
 * per-response times (sub-millisecond), 2xx only.
 */
export function load(port, pool, { duration, amount }) {
  let next = 0;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const opts = {
    url: `http://127.0.0.1:${port}${PATH}`,
    connections: config.connections,
    pipelining: 1,
    timeout: 10,
    ...(amount ? { amount } : { duration }),
    requests: [
      {
        method: 'POST',
        path: PATH,
        setupRequest: (request) => {
          // Never repeat a delivery: with idempotency, a copy is acknowledged without running handlers.
          const delivery = next < pool.length ? pool[next] : pool.sign(next);
          next++;
          request.method = 'POST';
          request.path = PATH;
          request.headers = delivery.headers;
          request.body = delivery.body;
          return request;
        },
      },
    ],
  };
  return new Promise((resolve, reject) => {
    const cpuBefore = process.cpuUsage();
    const instance = autocannon(opts, (error, result) => {
      if (error) return reject(error);
      const cpu = process.cpuUsage(cpuBefore);
      const sorted = latencies.subarray(0, count).sort();
      const pct = (p) => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.floor((p / 100) * count))]);
      resolve({
        reqPerSec: result['2xx'] / result.duration,
        total2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodeStats: result.statusCodeStats,
        sent: next,
        durationS: result.duration,
        p50: pct(50),
        p99: pct(99),
        loadGenCpuMs: (cpu.user + cpu.system) / 1000,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
  });
}

/** Busy CPU time of the whole machine in ms (Linux /proc/stat), or undefined elsewhere. */
export function machineBusyMs() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxWaitMs`) for a second during which the machine is nearly idle, since other jobs on a shared
 * machine take CPU from the server or the load generator. Returns the busy share of the last second (in cores).
 */
export async function waitForQuiet(maxWaitMs) {
  const deadline = Date.now() + maxWaitMs;
  let busy = NaN;
  for (;;) {
    const before = machineBusyMs();
    if (before === undefined) return NaN;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    busy = (machineBusyMs() - before) / 1000;
    if (busy < config.quietCores || Date.now() >= deadline) return busy;
  }
}

export function checkResponses(label, result) {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    const detail = `${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (status codes ${JSON.stringify(result.statusCodeStats)})`;
    failures.push(detail);
    throw new Error(`NON-2xx RESPONSES — ${detail}`);
  }
  if (result.total2xx === 0) {
    failures.push(`${label}: no 2xx response at all`);
    throw new Error(`${label}: no 2xx response at all`);
  }
}

let poolTag = 0;
export const newTag = () => (poolTag++).toString(36) + 'r';
