// Shared pieces of the benchmark scripts: payload, signing, the Nest apps under test, small statistics.
// Plain ESM run by `node` (no TypeScript): Nest decorators are applied by hand.
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');

/** Demo secret (first known-answer row of the Scalekit notes); the SDK's `split('_')` accepts it too. */
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const KEY = Buffer.from(SECRET.slice('whsec_'.length), 'base64');

export const PATH = '/webhooks/scalekit';
export const EVENT_TYPE = 'organization.directory.user_created';
export const RECEIPT_JSON = '{"received":true}';

/** The fixture event, as an object. */
export function fixtureEvent() {
  return JSON.parse(readFileSync(join(ROOT, 'catalogue', 'examples', `${EVENT_TYPE}.json`), 'utf8'));
}

/**
 * A signer of distinct deliveries of the fixture: `sign(i)` gives delivery number `i` (its own event `id`,
 * `webhook-id` and signature), all with the timestamp of the signer's creation.
 */
export function deliverySigner(tag = 'x') {
  const event = fixtureEvent();
  const marker = '__BENCH_EVENT_ID__';
  const template = JSON.stringify({ ...event, id: marker });
  const at = template.indexOf(marker);
  const head = template.slice(0, at);
  const tail = template.slice(at + marker.length);
  const timestamp = String(Math.floor(Date.now() / 1000));
  return (i) => {
    const n = `${tag}${i.toString(36).padStart(7, '0')}`;
    const body = Buffer.from(`${head}evt_bench${n}${tail}`, 'utf8');
    const webhookId = `msg_bench${n}`;
    const signature = createHmac('sha256', KEY).update(`${webhookId}.${timestamp}.`).update(body).digest('base64');
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      },
    };
  };
}

/**
 * `count` distinct deliveries, pre-signed in the load generator before a measurement starts so that signing does
 * not overlap the measured window. `pool.sign(i)` signs more (same tag and timestamp) if a run outlasts the pool.
 */
export function signPool(count, tag = 'x') {
  const sign = deliverySigner(tag);
  const pool = new Array(count);
  for (let i = 0; i < count; i++) pool[i] = sign(i);
  pool.sign = sign;
  return pool;
}

/** Signs one arbitrary body now (for the verify micro-benchmark). */
export function signOne(body, webhookId = 'msg_benchverify0001') {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', KEY).update(`${webhookId}.${timestamp}.`).update(body).digest('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Decorators by hand.

export function decorateMethod(cls, name, ...decorators) {
  let descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name);
  for (const decorate of [...decorators].reverse()) {
    descriptor = decorate(cls.prototype, name, descriptor) ?? descriptor;
  }
  Object.defineProperty(cls.prototype, name, descriptor);
}

/** A class with a given name (Nest logs and the module's handler names use it). */
export function namedClass(name) {
  return { [name]: class {} }[name];
}

/** Adds a plain (non-enumerable, like a class method) method to a prototype. */
export function defineMethod(cls, name, fn) {
  Object.defineProperty(cls.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

// ---------------------------------------------------------------------------------------------------------------
// Handler patterns of the 1,000-handler app (case e).

/**
 * The pattern of handler `index` (0-based) among `total` in the big app. Exactly four registrations match the
 * benchmarked `organization.directory.user_created`: one exact handler, `organization.*`, `organization.directory.*`
 * and `*`. The other wildcards match nothing sent; every other method listens to another catalogue type.
 */
export function bigAppPattern(index, total, eventTypes) {
  const specials = [
    EVENT_TYPE,
    'organization.*',
    'organization.directory.*',
    '*',
    'user.*',
    'role.*',
    'permission.*',
    'connected_account.*',
  ];
  const stride = Math.floor(total / specials.length);
  if (index % stride === 0 && index / stride < specials.length) {
    return specials[index / stride];
  }
  const others = eventTypes.filter((t) => t !== EVENT_TYPE);
  return others[index % others.length];
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics and formatting.

export function median(values) {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const mib = (bytes) => (bytes / 1048576).toFixed(1);
