import { createHmac, timingSafeEqual } from 'node:crypto';
import { isKnownScalekitEventType } from '../core/catalogue.js';
import { parseScalekitEventPayload } from '../core/envelope.js';
import { ScalekitWebhookError } from '../core/errors.js';
import { ScalekitSigningKey } from '../core/secret.js';
import { DEFAULT_TOLERANCE_SECONDS, readDeliveryHeaders, ScalekitWebhookVerifier } from '../core/verify.js';
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
  plural,
  readInputFile,
  readStdin,
  secretsFrom,
  SECRET_ENV,
  UsageError,
} from './io.js';

export const VERIFY_HELP = `Usage: ${CLI_NAME} verify --secret <whsec_…> --headers <headers.json> [options] [body.json]

Checks a captured delivery the way the module does (headers, timestamp window, HMAC over the raw bytes, then the
event envelope) and explains exactly which check fails and why. The body is read from the file argument, or from
standard input (\`< body.json\`), and must be the raw bytes as received.

Options:
  --secret <whsec_…>      Signing secret (default: $${SECRET_ENV}). Repeat it to check several (rotation).
  --headers <file>        The delivery's headers: a JSON object of header name → value, or "Name: value" lines
                          (as printed by \`curl -v\` or a request inspector).
  --tolerance <seconds>   Timestamp window (default ${DEFAULT_TOLERANCE_SECONDS}).
  --now <unix seconds>    Check as if it were this time (e.g. when the delivery was received).
  -h, --help              Show this help.

Exit codes: 0 the delivery is authentic and a valid event; 1 a check failed (the report says which); 2 bad usage.

Example:
  ${CLI_NAME} sign --secret whsec_… --json < body.json > headers.json
  ${CLI_NAME} verify --secret whsec_… --headers headers.json < body.json
`;

const V1_SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const RAW_BODY_HINT =
  'verify the raw bytes as received (in Nest: `NestFactory.create(AppModule, { rawBody: true })` and `req.rawBody`, ' +
  'never `JSON.stringify(req.body)`)';

interface SignatureEntry {
  position: number;
  version: string;
  value: string;
  /** Why a v1 entry cannot be a Scalekit signature; undefined for a well-formed v1 entry and for other versions. */
  problem?: string;
}

export async function verify(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'verify',
    args,
    {
      secret: { type: 'string', multiple: true },
      headers: { type: 'string' },
      tolerance: { type: 'string' },
      now: { type: 'string' },
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
  const c = coloursFor(io.stdout, io.env);
  const out = (text = '') => line(io.stdout, text);
  const keys = secrets.map((s) => ScalekitSigningKey.parse(s));
  const verifier = new ScalekitWebhookVerifier({ secret: secrets, toleranceSeconds: tolerance, now });

  try {
    const delivery = verifier.verify(body, headers);
    const { signatures } = readDeliveryHeaders(headers);
    const entries = analyseSignatures(signatures);
    const match = findMatch(keys, delivery.webhookId, delivery.timestamp, body, entries);
    out(`${c.green('✓')} ${c.bold('signature valid')}`);
    out(`  webhook-id         ${delivery.webhookId}`);
    out(
      `  webhook-timestamp  ${delivery.timestamp} (${describeTime(delivery.timestamp, now)}; tolerance ${tolerance} s)`,
    );
    if (match !== undefined) {
      const v1Count = entries.filter((e) => e.version === 'v1').length;
      out(
        `  signature          v1 entry ${match.entry} of ${v1Count}` +
          (keys.length > 1 ? ` matches secret ${match.secret} of ${keys.length}` : ' matches'),
      );
    }
  } catch (error) {
    if (!(error instanceof ScalekitWebhookError)) {
      throw error;
    }
    explainFailure(error, { headers, body, secrets, keys, tolerance, now, colours: c, out });
    return EXIT_FAILURE;
  }

  try {
    const event = parseScalekitEventPayload(body);
    const known = isKnownScalekitEventType(event.type);
    out(
      `${c.green('✓')} ${c.bold('valid event')}  ${event.type}  ${event.id}${event.organization_id ? `  (${event.organization_id})` : ''}`,
    );
    if (!known) {
      out(c.dim('  this type is not in the catalogue: the module accepts it and routes it to wildcard handlers only'));
    }
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof ScalekitWebhookError)) {
      throw error;
    }
    out(`${c.red('✗')} ${c.bold('the body is not a valid Scalekit event')} (the module answers 400 ${error.code}):`);
    for (const problem of error.problems.length > 0 ? error.problems : [error.message]) {
      out(`  - ${problem}`);
    }
    return EXIT_FAILURE;
  }
}

