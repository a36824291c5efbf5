#!/usr/bin/env node
// Generates lib/core/catalogue.ts from Scalekit's event catalogue (catalogue/events.json) and the example payloads
// next to it (catalogue/examples/<type>.json), both kept in this repository. No dependencies.
//
//   node .ci/generate-catalogue.mjs          write lib/core/catalogue.ts
//   node .ci/generate-catalogue.mjs --check  exit 1 if lib/core/catalogue.ts differs from what would be written
//
// Where an example disagrees with its schema, the example wins (it shows what real payloads look like):
// - a field present in an example but not in the schema is added as an optional `unknown` field;
// - a required field missing from an example becomes optional;
// - a `null` in an example makes the field nullable.
// Each such adjustment is written as a comment on the field.

import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failer, isPlainObject, readJson as readShared, writeOrCheck } from './generated-file.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EVENTS_JSON = join(ROOT, 'catalogue/events.json');
const EXAMPLES_DIR = join(ROOT, 'catalogue/examples');
const OUTPUT = join(ROOT, 'lib/core/catalogue.ts');
const MAX_WIDTH = 120;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const SCHEMA_TYPES = new Set(['string', 'boolean', 'number', 'integer', 'object', 'array']);

const fail = failer('generate-catalogue');

const readJson = (path) => readShared(path, fail);

// ---------------------------------------------------------------------------------------------------------------
// Model: schema fields, cloned and adjusted by the examples.

/** @returns {{ name: string, type: string, required: boolean, nullable: boolean, enum?: string[], pattern?: string,
 *   format?: string, additionalProperties: boolean, properties?: object[], items?: object, notes: string[] }} */
function toField(name, spec, where) {
  if (!SCHEMA_TYPES.has(spec.type)) {
    fail(`${where}.${name}: unsupported type ${JSON.stringify(spec.type)}`);
  }
  return {
    name,
    type: spec.type,
    required: spec.required === true,
    nullable: spec.nullable === true,
    enum: spec.enum,
    pattern: spec.pattern,
    format: spec.format,
    additionalProperties: spec.additionalProperties === true,
    properties: spec.properties ? toFields(spec.properties, `${where}.${name}`) : undefined,
    items: spec.items ? toField('items', { required: true, ...spec.items }, `${where}.${name}`) : undefined,
    notes: [],
  };
}

function toFields(specs, where) {
  return Object.entries(specs).map(([name, spec]) => toField(name, spec, where));
}

function note(field, text) {
  if (!field.notes.includes(text)) {
    field.notes.push(text);
  }
}

/** Adjusts `fields` (an object's declared properties) so that `value`, seen in the example of `type`, fits. */
function fitObject(fields, value, type) {
  for (const field of fields) {
    if (!Object.hasOwn(value, field.name)) {
      if (field.required) {
        field.required = false;
        note(field, `Required by the schema but absent from the \`${type}\` example: optional here.`);
      }
      continue;
    }
    fitValue(field, value[field.name], type);
  }
  for (const name of Object.keys(value)) {
    if (!fields.some((field) => field.name === name)) {
      const added = toField(name, { type: 'object' }, type);
      added.type = 'unknown';
      note(added, `Not in Scalekit's schema; present in the \`${type}\` example.`);
      fields.push(added);
    }
  }
}

function fitValue(field, value, type) {
  if (value === null) {
    if (!field.nullable) {
      field.nullable = true;
      note(field, `\`null\` in the \`${type}\` example although the schema does not say nullable.`);
    }
    return;
  }
  if (field.type === 'object' && field.properties && isPlainObject(value)) {
    fitObject(field.properties, value, type);
  } else if (field.type === 'array' && field.items && Array.isArray(value)) {
    for (const item of value) {
      fitValue(field.items, item, type);
    }
  }
}

