// Internal barrel for the Nest adapters. The public `./core` entry is `public.ts`.
export * from './catalogue.js';
export * from './diagnose.js';
export * from './envelope.js';
export * from './errors.js';
export * from './headers.js';
export * from './idempotency/index.js';
export * from './protocol.js';
export * from './redact.js';
export * from './registry.js';
export * from './secret.js';
export * from './send.js';
export * from './sign.js';
export * from './verify.js';
