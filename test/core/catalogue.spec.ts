import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  isKnownScalekitEventType,
  SCALEKIT_EVENT_CATALOGUE,
  SCALEKIT_EVENT_TYPES,
  type ScalekitEventFieldInfo,
} from 'nestjs-scalekit-webhooks';
import { SCALEKIT_EVENT_EXAMPLES } from 'nestjs-scalekit-webhooks/testing';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The catalogue's source, kept in the repository: events.json and examples/<type>.json. */
const CATALOGUE = join(ROOT, 'catalogue');
const EXAMPLES = join(CATALOGUE, 'examples');
const GENERATOR = join(ROOT, '.ci/generate-catalogue.mjs');

interface SourceEvent {
  type: string;
  object: string;
  dataSchema: string;
  summary: string;
}
const source = JSON.parse(readFileSync(join(CATALOGUE, 'events.json'), 'utf8')) as { events: SourceEvent[] };

function fixture(type: string): { type: string; object: string; data: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(EXAMPLES, `${type}.json`), 'utf8'));
}

/** Everything in `value` that the documented `fields` do not cover; empty when the typing covers the payload. */
function uncovered(fields: readonly ScalekitEventFieldInfo[], value: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  for (const field of fields) {
    const at = `${path}.${field.name}`;
    if (!Object.hasOwn(value, field.name)) {
      if (field.required) {
        problems.push(`${at}: required but absent`);
      }
      continue;
    }
    problems.push(...mismatch(field, field.type, value[field.name], at));
  }
  for (const name of Object.keys(value)) {
    if (!fields.some((field) => field.name === name)) {
      problems.push(`${path}.${name}: present but not typed`);
    }
  }
  return problems;
}

function mismatch(field: ScalekitEventFieldInfo, type: string, value: unknown, at: string): string[] {
  const nullable = type.endsWith(' | null');
  const base = nullable ? type.slice(0, -' | null'.length) : type;
  if (value === null) {
    return nullable ? [] : [`${at}: null but typed ${type}`];
  }
  if (base === 'unknown') {
    return [];
  }
  if (base.endsWith('[]')) {
    if (!Array.isArray(value)) {
      return [`${at}: not an array`];
    }
    const itemType = base.slice(0, -2).replace(/^\((.*)\)$/, '$1');
    return value.flatMap((item, i) => mismatch(field, itemType, item, `${at}[${i}]`));
  }
  if (base === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return [`${at}: not an object`];
    }
    return field.fields ? uncovered(field.fields, value as Record<string, unknown>, at) : [];
  }
  return typeof value === base ? [] : [`${at}: ${typeof value} but typed ${type}`];
}

describe('event catalogue', () => {
  it('has exactly the 41 types of events.json, in order, with their objects and schemas', () => {
    expect(SCALEKIT_EVENT_TYPES).toHaveLength(41);
    expect([...SCALEKIT_EVENT_TYPES]).toEqual(source.events.map((e) => e.type));
    expect(new Set(SCALEKIT_EVENT_TYPES).size).toBe(41);
    expect(Object.keys(SCALEKIT_EVENT_CATALOGUE)).toEqual([...SCALEKIT_EVENT_TYPES]);
    for (const event of source.events) {
      const entry = SCALEKIT_EVENT_CATALOGUE[event.type as (typeof SCALEKIT_EVENT_TYPES)[number]];
      expect({ type: event.type, object: entry.object, summary: entry.summary, dataSchema: entry.dataSchema }).toEqual({
        type: event.type,
        object: event.object,
        summary: event.summary,
        dataSchema: event.dataSchema,
      });
      expect(entry.fields.length).toBeGreaterThan(0);
    }
  });

  it('is frozen all the way down', () => {
    expect(Object.isFrozen(SCALEKIT_EVENT_CATALOGUE)).toBe(true);
    const entry = SCALEKIT_EVENT_CATALOGUE['user.login'];
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry.fields)).toBe(true);
    expect(Object.isFrozen(entry.fields[0])).toBe(true);
    expect(Object.isFrozen(entry.fields.find((f) => f.name === 'user')?.fields)).toBe(true);
  });

  it.each([...SCALEKIT_EVENT_TYPES])('knows %s', (type) => {
    expect(isKnownScalekitEventType(type)).toBe(true);
  });

  it.each([
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'organization.directory_created',
    'organization.*',
    '*',
    '',
    'ORGANIZATION.CREATED',
    ' organization.created',
    'organization.created ',
  ])('does not know %j', (type) => {
    expect(isKnownScalekitEventType(type)).toBe(false);
  });

  it('does not know non-strings', () => {
    expect(isKnownScalekitEventType(undefined as unknown as string)).toBe(false);
    expect(isKnownScalekitEventType(['role.created'] as unknown as string)).toBe(false);
  });
});

