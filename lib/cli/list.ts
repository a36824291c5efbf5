import { SCALEKIT_EVENT_CATALOGUE, SCALEKIT_EVENT_TYPES, type ScalekitEventFieldInfo } from '../core/catalogue.js';
import { CLI_NAME, type CliIo, coloursFor, EXIT_OK, line, parseCommand, UsageError } from './io.js';

export const LIST_HELP = `Usage: ${CLI_NAME} list [pattern] [--json]

Lists the ${SCALEKIT_EVENT_TYPES.length} event types Scalekit documents, with their \`object\` and the fields of their data
(* marks a required field). A pattern filters by type: an exact type, or a prefix ending in * ("organization.directory.*").

Options:
  --json      Print the catalogue as JSON: [{ type, object, summary, dataSchema, fields }], nested fields included.
  -h, --help  Show this help.
`;

export async function list(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('list', args, { json: { type: 'boolean' } }, LIST_HELP, io);
  if (!parsed) {
    return EXIT_OK;
  }
  const { values, positionals } = parsed;
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
