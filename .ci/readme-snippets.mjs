#!/usr/bin/env node
// Keeps the README's TypeScript snippets true: extracts every ```ts fence of README.md into a small app under
// .tmp/readme-snippets/, type-checks it twice with the project's tsc (the Nest starter's tsconfig, then the same
// with `strict`), and runs the snippets marked as tests with jest, for real.
//
//   node .ci/readme-snippets.mjs            (after `npm run build`: snippets import the package by name, as users do)
//
// A snippet is compiled as a file of its own, as pasted: it must show its imports and declare what it uses. A
// fragment (a method, a property, lines of main.ts) is marked by an HTML comment on the line before its fence,
// `<!-- snippet: fragment NAME -->`, and wrapped in the context NAME below. `<!-- snippet: jest -->` marks a test
// file (placed in test/, next to src/, and run with jest); `<!-- snippet: jest NAME -->` a test fragment.
// The app's own files that snippets import (`./users.service`, `../src/app.module`) are written from SUPPORT below.
// Needs no network. Exits 0 when everything compiled and ran, 1 otherwise, with errors mapped to README lines.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, '.tmp', 'readme-snippets');
const README = join(ROOT, 'README.md');

// The Nest 11 starter's tsconfig (`nest new`), without what only concerns emitting (outDir, sourceMap, incremental,
// declaration) and baseUrl (deprecated by TypeScript 6, and unused without `paths`). CommonJS, like the starter.
const STARTER = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  skipLibCheck: true,
  strictNullChecks: true,
  forceConsistentCasingInFileNames: true,
  noImplicitAny: false,
  strictBindCallApply: false,
  noFallthroughCasesInSwitch: false,
  types: ['node'],
  noEmit: true,
};

const JEST_GLOBALS = "import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';\n";

/** Wrappers of fragments: `imports` and `before` go above the snippet, `after` below. */
const CONTEXTS = {
  // Lines of main.ts's bootstrap().
  bootstrap: {
    imports: [
      "import { RequestMethod } from '@nestjs/common';",
      "import { NestFactory } from '@nestjs/core';",
      "import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';",
      "import { AppModule } from './app.module';",
    ],
    before: 'export async function bootstrap() {',
    after: '}',
  },
  // Lines of main.ts's bootstrap(), once the app exists.
  'bootstrap-app': {
    imports: [
      "import { RequestMethod } from '@nestjs/common';",
      "import { NestFactory } from '@nestjs/core';",
      "import { AppModule } from './app.module';",
    ],
    before:
      'export async function bootstrap() {\n  const app = await NestFactory.create(AppModule, { rawBody: true });',
    after: '  await app.listen(3000);\n}',
  },
  // A method of a provider that has `this.db`, a Prisma-like client with a `directoryUser` model.
  'provider-method': {
    imports: [
      "import { Injectable } from '@nestjs/common';",
      "import { OnScalekitEvent, type ScalekitEvent } from 'nestjs-scalekit-webhooks';",
      'interface DirectoryUserRow { scalekitId: string; email?: string | null; lastEventAt: string }',
      'interface Db {',
      '  directoryUser: {',
      '    upsert(args: { where: { scalekitId: string }; create: DirectoryUserRow; update: Partial<DirectoryUserRow> }): Promise<unknown>;',
      '  };',
      '}',
    ],
    before: '@Injectable()\nexport class DirectoryUsers {\n  constructor(private readonly db: Db) {}\n',
    after: '}',
  },
  // Properties of the options object given to forRoot.
  'module-options': {
    imports: ["import { InMemoryScalekitQueue, type ScalekitWebhookModuleOptions } from 'nestjs-scalekit-webhooks';"],
    before: 'export const options: ScalekitWebhookModuleOptions = {\n  secret: process.env.SCALEKIT_WEBHOOK_SECRET!,',
    after: '};',
  },
  // Statements inside a jest test, with the app of the main testing example (`app`, `event`).
  'jest-app': {
    imports: [
      JEST_GLOBALS.trim(),
      "import type { INestApplication } from '@nestjs/common';",
      "import { Test } from '@nestjs/testing';",
      "import request from 'supertest';",
      "import { signScalekitWebhook } from 'nestjs-scalekit-webhooks';",
      "import { buildScalekitEvent } from 'nestjs-scalekit-webhooks/testing';",
      "import { AppModule } from '../src/app.module';",
    ],
    before: [
      "const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';",
      "describe('README snippet', () => {",
      '  let app: INestApplication;',
      '  beforeAll(async () => {',
      '    process.env.SCALEKIT_WEBHOOK_SECRET = secret;',
      '    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();',
      '    app = moduleRef.createNestApplication({ rawBody: true });',
      '    await app.init();',
      '  });',
      '  afterAll(() => app.close());',
      "  it('runs as written', async () => {",
      "    const event = buildScalekitEvent('organization.directory.user_created', { data: { email: 'grace@example.com' } });",
    ].join('\n'),
    after: '  });\n});',
  },
};

