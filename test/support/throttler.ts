import * as common from '@nestjs/common';
import * as core from '@nestjs/core';
import type * as ThrottlerPackage from '@nestjs/throttler';
import * as asyncHooks from 'node:async_hooks';
import * as crypto from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { dirname, join } from 'node:path';

/*
 * `@nestjs/throttler` 6 is CommonJS and does `require('@nestjs/common')`, which is ESM-only from Nest 12. Node
 * ≥ 20.19 loads that natively (`require(esm)`), so real apps are fine, but Jest's module runtime only supports
 * `require(esm)` from Node 24.9. This loader evaluates the package's own, unmodified dist files with a `require`
 * that hands them the very `@nestjs/common` / `@nestjs/core` instances the tests use (so DI tokens such as
 * `Reflector` are the same classes). Test-only: nothing of the library goes through it.
 */

const EXTERNALS: Record<string, unknown> = {
  '@nestjs/common': common,
  '@nestjs/core': core,
  async_hooks: asyncHooks,
  'node:async_hooks': asyncHooks,
  crypto,
  'node:crypto': crypto,
  net,
  'node:net': net,
};

let loaded: typeof ThrottlerPackage | undefined;

export function loadThrottler(): typeof ThrottlerPackage {
  if (loaded === undefined) {
    const entry = createRequire(import.meta.url).resolve('@nestjs/throttler');
    loaded = loadCommonJs(entry) as typeof ThrottlerPackage;
  }
  return loaded;
}

function loadCommonJs(entry: string): unknown {
  const cache = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const cached = cache.get(file);
    if (cached) {
      return cached.exports;
    }
    const module = { exports: {} as unknown };
    cache.set(file, module);
    const requireFrom = (id: string): unknown => {
      if (Object.hasOwn(EXTERNALS, id)) {
        return EXTERNALS[id];
      }
      if (id.startsWith('.')) {
        const base = join(dirname(file), id);
        const resolved = [base, `${base}.js`, join(base, 'index.js')].find(
          (candidate) => existsSync(candidate) && candidate.endsWith('.js'),
        );
        if (resolved) {
          return load(resolved);
        }
      }
      throw new Error(`loadThrottler: unexpected require(${JSON.stringify(id)}) from ${file}`);
    };
    const run = new Function('exports', 'require', 'module', '__filename', '__dirname', readFileSync(file, 'utf8'));
    run.call(module.exports, module.exports, requireFrom, module, file, dirname(file));
    return module.exports;
  };
  return load(entry);
}
