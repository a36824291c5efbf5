import { performance } from 'node:perf_hooks';
import { isKnownScalekitEventType, SCALEKIT_EVENT_TYPES } from '../core/catalogue.js';
import { DEFAULT_WEBHOOK_PATH, newMessageId } from '../core/protocol.js';
import { sendSignedScalekitWebhook } from '../core/send.js';
import { buildScalekitEvent } from '../testing/build-event.js';
import {
  CLI_NAME,
  type CliIo,
  coloursFor,
  EXIT_FAILURE,
  EXIT_OK,
  integerOption,
  line,
  parseCommand,
  parseJsonArg,
  readInputFile,
  secretsFrom,
  SECRET_ENV,
  UsageError,
} from './io.js';
import { closest } from './suggest.js';

export const TRIGGER_HELP = `Usage: ${CLI_NAME} trigger <type> --url <endpoint> [options]

Builds Scalekit's example event for <type> with fresh evt_/msg_ ids and the current time, signs it exactly like
Scalekit (webhook-id, webhook-timestamp, webhook-signature over the raw bytes) and POSTs it. Prints the status, the
response body and the elapsed time. With --count it becomes a small load generator and prints a summary.

Options:
  --url <url>              The endpoint. A URL without a path posts to /${DEFAULT_WEBHOOK_PATH}.
  --secret <whsec_…>       Signing secret (default: $${SECRET_ENV}).
  --data <file.json>       Replace the example's data with this JSON object ("-" reads standard input).
  --organization <org_…>   Use this organization id: the envelope's organization_id and every occurrence of the
                           example's organization id in data.
  --count <n>              Send n events, each with fresh ids (default 1).
  --concurrency <c>        At most c requests in flight (default 1).
  --timeout <ms>           Give up on a request after this long (default 10000).
  --allow-unknown          Send a type that is not in the catalogue (its data is --data, or {}).
  -h, --help               Show this help.

Exit codes: 0 every response was 2xx; 1 a response was not 2xx or a request failed; 2 bad usage (including an
unknown event type).

Examples:
  ${CLI_NAME} trigger organization.directory.user_created --url http://localhost:3000 --secret whsec_…
  ${CLI_NAME} trigger user.login --url http://localhost:3000/hooks/scalekit --count 200 --concurrency 20
`;

interface Outcome {
  url: string;
  status: number | undefined;
  error?: string;
  elapsedMs: number;
  text?: string;
}

