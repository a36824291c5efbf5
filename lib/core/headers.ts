/** Headers as Node (`IncomingHttpHeaders`), Fastify, a plain object or a fetch `Headers` instance give them. */
export type ScalekitHeadersInput =
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | { get(name: string): string | null };

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/**
 * Reads one header, case-insensitively. Returns the raw value, which may be an array when a framework kept
 * duplicated headers apart.
 */
export function readHeader(headers: ScalekitHeadersInput, name: string): unknown {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, unknown>>;
  if (Object.prototype.hasOwnProperty.call(record, name)) {
    return record[name];
  }
  let found: unknown;
  let count = 0;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) {
      found = record[key];
      count++;
    }
  }
  // The same header given twice under different cases is a duplicate.
  return count > 1 ? [found, found] : found;
}
