import { timingSafeEqual } from 'node:crypto';
import { isKnownScalekitEventType } from './catalogue.js';
import { parseScalekitEventPayload } from './envelope.js';
import { ScalekitWebhookError } from './errors.js';
import type { ScalekitHeadersInput } from './headers.js';
import { INTERCEPTOR_HEADERS } from './interceptors/interceptor-protocol.js';
import { parseScalekitInterceptorRequest } from './interceptors/interceptor-request.js';
import {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_VERSION,
  type SignatureHeaderNames,
  signedContentHmac,
  V1_SIGNATURE_PATTERN,
  WEBHOOK_HEADERS,
} from './protocol.js';
import { parseSecrets } from './secret.js';
import { readDeliveryHeaders, ScalekitWebhookVerifier } from './verify.js';

/** How a finding weighs: `ok` a check passed, `error` a check failed, `warning` a likely cause, `info` a remark. */
export type ScalekitFindingSeverity = 'ok' | 'error' | 'warning' | 'info';

/** One result of {@link diagnoseScalekitDelivery}: what was found, in words meant for a developer. */
export interface ScalekitFinding {
  /**
   * Stable identifier: `signature_valid`, `event_valid`, `unknown_event_type`, a verifier error code
   * (`missing_headers`, `invalid_headers`, `invalid_timestamp`, `timestamp_too_old`, `timestamp_too_new`,
   * `no_matching_signature`), `body_not_raw`, `secret_not_decoded` or an event error code (`invalid_payload`, …).
   */
  readonly code: string;
  readonly severity: ScalekitFindingSeverity;
  /** One line. */
  readonly message: string;
  /** Further lines that explain it. */
  readonly details: readonly string[];
  /** Findings that explain this one (e.g. why the signature of a too-old delivery does not match either). */
  readonly related?: readonly ScalekitFinding[];
}

export interface DiagnoseScalekitDeliveryInput {
  /** The body exactly as received. A string is taken as its UTF-8 bytes. */
  payload: Buffer | Uint8Array | string;
  headers: ScalekitHeadersInput;
  /** The `whsec_…` secret, or several while rotating. Never appears in a finding. */
  secret: string | readonly string[];
  /**
   * Timestamp window in seconds.
   * @default 300
   */
  toleranceSeconds?: number;
  /**
   * Clock in milliseconds: pass the time a captured delivery was received to check it later.
   * @default Date.now
   */
  now?: () => number;
  /**
   * How the findings name where the headers came from ("the headers file has …").
   * @default 'the request'
   */
  headersSource?: string;
  /**
   * What is checked: a webhook delivery (`webhook-*` headers, then the event envelope) or an interceptor call
   * (`interceptor-*` headers and the interceptor's secret, then a body with a `trigger_point`).
   * @default 'webhook'
   */
  kind?: 'webhook' | 'interceptor';
}

export interface ScalekitDeliveryDiagnosis {
  /** Whether the delivery is authentic and carries a valid event (what the module would accept). */
  readonly valid: boolean;
  readonly findings: readonly ScalekitFinding[];
}

/**
 * Checks a delivery the way the module does (headers, timestamp window, HMAC over the raw bytes, then the event
 * envelope) and explains which check fails and why: malformed signature entries, a re-serialised or trimmed body, a
 * secret used without base64-decoding, a clock out of the window. Meant for tools and debug logs: it tries several
 * alternative bodies, so it costs a few HMACs more than `verify`, and it never includes a secret in its findings.
 * Throws `invalid_options` for a bad secret or tolerance, like the verifier.
 */
