import { config } from './options.mjs';
import { forkChild } from './children.mjs';

// ---------------------------------------------------------------------------------------------------------------
// 2. Verify micro-benchmark.

export async function runVerify() {
  const child = forkChild('verify.mjs', [
    '--rounds',
    String(config.verifyRounds),
    '--slice-ms',
    String(config.verifySliceMs),
  ]);
  const result = await child.next('verify', 600_000);
  await child.exit();
  return result;
}
