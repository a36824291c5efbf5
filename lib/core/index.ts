export * from './catalogue.js';
export * from './envelope.js';
export * from './errors.js';
export * from './headers.js';
export * from './registry.js';
export * from './secret.js';
export * from './sign.js';
export * from './verify.js';
