#!/usr/bin/env node
// Compares the README's "API reference" with what a built package really exports, entry by entry:
//
//   node .ci/check-public-api.mjs [<package dir>] [<README.md>]
//
// For every entry of package.json `exports` (but ./package.json) it reads the names the README lists under
// "### `<entry>`", then the names the package exports: the runtime names of the ESM build (import()) and of the CJS
// build (require()), and the names (values and types) of each build's .d.ts, read with the TypeScript compiler. It
// fails when a listed name is missing from any of the four, when a runtime name is missing from one build, or when
// the package exports a name the README does not list (the surface is deliberate both ways). Exit 0 when they agree.
//
// The package dir defaults to the repository (after `npm run build`); the consumer check passes the installed tarball.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const ts = require('typescript');

/**
 * The names the README lists per entry: `{ 'nestjs-scalekit-webhooks/core': Set, … }`. Names are the backticked
 * identifiers at the start of each list item, before the first colon; a section that says "Everything in
 * `<entry>`" also includes that entry's names.
 */
export function documentedApi(readme, packageName) {
  const start = readme.indexOf('\n## API reference\n');
  if (start < 0) {
    throw new Error('README.md has no "## API reference" section');
  }
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const entries = new Map();
  const includes = new Map();
  let current;
  let item = '';
  const flush = () => {
    if (current !== undefined && item !== '') {
      const head = item.split(/:\s/)[0];
      for (const match of head.matchAll(/`([A-Za-z_$][\w$]*)`/g)) {
        entries.get(current).add(match[1]);
      }
    }
    item = '';
  };
  for (const line of section.split('\n')) {
    const heading = /^### `([^`]+)`/.exec(line);
    if (heading) {
      flush();
      current = heading[1];
      entries.set(current, new Set());
      continue;
    }
    if (current === undefined) {
      continue;
    }
    const everything = /^Everything in `([^`]+)`/.exec(line);
    if (everything) {
      includes.set(current, everything[1]);
    }
    if (line.startsWith('- ')) {
      flush();
      item = line.slice(2);
    } else if (item !== '' && line.startsWith('  ')) {
      item += ` ${line.trim()}`;
    } else {
      flush();
    }
  }
  flush();
  for (const [entry, included] of includes) {
    for (const name of entries.get(included) ?? []) {
      entries.get(entry).add(name);
    }
  }
  for (const name of entries.keys()) {
    if (name !== packageName && !name.startsWith(`${packageName}/`)) {
      throw new Error(`README API reference: "### \`${name}\`" is not an entry of ${packageName}`);
    }
  }
  return entries;
}

/** The names (values and types) a .d.ts or .ts file exports, and which of them are values. */
export function declaredExports(file) {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) {
    throw new Error(`cannot read ${file}`);
  }
  const all = new Set();
  const values = new Set();
  for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(source))) {
    all.add(symbol.name);
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (target.flags & ts.SymbolFlags.Value) {
      values.add(symbol.name);
    }
  }
  return { all, values };
}

function conditionTarget(entry, condition, key) {
  const value = entry[condition];
  if (value === undefined) {
    return undefined;
  }
  return typeof value === 'string' ? (key === 'default' ? value : undefined) : value[key];
}

async function main() {
  const packageDir = resolve(process.argv[2] ?? ROOT);
  const readmePath = resolve(process.argv[3] ?? join(packageDir, 'README.md'));
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const documented = documentedApi(readFileSync(readmePath, 'utf8'), pkg.name);
  const problems = [];
  const fromPackage = createRequire(join(packageDir, 'package.json'));
  try {
    // Decorators of the Nest entry need the metadata polyfill, as in an app.
    fromPackage('reflect-metadata');
  } catch {
    // not installed next to the package: the entry that needs it will say so
  }

  const entries = Object.entries(pkg.exports).filter(([key]) => key !== './package.json');
  for (const [key, entry] of entries) {
    const name = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    const listed = documented.get(name);
    if (listed === undefined) {
      problems.push(`${name}: the README's API reference has no "### \`${name}\`" section`);
      continue;
    }
    const builds = {};
    for (const condition of ['import', 'require']) {
      const code = conditionTarget(entry, condition, 'default');
      const types = conditionTarget(entry, condition, 'types');
      if (code === undefined || types === undefined) {
        problems.push(`${name}: exports["${key}"].${condition} lacks "default" or "types"`);
        continue;
      }
      const codePath = join(packageDir, code);
      const runtime = condition === 'import' ? await import(pathToFileURL(codePath).href) : fromPackage(codePath);
      builds[condition] = {
        runtime: new Set(Object.keys(runtime).filter((n) => n !== 'default' && n !== '__esModule')),
        declared: declaredExports(join(packageDir, types)),
      };
    }
    for (const [condition, build] of Object.entries(builds)) {
      const label = `${name} (${condition})`;
      for (const n of listed) {
        if (!build.declared.all.has(n)) {
          problems.push(`${label}: README lists ${n}, the .d.ts does not export it`);
        } else if (build.declared.values.has(n) && !build.runtime.has(n)) {
          problems.push(`${label}: README lists ${n}, a value in the .d.ts, but the build does not export it`);
        }
      }
      for (const n of build.declared.all) {
        if (!listed.has(n)) {
          problems.push(`${label}: the .d.ts exports ${n}, which the README's API reference does not list`);
        }
      }
      for (const n of build.runtime) {
        if (!listed.has(n)) {
          problems.push(`${label}: the build exports ${n} at run time, which the README's API reference does not list`);
        }
      }
    }
    const counts = Object.entries(builds)
      .map(([c, b]) => `${c}: ${b.runtime.size} runtime, ${b.declared.all.size - b.declared.values.size} type-only`)
      .join('; ');
    console.log(`    ${name}: ${listed.size} documented names (${counts})`);
  }
  for (const name of documented.keys()) {
    const key = name === pkg.name ? '.' : `./${name.slice(pkg.name.length + 1)}`;
    if (!(key in pkg.exports)) {
      problems.push(`${name}: documented in the README, but not an entry of package.json "exports"`);
    }
  }
  if (problems.length > 0) {
    console.error(`check-public-api: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('    ok: every documented name is exported by each build, and nothing else is');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`check-public-api: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  });
}
