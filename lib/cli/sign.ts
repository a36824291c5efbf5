import { signScalekitWebhook } from '../core/sign.js';
import {
  DEFAULT_WEBHOOK_PATH,
  MAX_WEBHOOK_ID_LENGTH,
  MESSAGE_ID_PATTERN,
  TIMESTAMP_PATTERN,
} from '../core/protocol.js';
import {
  CLI_NAME,
  type CliIo,
  coloursFor,
  EXIT_OK,
  line,
  parseCommand,
  readInputFile,
  readStdin,
  secretsFrom,
  SECRET_ENV,
  UsageError,
} from './io.js';

export const SIGN_HELP = `Usage: ${CLI_NAME} sign --secret <whsec_…> [--id <msg_…>] [--timestamp <unix seconds>] [--json | --curl] [body.json]

Signs a body exactly like Scalekit and prints the three headers to send with it. The body is read from the file
argument, or from standard input (\`< body.json\`); its bytes are signed as they are (no re-serialisation).

Options:
  --secret <whsec_…>     Signing secret (default: $${SECRET_ENV}).
  --id <msg_…>           webhook-id (default: a fresh msg_… id). Reuse one to simulate a retry.
  --timestamp <seconds>  webhook-timestamp in Unix seconds (default: now).
  --json                 Print the headers as a JSON object (usable as \`verify --headers\`).
  --curl                 Print a ready curl command that sends the body with the headers.
  --url <endpoint>       URL for --curl (default: http://localhost:3000/${DEFAULT_WEBHOOK_PATH}).
  -h, --help             Show this help.

Examples:
  ${CLI_NAME} sign --secret whsec_… < body.json
  ${CLI_NAME} sign --curl --url http://localhost:3000/${DEFAULT_WEBHOOK_PATH} body.json | sh
`;

export async function sign(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'sign',
    args,
    {
      secret: { type: 'string' },
      id: { type: 'string' },
      timestamp: { type: 'string' },
      json: { type: 'boolean' },
      curl: { type: 'boolean' },
      url: { type: 'string' },
    },
    SIGN_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError('give at most one body file (or pipe the body on standard input)', 'sign');
  }
  if (values.json && values.curl) {
    throw new UsageError('--json and --curl cannot be combined', 'sign');
  }
  if (values.url !== undefined && !values.curl) {
    throw new UsageError('--url is only used with --curl', 'sign');
  }
  const [secret] = secretsFrom('sign', values.secret, io.env);
  if (values.id !== undefined && (!MESSAGE_ID_PATTERN.test(values.id) || values.id.length > MAX_WEBHOOK_ID_LENGTH)) {
    throw new UsageError(
      `--id must be printable ASCII without spaces or commas, at most ${MAX_WEBHOOK_ID_LENGTH} characters (got ${JSON.stringify(values.id)})`,
      'sign',
    );
  }
  let timestamp: number | undefined;
  if (values.timestamp !== undefined) {
    if (!TIMESTAMP_PATTERN.test(values.timestamp)) {
      throw new UsageError(
        `--timestamp must be whole Unix seconds, e.g. 1700000000 (got ${JSON.stringify(values.timestamp)})`,
        'sign',
      );
    }
    timestamp = Number(values.timestamp);
  }
  let url: string | undefined;
  if (values.url !== undefined) {
    try {
      url = new URL(values.url).toString();
    } catch {
      throw new UsageError(`--url ${JSON.stringify(values.url)} is not a valid URL`, 'sign');
    }
  }
  const file = positionals[0];
  const body =
    file === undefined ? await readStdin(io, 'sign', 'no body') : await readInputFile(io, 'sign', 'body file', file);
  const signed = signScalekitWebhook({
    secret: secret!,
    payload: body,
    id: values.id,
    timestamp: timestamp ?? Math.floor((io.now ?? Date.now)() / 1000),
  });
  const headers = {
    'webhook-id': signed.headers['webhook-id'],
    'webhook-timestamp': signed.headers['webhook-timestamp'],
    'webhook-signature': signed.headers['webhook-signature'],
  };
  if (body.length === 0) {
    line(io.stderr, coloursFor(io.stderr, io.env).yellow('warning: the body is empty (signed anyway)'));
  }

  if (values.json) {
    line(io.stdout, JSON.stringify({ 'content-type': 'application/json', ...headers }, null, 2));
  } else if (values.curl) {
    const target = url ?? `http://localhost:3000/${DEFAULT_WEBHOOK_PATH}`;
    const data =
      file === undefined || file === '-'
        ? `--data-raw ${shellQuote(body.toString('utf8'))}`
        : `--data-binary @${shellQuote(file)}`;
    line(
      io.stdout,
      [
        `curl -sS -X POST ${shellQuote(target)}`,
        `-H ${shellQuote('content-type: application/json')}`,
        ...Object.entries(headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`),
        data,
      ].join(' \\\n  '),
    );
  } else {
    for (const [name, value] of Object.entries(headers)) {
      line(io.stdout, `${name}: ${value}`);
    }
  }
  return EXIT_OK;
}

/** POSIX shell single quoting: the text comes out byte for byte (newlines included). */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