interface FailureContext {
  headers: HeaderRecord;
  body: Buffer;
  secrets: string[];
  keys: ScalekitSigningKey[];
  tolerance: number;
  now: () => number;
  colours: Colours;
  out: (text?: string) => void;
}

function explainFailure(error: ScalekitWebhookError, ctx: FailureContext): void {
  const { colours: c, out } = ctx;
  const fail = (title: string) => out(`${c.red('✗')} ${c.bold(title)}`);
  switch (error.code) {
    case 'missing_headers': {
      const missing = error.problems.map((p) => p.replace(/ header is missing$/, ''));
      fail(`missing ${missing.length === 1 ? 'header' : 'headers'}: ${missing.join(', ')}`);
      const present = Object.keys(ctx.headers);
      out(`  the headers file has ${present.length === 0 ? 'no headers' : present.join(', ')}`);
      out(
        '  a Scalekit delivery carries webhook-id, webhook-timestamp and webhook-signature (names are case-insensitive)',
      );
      if (present.some((h) => h.toLowerCase().startsWith('svix-'))) {
        out('  hint: svix-* headers were found: Scalekit sends the same values as webhook-* headers; rename them');
      }
      if (present.some((h) => h.toLowerCase() === 'x-scalekit-signature')) {
        out(
          '  hint: x-scalekit-signature appears in some Scalekit docs, but deliveries are signed in webhook-signature',
        );
      }
      return;
    }
    case 'invalid_headers':
    case 'invalid_timestamp':
      fail(`invalid header: ${error.message}`);
      return;
    case 'timestamp_too_old':
    case 'timestamp_too_new': {
      const { webhookId, timestamp } = readDeliveryHeaders(ctx.headers);
      const nowSeconds = Math.floor(ctx.now() / 1000);
      const old = error.code === 'timestamp_too_old';
      const skew = Math.abs(nowSeconds - timestamp);
      fail(`timestamp too ${old ? 'old' : 'new'}`);
      out(
        `  webhook-timestamp ${timestamp} (${new Date(timestamp * 1000).toISOString()}) is ${skew} s ${old ? 'in the past' : 'in the future'}; ` +
          `the tolerance is ${ctx.tolerance} s`,
      );
      out(
        old
          ? '  a replayed or late delivery, or a slow clock here. To check a captured delivery later, pass --now <the time it was received>, or re-sign it with `sign`'
          : "  the sender's clock is ahead of this machine's (or this clock is behind): check the clocks (NTP)",
      );
      // Is the signature itself right? Check it at the delivery's own time.
      const atSendTime = new ScalekitWebhookVerifier({
        secret: ctx.secrets,
        toleranceSeconds: ctx.tolerance,
        now: () => timestamp * 1000,
      });
      try {
        atSendTime.verify(ctx.body, ctx.headers);
        out(`  the signature itself matches: only the time is outside the window (webhook-id ${webhookId})`);
      } catch (inner) {
        if (inner instanceof ScalekitWebhookError && inner.code === 'no_matching_signature') {
          out('  the signature does not match either:');
          explainNoMatch({ ...ctx, out: (text = '') => out(`  ${text}`) });
        }
      }
      return;
    }
    case 'no_matching_signature':
      explainNoMatch(ctx);
      return;
    default:
      fail(`${error.code}: ${error.message}`);
  }
}

