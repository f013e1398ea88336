// Big files (issue 13): `add` of a 1 GiB file and `verify` of it from standard input, notary-ts side by
// side with Go `notary` in one run (alternating, after one warm-up each), wall time and peak RSS from
// /usr/bin/time; then notary-ts `add` and `verify -q` of a sparse file over 2 GiB (Go reads such a file
// into memory whole, so it is not run there). Results: bench/results/bigfile.json, docs/performance.md.
//
//   node bench/bigfile.mjs [--runs 3] [--size-mib 1024] [--sparse-gib 3]
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT, WORK_DIR, stats, timeCli, writeResult } from './lib.mjs';
import { startNotaryServer } from '../scripts/lib/notary-server.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 3);
const SIZE_MIB = arg('size-mib', 1024);
const SPARSE_GIB = arg('sparse-gib', 3);
const OURS = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const ENV = {
  NOTARY_ROOT_PASSPHRASE: 'bench-root-passphrase',
  NOTARY_TARGETS_PASSPHRASE: 'bench-targets-passphrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'bench-snapshot-passphrase',
};

mkdirSync(WORK_DIR, { recursive: true });
const work = mkdtempSync(join(WORK_DIR, 'bigfile-'));
const server = await startNotaryServer({ env: { ...process.env, TZ: 'UTC' } });
try {
  // Incompressible-looking content: 1 MiB of random bytes, repeated (the hashes do not care).
  const big = join(work, 'big.bin');
  const block = randomBytes(1 << 20);
  const fd = openSync(big, 'w');
  for (let i = 0; i < SIZE_MIB; i++) writeSync(fd, block);
  closeSync(fd);
  const sparse = join(work, 'sparse.bin');
  const sfd = openSync(sparse, 'w');
  ftruncateSync(sfd, SPARSE_GIB * 2 ** 30);
  writeSync(sfd, block, 0, block.length, SPARSE_GIB * 2 ** 30 - block.length); // a tail that is not zeros
  closeSync(sfd);

  const gun = 'example.com/bench/bigfile';
  const publisher = join(work, 'publisher');
  const run = (args) => execFileSync(process.execPath, [OURS, '-s', server.url, '-d', publisher, ...args], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['init', '-p', gun]);
  run(['add', '-p', gun, 'big', big]);
  run(['add', '-p', gun, 'sparse', sparse]);

  const clients = {
    go: (args) => ['notary', args],
    ours: (args) => [process.execPath, [OURS, '--no-progress', ...args]],
  };
  const cases = {
    add: (who, dir) => clients[who](['-d', dir, 'add', gun, 'big', big]),
    verify: (who, dir) => {
      const [cmd, args] = clients[who](['-s', server.url, '-d', dir, 'verify', gun, 'big']);
      const quoted = [cmd, ...args].map((a) => `'${a}'`).join(' ');
      return ['sh', ['-c', `exec ${quoted} < '${big}' > /dev/null`]];
    },
    'verify -q': (who, dir) => {
      const [cmd, args] = clients[who](['-s', server.url, '-d', dir, 'verify', '-q', gun, 'big']);
      const quoted = [cmd, ...args].map((a) => `'${a}'`).join(' ');
      return ['sh', ['-c', `exec ${quoted} < '${big}'`]];
    },
  };
  const loadBefore = (await import('node:os')).loadavg();
  const results = { date: new Date().toISOString(), sizeMiB: SIZE_MIB, runs: RUNS, cases: {} };
  for (const [name, make] of Object.entries(cases)) {
    const samples = { go: [], ours: [] };
    const rss = { go: [], ours: [] };
    const cpu = { go: [], ours: [] };
    const dirs = { go: join(work, `${name}-go`), ours: join(work, `${name}-ours`) };
    for (let i = -1; i < RUNS; i++) {
      for (const who of i % 2 === 0 ? ['go', 'ours'] : ['ours', 'go']) {
        const [cmd, args] = make(who, dirs[who]);
        const r = await timeCli(cmd, args, ENV);
        if (r.code !== 0) throw new Error(`${name} ${who} exited ${r.code}: ${r.stderr}`);
        if (i < 0) continue; // warm-up: the first run fills the trust dir's cache
        samples[who].push(r.wallMs);
        rss[who].push(r.maxRssMiB);
        cpu[who].push(r.cpuMs);
        if (name === 'add') rmSync(join(dirs[who], 'tuf'), { recursive: true, force: true }); // no growing changelist
      }
    }
    const go = stats(samples.go);
    const ours = stats(samples.ours);
    results.cases[name] = {
      go: { ...go, peakRssMiB: Math.max(...rss.go), samples: samples.go, cpuMedianMs: stats(cpu.go).median },
      ours: { ...ours, peakRssMiB: Math.max(...rss.ours), samples: samples.ours, cpuMedianMs: stats(cpu.ours).median },
      ratio: ours.median / go.median,
      cpuRatio: stats(cpu.ours).median / stats(cpu.go).median,
    };
    console.error(`${name} ${SIZE_MIB} MiB: ours ${ours.median.toFixed(0)} ms (${Math.max(...rss.ours).toFixed(0)} MiB), go ${go.median.toFixed(0)} ms (${Math.max(...rss.go).toFixed(0)} MiB), ratio ${(ours.median / go.median).toFixed(2)}; cpu ${stats(cpu.ours).median.toFixed(0)} / ${stats(cpu.go).median.toFixed(0)} ms = ${(stats(cpu.ours).median / stats(cpu.go).median).toFixed(2)}`);
  }
  // Over 2 GiB: notary-ts only, once each.
  const sparseSize = statSync(sparse).size;
  const addSparse = await timeCli(process.execPath, [OURS, '--no-progress', '-d', join(work, 'sparse-add'), 'add', gun, 'sparse', sparse], ENV);
  const verifySparse = await timeCli('sh', ['-c', `exec '${process.execPath}' '${OURS}' -s '${server.url}' -d '${join(work, 'sparse-verify')}' verify -q '${gun}' sparse < '${sparse}'`], ENV);
  results.load = { before: loadBefore, after: (await import('node:os')).loadavg() };
  results.sparse = {
    bytes: sparseSize,
    add: { code: addSparse.code, wallMs: addSparse.wallMs, peakRssMiB: addSparse.maxRssMiB },
    verify: { code: verifySparse.code, wallMs: verifySparse.wallMs, peakRssMiB: verifySparse.maxRssMiB },
  };
  console.error(`sparse ${(sparseSize / 2 ** 30).toFixed(1)} GiB: add ${addSparse.code === 0 ? 'ok' : 'FAILED'} ${addSparse.wallMs.toFixed(0)} ms ${addSparse.maxRssMiB.toFixed(0)} MiB; verify ${verifySparse.code === 0 ? 'ok' : 'FAILED'} ${verifySparse.wallMs.toFixed(0)} ms ${verifySparse.maxRssMiB.toFixed(0)} MiB`);
  writeResult('bigfile', results);
  console.log(JSON.stringify(results));
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
