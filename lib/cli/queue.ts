import { DEFAULT_BULLMQ_QUEUE_NAME, BullMqScalekitQueue } from '../core/queue/bullmq-scalekit-queue.js';
import { redactConnectionStrings } from '../core/redact.js';
import type { ScalekitDeadLetter, ScalekitDeadLetterResult } from '../core/queue/dead-letters.js';
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
  UsageError,
} from './io.js';

export const REDIS_URL_ENV = 'REDIS_URL';

export const QUEUE_HELP = `Usage: ${CLI_NAME} queue <failed|retry|remove> [event ids…] --connection <redis://…> [options]

Dead letters of queue mode with BullMQ: events that failed their last attempt. After a fix is deployed, run them again
through the same handlers (their attempts start over), or remove them for good.

Subcommands:
  failed                  List dead-lettered events, newest first: id, type, attempts, when, last error.
  retry <id…> | --all     Run these (or all) dead-lettered events again.
  remove <id…> | --all    Delete these (or all) dead-lettered events.

Options:
  --connection <url>      Redis, as a redis:// or rediss:// URL (default: $${REDIS_URL_ENV}).
  --queue <name>          BullMQ queue name (default ${DEFAULT_BULLMQ_QUEUE_NAME}), as given to BullMqScalekitQueue.
  --prefix <prefix>       BullMQ key prefix, if you set one (default BullMQ's).
  --all                   retry/remove: every event dead-lettered when the command starts.
  --limit <n>             failed: how many to list (default 50).
  --offset <n>            failed: how many to skip (default 0).
  --timeout <ms>          Time limit for each Redis call (default 5000).
  --json                  Print JSON instead of text.
  -h, --help              Show this help.

Exit codes: 0 done, 1 Redis unreachable or an id that is not a dead letter, 2 bad usage.
`;