/** Why no v1 entry matches: the entries, then the usual causes, tried one by one (re-serialised body first). */
function explainNoMatch(ctx: FailureContext): void {
  const { colours: c, out } = ctx;
  const { webhookId, timestamp, signatures } = readDeliveryHeaders(ctx.headers);
  const entries = analyseSignatures(signatures);
  const v1 = entries.filter((e) => e.version === 'v1');
  const wellFormed = v1.filter((e) => e.problem === undefined);
  const others = entries.filter((e) => e.version !== 'v1');

  const parts = [`${plural(v1.length, 'v1 entry', 'v1 entries')} (${wellFormed.length} well-formed)`];
  if (others.length > 0) {
    parts.push(
      `${plural(others.length, 'entry', 'entries')} of other versions (${[...new Set(others.map((e) => e.version || '(none)'))].join(', ')}), skipped`,
    );
  }
  if (wellFormed.length === 0) {
    out(`${c.red('✗')} ${c.bold('no well-formed v1 signature')}`);
  } else {
    out(`${c.red('✗')} ${c.bold('no v1 signature matches')}`);
  }
  out(`  webhook-signature has ${plural(entries.length, 'entry', 'entries')}: ${parts.join('; ')}`);
  for (const entry of v1.filter((e) => e.problem !== undefined)) {
    out(`  - entry ${entry.position}: ${entry.problem}`);
  }
  if (others.length > 0 && v1.length === 0) {
    out('  only v1 entries are HMAC-SHA256 signatures (v1a is Ed25519, which Scalekit does not use for webhooks)');
  }
  if (wellFormed.length === 0) {
    out('  expected at least one entry "v1,<base64 of the 32-byte HMAC-SHA256>" (44 characters after "v1,")');
    return;
  }
  out(`  checked with ${plural(ctx.keys.length, 'secret')}, over ${ctx.body.length} body bytes`);

  const candidates = wellFormed.map((e) => Buffer.from(e.value, 'base64'));
  const matches = (key: Buffer, bytes: Buffer) => {
    const expected = hmac(key, webhookId, timestamp, bytes);
    return candidates.some((candidate) => timingSafeEqual(expected, candidate));
  };

  for (const form of alternativeBodies(ctx.body)) {
    if (ctx.keys.some((key) => matches(key.bytes, form.bytes))) {
      out(`${c.red('✗')} ${c.bold('the body is not raw')}: the signature matches the body ${form.label}`);
      out(`  the body was re-serialised or modified after it was received; ${RAW_BODY_HINT}`);
      return;
    }
  }
  if (ctx.secrets.some((secret) => matches(Buffer.from(secret.trim(), 'utf8'), ctx.body))) {
    out(
      `${c.yellow('!')} the signature matches when the whole secret string is the HMAC key: the sender did not base64-decode`,
    );
    out('  the part after "whsec_" (Scalekit and Standard Webhooks use the decoded bytes as the key)');
    return;
  }
  out(
    '  no re-serialised or trimmed form of the body matches either, so the body is probably raw: most likely the secret',
  );
  out(
    "  is not this endpoint's signing secret (each endpoint has its own; during a rotation pass both with --secret twice),",
  );
  out('  or the body, webhook-id or webhook-timestamp changed after signing');
  const text = ctx.body.toString('utf8');
  if (/\n[ \t]+"/.test(text)) {
    out(
      `  ${c.yellow('hint:')} the body is pretty-printed: Scalekit sends compact JSON. If it was copied from a log or a viewer,`,
    );
    out('  it is not the raw bytes: capture the raw request body instead');
  }
}

