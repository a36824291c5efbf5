import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKnownScalekitEventType } from '../core/catalogue.js';
import { describeError } from '../core/describe-error.js';
import type { AnyScalekitEvent } from '../core/envelope.js';
import { ScalekitWebhookError } from '../core/errors.js';
import { IdempotencyGate } from '../core/idempotency/idempotency-gate.js';
import { MemoryIdempotencyStore } from '../core/idempotency/memory-idempotency-store.js';
import { DEFAULT_TOLERANCE_SECONDS, WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../core/protocol.js';
import type { ScalekitDelivery } from '../core/receiver/delivery.js';
import { scalekitOutcomeOfError } from '../core/receiver/outcome.js';
import { type ScalekitDeliveryVerifier, ScalekitWebhookReceiver } from '../core/receiver/webhook-receiver.js';
import { ScalekitWebhookVerifier } from '../core/verify.js';
import { SCALEKIT_WEBHOOK_DEFAULTS } from '../interfaces/scalekit-webhook.interfaces.js';
import {
  CLI_NAME,
  CliFailure,
  type CliIo,
  coloursFor,
  EXIT_OK,
  integerOption,
  line,
  parseCommand,
  secretsFrom,
  SECRET_ENV,
  UsageError,
} from './io.js';

export const SERVE_HELP = `Usage: ${CLI_NAME} serve [--port 3000] [--host 127.0.0.1] [--secret <whsec_…>] [--path <path>]

A throw-away receiver (plain node:http, no Nest) on the module's own receiver: verifies each delivery like the module,
deduplicates it in memory, pretty-prints it, and answers 200 {"received":true}, or 4xx with the module's response body. Useful with a tunnel before wiring a Nest app, or as
the target of \`${CLI_NAME} trigger\`. Stops on Ctrl+C (SIGINT) or SIGTERM.

Options:
  --port <port>          Port to listen on (default 3000; 0 picks a free port).
  --host <host>          Address to listen on (default 127.0.0.1).
  --secret <whsec_…>     Signing secret (default: $${SECRET_ENV}). Repeat it to accept several (rotation).
                         Without one, deliveries are printed but NOT verified.
  --path <path>          Only accept deliveries on this path (default: any path).
  --tolerance <seconds>  Timestamp window (default ${DEFAULT_TOLERANCE_SECONDS}).
  --max-body <bytes>     Largest accepted body (default 1048576).
  -h, --help             Show this help.
`;

/** Without a secret: reads the ids a delivery claims, checks nothing. */
const UNVERIFIED: ScalekitDeliveryVerifier = {
  verify: (_payload, headers) => {
    const id = headers[WEBHOOK_ID_HEADER];
    const timestamp = Number(headers[WEBHOOK_TIMESTAMP_HEADER]);
    return {
      webhookId: typeof id === 'string' && id.length > 0 ? id : 'unverified',
      timestamp: Number.isSafeInteger(timestamp) ? timestamp : Math.floor(Date.now() / 1000),
    };
  },
};

export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'serve',
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      secret: { type: 'string', multiple: true },
      path: { type: 'string' },
      tolerance: { type: 'string' },
      'max-body': { type: 'string' },
    },
    SERVE_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'serve');
  }
  const port = integerOption('serve', 'port', values.port, 0, 65535) ?? 3000;
  const host = values.host ?? '127.0.0.1';
  const tolerance = integerOption('serve', 'tolerance', values.tolerance, 0, 31_536_000) ?? DEFAULT_TOLERANCE_SECONDS;
  const maxBody = integerOption('serve', 'max-body', values['max-body'], 1, 1 << 30) ?? 1_048_576;
  const path = values.path === undefined ? undefined : `/${values.path.replace(/^\/+/, '')}`;
  const secrets = secretsFrom('serve', values.secret, io.env, false);
  const verifier =
    secrets.length > 0
      ? new ScalekitWebhookVerifier({ secret: secrets, toleranceSeconds: tolerance, now: io.now })
      : undefined;
  const c = coloursFor(io.stdout, io.env);
  const err = coloursFor(io.stderr, io.env);
  const now = io.now ?? Date.now;

  // The same receiver as the module (size and media checks, verification, parsing, deduplication in memory), with a
  // printer for handlers: this adapter only routes, reads the body and writes the outcome.
  const printed = new WeakMap<ScalekitDelivery, AnyScalekitEvent>();
  const receiver = new ScalekitWebhookReceiver({
    verifier: verifier ?? UNVERIFIED,
    maxBodyBytes: maxBody,
    idempotency: new IdempotencyGate(new MemoryIdempotencyStore(), {
      leaseMs: SCALEKIT_WEBHOOK_DEFAULTS.idempotencyLeaseSeconds * 1000,
      ttlMs: SCALEKIT_WEBHOOK_DEFAULTS.idempotencyTtlSeconds * 1000,
    }),
    responseTimeoutMs: SCALEKIT_WEBHOOK_DEFAULTS.responseTimeoutSeconds * 1000,
    shutdownTimeoutMs: SCALEKIT_WEBHOOK_DEFAULTS.shutdownTimeoutSeconds * 1000,
    dispatcher: {
      dispatch: async (event, delivery) => {
        printed.set(delivery, event);
      },
    },
    logger: {
      log: (message) => line(io.stdout, c.dim(`  ${message}`)),
      warn: (message) => line(io.stdout, c.dim(`  ${message}`)),
      error: (message) => line(io.stderr, `${err.red('✗')} ${message}`),
      debug: () => {},
    },
  });

  const reply = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Readonly<Record<string, string>> = {},
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = new Date(now());
    const stamp = c.dim(`[${started.toISOString().slice(11, 19)}]`);
    const requestPath = (req.url ?? '/').split('?')[0]!;
    const head = `${stamp} ${req.method} ${requestPath}`;
    if (path !== undefined && requestPath !== path) {
      line(io.stdout, `${head}  ${c.red('404')} ${c.dim(`(deliveries are accepted on ${path})`)}`);
      reply(res, 404, { statusCode: 404, error: 'not_found', message: `No webhook endpoint at ${requestPath}` });
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      line(io.stdout, `${head}  ${c.red('405')} ${c.dim('(only POST)')}`);
      reply(
        res,
        405,
        { statusCode: 405, error: 'method_not_allowed', message: 'Webhooks are delivered with POST' },
        { allow: 'POST' },
      );
      req.resume();
      return;
    }
    const tooLarge = (error: ScalekitWebhookError) => {
      line(io.stdout, `${head}  ${c.red(String(error.status))} ${error.code}: ${error.message}`);
      reply(res, error.status, error.toResponseBody(), { connection: 'close' });
      req.destroy();
    };
    const declared = Number(req.headers['content-length']);
    if (declared > maxBody) {
      tooLarge(
        new ScalekitWebhookError('payload_too_large', `body of ${declared} bytes exceeds --max-body (${maxBody})`),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBody) {
        tooLarge(new ScalekitWebhookError('payload_too_large', `body exceeds --max-body (${maxBody} bytes)`));
        return;
      }
      chunks.push(chunk);
    }
    const rawBody = Buffer.concat(chunks);
    let delivery: ScalekitDelivery;
    try {
      delivery = receiver.verify({ headers: req.headers, rawBody, receivedAt: started });
    } catch (error) {
      const outcome = scalekitOutcomeOfError(error);
      // Being local, the console gets the exact reason; the response stays as generic as the module's.
      const reason = error instanceof ScalekitWebhookError ? `${error.code}: ${error.message}` : describeError(error);
      line(io.stdout, `${head}  ${c.red(String(outcome.status))}  ${reason}`);
      reply(res, outcome.status, outcome.body, outcome.headers);
      return;
    }
    const outcome = await receiver.receive({ rawBody, delivery });
    const event = printed.get(delivery);
    if (outcome.status >= 300) {
      const body = outcome.body as { error?: string; message?: string };
      line(io.stdout, `${head}  ${c.red(String(outcome.status))}  ${body.error}: ${body.message}`);
    } else if (event === undefined) {
      line(
        io.stdout,
        `${head}  ${c.green(String(outcome.status))}  ${c.dim(`duplicate of an event already received (webhook-id ${delivery.webhookId})`)}`,
      );
    } else {
      const verifiedNote =
        verifier === undefined
          ? c.yellow('unverified (no secret)')
          : `${c.green('✓ verified')} ${c.dim(`webhook-id ${delivery.webhookId}, signed ${Math.floor((now() - delivery.timestamp.getTime()) / 1000)} s ago`)}`;
      line(
        io.stdout,
        `${head}  ${c.green(String(outcome.status))}  ${c.bold(event.type)}  ${event.id}  ${verifiedNote}`,
      );
      printEvent(io, c, event);
    }
    reply(res, outcome.status, outcome.body, outcome.headers);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      line(io.stderr, `${err.red('✗')} ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) {
        reply(res, 500, { statusCode: 500, error: 'internal_error', message: 'Unexpected error' });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new CliFailure(
          error.code === 'EADDRINUSE'
            ? `cannot listen on ${host}:${port}: the port is already in use (EADDRINUSE); pick another with --port`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // One write: a reader that sees the address also sees how deliveries are checked.
  const listening = `${c.bold('Listening')} on http://${shownHost}:${address.port}${path ?? ''} ${c.dim(path === undefined ? '(any path)' : '')}`;
  const checking =
    verifier === undefined
      ? c.yellow(`No secret: deliveries are printed but NOT verified (pass --secret or set ${SECRET_ENV}).`)
      : c.dim(
          `Verifying with ${secrets.length === 1 ? 'the given secret' : `${secrets.length} secrets`}, tolerance ${tolerance} s. Ctrl+C to stop.`,
        );
  line(io.stdout, `${listening}\n${checking}`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      line(io.stdout, c.dim('Stopping.'));
      server.close(() => resolve());
      void receiver.drain().finally(() => server.closeAllConnections());
    };
    if (io.signal === undefined) {
      return; // runs until the process ends
    }
    if (io.signal.aborted) {
      stop();
    } else {
      io.signal.addEventListener('abort', stop, { once: true });
    }
  });
  return EXIT_OK;
}

function printEvent(io: CliIo, c: ReturnType<typeof coloursFor>, event: AnyScalekitEvent): void {
  const details = [
    `object ${event.object}`,
    `occurred_at ${event.occurred_at}`,
    event.organization_id ? `organization ${event.organization_id}` : undefined,
    isKnownScalekitEventType(event.type) ? undefined : 'not in the catalogue (wildcard handlers only)',
  ].filter(Boolean);
  line(io.stdout, c.dim(`  ${details.join(' · ')}`));
  const pretty = JSON.stringify(event.data, null, 2)
    .split('\n')
    .map((text) => `  ${text}`)
    .join('\n');
  line(io.stdout, pretty);
}
