// Deploy-gate benchmark (issue 11): a warm-cache decision in-process (p99 ≤ 1 ms); the admission webhook at
// 64 concurrent reviews with a warm cache (p99 ≤ 10 ms, ≥ 2,000 reviews/s, RSS flat), the client in its own
// process; and a cold decision (`trust verify`, fresh trust dir) against a cold `notary-ts lookup`
// (≤ 1.2×), alternated. One repository published to a live notary-server: 60 tags, targets/releases and
// two more delegations. Also issue 14's in-process figures: refresh() with nothing changed and a warm
// openRepository + lookup + close. Results: bench/results/gate.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNotaryServer } from '../scripts/lib/notary-server.mjs';
import { REPO_ROOT, publishRepository, stats, timeCli, writeResult } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const REVIEWS = Number(process.env.BENCH_REVIEWS ?? 20_000);
const BIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'bench-gate-'));
const server = await startNotaryServer();
const gun = 'bench.example.com/gate/app';
const results = { date: new Date().toISOString(), node: process.version, cases: {} };

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

try {
  await publishRepository(server.url, gun, { targets: 60, delegations: 3 });
  const image = `${gun}:release-1`;
  const policyFile = join(work, 'policy.yaml');
  writeFileSync(policyFile, `trustDir: ${join(work, 'trust')}\nrules:\n  - pattern: bench.example.com/**\n    server: ${server.url}\ndefault: deny\n`);

  // 1. In-process, warm: the decision a deploy tool embedding the gate makes again and again.
  {
    const { Gate, loadPolicyFile } = await import('../dist/index.js');
    const gate = new Gate({ policy: await loadPolicyFile(policyFile) });
    const first = await gate.decide(image);
    if (!first.allowed) throw new Error(`warm-up decision refused: ${JSON.stringify(first.error)}`);
    const samples = [];
    for (let i = 0; i < 20_000; i++) {
      const t = process.hrtime.bigint();
      const d = await gate.decide(image);
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!d.allowed) throw new Error('refused');
    }
    await gate.close();
    samples.sort((a, b) => a - b);
    results.cases.warmDecision = { decisions: samples.length, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: samples[samples.length - 1] };
    console.error(`warm in-process decision: p50 ${results.cases.warmDecision.p50Ms.toFixed(4)} ms, p99 ${results.cases.warmDecision.p99Ms.toFixed(4)} ms`);
  }

  // 1b. A long-running process keeping a repository fresh: refresh() with nothing changed (one timestamp
  // request), and openRepository + lookup + close on a warm trust dir.
  {
    const { openRepository } = await import('../dist/index.js');
    const dir = join(work, 'refresh-trust');
    const repo = await openRepository({ gun, server: server.url, trustDir: dir });
    await repo.lookup('release-1');
    const refresh = [];
    for (let i = 0; i < 500; i++) {
      const t = process.hrtime.bigint();
      if (await repo.refresh()) throw new Error('refresh saw a change');
      refresh.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    await repo.close();
    const warm = [];
    for (let i = 0; i < 200; i++) {
      const t = process.hrtime.bigint();
      const r = await openRepository({ gun, server: server.url, trustDir: dir });
      await r.lookup('release-1');
      await r.close();
      warm.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    refresh.sort((a, b) => a - b);
    warm.sort((a, b) => a - b);
    results.cases.refreshUnchanged = { runs: refresh.length, p50Ms: percentile(refresh, 50), p99Ms: percentile(refresh, 99) };
    results.cases.warmOpenLookupClose = { runs: warm.length, p50Ms: percentile(warm, 50), p99Ms: percentile(warm, 99) };
    console.error(`refresh (unchanged): p50 ${percentile(refresh, 50).toFixed(2)} ms, p99 ${percentile(refresh, 99).toFixed(2)} ms; warm open+lookup+close: p50 ${percentile(warm, 50).toFixed(2)} ms, p99 ${percentile(warm, 99).toFixed(2)} ms`);
  }

  // 2. Cold: `trust verify` with a fresh trust dir against `lookup` with a fresh trust dir, alternated.
  {
    const samples = { verify: [], lookup: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const who of i % 2 ? ['lookup', 'verify'] : ['verify', 'lookup']) {
        const dir = mkdtempSync(join(work, `cold-${who}-`));
        const pf = join(dir, 'policy.yaml');
        writeFileSync(pf, `trustDir: ${join(dir, 'trust')}\nrules:\n  - pattern: bench.example.com/**\n    server: ${server.url}\n`);
        const args = who === 'verify' ? [BIN, 'trust', 'verify', '--policy', pf, image] : [BIN, '-s', server.url, '-d', join(dir, 'trust'), 'lookup', gun, 'release-1'];
        const m = await timeCli(process.execPath, args, { HOME: dir });
        if (m.code !== 0) throw new Error(`${who} failed: ${m.stderr.slice(-300)}`);
        samples[who].push(m.wallMs);
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const v = stats(samples.verify);
    const l = stats(samples.lookup);
    results.cases.coldDecision = { runs: RUNS, trustVerifyMs: v, lookupMs: l, ratio: v.median / l.median };
    console.error(`cold trust verify ${v.median.toFixed(0)} ms vs cold lookup ${l.median.toFixed(0)} ms: ${(v.median / l.median).toFixed(2)}×`);
  }

  // 3. The webhook under load: 64 reviews in flight from a client process, warm cache.
  {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: work, stdio: 'pipe' });
    const hook = spawn(process.execPath, [BIN, 'admission', 'serve', '--policy', policyFile, '--tls-cert', join(work, 'cert.pem'), '--tls-key', join(work, 'key.pem'), '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, HOME: work },
    });
    let err = '';
    const url = await new Promise((ok, fail) => {
      hook.stderr.on('data', (d) => {
        err += d;
        const m = /serving on (https:\/\/\S+)/.exec(err);
        if (m) ok(m[1]);
      });
      hook.on('exit', (c) => fail(new Error(`webhook exited ${c}: ${err}`)));
    });
    const rss = [];
    const sampler = setInterval(() => {
      try {
        rss.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hook.pid}/status`, 'utf8'))[1]) / 1024);
      } catch {
        /* exited */
      }
    }, 100);
    const client = await new Promise((ok, fail) => {
      const c = spawn(process.execPath, [join(REPO_ROOT, 'bench', 'gate-client.mjs'), url, join(work, 'cert.pem'), image, String(REVIEWS), '64'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', (code) => (code === 0 ? ok(JSON.parse(out)) : fail(new Error(`client exited ${code}`))));
    });
    clearInterval(sampler);
    hook.kill('SIGTERM');
    await new Promise((r) => hook.on('exit', r));
    const q = Math.max(1, Math.floor(rss.length / 4));
    const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    results.cases.webhook = { ...client, rssMiB: { firstQuarter: avg(rss.slice(0, q)), lastQuarter: avg(rss.slice(-q)), max: Math.max(...rss) } };
    console.error(`webhook: ${client.reviewsPerSecond.toFixed(0)} reviews/s, p50 ${client.p50Ms.toFixed(2)} ms, p99 ${client.p99Ms.toFixed(2)} ms, RSS ${results.cases.webhook.rssMiB.firstQuarter.toFixed(0)} → ${results.cases.webhook.rssMiB.lastQuarter.toFixed(0)} MiB`);
  }
  results.load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim();
  writeResult('gate', results);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