/**
 * The files of the user's app that snippets import. Kept minimal and as a user would write them: the module reads
 * its secret with forRootAsync (as the testing example says), and DirectorySync is the README's first snippet's.
 */
const SUPPORT = {
  'src/users.service.ts': `import { Injectable } from '@nestjs/common';

export interface User {
  email: string;
  organizationId?: string; // events of an environment without an organization have none
}

@Injectable()
export class UsersService {
  private readonly users: User[] = [];

  async create(user: User): Promise<User> {
    this.users.push(user);
    return user;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.users.find((user) => user.email === email);
  }
}
`,
  'src/directory-sync.ts': `import { Injectable } from '@nestjs/common';
import { OnScalekitEvent, type ScalekitEvent } from 'nestjs-scalekit-webhooks';
import { UsersService } from './users.service';

@Injectable()
export class DirectorySync {
  constructor(private readonly users: UsersService) {}

  @OnScalekitEvent('organization.directory.user_created')
  async onUserCreated(event: ScalekitEvent<'organization.directory.user_created'>) {
    const email = event.data.email;
    if (email) {
      await this.users.create({ email, organizationId: event.organization_id });
    }
  }
}
`,
  'src/app.module.ts': `import { Module } from '@nestjs/common';
import { ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { DirectorySync } from './directory-sync';
import { UsersService } from './users.service';

@Module({
  imports: [
    ScalekitWebhookModule.forRootAsync({
      useFactory: () => ({ secret: process.env.SCALEKIT_WEBHOOK_SECRET ?? '' }),
    }),
  ],
  providers: [DirectorySync, UsersService],
})
export class AppModule {}
`,
};

function fail(message) {
  console.error(`readme-snippets: FAILED: ${message}`);
  process.exit(1);
}

/** Every ```ts fence (indented ones too, as in lists), with its marker and its first line's number in README.md. */
function extractSnippets(text) {
  const lines = text.split('\n');
  const snippets = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1];
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j]); j++) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    if (j === lines.length) fail(`README.md:${i + 1}: unclosed code fence`);
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const marker = k >= 0 ? /^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$/.exec(lines[k]) : null;
    const words = marker ? marker[1].split(/\s+/) : [];
    snippets.push({ line: i + 2, code: body.join('\n'), words });
    i = j;
  }
  return snippets;
}

/** The file a snippet becomes: its path, its text, and how many lines precede the snippet's first line. */
function fileOf(snippet) {
  const [kind = 'file', contextName] = snippet.words;
  const jest = kind === 'jest';
  if (!['file', 'fragment', 'jest'].includes(kind)) fail(`README.md:${snippet.line}: unknown marker "${kind}"`);
  const context = contextName === undefined ? undefined : CONTEXTS[contextName];
  if (contextName !== undefined && !context)
    fail(`README.md:${snippet.line}: unknown snippet context "${contextName}"`);
  if (kind === 'fragment' && !context) fail(`README.md:${snippet.line}: a fragment needs a context name`);
  const name = `readme-line-${snippet.line}`;
  const path = jest ? `test/${name}.spec.ts` : `src/${name}.ts`;
  const head = [];
  if (jest && !context) head.push(JEST_GLOBALS.trim());
  if (context) head.push(...context.imports, context.before);
  const prefix = head.length === 0 ? '' : `${head.join('\n')}\n`;
  const suffix = context ? `\n${context.after}\n` : '\n';
  // `export {}` keeps a snippet without imports or exports a module, so snippets never share names.
  return {
    path,
    jest,
    text: `${prefix}${snippet.code}${suffix}export {};\n`,
    offset: prefix.split('\n').length - 1,
    snippet,
  };
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', ...options });
}

