// Writer benchmark (issue 5): add one target to a 50,000-target repository and publish, Go `notary` and
// `notary-ts` alternating on the same repository and server (each from its own trust dir holding the same
// keys). Only `publish` is timed; staging (`add`) is local. Results: bench/results/writer.json.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNotaryServer } from '../scripts/lib/notary-server.mjs';
import { REPO_ROOT, stats, timeCli, writeResult } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N = 50_000;
const PASS = { NOTARY_ROOT_PASSPHRASE: 'bench-root-pass', NOTARY_TARGETS_PASSPHRASE: 'bench-targets-pass', NOTARY_SNAPSHOT_PASSPHRASE: 'bench-snapshot-pass' };
const OURS = [process.execPath, join(REPO_ROOT, 'dist', 'cli', 'main.js')];

const server = await startNotaryServer();
const gun = 'bench.example.com/writer/50k';
try {
  // Build the repository with our writer into trust dir A (keys encrypted as Notary does).
  const { FileKeyStore, constantRetriever, envRetriever, NotaryRemote, FileMetadataCache, RepositoryWriter, targetCreateChange, fileMetaOf, nodeCryptoBackend: crypto } = await import('../dist/index.js');
  const ours = mkdtempSync(join(tmpdir(), 'bench-w-ts-'));
  const keyStore = await FileKeyStore.open(ours, { retriever: envRetriever(PASS, constantRetriever('unused')), crypto });
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  const writer = new RepositoryWriter({ gun, remote, cache: new FileMetadataCache(ours, gun), keyStore, crypto });
  await writer.init();
  const changes = [];
  for (let i = 0; i < N; i++) changes.push(targetCreateChange('targets', `tag-${String(i).padStart(6, '0')}`, fileMetaOf(new TextEncoder().encode(`image-${i}`), crypto)));
  await writer.publish(changes);
  await remote.close();
  // Go's trust dir holds the same key files (the formats are the same).
  const go = mkdtempSync(join(tmpdir(), 'bench-w-go-'));
  cpSync(join(ours, 'private'), join(go, 'private'), { recursive: true });
  const payload = join(ours, 'payload');
  writeFileSync(payload, 'new image manifest\n');

  const samples = { go: [], ts: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const who of i % 2 === 0 ? ['go', 'ts'] : ['ts', 'go']) {
      const [cmd, pre, dir] = who === 'go' ? ['notary', [], go] : [OURS[0], [OURS[1]], ours];
      const base = [...pre, '-s', server.url, '-d', dir];
      const add = await timeCli(cmd, [...base, 'add', gun, `added-by-${who}-${i}`, payload], PASS);
      if (add.code !== 0) throw new Error(`${who} add failed: ${add.stderr.slice(-300)}`);
      const m = await timeCli(cmd, [...base, 'publish', gun], PASS);
      if (m.code !== 0) throw new Error(`${who} publish failed: ${m.stderr.slice(-400)}`);
      samples[who].push(m);
    }
  }
  const summary = {};
  for (const who of ['go', 'ts']) {
    summary[who] = { wall: stats(samples[who].map((x) => x.wallMs)), cpuMsMedian: stats(samples[who].map((x) => x.cpuMs)).median, maxRssMiB: Math.round(Math.max(...samples[who].map((x) => x.maxRssMiB))) };
  }
  const ratio = summary.ts.wall.median / summary.go.wall.median;
  console.error(`publish one target, 50k repo: go ${summary.go.wall.median.toFixed(0)} ms ${summary.go.maxRssMiB} MiB | ts ${summary.ts.wall.median.toFixed(0)} ms ${summary.ts.maxRssMiB} MiB | ratio ${ratio.toFixed(2)}`);
  writeResult('writer', { date: new Date().toISOString(), node: process.version, runs: RUNS, targets: N, ...summary, ratio });
} finally {
  await server.stop();
}
