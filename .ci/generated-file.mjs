// What the two generators (.ci/generate-catalogue.mjs, .ci/generate-examples.mjs) share: reading the catalogue's JSON,
// failing with a clear message, and writing the output or, with --check, comparing it with the committed file.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

/** A generator's `fail`: prints `<name>: <message>` and exits 2 (bad input). */
export function failer(name) {
  return (message) => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
  };
}

export function readJson(path, fail) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`cannot read ${path}: ${error.message}`);
  }
}

export function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Writes `text` to `output`, or with `--check` exits 1 when the committed file differs (CI catches drift from
 * catalogue/). `script` is the generator's file name, for messages.
 */
export function writeOrCheck(script, output, render, fail) {
  const args = process.argv.slice(2);
  const unknownArgs = args.filter((arg) => arg !== '--check');
  if (unknownArgs.length > 0) {
    fail(`unknown argument(s): ${unknownArgs.join(' ')} (usage: ${script} [--check])`);
  }
  const generated = render();
  const target = relative(process.cwd(), output) || output;
  if (args.includes('--check')) {
    const current = existsSync(output) ? readFileSync(output, 'utf8') : null;
    if (current !== generated) {
      process.stderr.write(
        `${target} is ${current === null ? 'missing' : 'out of date'}: run \`node .ci/${script}\` and commit the result.\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`${target} is up to date.\n`);
  } else {
    writeFileSync(output, generated);
    process.stdout.write(`wrote ${target}\n`);
  }
}
