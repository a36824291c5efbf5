import { Agent, request as httpRequest } from 'node:http';

/** What a storm request got back: the status (0 when the connection failed) and the headers that matter. */
export interface PooledResponse {
  status: number;
  retryAfter: string | undefined;
  text: string;
  error?: string;
}

/** A keep-alive agent for many requests to the same hosts. */
export function keepAliveAgent(maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** POSTs `body` with `headers` through `agent`; never rejects (a connection failure is status 0). */
export function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  agent: Agent,
): Promise<PooledResponse> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: headerValue(res.headers['retry-after']),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) => resolve({ status: 0, retryAfter: undefined, text: '', error: error.message }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, retryAfter: undefined, text: '', error: error.message }));
    req.end(body);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Runs `tasks` with at most `concurrency` at a time; results in task order. */
export async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/** A small deterministic PRNG (mulberry32), so a storm's order is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place with the given random source. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Counts of each status. */
export function tally(responses: readonly PooledResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
  }
  return counts;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
