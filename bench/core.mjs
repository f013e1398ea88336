// Core benchmark (issue 2): parse + verify of a 100,000-target targets.json and a 16,384-entry snapshot,
// on both crypto backends, each case in a fresh process; plus Go `notary list` of the same 100k repository
// read offline from a Notary cache, side by side, for scale. Results: bench/results/core.json.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORK_DIR, makeRepository, measureCommand, runCase, stats, writeCache, writeResult } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const now = new Date();

async function prepare(name, spec) {
  const dir = join(WORK_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  const repo = await makeRepository({ gun: `bench.example.com/${name}`, now, ...spec });
  for (const [role, bytes] of repo.files) {
    const p = join(dir, `${role}.json`);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, bytes);
  }
  writeFileSync(join(dir, 'bench.json'), JSON.stringify({ gun: repo.gun, now: now.toISOString() }));
  return { dir, repo };
}

const results = { date: now.toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length, runsPerCase: RUNS, cases: [] };

const big = await prepare('targets-100k', { targets: 100_000 });
const snap = await prepare('snapshot-16k', { delegations: 16_383 });
console.error(`targets.json: ${(big.repo.files.get('targets').length / 1e6).toFixed(1)} MB; snapshot.json (16k): ${(snap.repo.files.get('snapshot').length / 1e6).toFixed(1)} MB`);

for (const backend of ['node', 'noble']) {
  for (const [caseName, dir, label] of [
    ['targets', big.dir, 'admit targets.json, 100k targets'],
    ['snapshot', snap.dir, 'admit snapshot.json, 16,384 entries'],
    ['collection', big.dir, 'load + list whole repository, 100k targets'],
  ]) {
    const r = await runCase('core-case.mjs', [caseName, backend, dir, String(RUNS)]);
    const s = stats(r.samplesMs);
    results.cases.push({ case: caseName, label, backend, ...s, maxRssMiB: Math.round(r.maxRssMiB) });
    console.error(`${backend.padEnd(5)} ${label.padEnd(46)} median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}), peak RSS ${Math.round(r.maxRssMiB)} MiB`);
  }
}

// Go notary, offline (its ping to a closed port fails, so it reads and verifies its cache), listing the
// same 100k repository; stdout to a pipe we count but discard, as for any CLI comparison.
if (existsSync('/usr/bin/notary')) {
  const trustDir = join(WORK_DIR, 'go-trust');
  rmSync(trustDir, { recursive: true, force: true });
  writeCache(trustDir, big.repo.gun, big.repo.files);
  const samples = [];
  let rows = 0;
  for (let i = 0; i < Math.min(RUNS, 5); i++) {
    const r = await measureCommand('/usr/bin/time', ['-f', '%e %M', 'notary', '-d', trustDir, '-s', 'http://127.0.0.1:9', 'list', big.repo.gun]);
    if (r.code !== 0) throw new Error(`Go notary list failed: ${r.stderr.slice(-500)}`);
    const [, rss] = r.stderr.trim().split('\n').pop().split(' ');
    samples.push({ wallMs: r.wallMs, maxRssMiB: Number(rss) / 1024 });
    rows = r.stdoutBytes;
  }
  const s = stats(samples.map((x) => x.wallMs));
  results.go = { label: 'Go notary list (offline, from cache), 100k targets', ...s, maxRssMiB: Math.round(Math.max(...samples.map((x) => x.maxRssMiB))), stdoutBytes: rows };
  console.error(`go    ${results.go.label.padEnd(46)} median ${s.median.toFixed(1)} ms, peak RSS ${results.go.maxRssMiB} MiB`);
}

writeResult('core', results);
