import { performance } from 'node:perf_hooks';
import {
  DEFAULT_INTERCEPTOR_PATH,
  isKnownScalekitInterceptorTrigger,
  SCALEKIT_INTERCEPTOR_TRIGGERS,
  sendSignedScalekitInterceptor,
} from '../core/interceptors/index.js';
import { buildScalekitInterceptorRequest } from '../testing/build-interceptor-request.js';
import {
  CLI_NAME,
  CliFailure,
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
  UsageError,
} from './io.js';
import { closest } from './suggest.js';

/** Interceptors have their own secret, so their own variable. */
export const INTERCEPTOR_SECRET_ENV = 'SCALEKIT_INTERCEPTOR_SECRET';

export const INTERCEPT_HELP = `Usage: ${CLI_NAME} intercept <TRIGGER> --url <endpoint> [options]

Builds the example interceptor request of <TRIGGER> (${SCALEKIT_INTERCEPTOR_TRIGGERS.join(', ')}), signs it
exactly like Scalekit (interceptor-id, interceptor-timestamp, interceptor-signature over the raw bytes, with the
interceptor's secret) and POSTs it. Prints the status, the decision and the elapsed time.

Options:
  --url <url>            The endpoint. A URL without a path posts to /${DEFAULT_INTERCEPTOR_PATH}.
  --secret <whsec_…>     The interceptor's signing secret (default: $${INTERCEPTOR_SECRET_ENV}).
  --email <address>      Set interceptor_context.user_email (who signs up or logs in).
  --data <file.json>     Replace the example's data with this JSON object ("-" reads standard input).
  --timeout <ms>         Give up after this long (default 10000).
  --allow-unknown        Send a trigger point that is not documented (its data is --data, or {}).
  --json                 Print the response as JSON: { status, decision, body, elapsedMs }.
  -h, --help             Show this help.

Exit codes: 0 a 200 with ALLOW or DENY; 1 anything else (an error status, no decision, no answer); 2 bad usage.

Examples:
  ${CLI_NAME} intercept PRE_SIGNUP --url http://localhost:3000 --secret whsec_… --email eve@blocked.example
  ${CLI_NAME} intercept PRE_SESSION_CREATION --url http://localhost:3000/${DEFAULT_INTERCEPTOR_PATH}
`;

export async function intercept(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'intercept',
    args,
    {
      url: { type: 'string' },
      secret: { type: 'string' },
      email: { type: 'string' },
      data: { type: 'string' },
      timeout: { type: 'string' },
      'allow-unknown': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    INTERCEPT_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `missing the trigger point, e.g. \`${CLI_NAME} intercept PRE_SIGNUP --url …\``
        : 'one trigger point at a time',
      'intercept',
    );
  }
  const trigger = positionals[0]!;
  if (!isKnownScalekitInterceptorTrigger(trigger) && !values['allow-unknown']) {
    const suggestions = closest(trigger.toUpperCase(), SCALEKIT_INTERCEPTOR_TRIGGERS);
    throw new UsageError(
      `unknown trigger point ${JSON.stringify(trigger)}.` +
        (suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : '') +
        ` Known: ${SCALEKIT_INTERCEPTOR_TRIGGERS.join(', ')}; pass --allow-unknown to send it anyway.`,
      'intercept',
    );
  }
  if (values.url === undefined) {
    throw new UsageError(
      `--url is required (e.g. --url http://localhost:3000/${DEFAULT_INTERCEPTOR_PATH})`,
      'intercept',
    );
  }
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(values.url)} is not a valid URL`, 'intercept');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be an http:// or https:// URL (got ${url.protocol})`, 'intercept');
  }
  const given = values.secret ?? io.env[INTERCEPTOR_SECRET_ENV];
  if (given === undefined || given === '') {
    throw new UsageError(
      `the interceptor's signing secret is required: pass --secret whsec_… or set ${INTERCEPTOR_SECRET_ENV}`,
      'intercept',
    );
  }
  const [secret] = secretsFrom('intercept', given, {});
  const timeoutMs = integerOption('intercept', 'timeout', values.timeout, 1, 600_000) ?? 10_000;

  const request = buildScalekitInterceptorRequest(trigger) as unknown as Record<string, unknown>;
  if (values.data !== undefined) {
    const data = parseJsonArg('intercept', '--data', await readInputFile(io, 'intercept', '--data', values.data));
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new UsageError('--data must be a JSON object', 'intercept');
    }
    request['data'] = data;
  }
  if (values.email !== undefined) {
    (request['interceptor_context'] as Record<string, unknown>)['user_email'] = values.email;
  }

  const started = performance.now();
  let response;
  try {
    response = await sendSignedScalekitInterceptor(url, request, { secret: secret!, timeoutMs });
  } catch (error) {
    throw new CliFailure(`${url.origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const elapsedMs = Math.round(performance.now() - started);
  const ok = response.decision !== undefined;
  if (values.json) {
    line(
      io.stdout,
      JSON.stringify({ status: response.status, decision: response.decision ?? null, body: response.body, elapsedMs }),
    );
    return ok ? EXIT_OK : EXIT_FAILURE;
  }
  const c = coloursFor(io.stdout, io.env);
  const mark = !ok ? c.red('✗') : response.decision === 'ALLOW' ? c.green('✓') : c.yellow('✓');
  const what = ok ? c.bold(response.decision!) : 'no decision';
  line(io.stdout, `${mark} ${trigger} → ${response.status} ${what} in ${elapsedMs} ms (${response.url})`);
  line(io.stdout, `  ${response.text.slice(0, 2000)}`);
  return ok ? EXIT_OK : EXIT_FAILURE;
}
