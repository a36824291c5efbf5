import { Inject } from '@nestjs/common';

/*
 * The resources of a registration are providers, under tokens named after the registration (`name`), so a user can
 * inject them, and override them in tests: `Test.createTestingModule(…).overrideProvider(getScalekitQueueToken())`.
 */

function tokenOf(resource: string, name: string | undefined): string {
  return name === undefined ? `Scalekit${resource}` : `Scalekit${resource}:${name}`;
}

/**
 * Token of a registration's idempotency store (`null` when idempotency is off): the configured
 * `idempotency.store`, or the default `MemoryIdempotencyStore`. The module closes it on shutdown.
 */
export function getScalekitIdempotencyStoreToken(name?: string): string {
  return tokenOf('IdempotencyStore', name);
}

/** Token of a registration's queue (queue mode; `null` inline). The module closes it on shutdown. */
export function getScalekitQueueToken(name?: string): string {
  return tokenOf('Queue', name);
}

/** Token of a registration's `ScalekitWebhookVerifier`, built from its `secret` and `toleranceSeconds`. */
export function getScalekitVerifierToken(name?: string): string {
  return tokenOf('Verifier', name);
}

/** Injects the idempotency store of the registration named `name` (the unnamed one by default). */
export const InjectScalekitIdempotencyStore = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getScalekitIdempotencyStoreToken(name));

/** Injects the queue of the registration named `name` (the unnamed one by default). */
export const InjectScalekitQueue = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getScalekitQueueToken(name));

/** Injects the verifier of the registration named `name` (the unnamed one by default). */
export const InjectScalekitVerifier = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getScalekitVerifierToken(name));
