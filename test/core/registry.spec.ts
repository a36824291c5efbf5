import { describe, expect, it } from '@jest/globals';
import { MemoryIdempotencyStore, redactScalekitPayload, ScalekitWebhookError } from 'nestjs-scalekit-webhooks';
import { IdempotencyGate } from '../../lib/core/idempotency/idempotency-gate.js';
import { runScalekitHandlers, ScalekitHandlerRegistry } from '../../lib/core/registry.js';

const h = (name: string) => ({ name });

describe('ScalekitHandlerRegistry', () => {
  it('matches exact types, prefix wildcards and *, exact first, each handler once', () => {
    const registry = new ScalekitHandlerRegistry();
    const [exact, prefix, all, both] = [h('exact'), h('prefix'), h('all'), h('both')];
    registry.add('*', all);
    registry.add('organization.directory.*', prefix);
    registry.add('organization.directory.user_created', exact);
    registry.add('organization.directory.user_created', both);
    registry.add('organization.*', both);
    expect(registry.match('organization.directory.user_created').map((x) => x.name)).toEqual([
      'exact',
      'both',
      'all',
      'prefix',
    ]);
    expect(registry.match('organization.created').map((x) => x.name)).toEqual(['all', 'both']);
    expect(registry.match('role.created').map((x) => x.name)).toEqual(['all']);
    expect(registry.match('organization.directory.something_new').map((x) => x.name)).toEqual([
      'all',
      'prefix',
      'both',
    ]);
    expect(registry.size).toBe(5);
  });

  it('answers repeated lookups from its table (same frozen array), also for types first seen at run time', () => {
    const registry = new ScalekitHandlerRegistry();
    registry.add('user.*', h('users'));
    registry.prepare(['user.login']);
    const first = registry.match('user.login');
    expect(registry.match('user.login')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const unknown = registry.match('user.brand_new');
    expect(registry.match('user.brand_new')).toBe(unknown);
    expect(registry.match('constructor')).toEqual([]);
    expect(registry.match('__proto__')).toEqual([]);
  });

  it.each(['', ' user.login', 'user.*.created', '*.created', 'org*anization', 42, undefined])(
    'refuses the pattern %j with a clear message',
    (pattern) => {
      expect(() => new ScalekitHandlerRegistry().add(pattern as string, h('x'))).toThrow(ScalekitWebhookError);
    },
  );
});

describe('runScalekitHandlers', () => {
  it('runs all concurrently, waits for all, and reports each failure including synchronous throws', async () => {
    const order: string[] = [];
    const handlers = [h('slow'), h('sync-throw'), h('reject'), h('fast')];
    const failures = await runScalekitHandlers(handlers, async (handler) => {
      if (handler.name === 'sync-throw') throw new Error('sync');
      if (handler.name === 'slow') await new Promise((resolve) => setTimeout(resolve, 20));
      if (handler.name === 'reject') return Promise.reject(new Error('async'));
      order.push(handler.name);
    });
    expect(order).toEqual(['fast', 'slow']);
    expect(failures.map((f) => [f.handler.name, (f.error as Error).message])).toEqual([
      ['sync-throw', 'sync'],
      ['reject', 'async'],
    ]);
  });

  it('reports synchronous throws of a synchronous invoke (even of undefined), and nothing when all succeed', async () => {
    const handlers = [h('ok'), h('throws'), h('throws-undefined'), h('ok-too')];
    const failures = await runScalekitHandlers(handlers, (handler) => {
      if (handler.name === 'throws') throw new Error('boom');
      if (handler.name === 'throws-undefined') throw undefined;
      return handler.name;
    });
    expect(failures.map((f) => [f.handler.name, f.error instanceof Error ? f.error.message : f.error])).toEqual([
      ['throws', 'boom'],
      ['throws-undefined', undefined],
    ]);
    expect(await runScalekitHandlers(handlers, () => undefined)).toEqual([]);
  });

  it('answers at once, without a promise, when no handler returned one; else with a promise', async () => {
    const handlers = [h('a'), h('b')];
    const direct = runScalekitHandlers(handlers, (handler) => {
      if (handler.name === 'b') throw new Error('b failed');
    });
    expect(direct).not.toBeInstanceOf(Promise);
    expect((direct as { handler: { name: string } }[]).map((f) => f.handler.name)).toEqual(['b']);
    const later = runScalekitHandlers(handlers, async () => undefined);
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toEqual([]);
  });
});

describe('IdempotencyGate', () => {
  const gate = (store = new MemoryIdempotencyStore()) => new IdempotencyGate(store, { leaseMs: 30_000, ttlMs: 60_000 });

  it('claims, refuses a concurrent copy with 409 + Retry-After, and reports a done copy as duplicate', async () => {
    const g = gate();
    const ticket = await g.enter('evt_1');
    expect(ticket).not.toBe('duplicate');
    await expect(g.enter('evt_1')).rejects.toMatchObject({
      code: 'in_flight',
      status: 409,
      headers: { 'Retry-After': '10' },
    });
    await (ticket as Exclude<typeof ticket, 'duplicate'>).complete();
    expect(await g.enter('evt_1')).toBe('duplicate');
  });

  it('a released claim can be claimed again; a second release does nothing', async () => {
    const g = gate();
    const ticket = (await g.enter('evt_2')) as Exclude<Awaited<ReturnType<IdempotencyGate['enter']>>, 'duplicate'>;
    expect(await ticket.release()).toBe(true);
    expect(await ticket.release()).toBe(false);
    expect(await g.enter('evt_2')).not.toBe('duplicate');
  });

  it('work that finishes after its claim was released (shutdown deadline) is still marked done, unless re-claimed', async () => {
    const g = gate();
    const first = (await g.enter('evt_4')) as Exclude<Awaited<ReturnType<IdempotencyGate['enter']>>, 'duplicate'>;
    await first.release();
    expect(await first.complete()).toBe(true);
    expect(await g.enter('evt_4')).toBe('duplicate');

    const stale = (await g.enter('evt_5')) as Exclude<Awaited<ReturnType<IdempotencyGate['enter']>>, 'duplicate'>;
    await stale.release();
    const other = (await g.enter('evt_5')) as Exclude<Awaited<ReturnType<IdempotencyGate['enter']>>, 'duplicate'>;
    expect(await stale.complete()).toBe(false);
    await expect(g.enter('evt_5')).rejects.toMatchObject({ code: 'in_flight' });
    expect(await other.complete()).toBe(true);
  });

  it('with the memory store, enterSoon and end answer at once, with the same semantics as enter and complete', () => {
    const g = gate();
    const ticket = g.enterSoon('evt_6');
    expect(ticket).not.toBeInstanceOf(Promise);
    expect(() => g.enterSoon('evt_6')).toThrow(expect.objectContaining({ code: 'in_flight', status: 409 }));
    expect((ticket as Exclude<typeof ticket, 'duplicate' | Promise<unknown>>).end('complete')).toBe(true);
    expect(g.enterSoon('evt_6')).toBe('duplicate');
  });

  it('a memory store method that is overridden (subclass or spy, even after the gate exists) is called, through its promise', async () => {
    const calls: string[] = [];
    class Journaled extends MemoryIdempotencyStore {
      override async claim(key: string, leaseMs: number) {
        calls.push(`claim ${key}`);
        return super.claim(key, leaseMs);
      }
    }
    const g = gate(new Journaled());
    const entered = g.enterSoon('evt_7');
    expect(entered).toBeInstanceOf(Promise);
    const ticket = (await entered) as Exclude<Awaited<ReturnType<IdempotencyGate['enter']>>, 'duplicate'>;
    expect(calls).toEqual(['claim evt_7']);

    const store = new MemoryIdempotencyStore();
    const spied = gate(store);
    const held = spied.enterSoon('evt_8') as Exclude<Awaited<ReturnType<IdempotencyGate['enter']>>, 'duplicate'>;
    const original = store.complete.bind(store);
    store.complete = (key, token, ttlMs) => {
      calls.push(`complete ${key}`);
      return original(key, token, ttlMs);
    };
    const ended = held.end('complete');
    expect(ended).toBeInstanceOf(Promise);
    expect(await ended).toBe(true);
    expect(calls).toEqual(['claim evt_7', 'complete evt_8']);
    expect(await ticket.complete()).toBe(true);
  });

  it('store failures become store_unavailable (503) with Retry-After', async () => {
    const broken = new MemoryIdempotencyStore();
    broken.claim = () => Promise.reject(new Error('ECONNREFUSED'));
    await expect(gate(broken).enter('evt_3')).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
    await expect(gate(broken).enterSoon('evt_3')).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
  });
});

describe('redactScalekitPayload', () => {
  it('hides secret and token fields at any depth, keeps the rest', () => {
    const payload = {
      id: 'evt_1',
      data: {
        domain: 'example.com',
        txt_record_secret: 'abc',
        nested: [{ access_token: 'x', clientSecret: 'y', note: 'keep' }],
        refresh_token: null,
      },
    };
    expect(JSON.parse(JSON.stringify(redactScalekitPayload(payload)))).toEqual({
      id: 'evt_1',
      data: {
        domain: 'example.com',
        txt_record_secret: '[redacted]',
        nested: [{ access_token: '[redacted]', clientSecret: '[redacted]', note: 'keep' }],
        refresh_token: null,
      },
    });
  });

  it('copies __proto__ keys as data and cuts very deep nesting', () => {
    const hostile = JSON.parse('{"__proto__":{"polluted":true},"a":1}');
    const copy = redactScalekitPayload(hostile) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(JSON.stringify(redactScalekitPayload(deep))).toContain('[nested too deep]');
  });
});
