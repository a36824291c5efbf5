export * from './interceptor-answer.js';
export * from './interceptor-decision.js';
export * from './interceptor-request.js';
export * from './interceptor-types.js';
