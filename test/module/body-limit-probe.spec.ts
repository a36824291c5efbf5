import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { probeExpressJsonLimit } from '../../lib/scalekit-webhook.body-limit.js';

// Express has no type declarations here (no @types/express): only its `json()` factory is used.
const express = createRequire(import.meta.url)('express') as { json(options: { limit: string | number }): unknown };

const MIB = 1_048_576;
const appWith = (...handles: unknown[]) => ({ router: { stack: handles.map((handle) => ({ handle })) } });

describe('probeExpressJsonLimit (reads the limit of the JSON parser that runs)', () => {
  it('Express default (100 kb) is below 1 MiB', async () => {
    await expect(probeExpressJsonLimit(appWith(express.json({ limit: '100kb' })), MIB)).resolves.toBe('too-small');
  });

  it('a limit of exactly maxBodyBytes, or more, accepts it', async () => {
    await expect(probeExpressJsonLimit(appWith(express.json({ limit: MIB })), MIB)).resolves.toBe('accepts');
    await expect(probeExpressJsonLimit(appWith(express.json({ limit: '5mb' })), MIB)).resolves.toBe('accepts');
    await expect(probeExpressJsonLimit(appWith(express.json({ limit: MIB - 1 })), MIB)).resolves.toBe('too-small');
  });

  it('only the first JSON parser counts: it is the one that reads the body', async () => {
    const first = express.json({ limit: '1mb' });
    const second = express.json({ limit: '10kb' });
    await expect(probeExpressJsonLimit(appWith(first, second), MIB)).resolves.toBe('accepts');
    await expect(probeExpressJsonLimit(appWith(second, first), MIB)).resolves.toBe('too-small');
  });

  it('no JSON parser (bodyParser: false) and an unreadable app are told apart', async () => {
    await expect(
      probeExpressJsonLimit(
        appWith(function cors() {}),
        MIB,
      ),
    ).resolves.toBe('no-parser');
    await expect(probeExpressJsonLimit({}, MIB)).resolves.toBe('unknown');
  });

  it('a parser that never answers, or throws, gives "unknown" (so the module warns), within a bounded time', async () => {
    const silent = function jsonParser() {};
    const throwing = function jsonParser() {
      throw new Error('boom');
    };
    const started = Date.now();
    await expect(probeExpressJsonLimit(appWith(silent), MIB)).resolves.toBe('unknown');
    expect(Date.now() - started).toBeLessThan(15_000);
    await expect(probeExpressJsonLimit(appWith(throwing), MIB)).resolves.toBe('unknown');
  });
});