export async function trigger(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'trigger',
    args,
    {
      url: { type: 'string' },
      secret: { type: 'string' },
      data: { type: 'string' },
      organization: { type: 'string' },
      count: { type: 'string' },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      'allow-unknown': { type: 'boolean' },
    },
    TRIGGER_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    throw new UsageError(
      `missing the event type, e.g. \`${CLI_NAME} trigger organization.created --url …\``,
      'trigger',
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `one event type at a time (got ${positionals.map((p) => JSON.stringify(p)).join(', ')})`,
      'trigger',
    );
  }
  const type = positionals[0]!;
  if (!isKnownScalekitEventType(type) && !values['allow-unknown']) {
    const suggestions = closest(type, SCALEKIT_EVENT_TYPES);
    throw new UsageError(
      `unknown event type ${JSON.stringify(type)}.` +
        (suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : '') +
        `\nRun \`${CLI_NAME} list\` for the ${SCALEKIT_EVENT_TYPES.length} known types, or pass --allow-unknown to send it anyway.`,
      'trigger',
    );
  }
  if (values.url === undefined) {
    throw new UsageError(`--url is required (e.g. --url http://localhost:3000/${DEFAULT_WEBHOOK_PATH})`, 'trigger');
  }
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(
      `--url ${JSON.stringify(values.url)} is not a valid URL (e.g. http://localhost:3000/${DEFAULT_WEBHOOK_PATH})`,
      'trigger',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be an http:// or https:// URL (got ${url.protocol})`, 'trigger');
  }
  const [secret] = secretsFrom('trigger', values.secret, io.env);
  const count = integerOption('trigger', 'count', values.count, 1, 1_000_000) ?? 1;
  const concurrency = Math.min(integerOption('trigger', 'concurrency', values.concurrency, 1, 1000) ?? 1, count);
  const timeoutMs = integerOption('trigger', 'timeout', values.timeout, 1, 600_000) ?? 10_000;
  const organization = values.organization;
  if (organization !== undefined && !/^[\x21-\x7e]+$/.test(organization)) {
    throw new UsageError(`--organization must be an id like org_123 (got ${JSON.stringify(organization)})`, 'trigger');
  }
  let data: Record<string, unknown> | undefined;
  if (values.data !== undefined) {
    const parsed = parseJsonArg(
      'trigger',
      `--data ${values.data}`,
      await readInputFile(io, 'trigger', '--data', values.data),
    );
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`--data ${values.data} must contain a JSON object (the event's data)`, 'trigger');
    }
    data = parsed as Record<string, unknown>;
  }

  const makeEvent = () => {
    const event = buildScalekitEvent(type) as unknown as Record<string, unknown>;
    if (data !== undefined) {
      event['data'] = structuredClone(data);
    }
    if (organization !== undefined) {
      useOrganization(event, organization);
    }
    return event;
  };

  const out = coloursFor(io.stdout, io.env);
  const err = coloursFor(io.stderr, io.env);
  const sendOne = async (): Promise<Outcome & { event: Record<string, unknown>; webhookId: string }> => {
    const event = makeEvent();
    const webhookId = newMessageId();
    const started = performance.now();
    try {
      const res = await sendSignedScalekitWebhook(url.toString(), event, { secret: secret!, id: webhookId, timeoutMs });
      return {
        event,
        webhookId,
        url: res.url,
        status: res.status,
        text: res.text,
        elapsedMs: performance.now() - started,
      };
    } catch (error) {
      return {
        event,
        webhookId,
        url: url.toString(),
        status: undefined,
        error: describeNetworkError(error, timeoutMs),
        elapsedMs: performance.now() - started,
      };
    }
  };

  if (count === 1) {
    const outcome = await sendOne();
    line(io.stdout, `${out.bold('POST')} ${outcome.url}`);
    line(io.stdout, out.dim(`  ${type}  ${String(outcome.event['id'])}  webhook-id ${outcome.webhookId}`));
    if (outcome.status === undefined) {
      line(io.stderr, `${err.red('✗')} cannot reach ${outcome.url}: ${outcome.error}`);
      return EXIT_FAILURE;
    }
    const ok = outcome.status >= 200 && outcome.status < 300;
    line(
      io.stdout,
      `${ok ? out.green(String(outcome.status)) : out.red(String(outcome.status))} ${statusText(outcome.status)}  ${out.dim(`${formatMs(outcome.elapsedMs)}`)}`,
    );
    if (outcome.text) {
      line(io.stdout, outcome.text);
    }
    if (!ok) {
      line(io.stderr, `${err.red('✗')} ${hintFor(outcome.status)}`);
    }
    return ok ? EXIT_OK : EXIT_FAILURE;
  }

  // Load mode: N events, C in flight, then a summary.
  const outcomes: Outcome[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      outcomes.push(await sendOne());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const totalMs = performance.now() - started;
  printSummary(io, out, { type, url: outcomes[0]?.url ?? url.toString(), count, concurrency, outcomes, totalMs });
  const failures = outcomes.filter((o) => o.status === undefined || o.status < 200 || o.status >= 300);
  const samples = new Map<string, string>();
  for (const failure of failures) {
    const key = failure.status === undefined ? `error: ${failure.error}` : String(failure.status);
    if (!samples.has(key) && samples.size < 3) {
      samples.set(key, failure.status === undefined ? '' : (failure.text ?? ''));
    }
  }
  for (const [key, text] of samples) {
    line(io.stderr, `${err.red('✗')} ${key}${text ? `: ${text.slice(0, 500)}` : ''}`);
  }
  return failures.length === 0 ? EXIT_OK : EXIT_FAILURE;
}

