import { describeWire, type Wire } from './arbitraries/index.js';

/** A broken promise found by an HTTP fuzz run: the message, then the request as it went on the wire. */
export class Violation extends Error {}

export function fail(message: string, wire?: Wire): never {
  throw new Violation(wire ? `${message}\n${describeWire(wire)}` : message);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** About how many bytes a request's headers take on the wire (with a margin for the request line). */
export function headerBytes(wire: Wire): number {
  return wire.headers.reduce(
    (sum, [name, value]) =>
      sum + (Array.isArray(value) ? value : [String(value)]).reduce((s, v) => s + name.length + v.length + 4, 0),
    200,
  );
}