/** Maps `file(line,col): message` lines of tsc back to README lines. */
function explain(output, files, base) {
  return output
    .split('\n')
    .map((line) => {
      const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
      if (!m) return line;
      const file = files.find((f) => join(base, f.path) === join(base, m[1]) || m[1].endsWith(f.path));
      if (!file) return line;
      const at = Number(m[2]) - file.offset;
      const where =
        at >= 1 && at <= file.snippet.code.split('\n').length
          ? `README.md:${file.snippet.line + at - 1}`
          : `README.md:${file.snippet.line} (in the wrapper of the snippet, line ${m[2]} of ${file.path})`;
      return `${where}:${m[3]}: ${m[4]}`;
    })
    .join('\n');
}

const snippets = extractSnippets(readFileSync(README, 'utf8'));
if (snippets.length === 0) fail('no ```ts snippet found in README.md');
if (!existsSync(join(ROOT, 'dist', 'cjs', 'index.d.ts'))) {
  fail('dist/ is missing: run `npm run build` first (snippets import the built package by name)');
}
const files = snippets.map(fileOf);

// 1. Compile: a CommonJS app (no "type"), the package installed by name (a link to this checkout).
const compileDir = join(OUT, 'compile');
rmSync(OUT, { recursive: true, force: true });
write(join(compileDir, 'package.json'), `${JSON.stringify({ name: 'readme-snippets', private: true }, null, 2)}\n`);
mkdirSync(join(compileDir, 'node_modules'), { recursive: true });
symlinkSync(
  relative(join(compileDir, 'node_modules'), ROOT),
  join(compileDir, 'node_modules', 'nestjs-scalekit-webhooks'),
);
for (const [path, text] of Object.entries(SUPPORT)) write(join(compileDir, path), text);
for (const file of files) write(join(compileDir, file.path), file.text);

const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
let failed = false;
for (const [label, extra] of [
  ['Nest starter tsconfig', {}],
  ['Nest starter tsconfig + strict', { strict: true }],
]) {
  const config = `tsconfig.${extra.strict ? 'strict' : 'starter'}.json`;
  write(
    join(compileDir, config),
    `${JSON.stringify({ compilerOptions: { ...STARTER, ...extra }, include: ['src', 'test'] }, null, 2)}\n`,
  );
  const result = run(tsc, ['-p', config, '--pretty', 'false'], { cwd: compileDir });
  if (result.status === 0) {
    console.log(`    ok: ${files.length} README snippets compile (${label})`);
  } else {
    failed = true;
    console.error(`readme-snippets: README snippets do not compile (${label}):`);
    console.error(explain(`${result.stdout}${result.stderr}`, files, compileDir));
  }
}

// 2. Run the test snippets with jest, against the package's source (the project's jest config maps its name).
const jestFiles = files.filter((file) => file.jest);
if (jestFiles.length > 0) {
  const runDir = join(OUT, 'run');
  for (const [path, text] of Object.entries(SUPPORT)) write(join(runDir, path), text);
  for (const file of jestFiles) write(join(runDir, file.path), file.text);
  const result = run(
    process.execPath,
    [
      '--experimental-vm-modules',
      join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--runInBand',
      '--roots',
      `<rootDir>/${relative(ROOT, runDir)}`,
      '--ci',
    ],
    { env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const output = `${result.stdout}${result.stderr}`;
  const summary = /^tests: (\d+) passed, (\d+) failed/m.exec(output);
  if (result.status === 0 && summary && Number(summary[1]) > 0 && summary[2] === '0') {
    console.log(`    ok: ${jestFiles.length} README test snippet(s) ran with jest: ${summary[0]}`);
  } else {
    failed = true;
    console.error(output);
    console.error('readme-snippets: the README test snippets did not pass with jest (output above)');
  }
}

if (failed) process.exit(1);
console.log('readme-snippets: all passed');
