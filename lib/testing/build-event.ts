import { isKnownScalekitEventType, SCALEKIT_EVENT_CATALOGUE, type ScalekitEventType } from '../core/catalogue.js';
import type { ScalekitEvent } from '../core/envelope.js';
import { newRandomId } from '../core/protocol.js';
import { SCALEKIT_EVENT_EXAMPLES } from './examples.js';

/**
 * Overrides for {@link buildScalekitEvent}: every field optional, at any depth. Arrays are replaced, not merged.
 * An `undefined` value removes the field (e.g. `{ organization_id: undefined }`).
 */
export type ScalekitEventOverrides<T extends string> = DeepPartial<ScalekitEvent<T>>;

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | undefined }
    : T;

/** A known event type, or any other string (autocompletion still lists the known ones). */
export type ScalekitEventTypeInput = ScalekitEventType | (string & {});

/** The environment of events built for types that have no example. */
const DEFAULT_ENVIRONMENT_ID = 'env_1234567890';

/**
 * A valid event of `type`, built from Scalekit's published example for it, with a fresh `evt_…` id and the current
 * time as `occurred_at`. `overrides` are merged in deeply (objects merge; arrays and other values replace; `undefined`
 * removes a field), so `buildScalekitEvent('organization.directory.user_created', { data: { email: 'a@b.co' } })`
 * keeps every other field of the example.
 *
 * Types that are not in the catalogue are accepted (Scalekit adds types over time): they get an envelope with
 * `object: 'Unknown'` and `data: {}` unless the overrides say otherwise.
 */
export function buildScalekitEvent<T extends ScalekitEventTypeInput>(
  type: T,
  overrides?: ScalekitEventOverrides<T>,
): ScalekitEvent<T> {
  if (typeof type !== 'string' || type.length === 0) {
    throw new TypeError(`buildScalekitEvent: type must be a non-empty string (got ${JSON.stringify(type)})`);
  }
  const base: Record<string, unknown> = isKnownScalekitEventType(type)
    ? (clone(SCALEKIT_EVENT_EXAMPLES[type]) as Record<string, unknown>)
    : { spec_version: '1', type, object: 'Unknown', environment_id: DEFAULT_ENVIRONMENT_ID, data: {} };
  base['id'] = newRandomId('evt_');
  base['occurred_at'] = new Date().toISOString();
  const event = overrides === undefined ? base : mergeDeep(base, overrides as Record<string, unknown>);
  return event as unknown as ScalekitEvent<T>;
}

/** The example events' types, in catalogue order (the 41 documented types). */
export function scalekitExampleTypes(): ScalekitEventType[] {
  return Object.keys(SCALEKIT_EVENT_CATALOGUE) as ScalekitEventType[];
}

/** @internal */
export function mergeDeep(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(source)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      continue;
    }
    const value = source[key];
    if (value === undefined) {
      delete target[key];
    } else if (isPlainObject(value) && isPlainObject(target[key])) {
      target[key] = mergeDeep(target[key] as Record<string, unknown>, value);
    } else {
      target[key] = clone(value);
    }
  }
  return target;
}

/** @internal Deep copy of plain objects and arrays (other values are kept as they are). Never `structuredClone`: its objects
 * can come from another realm (jest's sandbox), where they would not look like plain objects. */
export function clone(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(clone);
  }
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (key !== '__proto__') {
        copy[key] = clone(value[key]);
      }
    }
    return copy;
  }
  return value;
}

/** An object literal or `JSON.parse` result, from any realm. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}
