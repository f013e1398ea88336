// Reader benchmark (issue 3): Go `notary` and `notary-ts` side by side, same server, same proxy, runs
// alternated, stdout to a pipe counted by both. Cold list, warm list and cold lookup at 1k/10k/50k
// targets; repositories with targets/releases + 10 and + 100 delegated roles; the same through a proxy
// adding 50 ms per request and per new connection. Results: bench/results/reader.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNotaryServer } from '../scripts/lib/notary-server.mjs';
import { startProxy } from './proxy.mjs';
import { REPO_ROOT, publishRepository, stats, timeCli, writeResult } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OURS = [process.execPath, join(REPO_ROOT, 'dist', 'cli', 'main.js')];
const server = await startNotaryServer();
const results = { date: new Date().toISOString(), node: process.version, runs: RUNS, cases: [] };

const repos = [
  { name: '1k', targets: 1_000, delegations: 0 },
  { name: '10k', targets: 10_000, delegations: 0 },
  { name: '50k', targets: 50_000, delegations: 0 },
  { name: 'releases+10', targets: 100, delegations: 11 },
  { name: 'releases+100', targets: 100, delegations: 101 },
];
for (const r of repos) {
  r.gun = `bench.example.com/reader/${r.name}`;
  if (!process.env.BENCH_ONLY || r.name === '50k' || r.name.startsWith('releases') || process.env.BENCH_ONLY.includes(r.name)) {
    await publishRepository(server.url, r.gun, r);
  }
}

function client(name) {
  return name === 'go' ? ['notary', []] : [OURS[0], [OURS[1]]];
}

const ONLY = process.env.BENCH_ONLY; // substring of case labels to run (all by default)

async function measure(label, repo, proxyOptions, scenario) {
  if (ONLY && !label.includes(ONLY)) return;
  const proxy = await startProxy(server.url, proxyOptions);
  const samples = { go: [], ts: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const who of i % 2 === 0 ? ['go', 'ts'] : ['ts', 'go']) {
        const dir = mkdtempSync(join(tmpdir(), `bench-${who}-`));
        const [cmd, pre] = client(who);
        const base = [...pre, '-s', proxy.url, '-d', dir];
        const lastTeam = `team${String(repo.delegations - 1).padStart(4, '0')}/3`;
        const args = scenario === 'lookup' ? ['lookup', repo.gun, repo.delegations ? lastTeam : 'tag-000042'] : ['list', repo.gun];
        if (scenario === 'warm') {
          const warm = await timeCli(cmd, [...base, ...args]);
          if (warm.code !== 0) throw new Error(`${who} ${args.join(' ')} failed: ${warm.stderr.slice(-300)}`);
        }
        proxy.reset();
        const m = await timeCli(cmd, [...base, ...args]);
        if (m.code !== 0) throw new Error(`${who} ${args.join(' ')} failed: ${m.stderr.slice(-300)}`);
        samples[who].push({ ...m, requests: proxy.stats.requests, connections: proxy.stats.connections });
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await proxy.stop();
  }
  const summary = {};
  for (const who of ['go', 'ts']) {
    const s = samples[who];
    summary[who] = {
      wall: stats(s.map((x) => x.wallMs)),
      cpuMsMedian: stats(s.map((x) => x.cpuMs)).median,
      maxRssMiB: Math.round(Math.max(...s.map((x) => x.maxRssMiB))),
      requests: s[0].requests,
      connections: s[0].connections,
      stdoutBytes: s[0].stdoutBytes,
    };
  }
  const ratio = summary.ts.wall.median / summary.go.wall.median;
  const row = { label, repo: repo.name, scenario, link: proxyOptions.requestDelayMs ? 'slow (50 ms)' : 'loopback', ...summary, ratio };
  results.cases.push(row);
  console.error(
    `${label.padEnd(40)} go ${summary.go.wall.median.toFixed(0).padStart(6)} ms ${String(summary.go.maxRssMiB).padStart(4)} MiB ${String(summary.go.requests).padStart(4)} req | ` +
      `ts ${summary.ts.wall.median.toFixed(0).padStart(6)} ms ${String(summary.ts.maxRssMiB).padStart(4)} MiB ${String(summary.ts.requests).padStart(4)} req | ratio ${ratio.toFixed(2)}`,
  );
  if (summary.go.stdoutBytes !== summary.ts.stdoutBytes) console.error(`  note: stdout differs in size (go ${summary.go.stdoutBytes}, ts ${summary.ts.stdoutBytes})`);
}

const fast = {};
const slow = { requestDelayMs: 50, connectionDelayMs: 50 };
try {
  for (const r of repos.slice(0, 3)) {
    await measure(`cold list ${r.name}`, r, fast, 'cold');
    await measure(`warm list ${r.name}`, r, fast, 'warm');
    await measure(`cold lookup ${r.name}`, r, fast, 'lookup');
  }
  for (const r of repos.slice(3)) {
    await measure(`cold list ${r.name}`, r, fast, 'cold');
    await measure(`cold lookup ${r.name}`, r, fast, 'lookup');
    await measure(`cold list ${r.name}, slow link`, r, slow, 'cold');
    await measure(`cold lookup ${r.name}, slow link`, r, slow, 'lookup');
  }
} finally {
  await server.stop();
}
if (!ONLY) writeResult('reader', results);
else console.error('(filtered run: bench/results/reader.json not rewritten)');
