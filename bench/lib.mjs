// Shared benchmark helpers: synthetic repositories built with our own writer (from dist/), timing
// statistics, and running one case per child process so peak RSS belongs to that case alone.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(BENCH_DIR, '..');
export const WORK_DIR = join(BENCH_DIR, 'work');

export async function lib() {
  const core = await import('../dist/core/index.js');
  const { nodeCryptoBackend } = await import('../dist/crypto/node.js');
  const { nobleCryptoBackend } = await import('../dist/crypto/noble.js');
  return { ...core, backends: { node: nodeCryptoBackend, noble: nobleCryptoBackend } };
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: s.length };
}

/**
 * A repository with `targets` targets in the top-level role and `delegations` delegated roles (each with a
 * few targets), signed by fresh keys, timestamp signed locally. Returns the files and the keys.
 */
export async function makeRepository({ gun, targets = 0, delegations = 0, now = new Date() }) {
  const L = await lib();
  const crypto = L.backends.node;
  const keys = L.generateRepositoryKeys(crypto, gun, now);
  const init = await L.initRepositoryMetadata(keys, crypto, now);
  const files = new Map([['root', init.root.bytes]]);
  const t = L.newTargetsSigned(now, 2);
  const payload = new TextEncoder().encode('x');
  for (let i = 0; i < targets; i++) {
    // Real-looking entries: distinct hashes per target, as image digests are.
    const bytes = new TextEncoder().encode(`image-${i}`);
    L.setTarget(t, `tag-${String(i).padStart(6, '0')}`, L.fileMetaOf(bytes, crypto));
  }
  const delegationKey = L.generateSigningKey(crypto);
  const roleNames = [];
  for (let d = 0; d < delegations; d++) {
    const name = d === 0 ? 'targets/releases' : `targets/team${String(d).padStart(4, '0')}`;
    roleNames.push(name);
    L.setDelegation(t, 'targets', { name, keys: [delegationKey.publicKey], paths: [''] }, crypto);
  }
  files.set('targets', (await L.signMetadata('Targets', t, 'targets', [keys.targets.signer])).bytes);
  for (const name of roleNames) {
    const dt = L.newTargetsSigned(now);
    for (let i = 0; i < 3; i++) L.setTarget(dt, `${name.slice(8)}-${i}`, L.fileMetaOf(payload, crypto));
    files.set(name, (await L.signMetadata('Targets', dt, name, [delegationKey.signer])).bytes);
  }
  const snapshot = await L.signMetadata('Snapshot', L.newSnapshotSigned(files, now, crypto, 2), 'snapshot', [keys.snapshot.signer]);
  files.set('snapshot', snapshot.bytes);
  const ts = await L.signMetadata('Timestamp', L.newTimestampSigned(snapshot.bytes, now, crypto, 2), 'timestamp', [keys.timestamp.signer]);
  files.set('timestamp', ts.bytes);
  return { files, keys, gun };
}

/** Writes files as a Notary client cache: <trustDir>/tuf/<gun>/metadata/<role>.json */
export function writeCache(trustDir, gun, files) {
  for (const [role, bytes] of files) {
    const p = join(trustDir, 'tuf', gun, 'metadata', `${role}.json`);
    mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
    writeFileSync(p, bytes, { mode: 0o600 });
  }
}

/** Runs a command, returns { wallMs, cpuMs, maxRssKiB, code, stdoutBytes } using /usr/bin/time-like accounting. */
export function measureCommand(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (d) => (stdoutBytes += d.length));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => {});
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      resolve({ wallMs, code, stdoutBytes, stderr });
    });
  });
}

/** Runs `node bench/<script> <args>` and parses the JSON it prints last. */
export function runCase(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(BENCH_DIR, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

export function writeResult(name, data) {
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(data, null, 2) + '\n');
}

/**
 * Publishes a repository to a live notary-server with our writer: `targets` top-level targets and
 * `delegations` delegated roles (`targets/releases` first), the server holding the timestamp key.
 */
export async function publishRepository(serverUrl, gun, { targets = 0, delegations = 0, now = new Date() } = {}) {
  const L = await lib();
  const { NotaryRemote } = await import('../dist/node/remote.js');
  const crypto = L.backends.node;
  const remote = new NotaryRemote({ serverUrl, gun });
  try {
    const ts = await remote.getKey('timestamp');
    const keys = { ...L.generateRepositoryKeys(crypto, gun, now), timestamp: { publicKey: { keytype: ts.keytype, keyval: { private: null, public: ts.keyval.public } } } };
    const init = await L.initRepositoryMetadata(keys, crypto, now);
    const t = structuredClone(init.targets.signed);
    for (let i = 0; i < targets; i++) {
      L.setTarget(t, `tag-${String(i).padStart(6, '0')}`, L.fileMetaOf(new TextEncoder().encode(`image-${i}`), crypto));
    }
    const delegationKey = L.generateSigningKey(crypto);
    const names = [];
    for (let d = 0; d < delegations; d++) {
      const name = d === 0 ? 'targets/releases' : `targets/team${String(d).padStart(4, '0')}`;
      names.push(name);
      L.setDelegation(t, 'targets', { name, keys: [delegationKey.publicKey], paths: [d === 0 ? '' : `team${String(d).padStart(4, '0')}/`] }, crypto);
    }
    L.bumpVersion(t, now, 1095);
    const files = new Map([['root', init.root.bytes], ['targets', (await L.signMetadata('Targets', t, 'targets', [keys.targets.signer])).bytes]]);
    for (const name of names) {
      const dt = L.newTargetsSigned(now);
      const prefix = name === 'targets/releases' ? 'release-' : `${name.slice(8)}/`;
      for (let i = 0; i < 5; i++) L.setTarget(dt, `${prefix}${i}`, L.fileMetaOf(new TextEncoder().encode(`${name}-${i}`), crypto));
      files.set(name, (await L.signMetadata('Targets', dt, name, [delegationKey.signer])).bytes);
    }
    const snapshot = await L.signMetadata('Snapshot', L.newSnapshotSigned(files, now, crypto, 2), 'snapshot', [keys.snapshot.signer]);
    files.set('snapshot', snapshot.bytes);
    await remote.publish(files);
    return { gun, keys, files };
  } finally {
    await remote.close();
  }
}

/** Runs a CLI under /usr/bin/time: wall ms, user+sys CPU ms, peak RSS MiB, stdout bytes. */
export async function timeCli(cmd, args, env = {}) {
  const r = await measureCommand('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { env: { ...process.env, TZ: 'UTC', ...env } });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [, user, sys, rss] = last.split(' ').map(Number);
  return { wallMs: r.wallMs, cpuMs: (user + sys) * 1000, maxRssMiB: rss / 1024, code: r.code, stdoutBytes: r.stdoutBytes, stderr: r.stderr };
}
