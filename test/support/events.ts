import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signScalekitWebhook } from 'nestjs-scalekit-webhooks';

/** Scalekit's example payloads, one per event type: the catalogue's source (catalogue/examples), read as is. */
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'catalogue', 'examples');

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const OTHER_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

export function fixture(type: string): Record<string, any> {
  return JSON.parse(readFileSync(join(fixtures, `${type}.json`), 'utf8'));
}

export function fixtureTypes(): string[] {
  return readdirSync(fixtures)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

let counter = 0;

/** A fixture event with a fresh id, optionally changed. */
export function eventOf(type: string, changes: Record<string, unknown> = {}): Record<string, any> {
  counter++;
  return { ...fixture(type), id: `evt_test${Date.now()}${counter}`, ...changes };
}

/** Signs with the current time: `{ body, headers }` ready to send. */
export function signed(payload: unknown, options: { secret?: string; id?: string; timestamp?: number } = {}) {
  return signScalekitWebhook({
    secret: options.secret ?? SECRET,
    payload,
    id: options.id,
    timestamp: options.timestamp,
  });
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
