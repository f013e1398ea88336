// One fuzz worker thread: runs cases from, from+step, ... < end and reports them in batches.
import { parentPort, workerData } from 'node:worker_threads';
import { cleanup, corpus, runCase, saveRegression } from './cases.mjs';

const { seed, from, end, step, cliEvery, out, progress } = workerData;
await corpus(); // built before the watchdog starts timing cases
let batch = [];
let lastFlush = Date.now();
for (let i = from; i < end; i += step) {
  if (Atomics.load(progress, 2) === 1) break; // the campaign's time is up
  Atomics.store(progress, 0, i | 0);
  Atomics.store(progress, 1, 1);
  const { input, result } = await runCase(seed, i, { cliEvery });
  Atomics.store(progress, 1, 0);
  batch.push({ kind: input.kind, outcome: result.outcome, code: result.code });
  if (result.outcome === 'untyped' || result.outcome === 'violation' || result.outcome === 'harness') {
    const file = saveRegression(result.outcome === 'harness' ? out + '/harness-errors' : out, seed, i, input, result);
    parentPort.postMessage({ type: 'saved', file });
    process.stderr.write(`case ${i} (${input.kind}): ${result.outcome} ${result.code}: ${(result.message ?? '').split('\n')[0]}\n`);
  }
  if (batch.length >= 200 || Date.now() - lastFlush > 2000) {
    parentPort.postMessage({ type: 'batch', results: batch });
    batch = [];
    lastFlush = Date.now();
  }
}
parentPort.postMessage({ type: 'batch', results: batch });
cleanup();
parentPort.postMessage({ type: 'done' });