function printSummary(
  io: CliIo,
  out: ReturnType<typeof coloursFor>,
  s: { type: string; url: string; count: number; concurrency: number; outcomes: Outcome[]; totalMs: number },
): void {
  const histogram = new Map<string, number>();
  for (const o of s.outcomes) {
    const key = o.status === undefined ? 'error' : String(o.status);
    histogram.set(key, (histogram.get(key) ?? 0) + 1);
  }
  const sorted = s.outcomes.map((o) => o.elapsedMs).sort((a, b) => a - b);
  line(io.stdout, `${out.bold(`Sent ${s.count} × ${s.type}`)} to ${s.url} (concurrency ${s.concurrency})`);
  line(io.stdout, 'statuses:');
  for (const [key, n] of [...histogram].sort(([a], [b]) => a.localeCompare(b))) {
    const paint = key.startsWith('2') ? out.green : out.red;
    line(io.stdout, `  ${paint(key.padEnd(5))} × ${n}`);
  }
  line(
    io.stdout,
    `elapsed: p50 ${formatMs(percentile(sorted, 0.5))} · p95 ${formatMs(percentile(sorted, 0.95))} · max ${formatMs(sorted.at(-1) ?? 0)}`,
  );
  const rate = s.totalMs > 0 ? (s.count / s.totalMs) * 1000 : 0;
  line(io.stdout, `total: ${formatMs(s.totalMs)} (${rate.toFixed(1)} requests/s)`);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return 0;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/**
 * Sets the envelope's `organization_id`, and replaces every string in `data` equal to one of the example's
 * organization ids (envelope, `data.organization_id`, `data.organization.id`) with `organization`.
 */
function useOrganization(event: Record<string, unknown>, organization: string): void {
  const data = event['data'] as Record<string, unknown>;
  const old = new Set(
    [
      event['organization_id'],
      data['organization_id'],
      (data['organization'] as Record<string, unknown> | undefined)?.['id'],
    ].filter((value): value is string => typeof value === 'string' && value.startsWith('org_')),
  );
  event['organization_id'] = organization;
  const replace = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return old.has(value) ? organization : value;
    }
    if (Array.isArray(value)) {
      return value.map(replace);
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
    }
    return value;
  };
  event['data'] = replace(data);
}

export function describeNetworkError(error: unknown, timeoutMs?: number): string {
  const code = (error as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED). Is the app running and listening on that host and port?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${code}). Check the host name in --url.`;
    case 'ECONNRESET':
      return 'the connection was reset by the server (ECONNRESET).';
    case 'ETIMEDOUT':
      return 'the connection timed out (ETIMEDOUT).';
    default:
      if (/within \d+ ms/.test(message)) {
        return `no response within ${timeoutMs} ms (raise --timeout, or check that the endpoint answers quickly).`;
      }
      return code ? `${message} (${code})` : message;
  }
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    201: 'Created',
    202: 'Accepted',
    204: 'No Content',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Entity',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
  };
  return texts[status] ?? '';
}

function hintFor(status: number): string {
  switch (status) {
    case 401:
      return 'the endpoint rejected the signature: is --secret the secret the app is configured with?';
    case 404:
    case 405:
      return `no webhook route at this URL: check the path. The module defaults to /${DEFAULT_WEBHOOK_PATH}, and app.setGlobalPrefix() prefixes it (e.g. /api/${DEFAULT_WEBHOOK_PATH}, unless the prefix's \`exclude\` lists it).`;
    case 400:
      return 'the endpoint rejected the request as malformed (see the body above).';
    case 409:
      return 'the event is still being processed by an earlier copy (retry later).';
    case 500:
      return 'the endpoint failed: check the app logs (a raw body misconfiguration or a failing handler).';
    default:
      return `the endpoint answered ${status}: Scalekit would retry this delivery.`;
  }
}
