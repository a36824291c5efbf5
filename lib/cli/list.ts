import { SCALEKIT_EVENT_CATALOGUE, SCALEKIT_EVENT_TYPES, type ScalekitEventFieldInfo } from '../core/catalogue.js';
import { SCALEKIT_INTERCEPTOR_TRIGGERS } from '../core/interceptors/index.js';
import { SCALEKIT_INTERCEPTOR_EXAMPLES } from '../testing/interceptor-examples.js';
import { CLI_NAME, type CliIo, coloursFor, EXIT_OK, line, parseCommand, UsageError } from './io.js';

export const LIST_HELP = `Usage: ${CLI_NAME} list [pattern] [--json]
       ${CLI_NAME} list --interceptors [--json]

Lists the ${SCALEKIT_EVENT_TYPES.length} event types Scalekit documents, with their \`object\` and the fields of their data
(* marks a required field). A pattern filters by type: an exact type, or a prefix ending in * ("organization.directory.*").

Options:
  --json          Print the catalogue as JSON: [{ type, object, summary, dataSchema, fields }], nested fields included.
  --interceptors  List the interceptor trigger points instead, with the fields of their example data
                  (send one with \`${CLI_NAME} intercept <TRIGGER> --url …\`).
  -h, --help      Show this help.
`;

export async function list(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'list',
    args,
    { json: { type: 'boolean' }, interceptors: { type: 'boolean' } },
    LIST_HELP,
    io,
  );
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
  if (values.interceptors) {
    if (positionals.length > 0) {
      throw new UsageError('--interceptors takes no pattern', 'list');
    }
    return listInterceptors(values.json === true, io);
  }
  if (positionals.length > 1) {
    throw new UsageError('give at most one pattern', 'list');
  }
  const pattern = positionals[0];
  const types = SCALEKIT_EVENT_TYPES.filter((type) =>
    pattern === undefined || pattern === '*'
      ? true
      : pattern.endsWith('*')
        ? type.startsWith(pattern.slice(0, -1))
        : type === pattern,
  );
  if (values.json) {
    const entries = types.map((type) => ({ type, ...SCALEKIT_EVENT_CATALOGUE[type] }));
    line(io.stdout, JSON.stringify(entries, null, 2));
    return EXIT_OK;
  }
  const c = coloursFor(io.stdout, io.env);
  if (types.length === 0) {
    line(io.stdout, `no event type matches ${JSON.stringify(pattern)}`);
    return EXIT_OK;
  }
  const typeWidth = Math.max(...types.map((t) => t.length));
  const objectWidth = Math.max(6, ...types.map((t) => SCALEKIT_EVENT_CATALOGUE[t].object.length));
  line(io.stdout, c.bold(`${'TYPE'.padEnd(typeWidth)}  ${'OBJECT'.padEnd(objectWidth)}  DATA FIELDS (* required)`));
  for (const type of types) {
    const entry = SCALEKIT_EVENT_CATALOGUE[type];
    line(
      io.stdout,
      `${c.cyan(type.padEnd(typeWidth))}  ${entry.object.padEnd(objectWidth)}  ${describeFields(entry.fields)}`,
    );
  }
  line(io.stdout, c.dim(`${types.length} event types. Send one with \`${CLI_NAME} trigger <type> --url …\`.`));
  return EXIT_OK;
}

function describeFields(fields: readonly ScalekitEventFieldInfo[]): string {
  return fields
    .map(
      (field) =>
        `${field.name}${field.required ? '*' : ''}${field.fields && field.fields.length > 0 ? `{${describeFields(field.fields)}}` : ''}`,
    )
    .join(', ');
}

/** The documented trigger points, with the top-level fields of their example data. */
function listInterceptors(json: boolean, io: CliIo): number {
  const entries = SCALEKIT_INTERCEPTOR_TRIGGERS.map((trigger) => ({
    trigger,
    dataFields: Object.keys(SCALEKIT_INTERCEPTOR_EXAMPLES[trigger].data),
  }));
  if (json) {
    line(io.stdout, JSON.stringify(entries, null, 2));
    return EXIT_OK;
  }
  const c = coloursFor(io.stdout, io.env);
  const width = Math.max(...entries.map((entry) => entry.trigger.length));
  line(io.stdout, c.bold(`${'TRIGGER'.padEnd(width)}  DATA FIELDS (example)`));
  for (const entry of entries) {
    line(
      io.stdout,
      `${c.cyan(entry.trigger.padEnd(width))}  ${entry.dataFields.join(', ') || '(none for a new person)'}`,
    );
  }
  line(
    io.stdout,
    c.dim(`${entries.length} trigger points. Send one with \`${CLI_NAME} intercept <TRIGGER> --url … --secret …\`.`),
  );
  return EXIT_OK;
}
