// Prints the slowest test files, then one plain closing line ("tests: N passed, N failed[, N skipped]") after jest's
// own summary, so that CI logs can be read the same way whatever the runner, and a slow suite is seen at once.
const path = require('node:path');

const SLOWEST = 5;

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const timed = results.testResults
      .map((r) => ({ file: path.relative(this.rootDir, r.testFilePath), ms: r.perfStats.end - r.perfStats.start }))
      .filter((r) => Number.isFinite(r.ms) && r.ms > 0)
      .sort((a, b) => b.ms - a.ms);
    if (timed.length > 1) {
      const total = timed.reduce((sum, r) => sum + r.ms, 0);
      const list = timed
        .slice(0, SLOWEST)
        .map((r) => `${r.file} ${(r.ms / 1000).toFixed(1)} s`)
        .join(', ');
      process.stdout.write(`slowest test files (of ${(total / 1000).toFixed(0)} s in all): ${list}\n`);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(
      `tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
  }
}
module.exports = SummaryReporter;