/** Bodies a capture tool or a framework commonly produces from the raw one. */
function alternativeBodies(raw: Buffer): { label: string; bytes: Buffer }[] {
  const text = raw.toString('utf8');
  const forms: { label: string; text: string }[] = [];
  let parsed: unknown;
  let isJson: boolean;
  try {
    parsed = JSON.parse(text);
    isJson = true;
  } catch {
    isJson = false;
  }
  // Small edits first (the more precise diagnosis), then re-serialisations.
  forms.push(
    { label: 'without its leading and trailing whitespace (trimmed)', text: text.trim() },
    { label: 'with a trailing newline', text: `${text}\n` },
    { label: 'with LF line endings instead of CRLF', text: text.replace(/\r\n/g, '\n') },
    { label: 'with CRLF line endings instead of LF', text: text.replace(/\r?\n/g, '\r\n') },
  );
  if (isJson) {
    forms.push(
      { label: 're-serialised as compact JSON (JSON.stringify of the parsed body)', text: JSON.stringify(parsed) },
      { label: 're-serialised as JSON pretty-printed with 2 spaces', text: JSON.stringify(parsed, null, 2) },
      { label: 're-serialised as JSON pretty-printed with 4 spaces', text: JSON.stringify(parsed, null, 4) },
      { label: 're-serialised as JSON pretty-printed with tabs', text: JSON.stringify(parsed, null, '\t') },
    );
  }
  const seen = new Set<string>([text]);
  const result: { label: string; bytes: Buffer }[] = [];
  for (const form of forms) {
    if (!seen.has(form.text)) {
      seen.add(form.text);
      result.push({ label: form.label, bytes: Buffer.from(form.text, 'utf8') });
    }
  }
  return result;
}

export function analyseSignatures(header: string): SignatureEntry[] {
  return header
    .split(' ')
    .filter((entry) => entry.length > 0)
    .map((entry, index) => {
      const position = index + 1;
      const comma = entry.indexOf(',');
      if (comma < 0) {
        return entry === 'v1'
          ? { position, version: 'v1', value: '', problem: '"v1" without a comma and a signature' }
          : { position, version: entry, value: '' };
      }
      const version = entry.slice(0, comma);
      const value = entry.slice(comma + 1);
      if (version !== 'v1') {
        return { position, version, value };
      }
      return { position, version, value, problem: v1Problem(value) };
    });
}

function v1Problem(value: string): string | undefined {
  if (V1_SIGNATURE.test(value)) {
    return undefined;
  }
  if (value === '') {
    return 'empty signature after "v1,"';
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    return 'the signature is hex: Scalekit signatures are standard base64 (44 characters with "=" padding)';
  }
  if (/^[A-Za-z0-9_-]+=*$/.test(value) && /[_-]/.test(value)) {
    return 'the signature uses the base64url alphabet (- and _): Scalekit signatures are standard base64 (+ and /)';
  }
  if (/^[A-Za-z0-9+/]{43}$/.test(value)) {
    return 'the signature lacks its "=" padding (43 characters instead of 44)';
  }
  if (/^[A-Za-z0-9+/]+=*$/.test(value)) {
    return `the signature is ${value.length} characters long: the base64 of a 32-byte HMAC-SHA256 is 44 (truncated, or not HMAC-SHA256)`;
  }
  return 'the signature is not base64';
}

function findMatch(
  keys: readonly ScalekitSigningKey[],
  webhookId: string,
  timestamp: number,
  body: Buffer,
  entries: readonly SignatureEntry[],
): { entry: number; secret: number } | undefined {
  const v1 = entries.filter((e) => e.version === 'v1');
  for (const [k, key] of keys.entries()) {
    const expected = hmac(key.bytes, webhookId, timestamp, body);
    for (const [i, entry] of v1.entries()) {
      if (entry.problem === undefined && timingSafeEqual(expected, Buffer.from(entry.value, 'base64'))) {
        return { entry: i + 1, secret: k + 1 };
      }
    }
  }
  return undefined;
}

function hmac(key: Buffer, webhookId: string, timestamp: number, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${webhookId}.${timestamp}.`).update(body).digest();
}

function describeTime(timestamp: number, now: () => number): string {
  const delta = Math.floor(now() / 1000) - timestamp;
  const when = new Date(timestamp * 1000).toISOString();
  return delta >= 0 ? `${when}, ${delta} s ago` : `${when}, ${-delta} s in the future`;
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
