#!/usr/bin/env node
// The fuzz campaign: `npm run fuzz -- --cases N --seed S [--workers W] [--cli-every K] [--out DIR]
// [--report FILE] [--replay FILE]`. Cases are spread over worker threads (default 2: both cores), each
// case a pure function of (seed, index) — see cases.mjs. A case that does not finish within --hang-ms is a
// hang: its worker is replaced and the case recorded as untyped. Every untyped case or violation is written
// to DIR (default test/fuzz-regressions) as a replayable vector; test/fuzz-regressions.test.ts replays them.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { REPO } from './cases.mjs';

function parseArgs(argv) {
  const o = { cases: 1000, seed: 1, workers: Math.min(2, availableParallelism()), cliEvery: 1000, out: join(REPO, 'test', 'fuzz-regressions'), report: undefined, hangMs: 300_000, start: 0, replay: undefined, maxSeconds: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--cases') o.cases = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--workers') o.workers = Number(v());
    else if (a === '--cli-every') o.cliEvery = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--report') o.report = v();
    else if (a === '--hang-ms') o.hangMs = Number(v());
    else if (a === '--start') o.start = Number(v());
    else if (a === '--replay') o.replay = v();
    else if (a === '--max-seconds') o.maxSeconds = Number(v());
    else if (a === '--help' || a === '-h') {
      console.log('npm run fuzz -- --cases N --seed S [--workers W] [--cli-every K] [--out DIR] [--report FILE] [--start I] [--max-seconds T] [--replay FILE]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isSafeInteger(o.cases) || o.cases < 0 || !Number.isSafeInteger(o.seed) || !(o.workers >= 1)) throw new Error('bad --cases / --seed / --workers');
  return o;
}

async function replay(file) {
  const { runInput, cleanup } = await import('./cases.mjs');
  const vector = JSON.parse(readFileSync(file, 'utf8'));
  const result = await runInput(vector.input);
  cleanup();
  console.log(JSON.stringify({ file, found: vector.found, now: result }, null, 1));
  process.exit(result.outcome === 'untyped' || result.outcome === 'violation' ? 1 : 0);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.replay) return replay(o.replay);
  const started = Date.now();
  const counts = {}; // kind → outcome → code → n
  let done = 0;
  let untyped = 0;
  let violations = 0;
  let harness = 0;
  const saved = [];
  const end = o.start + o.cases;
  // Case i goes to worker i mod W; a replaced worker resumes after the hung case.
  const startWorker = (w, from) =>
    new Promise((resolve) => {
      const progress = new Int32Array(new SharedArrayBuffer(12)); // [index low bits, busy flag, stop flag]
      stopFlags.push(progress);
      const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
        workerData: { seed: o.seed, from, end, step: o.workers, cliEvery: o.cliEvery, out: o.out, progress },
      });
      let lastIndex = -1;
      let lastSeen = Date.now();
      let finished = false;
      const watchdog = setInterval(() => {
        const busy = Atomics.load(progress, 1);
        const idx = Atomics.load(progress, 0);
        if (idx !== lastIndex) {
          lastIndex = idx;
          lastSeen = Date.now();
          return;
        }
        if (busy && Date.now() - lastSeen > o.hangMs) {
          clearInterval(watchdog);
          finished = true;
          worker.terminate();
          const hung = idx;
          record({ kind: 'hang', outcome: 'untyped', code: 'HANG', index: hung });
          console.error(`case ${hung}: no result after ${o.hangMs} ms; replacing worker ${w}`);
          resolve(startWorker(w, hung + o.workers));
        }
      }, 1000);
      worker.on('message', (m) => {
        if (m.type === 'batch') for (const r of m.results) record(r);
        if (m.type === 'saved') saved.push(m.file);
        if (m.type === 'done' && !finished) {
          finished = true;
          clearInterval(watchdog);
          resolve();
        }
      });
      worker.on('error', (err) => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        const idx = Atomics.load(progress, 0);
        record({ kind: 'worker', outcome: 'untyped', code: 'WORKER_CRASH', index: idx });
        console.error(`worker ${w} crashed at case ${idx}: ${err?.stack ?? err}`);
        resolve(startWorker(w, idx + o.workers));
      });
    });

  let lastPrint = 0;
  function record(r) {
    const k = (counts[r.kind] ??= {});
    const c = (k[r.outcome] ??= {});
    c[r.code] = (c[r.code] ?? 0) + 1;
    done++;
    if (r.outcome === 'untyped') untyped++;
    if (r.outcome === 'violation') violations++;
    if (r.outcome === 'harness') harness++;
    const t = Date.now();
    if (t - lastPrint > 10_000) {
      lastPrint = t;
      const rate = done / ((t - started) / 1000);
      console.error(`${done}/${o.cases} cases, ${rate.toFixed(0)}/s, untyped ${untyped}, violations ${violations}`);
    }
  }

  const stopFlags = [];
  const deadline = setTimeout(() => {
    console.error(`--max-seconds ${o.maxSeconds} reached: finishing the cases in progress`);
    for (const f of stopFlags) Atomics.store(f, 2, 1);
  }, Math.min(o.maxSeconds * 1000, 2 ** 31 - 1));
  deadline.unref();
  // The figures so far, every minute, so a campaign stopped from outside still leaves its numbers.
  const interim = setInterval(() => {
    if (o.report) writeFileSync(o.report, JSON.stringify(summary(), null, 1) + '\n');
  }, 60_000);
  interim.unref();
  const summary = () => {
    const seconds = (Date.now() - started) / 1000;
    return {
      seed: o.seed,
      start: o.start,
      requested: o.cases,
      cases: done,
      workers: o.workers,
      cliEvery: o.cliEvery,
      seconds: Math.round(seconds),
      ratePerSecond: Math.round((done / seconds) * 10) / 10,
      untyped,
      violations,
      harnessErrors: harness,
      accepted: sum(counts, 'accepted'),
      refused: sum(counts, 'refused'),
      counts,
      saved,
    };
  };
  const workers = [];
  for (let w = 0; w < o.workers && o.start + w < end; w++) workers.push(startWorker(w, o.start + w));
  await Promise.all(workers);
  clearInterval(interim);
  const report = summary();
  const text = JSON.stringify(report, null, 1);
  if (o.report) writeFileSync(o.report, text + '\n');
  console.log(text);
  process.exit(untyped + violations > 0 ? 1 : 0);
}

function sum(counts, outcome) {
  let n = 0;
  for (const k of Object.values(counts)) for (const v of Object.values(k[outcome] ?? {})) n += v;
  return n;
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(2);
});