export function diagnoseScalekitDelivery(input: DiagnoseScalekitDeliveryInput): ScalekitDeliveryDiagnosis {
  const keys = parseSecrets(input.secret);
  const secrets = typeof input.secret === 'string' ? [input.secret] : [...input.secret];
  const body = Buffer.isBuffer(input.payload)
    ? input.payload
    : typeof input.payload === 'string'
      ? Buffer.from(input.payload, 'utf8')
      : Buffer.from(input.payload);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = input.now ?? Date.now;
  const interceptor = input.kind === 'interceptor';
  const names = interceptor ? INTERCEPTOR_HEADERS : WEBHOOK_HEADERS;
  const verifier = new ScalekitWebhookVerifier({
    secret: secrets,
    toleranceSeconds: tolerance,
    now,
    headerNames: names,
  });
  const ctx: Context = {
    names,
    interceptor,
    headersSource: input.headersSource ?? 'the request',
    headers: input.headers,
    body,
    secrets,
    keys: keys.map((k) => k.bytes),
    tolerance,
    now,
  };

  const findings: ScalekitFinding[] = [];
  try {
    const delivery = verifier.verify(body, input.headers);
    const { signatures } = readDeliveryHeaders(input.headers, names);
    const entries = analyseSignatures(signatures);
    const match = findMatch(ctx.keys, delivery.webhookId, delivery.timestamp, body, entries);
    const details = [
      `${names.id.padEnd(names.timestamp.length + 1)} ${delivery.webhookId}`,
      `${names.timestamp}  ${delivery.timestamp} (${describeTime(delivery.timestamp, now)}; tolerance ${tolerance} s)`,
    ];
    if (match !== undefined) {
      const v1Count = entries.filter((e) => e.version === SIGNATURE_VERSION).length;
      details.push(
        `signature          v1 entry ${match.entry} of ${v1Count}` +
          (keys.length > 1 ? ` matches secret ${match.secret} of ${keys.length}` : ' matches'),
      );
    }
    findings.push({ code: 'signature_valid', severity: 'ok', message: 'signature valid', details });
  } catch (error) {
    if (!(error instanceof ScalekitWebhookError)) {
      throw error;
    }
    findings.push(...explainFailure(error, ctx));
    return { valid: false, findings };
  }

  if (interceptor) {
    const parsed = parseScalekitInterceptorRequest(body);
    if (!parsed.ok) {
      findings.push({
        code: parsed.code,
        severity: 'error',
        message: `the body is not an interceptor request (the module answers 400 ${parsed.code}):`,
        details: parsed.problems.map((p) => `- ${p}`),
      });
      return { valid: false, findings };
    }
    findings.push({
      code: 'interceptor_request_valid',
      severity: 'ok',
      message: `valid interceptor request  ${parsed.request.trigger_point}`,
      details: [],
    });
    return { valid: true, findings };
  }

  try {
    const event = parseScalekitEventPayload(body);
    findings.push({
      code: 'event_valid',
      severity: 'ok',
      message: `valid event  ${event.type}  ${event.id}${event.organization_id ? `  (${event.organization_id})` : ''}`,
      details: [],
    });
    if (!isKnownScalekitEventType(event.type)) {
      findings.push({
        code: 'unknown_event_type',
        severity: 'info',
        message: 'this type is not in the catalogue: the module accepts it and routes it to wildcard handlers only',
        details: [],
      });
    }
    return { valid: true, findings };
  } catch (error) {
    if (!(error instanceof ScalekitWebhookError)) {
      throw error;
    }
    findings.push({
      code: error.code,
      severity: 'error',
      message: `the body is not a valid Scalekit event (the module answers 400 ${error.code}):`,
      details: (error.problems.length > 0 ? error.problems : [error.message]).map((p) => `- ${p}`),
    });
    return { valid: false, findings };
  }
}

interface Context {
  /** The scheme's header names (`webhook-*` or `interceptor-*`). */
  names: SignatureHeaderNames;
  interceptor: boolean;
  headersSource: string;
  headers: ScalekitHeadersInput;
  body: Buffer;
  secrets: readonly string[];
  keys: readonly Buffer[];
  tolerance: number;
  now: () => number;
}

const RAW_BODY_HINT =
  'verify the raw bytes as received (in Nest: `NestFactory.create(AppModule, { rawBody: true })` and `req.rawBody`, ' +
  'never `JSON.stringify(req.body)`)';

