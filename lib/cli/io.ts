import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ScalekitWebhookError } from '../core/errors.js';
import { ScalekitSigningKey } from '../core/secret.js';

export const CLI_NAME = 'scalekit-webhooks';
export const SECRET_ENV = 'SCALEKIT_WEBHOOK_SECRET';

/** Exit codes: 0 success, 1 failure (a check failed, a request failed), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface CliInput extends AsyncIterable<Buffer | string> {
  isTTY?: boolean;
}

/** Everything the CLI touches of its process, so commands can run in-process (tests, other tools). */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Standard input, opened only when a command reads a body from it. */
  stdin?: () => CliInput;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory that relative file arguments are resolved against. Default `process.cwd()`. */
  cwd?: string;
  /** `serve` stops when this is aborted (the binary aborts it on SIGINT and SIGTERM). */
  signal?: AbortSignal;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Bad usage: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A failure the user can act on (unreachable URL, port in use): printed without a stack trace, exit code 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

export interface Colours {
  enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** Colours only on a TTY; `NO_COLOR` (any non-empty value) turns them off, `FORCE_COLOR` on (unless `0`). */
export function coloursFor(stream: CliOutput, env: CliIo['env']): Colours {
  const noColor = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  const force = env['FORCE_COLOR'];
  const enabled = noColor
    ? false
    : force !== undefined && force !== ''
      ? force !== '0' && force !== 'false'
      : stream.isTTY === true;
  const paint = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    red: paint(31, 39),
    green: paint(32, 39),
    yellow: paint(33, 39),
    cyan: paint(36, 39),
    dim: paint(2, 22),
    bold: paint(1, 22),
  };
}

/** The `--help`/`-h` option every command has. */
const HELP_OPTION = { type: 'boolean', short: 'h' } as const;

type CommandOptions = NonNullable<ParseArgsConfig['options']>;
type ParsedCommand<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & { help: typeof HELP_OPTION }; strict: true; allowPositionals: true }>
>;

/**
 * Parses a command's arguments with `util.parseArgs` (strict, positionals allowed, plus `--help`/`-h`), turning its
 * errors into {@link UsageError}s. Prints `help` and returns `undefined` when help was asked for.
 */
export function parseCommand<const O extends CommandOptions>(
  command: string,
  args: readonly string[],
  options: O,
  help: string,
  io: CliIo,
): ParsedCommand<O> | undefined {
  let parsed: ParsedCommand<O>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: HELP_OPTION },
      strict: true,
      allowPositionals: true,
    }) as ParsedCommand<O>;
  } catch (error) {
    if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message, command);
    }
    throw error;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(help);
    return undefined;
  }
  return parsed;
}

/**
 * The signing secrets from `--secret` (repeatable) or `SCALEKIT_WEBHOOK_SECRET`, each checked with the core secret
 * parser. Error messages name where the secret came from, never its value.
 */
export function secretsFrom(
  command: string,
  flags: readonly string[] | string | undefined,
  env: CliIo['env'],
  required = true,
): string[] {
  const given = flags === undefined ? [] : typeof flags === 'string' ? [flags] : [...flags];
  const fromEnv = env[SECRET_ENV];
  const secrets = given.length > 0 ? given : fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : [];
  if (secrets.length === 0) {
    if (!required) {
      return [];
    }
    throw new UsageError(`a signing secret is required: pass --secret whsec_… or set ${SECRET_ENV}`, command);
  }
  secrets.forEach((secret, index) => {
    const label = given.length === 0 ? SECRET_ENV : given.length === 1 ? '--secret' : `--secret #${index + 1}`;
    try {
      ScalekitSigningKey.parse(secret, label);
    } catch (error) {
      if (error instanceof ScalekitWebhookError) {
        throw new UsageError(error.message.replace(/^Scalekit webhook /, ''), command);
      }
      throw error;
    }
  });
  return secrets;
}

/** Reads a file argument; `-` reads standard input. A missing or unreadable file is bad usage. */
export async function readInputFile(io: CliIo, command: string, option: string, path: string): Promise<Buffer> {
  if (path === '-') {
    return readStdin(io, command, `${option} -`);
  }
  try {
    return readFileSync(resolve(io.cwd ?? process.cwd(), path));
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UsageError(`cannot read ${option} ${path}: ${reason}`, command);
  }
}

/** Reads all of standard input; refuses an interactive terminal (the body must be piped or redirected). */
export async function readStdin(io: CliIo, command: string, what: string): Promise<Buffer> {
  const stdin = io.stdin?.();
  if (stdin === undefined || stdin.isTTY === true) {
    throw new UsageError(
      `${what}: pipe the body on standard input (e.g. \`${CLI_NAME} ${command} … < body.json\`) or give a file`,
      command,
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON file argument; invalid JSON is bad usage. */
export function parseJsonArg(command: string, option: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UsageError(`${option} is not valid JSON: ${(error as Error).message}`, command);
  }
}

/** A whole number within bounds, or a {@link UsageError}. */
export function integerOption(
  command: string,
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`,
      command,
    );
  }
  return Number(value);
}

export function line(stream: CliOutput, text = ''): void {
  stream.write(`${text}\n`);
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