describe('catalogue against the example payloads', () => {
  it('has one example per type, each shipped unchanged by the testing entry', () => {
    const files = readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual([...SCALEKIT_EVENT_TYPES].map((t) => `${t}.json`).sort());
    for (const type of SCALEKIT_EVENT_TYPES) {
      expect(SCALEKIT_EVENT_EXAMPLES[type]).toEqual(fixture(type));
    }
  });

  it.each([...SCALEKIT_EVENT_TYPES])(
    '%s: the typed fields cover the example, and its required fields are there',
    (type) => {
      const example = fixture(type);
      expect(example.type).toBe(type);
      expect(example.object).toBe(SCALEKIT_EVENT_CATALOGUE[type].object);
      expect(uncovered(SCALEKIT_EVENT_CATALOGUE[type].fields, example.data, 'data')).toEqual([]);
    },
  );

  it('types the null external_id of the group_created example as nullable', () => {
    expect(fixture('organization.directory.group_created').data.external_id).toBeNull();
    const field = SCALEKIT_EVENT_CATALOGUE['organization.directory.group_created'].fields.find(
      (f) => f.name === 'external_id',
    );
    expect(field).toEqual({ name: 'external_id', type: 'string | null', required: false });
  });

  it('the checker itself notices untyped, missing and mistyped fields', () => {
    const fields = SCALEKIT_EVENT_CATALOGUE['role.created'].fields;
    expect(uncovered(fields, { id: 'r', name: 'n', surprise: 1 }, 'data')).toEqual([
      'data.surprise: present but not typed',
    ]);
    expect(uncovered(fields, { id: 'r' }, 'data')).toEqual(['data.name: required but absent']);
    expect(uncovered(fields, { id: 'r', name: null }, 'data')).toEqual(['data.name: null but typed string']);
    expect(uncovered(fields, { id: 1, name: 'n' }, 'data')).toEqual(['data.id: number but typed string']);
  });
});

describe('.ci/generate-catalogue.mjs', () => {
  const temporary: string[] = [];
  afterAll(() => {
    for (const dir of temporary) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A throwaway copy of what the generator reads and writes: <dir>/repo/{.ci,catalogue,lib/core}, nothing beside. */
  function sandbox(
    edit?: (events: { events: SourceEvent[]; schemas: Record<string, unknown> }, examples: string) => void,
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'scalekit-catalogue-'));
    temporary.push(dir);
    mkdirSync(join(dir, 'repo/.ci'), { recursive: true });
    mkdirSync(join(dir, 'repo/lib/core'), { recursive: true });
    cpSync(GENERATOR, join(dir, 'repo/.ci/generate-catalogue.mjs'));
    cpSync(join(ROOT, '.ci/generated-file.mjs'), join(dir, 'repo/.ci/generated-file.mjs'));
    cpSync(join(ROOT, 'lib/core/catalogue.ts'), join(dir, 'repo/lib/core/catalogue.ts'));
    cpSync(CATALOGUE, join(dir, 'repo/catalogue'), { recursive: true });
    if (edit) {
      const path = join(dir, 'repo/catalogue/events.json');
      const events = JSON.parse(readFileSync(path, 'utf8'));
      edit(events, join(dir, 'repo/catalogue/examples'));
      writeFileSync(path, JSON.stringify(events));
    }
    return join(dir, 'repo');
  }

  function run(repo: string, ...args: string[]) {
    return spawnSync(process.execPath, [join(repo, '.ci/generate-catalogue.mjs'), ...args], {
      cwd: repo,
      encoding: 'utf8',
    });
  }

  it('--check passes on the committed catalogue', () => {
    const result = spawnSync(process.execPath, [GENERATOR, '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('--check fails on drift, and a run fixes it', () => {
    const repo = sandbox();
    const target = join(repo, 'lib/core/catalogue.ts');
    writeFileSync(target, readFileSync(target, 'utf8').replace("'role.created',", "'role.made',"));
    const drift = run(repo, '--check');
    expect(drift.status).toBe(1);
    expect(drift.stderr).toMatch(/out of date/);
    expect(run(repo).status).toBe(0);
    expect(run(repo, '--check').status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe(readFileSync(join(ROOT, 'lib/core/catalogue.ts'), 'utf8'));
  });

  it('is deterministic, keeps lines within 120 characters and marks the file as generated', () => {
    const repo = sandbox();
    run(repo);
    const first = readFileSync(join(repo, 'lib/core/catalogue.ts'), 'utf8');
    run(repo);
    expect(readFileSync(join(repo, 'lib/core/catalogue.ts'), 'utf8')).toBe(first);
    expect(first.split('\n')[0]).toBe('// GENERATED FILE, DO NOT EDIT.');
    expect(first.split('\n').filter((line) => line.length > 120)).toEqual([]);
  });

  it('lets the examples win: untyped fields are added, missing required fields become optional, nulls nullable', () => {
    const repo = sandbox((_events, examples) => {
      const path = join(examples, 'role.created.json');
      const example = JSON.parse(readFileSync(path, 'utf8'));
      delete example.data.name;
      example.data.brand_new = { anything: true };
      example.data.id = null;
      writeFileSync(path, JSON.stringify(example));
    });
    expect(run(repo).status).toBe(0);
    const text = readFileSync(join(repo, 'lib/core/catalogue.ts'), 'utf8');
    const role = text.slice(text.indexOf('export interface RoleEventData {'));
    const body = role.slice(0, role.indexOf('\n}\n'));
    expect(body).toContain('  id: string | null;');
    expect(body).toContain('  name?: string | null;');
    expect(body).toContain('  brand_new?: unknown;');
    expect(body).toMatch(/Not in Scalekit's schema; present in the `role\.created` example\./);
    expect(body).toMatch(/Required by the schema but absent from the `role\.created` example/);
    expect(text).toContain("{ name: 'brand_new', type: 'unknown', required: false },");
  });

  it('refuses unknown arguments', () => {
    const result = spawnSync(process.execPath, [GENERATOR, '--chek'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown argument/);
  });
});