function explainFailure(error: ScalekitWebhookError, ctx: Context): ScalekitFinding[] {
  switch (error.code) {
    case 'missing_headers': {
      const missing = error.problems.map((p) => p.replace(/ header is missing$/, ''));
      const present = headerNames(ctx.headers);
      const { id, timestamp, signature } = ctx.names;
      const what = ctx.interceptor ? 'an interceptor call' : 'a Scalekit delivery';
      const details = [
        `${ctx.headersSource} has ${present.length === 0 ? 'no headers' : present.join(', ')}`,
        `${what} carries ${id}, ${timestamp} and ${signature} (names are case-insensitive)`,
      ];
      const other = ctx.interceptor ? 'webhook-' : 'interceptor-';
      if (present.some((h) => h.toLowerCase().startsWith(other))) {
        details.push(
          ctx.interceptor
            ? 'hint: webhook-* headers were found: this is a webhook delivery, not an interceptor call (check it without --interceptor)'
            : 'hint: interceptor-* headers were found: this is an interceptor call, not a webhook delivery (check it with --interceptor)',
        );
      }
      if (present.some((h) => h.toLowerCase().startsWith('svix-'))) {
        details.push(
          'hint: svix-* headers were found: Scalekit sends the same values as webhook-* headers; rename them',
        );
      }
      if (present.some((h) => h.toLowerCase() === 'x-scalekit-signature')) {
        details.push(
          `hint: x-scalekit-signature appears in some Scalekit docs, but ${ctx.interceptor ? 'interceptor calls' : 'deliveries'} are signed in ${signature}`,
        );
      }
      return [
        {
          code: error.code,
          severity: 'error',
          message: `missing ${missing.length === 1 ? 'header' : 'headers'}: ${missing.join(', ')}`,
          details,
        },
      ];
    }
    case 'invalid_headers':
    case 'invalid_timestamp':
      return [{ code: error.code, severity: 'error', message: `invalid header: ${error.message}`, details: [] }];
    case 'timestamp_too_old':
    case 'timestamp_too_new': {
      const { webhookId, timestamp } = readDeliveryHeaders(ctx.headers, ctx.names);
      const nowSeconds = Math.floor(ctx.now() / 1000);
      const old = error.code === 'timestamp_too_old';
      const skew = Math.abs(nowSeconds - timestamp);
      const details = [
        `${ctx.names.timestamp} ${timestamp} (${new Date(timestamp * 1000).toISOString()}) is ${skew} s ${old ? 'in the past' : 'in the future'}; ` +
          `the tolerance is ${ctx.tolerance} s`,
        old
          ? 'a replayed or late delivery, or a slow clock here. A captured delivery can be checked later at the time it was received, or re-signed'
          : "the sender's clock is ahead of this machine's (or this clock is behind): check the clocks (NTP)",
      ];
      // Is the signature itself right? Check it at the delivery's own time.
      const atSendTime = new ScalekitWebhookVerifier({
        secret: ctx.secrets,
        toleranceSeconds: ctx.tolerance,
        now: () => timestamp * 1000,
        headerNames: ctx.names,
      });
      let related: ScalekitFinding[] | undefined;
      try {
        atSendTime.verify(ctx.body, ctx.headers);
        details.push(
          `the signature itself matches: only the time is outside the window (${ctx.names.id} ${webhookId})`,
        );
      } catch (inner) {
        if (inner instanceof ScalekitWebhookError && inner.code === 'no_matching_signature') {
          details.push('the signature does not match either:');
          related = explainNoMatch(ctx);
        }
      }
      return [
        {
          code: error.code,
          severity: 'error',
          message: `timestamp too ${old ? 'old' : 'new'}`,
          details,
          ...(related ? { related } : {}),
        },
      ];
    }
    case 'no_matching_signature':
      return explainNoMatch(ctx);
    default:
      return [{ code: error.code, severity: 'error', message: `${error.code}: ${error.message}`, details: [] }];
  }
}

