import type { ScalekitWebhookError } from './errors.js';
import { OptionsChecker } from './options.js';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A checked signing key. Its `toJSON` and `inspect` never reveal the key. */
export class ScalekitSigningKey {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /**
   * Parses a secret as the Scalekit dashboard shows it (`whsec_<base64>`; the prefix is optional, padding too).
   * The HMAC key is the decoded base64 part. Throws `invalid_options` with a message that never contains the secret.
   */
  static parse(secret: unknown, label = 'secret'): ScalekitSigningKey {
    if (typeof secret !== 'string') {
      throw invalid(
        `${label} must be a string like "whsec_…" (got ${secret === undefined ? 'nothing' : typeof secret})`,
      );
    }
    const trimmed = secret.trim();
    const encoded = trimmed.startsWith(PREFIX) ? trimmed.slice(PREFIX.length) : trimmed;
    if (encoded.length === 0) {
      throw invalid(`${label} is empty: copy the full signing secret ("whsec_…") from the Scalekit dashboard`);
    }
    const unpadded = encoded.replace(/=+$/, '');
    if (!BASE64.test(encoded) || unpadded.length % 4 === 1 || encoded.length - unpadded.length > 2) {
      throw invalid(
        `${label} is not valid base64 after the "whsec_" prefix: copy it again from the Scalekit dashboard`,
      );
    }
    const key = Buffer.from(unpadded, 'base64');
    if (key.length === 0) {
      throw invalid(`${label} decodes to an empty key`);
    }
    return new ScalekitSigningKey(key);
  }

  /** The raw HMAC key bytes. */
  get bytes(): Buffer {
    return this.#key;
  }

  toJSON(): string {
    return '[ScalekitSigningKey]';
  }

  toString(): string {
    return '[ScalekitSigningKey]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[ScalekitSigningKey]';
  }
}

/** Parses one secret or a list (rotation). At least one is required. */
export function parseSecrets(secret: unknown): ScalekitSigningKey[] {
  if (Array.isArray(secret)) {
    if (secret.length === 0) {
      throw invalid('secret is an empty list: give at least one signing secret ("whsec_…")');
    }
    return secret.map((s, i) => ScalekitSigningKey.parse(s, `secret[${i}]`));
  }
  if (secret === undefined || secret === null) {
    throw invalid('secret is missing: pass the endpoint signing secret ("whsec_…") from the Scalekit dashboard');
  }
  return [ScalekitSigningKey.parse(secret)];
}

function invalid(message: string): ScalekitWebhookError {
  return new OptionsChecker('Scalekit webhook').error(message);
}
