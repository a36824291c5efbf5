import { diagnoseScalekitDelivery, type ScalekitFinding } from '../core/diagnose.js';
import { DEFAULT_TOLERANCE_SECONDS } from '../core/protocol.js';
import {
  CLI_NAME,
  type CliIo,
  type Colours,
  coloursFor,
  EXIT_FAILURE,
  EXIT_OK,
  integerOption,
  line,
  parseCommand,
  readInputFile,
  readStdin,
  secretsFrom,
  SECRET_ENV,
  UsageError,
} from './io.js';

export const VERIFY_HELP = `Usage: ${CLI_NAME} verify --secret <whsec_…> --headers <headers.json> [options] [body.json]

Checks a captured delivery the way the module does (headers, timestamp window, HMAC over the raw bytes, then the
event envelope) and explains exactly which check fails and why. The body is read from the file argument, or from
standard input (\`< body.json\`), and must be the raw bytes as received. With --interceptor, checks an interceptor
call instead (interceptor-* headers, the interceptor's secret, a body with a trigger_point).

Options:
  --secret <whsec_…>      Signing secret (default: $${SECRET_ENV}). Repeat it to check several (rotation).
  --headers <file>        The delivery's headers: a JSON object of header name → value, or "Name: value" lines
                          (as printed by \`curl -v\` or a request inspector).
  --tolerance <seconds>   Timestamp window (default ${DEFAULT_TOLERANCE_SECONDS}).
  --now <unix seconds>    Check as if it were this time (e.g. when the delivery was received).
  --interceptor           The capture is an interceptor call, not a webhook delivery.
  -h, --help              Show this help.

Exit codes: 0 the delivery is authentic and a valid event (or interceptor request); 1 a check failed (the report says which); 2 bad usage.

Example:
  ${CLI_NAME} sign --secret whsec_… --json < body.json > headers.json
  ${CLI_NAME} verify --secret whsec_… --headers headers.json < body.json
`;

export async function verify(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'verify',
    args,
    {
      secret: { type: 'string', multiple: true },
      headers: { type: 'string' },
      tolerance: { type: 'string' },
      now: { type: 'string' },
      interceptor: { type: 'boolean' },
    },
    VERIFY_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError('give at most one body file (or pipe the body on standard input)', 'verify');
  }
  const secrets = secretsFrom('verify', values.secret, io.env);
  if (values.headers === undefined) {
    throw new UsageError(
      '--headers <file> is required: the captured headers, as a JSON object of name → value',
      'verify',
    );
  }
  if (positionals[0] === undefined && values.headers === '-') {
    throw new UsageError('--headers - and a body on standard input cannot both be read from standard input', 'verify');
  }
  const tolerance = integerOption('verify', 'tolerance', values.tolerance, 0, 31_536_000) ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = integerOption('verify', 'now', values.now, 1, 999_999_999_999);
  const headers = parseHeadersFile(await readInputFile(io, 'verify', '--headers', values.headers), values.headers);
  const body =
    positionals[0] === undefined
      ? await readStdin(io, 'verify', 'no body')
      : await readInputFile(io, 'verify', 'body file', positionals[0]);

  const now = nowSeconds === undefined ? (io.now ?? Date.now) : () => nowSeconds * 1000;
  const diagnosis = diagnoseScalekitDelivery({
    payload: body,
    headers,
    secret: secrets,
    toleranceSeconds: tolerance,
    now,
    headersSource: 'the headers file',
    kind: values.interceptor === true ? 'interceptor' : 'webhook',
  });
  printFindings(diagnosis.findings, coloursFor(io.stdout, io.env), (text = '') => line(io.stdout, text));
  return diagnosis.valid ? EXIT_OK : EXIT_FAILURE;
}

/** CLI-only advice, after the finding it belongs to. */
const CLI_HINTS: Readonly<Record<string, string>> = {
  timestamp_too_old:
    'to check a captured delivery later, pass --now <the time it was received>, or re-sign it with `sign`',
  no_matching_signature: 'during a rotation, pass every secret (--secret twice)',
};

function printFindings(findings: readonly ScalekitFinding[], c: Colours, out: (text?: string) => void): void {
  for (const [index, finding] of findings.entries()) {
    switch (finding.severity) {
      case 'ok':
        out(`${c.green('✓')} ${c.bold(finding.message)}`);
        break;
      case 'error':
        out(`${c.red('✗')} ${c.bold(finding.message)}`);
        break;
      case 'warning':
        out(`${c.yellow('!')} ${finding.message}`);
        break;
      case 'info':
        out(c.dim(`  ${finding.message}`));
        break;
    }
    for (const detail of finding.details) {
      out(`  ${detail}`);
    }
    const hint = CLI_HINTS[finding.code];
    // The rotation hint only when nothing more precise (a non-raw body, an undecoded secret) follows.
    const precise =
      finding.code !== 'no_matching_signature' ||
      (index === findings.length - 1 && finding.message === 'no v1 signature matches');
    if (hint !== undefined && precise) {
      out(`  ${c.yellow('hint:')} ${hint}`);
    }
    if (finding.related !== undefined) {
      printFindings(finding.related, c, (text = '') => out(`  ${text}`));
    }
  }
}

/** A JSON object of name → value, or `Name: value` lines (a request line such as `POST / HTTP/1.1` is skipped). */
type HeaderRecord = Record<string, string | string[] | number>;

function parseHeadersFile(bytes: Buffer, path: string): HeaderRecord {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim().startsWith('{') || text.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`--headers ${path} is not valid JSON: ${(error as Error).message}`, 'verify');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`--headers ${path} must be a JSON object of header name → value`, 'verify');
    }
    for (const [name, value] of Object.entries(parsed)) {
      const ok =
        typeof value === 'string' ||
        typeof value === 'number' ||
        (Array.isArray(value) && value.every((v) => typeof v === 'string'));
      if (!ok) {
        throw new UsageError(`--headers ${path}: the value of ${JSON.stringify(name)} must be a string`, 'verify');
      }
    }
    return parsed as HeaderRecord;
  }
  const headers: Record<string, string | string[]> = {};
  for (const raw of text.split(/\r?\n/)) {
    const lineText = raw.replace(/^[<>]\s?/, ''); // curl -v prefixes
    if (
      lineText.trim() === '' ||
      /^[A-Z]+ \S+ HTTP\/[\d.]+$/.test(lineText.trim()) ||
      /^HTTP\/[\d.]+ /.test(lineText)
    ) {
      continue;
    }
    const colon = lineText.indexOf(':');
    if (colon <= 0) {
      throw new UsageError(
        `--headers ${path}: expected a JSON object or "Name: value" lines (got ${JSON.stringify(lineText.slice(0, 60))})`,
        'verify',
      );
    }
    const name = lineText.slice(0, colon).trim().toLowerCase();
    const value = lineText.slice(colon + 1).trim();
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}