const SUBCOMMANDS = ['failed', 'retry', 'remove'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export async function queue(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'queue',
    args,
    {
      connection: { type: 'string' },
      queue: { type: 'string' },
      prefix: { type: 'string' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
    QUEUE_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  const [sub, ...ids] = positionals;
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new UsageError(
      sub === undefined
        ? `give a subcommand: ${SUBCOMMANDS.join(', ')}`
        : `unknown subcommand ${JSON.stringify(sub)}; subcommands: ${SUBCOMMANDS.join(', ')}`,
      'queue',
    );
  }
  const subcommand = sub as Subcommand;
  const connection = values.connection ?? io.env[REDIS_URL_ENV];
  if (connection === undefined || connection === '') {
    throw new UsageError(
      `a Redis connection is required: pass --connection redis://… or set ${REDIS_URL_ENV}`,
      'queue',
    );
  }
  if (!/^rediss?:\/\//.test(connection)) {
    throw new UsageError('--connection must be a redis:// or rediss:// URL', 'queue');
  }
  if (subcommand === 'failed') {
    if (ids.length > 0 || values.all) {
      throw new UsageError('`queue failed` takes no event ids and no --all (use --limit and --offset)', 'queue');
    }
  } else {
    if (values.limit !== undefined || values.offset !== undefined) {
      throw new UsageError(`--limit and --offset are for \`queue failed\`, not \`queue ${subcommand}\``, 'queue');
    }
    if (Boolean(values.all) === ids.length > 0) {
      throw new UsageError(
        values.all ? 'give either event ids or --all, not both' : `give the event ids to ${subcommand}, or --all`,
        'queue',
      );
    }
  }
  const limit = integerOption('queue', 'limit', values.limit, 1, 100_000) ?? 50;
  const offset = integerOption('queue', 'offset', values.offset, 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const timeout = integerOption('queue', 'timeout', values.timeout, 1, 600_000) ?? 5_000;

  const target = new BullMqScalekitQueue({
    connection,
    ...(values.queue === undefined ? {} : { queueName: values.queue }),
    ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
    enqueueTimeoutMs: timeout,
  });
  const where = `${redactConnectionStrings(connection)} (queue ${JSON.stringify(target.queueName)}${target.prefix === undefined ? '' : `, prefix ${JSON.stringify(target.prefix)}`})`;
  try {
    if (subcommand === 'failed') {
      const [total, letters] = await Promise.all([target.countFailed(), target.listFailed({ offset, limit })]);
      printList(io, values.json === true, total, offset, letters);
      return EXIT_OK;
    }
    const result = await (subcommand === 'retry' ? target.retryFailed : target.removeFailed).call(
      target,
      values.all ? 'all' : ids,
      { onProgress: progressLine(io, subcommand) },
    );
    return printResult(io, values.json === true, subcommand, result);
  } catch (error) {
    if (error instanceof UsageError) {
      throw error;
    }
    throw new CliFailure(`queue ${subcommand} failed on ${where}: ${redactConnectionStrings(messageOf(error))}`);
  } finally {
    await target.close({ timeoutMs: 1_000 }).catch(() => {});
  }
}

function printList(io: CliIo, json: boolean, total: number, offset: number, letters: ScalekitDeadLetter[]): void {
  if (json) {
    line(io.stdout, JSON.stringify({ total, offset, deadLetters: letters }, null, 2));
    return;
  }
  const c = coloursFor(io.stdout, io.env);
  if (letters.length === 0) {
    line(
      io.stdout,
      total === 0 ? 'no dead-lettered events' : `no dead-lettered events past ${offset} (${total} in all)`,
    );
    return;
  }
  const idWidth = Math.max(8, ...letters.map((d) => d.eventId.length));
  const typeWidth = Math.max(4, ...letters.map((d) => d.type.length));
  line(
    io.stdout,
    c.bold(
      `${'EVENT ID'.padEnd(idWidth)}  ${'TYPE'.padEnd(typeWidth)}  ATTEMPTS  FAILED AT                 LAST ERROR`,
    ),
  );
  for (const d of letters) {
    line(
      io.stdout,
      `${c.cyan(d.eventId.padEnd(idWidth))}  ${d.type.padEnd(typeWidth)}  ${String(d.attemptsMade).padStart(8)}  ${(d.failedAt?.toISOString() ?? '-').padEnd(24)}  ${oneLine(d.lastError)}`,
    );
  }
  line(
    io.stdout,
    c.dim(
      `${letters.length} of ${total} dead-lettered events (from ${offset + 1}). Retry with \`${CLI_NAME} queue retry <id…>\` once the cause is fixed.`,
    ),
  );
}

function printResult(
  io: CliIo,
  json: boolean,
  subcommand: 'retry' | 'remove',
  result: ScalekitDeadLetterResult,
): number {
  const code = result.notFound.length > 0 ? EXIT_FAILURE : EXIT_OK;
  if (json) {
    line(
      io.stdout,
      JSON.stringify(
        subcommand === 'retry'
          ? { retried: result.done, notFound: result.notFound }
          : { removed: result.done, notFound: result.notFound },
        null,
        2,
      ),
    );
    return code;
  }
  const c = coloursFor(io.stdout, io.env);
  const verb = subcommand === 'retry' ? 'retried' : 'removed';
  line(
    io.stdout,
    `${c.green('✓')} ${verb} ${result.done.length} dead-lettered event${result.done.length === 1 ? '' : 's'}${result.done.length > 0 ? `: ${result.done.join(', ')}` : ''}`,
  );
  if (result.notFound.length > 0) {
    line(
      io.stdout,
      `${c.red('✗')} not dead-lettered (unknown, already retried, completed or running): ${result.notFound.join(', ')}`,
    );
  }
  return code;
}

/** A progress line on standard error: rewritten in place on a terminal, every 100 events and at the end otherwise. */
function progressLine(io: CliIo, subcommand: 'retry' | 'remove'): (done: number, total: number) => void {
  const verb = subcommand === 'retry' ? 'retrying' : 'removing';
  const tty = io.stderr.isTTY === true;
  return (done, total) => {
    if (tty) {
      io.stderr.write(`\r${verb} ${done}/${total}${done === total ? '\n' : ''}`);
    } else if (done === total || done % 100 === 0) {
      line(io.stderr, `${verb} ${done}/${total}`);
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}
