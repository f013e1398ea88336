// Prints the plain "N passed, N failed" line CI reads, from vitest's JSON report. A run that executed no
// test, or whose report is missing, counts as a failure.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`no vitest JSON report at ${file}: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A suite can fail with no failed test: it failed to load (no tests reported), or a beforeAll/afterAll
// hook threw (its tests are reported skipped). Count each such suite as one failure so it cannot hide.
const failedSuites = (report.testResults ?? []).filter((r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed')).length;
// EXTRA_FAILED: failures found outside vitest (scripts/test.sh: files the tests left in their temp dir).
const failed = (report.numFailedTests ?? 0) + failedSuites + (Number(process.env['EXTRA_FAILED']) || 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