function loadModel() {
  const source = readJson(EVENTS_JSON);
  if (!Array.isArray(source.events) || source.events.length === 0 || !isPlainObject(source.schemas)) {
    fail(`${EVENTS_JSON} has no "events" list or no "schemas"`);
  }
  const schemas = new Map();
  for (const [name, schema] of Object.entries(source.schemas)) {
    if (!IDENTIFIER.test(name)) {
      fail(`schema name ${JSON.stringify(name)} is not a TypeScript identifier`);
    }
    schemas.set(name, { name, fields: toFields(schema.fields ?? {}, name), types: [] });
  }
  const seen = new Set();
  const events = source.events.map((event) => {
    if (typeof event.type !== 'string' || seen.has(event.type)) {
      fail(`event type ${JSON.stringify(event.type)} is missing or duplicated`);
    }
    seen.add(event.type);
    const schema = schemas.get(event.dataSchema);
    if (!schema) {
      fail(`${event.type}: unknown data schema ${JSON.stringify(event.dataSchema)}`);
    }
    schema.types.push(event.type);
    const examplePath = join(EXAMPLES_DIR, `${event.type}.json`);
    if (existsSync(examplePath)) {
      const example = readJson(examplePath);
      if (!isPlainObject(example.data)) {
        fail(`${examplePath}: "data" is not an object`);
      }
      fitObject(schema.fields, example.data, event.type);
    }
    return { type: event.type, object: event.object, summary: event.summary ?? '', dataSchema: event.dataSchema };
  });
  return { source: source.source ?? 'events.json', events, schemas: [...schemas.values()] };
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering.

function quote(text) {
  return `'${String(text).replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function propertyName(name) {
  return IDENTIFIER.test(name) ? name : quote(name);
}

/** Greedy word wrap of `text` into lines of at most `width` characters. */
function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) {
    lines.push(line);
  }
  return lines;
}

function jsDoc(paragraphs, indent) {
  const text = paragraphs
    .filter(Boolean)
    .map((p) => p.replace(/\*\//g, '*\\/'))
    .join(' ');
  if (text.length === 0) {
    return [];
  }
  const single = `${indent}/** ${text} */`;
  if (single.length <= MAX_WIDTH) {
    return [single];
  }
  return [`${indent}/**`, ...wrap(text, MAX_WIDTH - indent.length - 3).map((l) => `${indent} * ${l}`), `${indent} */`];
}

function lineComment(text, indent = '') {
  return wrap(text, MAX_WIDTH - indent.length - 3).map((l) => `${indent}// ${l}`);
}

function fieldDoc(field) {
  const parts = [];
  if (field.enum) {
    parts.push(
      `Documented values: ${field.enum.map((v) => `\`${v}\``).join(', ')} (an open set: Scalekit adds values).`,
    );
  }
  if (field.format) {
    parts.push(`Format: ${field.format}.`);
  }
  if (field.pattern) {
    parts.push(`Pattern: \`${field.pattern}\`.`);
  }
  parts.push(...field.notes);
  return parts;
}

/** The TypeScript type of a field, as lines (the first without indent, the others with `indent` + nesting). */
function renderType(field, indent) {
  let base;
  switch (field.type) {
    case 'string':
      base = ['string'];
      break;
    case 'boolean':
      base = ['boolean'];
      break;
    case 'number':
    case 'integer':
      base = ['number'];
      break;
    case 'unknown':
      base = ['unknown'];
      break;
    case 'object':
      base = field.properties
        ? renderObject(field.properties, field.additionalProperties, indent)
        : ['Record<string, unknown>'];
      break;
    case 'array': {
      if (!field.items) {
        base = ['unknown[]'];
        break;
      }
      const item = renderType(field.items, indent);
      if (item.length === 1 && !item[0].includes(' ')) {
        base = [`${item[0]}[]`];
      } else {
        base = [`Array<${item[0]}`, ...item.slice(1)];
        base[base.length - 1] += '>';
      }
      break;
    }
    default:
      fail(`unsupported type ${field.type}`);
  }
  // Optional strings are nullable in practice (e.g. group_created's external_id is null in real payloads).
  const nullable = field.nullable || (field.type === 'string' && !field.required);
  if (nullable && field.type !== 'unknown') {
    base[base.length - 1] += ' | null';
  }
  return base;
}

function renderObject(fields, additionalProperties, indent) {
  const inner = `${indent}  `;
  const lines = ['{'];
  for (const field of fields) {
    lines.push(...renderField(field, inner));
  }
  if (additionalProperties) {
    lines.push(`${inner}[key: string]: unknown;`);
  }
  lines.push(`${indent}}`);
  return lines;
}

function renderField(field, indent) {
  const type = renderType(field, indent);
  const head = `${indent}${propertyName(field.name)}${field.required ? '' : '?'}: `;
  const lines = [...jsDoc(fieldDoc(field), indent), head + type[0], ...type.slice(1)];
  lines[lines.length - 1] += ';';
  return lines;
}

/** The `type` text of the catalogue's field list: the schema type, `[]` for arrays, `| null` when nullable. */
function fieldTypeName(field) {
  let name = field.type === 'integer' ? 'number' : field.type;
  if (field.type === 'array') {
    const item = field.items ? fieldTypeName(field.items) : 'unknown';
    name = item.includes(' ') ? `(${item})[]` : `${item}[]`;
  }
  if (field.nullable || (field.type === 'string' && !field.required)) {
    name += ' | null';
  }
  return name;
}

function renderFieldInfos(fields, indent) {
  const lines = [];
  for (const field of fields) {
    const nested =
      field.type === 'object' ? field.properties : field.type === 'array' ? field.items?.properties : undefined;
    const head = `{ name: ${quote(field.name)}, type: ${quote(fieldTypeName(field))}, required: ${field.required}`;
    if (nested) {
      lines.push(`${indent}${head}, fields: [`, ...renderFieldInfos(nested, `${indent}  `), `${indent}] },`);
    } else {
      lines.push(`${indent}${head} },`);
    }
  }
  return lines;
}

