export * from './errors.js';
export * from './headers.js';
export * from './secret.js';
export * from './sign.js';
export * from './verify.js';
