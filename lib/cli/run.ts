import {
  CLI_NAME,
  CliFailure,
  type CliIo,
  coloursFor,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  line,
  SECRET_ENV,
  UsageError,
} from './io.js';
import { intercept, INTERCEPT_HELP, INTERCEPTOR_SECRET_ENV } from './intercept.js';
import { list, LIST_HELP } from './list.js';
import { queue, QUEUE_HELP } from './queue.js';
import { serve, SERVE_HELP } from './serve.js';
import { sign, SIGN_HELP } from './sign.js';
import { closest } from './suggest.js';
import { trigger, TRIGGER_HELP } from './trigger.js';
import { verify, VERIFY_HELP } from './verify.js';

export type { CliInput, CliIo, CliOutput } from './io.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './io.js';

const COMMANDS: Record<
  string,
  { run: (args: readonly string[], io: CliIo) => Promise<number>; help: string; summary: string }
> = {
  trigger: {
    run: trigger,
    help: TRIGGER_HELP,
    summary: 'send a signed example event to an endpoint (optionally many)',
  },
  sign: { run: sign, help: SIGN_HELP, summary: 'print the webhook headers for a body (or a ready curl command)' },
  verify: { run: verify, help: VERIFY_HELP, summary: 'check a captured delivery and explain which check fails' },
  list: { run: list, help: LIST_HELP, summary: 'list the event types with their object and data fields' },
  serve: { run: serve, help: SERVE_HELP, summary: 'a throw-away receiver that verifies and prints deliveries' },
  intercept: {
    run: intercept,
    help: INTERCEPT_HELP,
    summary: 'send a signed example interceptor call, print the decision',
  },
  queue: { run: queue, help: QUEUE_HELP, summary: 'list, retry or remove dead-lettered events (queue mode, BullMQ)' },
};

export const MAIN_HELP = `Usage: ${CLI_NAME} <command> [options]

Local tooling for Scalekit webhooks and interceptors: send real signed events and interceptor calls to your app,
sign and check deliveries by hand.

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(11)}${command.summary}`)
  .join('\n')}

Run \`${CLI_NAME} <command> --help\` for a command's options. The signing secret comes from --secret or $${SECRET_ENV}
(intercept: $${INTERCEPTOR_SECRET_ENV}, the interceptor's own secret).
Exit codes: 0 success, 1 failure, 2 bad usage.
`;

/**
 * Runs the CLI with `argv` (without the node and script paths) and returns the exit code: 0 success, 1 failure,
 * 2 bad usage. Never calls `process.exit`; everything it touches comes from `io`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(MAIN_HELP);
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !(topic in COMMANDS)) {
      return usage(io, new UsageError(unknownCommand(topic)));
    }
    io.stdout.write(topic === undefined ? MAIN_HELP : COMMANDS[topic]!.help);
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    return usage(io, new UsageError(unknownCommand(name)));
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      return usage(io, error);
    }
    const c = coloursFor(io.stderr, io.env);
    if (error instanceof CliFailure) {
      line(io.stderr, `${c.red('✗')} ${error.message}`);
      return EXIT_FAILURE;
    }
    line(
      io.stderr,
      `${c.red('✗')} ${name} failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT_FAILURE;
  }
}

function usage(io: CliIo, error: UsageError): number {
  const c = coloursFor(io.stderr, io.env);
  line(io.stderr, `${c.red(`${CLI_NAME}${error.command ? ` ${error.command}` : ''}:`)} ${error.message}`);
  line(io.stderr, c.dim(`Run \`${CLI_NAME} ${error.command ? `${error.command} ` : ''}--help\` for usage.`));
  return EXIT_USAGE;
}

function unknownCommand(name: string): string {
  const suggestions = closest(name, Object.keys(COMMANDS), 1);
  return `unknown command ${JSON.stringify(name)}${suggestions.length > 0 ? ` (did you mean ${suggestions[0]}?)` : ''}; commands: ${Object.keys(COMMANDS).join(', ')}`;
}
