/** Headers as Node (`IncomingHttpHeaders`), Fastify, a plain object or a fetch `Headers` instance give them. */
export type ScalekitHeadersInput =
  Readonly<Record<string, string | readonly string[] | number | undefined>> | { get(name: string): string | null };

/**
 * Reads one header, case-insensitively. Returns the raw value, which may be an array when a framework kept
 * duplicated headers apart; the same name given twice under different cases also comes back as an array.
 */
export function readHeader(headers: ScalekitHeadersInput, name: string): unknown {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, unknown>>;
  const found: unknown[] = [];
  for (const key in record) {
    if (key.length === name.length && Object.prototype.hasOwnProperty.call(record, key) && key.toLowerCase() === name) {
      found.push(record[key]);
    }
  }
  return found.length > 1 ? found : found[0];
}
