import { buildChildApp } from './crash-harness.js';

/** The worker-only child of the queue crash test; start it with `startChildApp` from the same harness. */
export const buildWorkerChild = () => buildChildApp('test/support/worker-child.ts');
