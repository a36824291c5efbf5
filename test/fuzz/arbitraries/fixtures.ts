import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------------

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'catalogue', 'examples');
const FIXTURES: ReadonlyMap<string, Readonly<Record<string, unknown>>> = new Map(
  readdirSync(FIXTURE_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file.slice(0, -5), JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8'))]),
);
export const FIXTURE_TYPES: readonly string[] = [...FIXTURES.keys()];

export function fixtureOf(type: string): Record<string, unknown> {
  return structuredClone(FIXTURES.get(type)!) as Record<string, unknown>;
}
