import { Agent, request } from 'node:http';
import type { HeaderEntry } from './arbitraries/index.js';

export interface Sent {
  status: number;
  text: string;
}

export interface TransportFailure {
  error: string;
}

/**
 * POSTs raw bytes over a keep-alive agent. Header names keep their case and order; a header given twice (an array,
 * or two names that differ only in case) is sent twice. Resolves with the response, or with the transport error
 * (for example when the server closes the connection after a 431 for huge headers).
 */
export class Sender {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly url: URL) {}

  async post(entries: readonly HeaderEntry[], body: Buffer, chunked: boolean): Promise<Sent | TransportFailure> {
    const first = await this.once(entries, body, chunked, this.agent);
    // A kept-alive socket can be closed by the server just as it is reused: retry once on a fresh connection.
    if ('error' in first && first.reused) {
      return this.once(entries, body, chunked, false);
    }
    return first;
  }

  close(): void {
    this.agent.destroy();
  }

  private once(
    entries: readonly HeaderEntry[],
    body: Buffer,
    chunked: boolean,
    agent: Agent | false,
  ): Promise<(Sent & { reused?: undefined }) | (TransportFailure & { reused: boolean })> {
    return new Promise((resolve) => {
      const headers: Record<string, string | string[]> = {};
      const names = new Map<string, string>();
      for (const [name, value] of entries) {
        const values = Array.isArray(value) ? value : [String(value)];
        const existing = names.get(name.toLowerCase());
        if (existing === undefined) {
          names.set(name.toLowerCase(), name);
          headers[name] = values.length === 1 ? values[0]! : values;
        } else {
          const previous = headers[existing]!;
          headers[existing] = [...(Array.isArray(previous) ? previous : [previous]), ...values];
        }
      }
      if (chunked) {
        headers['Transfer-Encoding'] = 'chunked';
      } else {
        headers['Content-Length'] = String(body.length);
      }
      let settled = false;
      const done = (value: Parameters<typeof resolve>[0]) => {
        if (!settled) {
          settled = true;
          resolve(value);
        }
      };
      let req: ReturnType<typeof request>;
      try {
        req = request(
          { host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: 'POST', headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', (error) =>
              done({ error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`, reused: false }),
            );
          },
        );
      } catch (error) {
        done({ error: `client refused the request: ${(error as Error).message}`, reused: false });
        return;
      }
      req.setTimeout(15_000, () => req.destroy(new Error('no response within 15 s')));
      req.on('error', (error) =>
        done({ error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`, reused: req.reusedSocket }),
      );
      if (chunked && body.length > 0) {
        req.write(body);
        req.end();
      } else {
        req.end(body);
      }
    });
  }
}
