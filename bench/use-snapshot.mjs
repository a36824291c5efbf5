// `node --import ./bench/use-snapshot.mjs …`: resolve the library to run.mjs's snapshot of dist/esm.
import { register } from 'node:module';

register('./snapshot-hooks.mjs', import.meta.url);
