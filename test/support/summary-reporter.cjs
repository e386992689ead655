/**
 * Prints one plain closing line, "Tests: N passed, N failed, N skipped", after jest's own summary, so
 * tools that read a run's last lines (CI) can count the tests without parsing jest's format.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\nTests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