function constantName(schemaName) {
  return `${schemaName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_FIELDS`;
}

function render(model) {
  const out = [];
  const emit = (...lines) => out.push(...lines);
  const sourcePath = relative(ROOT, EVENTS_JSON).split('\\').join('/');

  emit(
    '// GENERATED FILE, DO NOT EDIT.',
    ...lineComment(
      `Generated by .ci/generate-catalogue.mjs from ${sourcePath} and its examples/ (source: ${model.source}).`,
    ),
    '// Change the generator or the catalogue, then run `node .ci/generate-catalogue.mjs`; CI runs it with `--check`.',
    '',
  );

  emit(
    `/** The ${model.events.length} event types Scalekit documents. Other types may arrive: see {@link isKnownScalekitEventType}. */`,
    'export const SCALEKIT_EVENT_TYPES = [',
    ...model.events.map((e) => `  ${quote(e.type)},`),
    '] as const;',
    '',
    'export type ScalekitEventType = (typeof SCALEKIT_EVENT_TYPES)[number];',
    '',
  );

  for (const schema of model.schemas) {
    if (schema.types.length === 0) {
      continue;
    }
    const users = schema.types.map((t) => `\`${t}\``).join(', ');
    emit(...jsDoc([`\`data\` of ${users}.`], ''));
    emit(`export interface ${schema.name} {`);
    for (const field of schema.fields) {
      emit(...renderField(field, '  '));
    }
    emit('}', '');
  }

  emit('/** The `data` type of each known event type. */', 'export interface ScalekitEventMap {');
  for (const event of model.events) {
    emit(`  ${quote(event.type)}: ${event.dataSchema};`);
  }
  emit('}', '');

  emit(
    "/** One field of an event's `data`, as documented (nested `fields` for objects and arrays of objects). */",
    'export interface ScalekitEventFieldInfo {',
    '  readonly name: string;',
    '  /** The JSON type: `string`, `boolean`, `number`, `object`, `unknown`, `<type>[]`, with ` | null` when nullable. */',
    '  readonly type: string;',
    '  readonly required: boolean;',
    '  readonly fields?: readonly ScalekitEventFieldInfo[];',
    '}',
    '',
    'export interface ScalekitEventCatalogueEntry {',
    "  /** The envelope's `object` as documented (an open string: values have changed between releases). */",
    '  readonly object: string;',
    '  readonly summary: string;',
    '  /** The name of the exported interface that types `data`. */',
    '  readonly dataSchema: string;',
    '  readonly fields: readonly ScalekitEventFieldInfo[];',
    '}',
    '',
  );

  for (const schema of model.schemas) {
    if (schema.types.length === 0) {
      continue;
    }
    emit(
      `const ${constantName(schema.name)}: readonly ScalekitEventFieldInfo[] = [`,
      ...renderFieldInfos(schema.fields, '  '),
      '];',
      '',
    );
  }

  emit(
    '/** What is documented about each known event type (frozen). */',
    'export const SCALEKIT_EVENT_CATALOGUE: Readonly<Record<ScalekitEventType, ScalekitEventCatalogueEntry>> = deepFreeze({',
  );
  for (const event of model.events) {
    const entry = [
      `object: ${quote(event.object)}`,
      `summary: ${quote(event.summary)}`,
      `dataSchema: ${quote(event.dataSchema)}`,
      `fields: ${constantName(event.dataSchema)}`,
    ];
    const single = `  ${quote(event.type)}: { ${entry.join(', ')} },`;
    if (single.length <= MAX_WIDTH) {
      emit(single);
    } else {
      emit(`  ${quote(event.type)}: {`, ...entry.map((e) => `    ${e},`), '  },');
    }
  }
  emit('});', '');

  emit(
    'const KNOWN_TYPES: ReadonlySet<string> = new Set<string>(SCALEKIT_EVENT_TYPES);',
    '',
    '/** Whether `type` is one of the documented event types (own entries only: `constructor` is not a type). */',
    'export function isKnownScalekitEventType(type: string): type is ScalekitEventType {',
    "  return typeof type === 'string' && KNOWN_TYPES.has(type);",
    '}',
    '',
    'function deepFreeze<T>(value: T): T {',
    "  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {",
    '    for (const child of Object.values(value)) {',
    '      deepFreeze(child);',
    '    }',
    '    Object.freeze(value);',
    '  }',
    '  return value;',
    '}',
  );

  const text = `${out.join('\n')}\n`;
  const tooLong = text.split('\n').findIndex((line) => line.length > MAX_WIDTH);
  if (tooLong >= 0) {
    fail(`generated line ${tooLong + 1} is longer than ${MAX_WIDTH} characters: ${text.split('\n')[tooLong]}`);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------------

writeOrCheck('generate-catalogue.mjs', OUTPUT, () => render(loadModel()), fail);