/** Why no v1 entry matches: the entries, then the usual causes, tried one by one (re-serialised body first). */
function explainNoMatch(ctx: Context): ScalekitFinding[] {
  const { webhookId, timestamp, signatures } = readDeliveryHeaders(ctx.headers, ctx.names);
  const entries = analyseSignatures(signatures);
  const v1 = entries.filter((e) => e.version === SIGNATURE_VERSION);
  const wellFormed = v1.filter((e) => e.problem === undefined);
  const others = entries.filter((e) => e.version !== SIGNATURE_VERSION);

  const parts = [`${plural(v1.length, 'v1 entry', 'v1 entries')} (${wellFormed.length} well-formed)`];
  if (others.length > 0) {
    parts.push(
      `${plural(others.length, 'entry', 'entries')} of other versions (${[...new Set(others.map((e) => e.version || '(none)'))].join(', ')}), skipped`,
    );
  }
  const details = [`${ctx.names.signature} has ${plural(entries.length, 'entry', 'entries')}: ${parts.join('; ')}`];
  for (const entry of v1.filter((e) => e.problem !== undefined)) {
    details.push(`- entry ${entry.position}: ${entry.problem}`);
  }
  if (others.length > 0 && v1.length === 0) {
    details.push(
      'only v1 entries are HMAC-SHA256 signatures (v1a is Ed25519, which Scalekit does not use for webhooks)',
    );
  }
  if (wellFormed.length === 0) {
    details.push('expected at least one entry "v1,<base64 of the 32-byte HMAC-SHA256>" (44 characters after "v1,")');
    return [{ code: 'no_matching_signature', severity: 'error', message: 'no well-formed v1 signature', details }];
  }
  details.push(`checked with ${plural(ctx.keys.length, 'secret')}, over ${ctx.body.length} body bytes`);
  const finding: ScalekitFinding = {
    code: 'no_matching_signature',
    severity: 'error',
    message: 'no v1 signature matches',
    details,
  };

  const candidates = wellFormed.map((e) => Buffer.from(e.value, 'base64'));
  const matches = (key: Buffer, bytes: Buffer) => {
    const expected = signedContentHmac(key, webhookId, timestamp, bytes);
    return candidates.some((candidate) => timingSafeEqual(expected, candidate));
  };

  for (const form of alternativeBodies(ctx.body)) {
    if (ctx.keys.some((key) => matches(key, form.bytes))) {
      return [
        finding,
        {
          code: 'body_not_raw',
          severity: 'error',
          message: `the body is not raw: the signature matches the body ${form.label}`,
          details: [`the body was re-serialised or modified after it was received; ${RAW_BODY_HINT}`],
        },
      ];
    }
  }
  if (ctx.secrets.some((secret) => matches(Buffer.from(secret.trim(), 'utf8'), ctx.body))) {
    return [
      finding,
      {
        code: 'secret_not_decoded',
        severity: 'warning',
        message: 'the signature matches when the whole secret string is the HMAC key: the sender did not base64-decode',
        details: ['the part after "whsec_" (Scalekit and Standard Webhooks use the decoded bytes as the key)'],
      },
    ];
  }
  details.push(
    'no re-serialised or trimmed form of the body matches either, so the body is probably raw: most likely the secret',
    ctx.interceptor
      ? "is not this interceptor's signing secret (each interceptor has its own, and it is not the webhook endpoint's),"
      : "is not this endpoint's signing secret (each endpoint has its own; during a rotation, give both secrets),",
    `or the body, ${ctx.names.id} or ${ctx.names.timestamp} changed after signing`,
  );
  if (/\n[ \t]+"/.test(ctx.body.toString('utf8'))) {
    details.push(
      'hint: the body is pretty-printed: Scalekit sends compact JSON. If it was copied from a log or a viewer,',
      'it is not the raw bytes: capture the raw request body instead',
    );
  }
  return [finding];
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

interface SignatureEntry {
  position: number;
  version: string;
  value: string;
  /** Why a v1 entry cannot be a Scalekit signature; undefined for a well-formed v1 entry and for other versions. */
  problem?: string;
}

function analyseSignatures(header: string): SignatureEntry[] {
  return header
    .split(' ')
    .filter((entry) => entry.length > 0)
    .map((entry, index) => {
      const position = index + 1;
      const comma = entry.indexOf(',');
      if (comma < 0) {
        return entry === SIGNATURE_VERSION
          ? { position, version: SIGNATURE_VERSION, value: '', problem: '"v1" without a comma and a signature' }
          : { position, version: entry, value: '' };
      }
      const version = entry.slice(0, comma);
      const value = entry.slice(comma + 1);
      if (version !== SIGNATURE_VERSION) {
        return { position, version, value };
      }
      return { position, version, value, problem: v1Problem(value) };
    });
}

function v1Problem(value: string): string | undefined {
  if (V1_SIGNATURE_PATTERN.test(value)) {
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
  keys: readonly Buffer[],
  webhookId: string,
  timestamp: number,
  body: Buffer,
  entries: readonly SignatureEntry[],
): { entry: number; secret: number } | undefined {
  const v1 = entries.filter((e) => e.version === SIGNATURE_VERSION);
  for (const [k, key] of keys.entries()) {
    const expected = signedContentHmac(key, webhookId, timestamp, body);
    for (const [i, entry] of v1.entries()) {
      if (entry.problem === undefined && timingSafeEqual(expected, Buffer.from(entry.value, 'base64'))) {
        return { entry: i + 1, secret: k + 1 };
      }
    }
  }
  return undefined;
}

function describeTime(timestamp: number, now: () => number): string {
  const delta = Math.floor(now() / 1000) - timestamp;
  const when = new Date(timestamp * 1000).toISOString();
  return delta >= 0 ? `${when}, ${delta} s ago` : `${when}, ${-delta} s in the future`;
}

function headerNames(headers: ScalekitHeadersInput): string[] {
  if (headers === null || typeof headers !== 'object') {
    return [];
  }
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const names: string[] = [];
    (headers as unknown as { forEach?(fn: (value: string, name: string) => void): void }).forEach?.((_v, name) =>
      names.push(name),
    );
    return names;
  }
  return Object.keys(headers);
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
