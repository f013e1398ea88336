// PKCS#11 benchmark (issue 12), short: ECDSA P-256 signatures per second through SoftHSM2 (host SHA-256,
// CKM_ECDSA, each signature verified in software, as every token signature is) next to node:crypto, and the
// publish of a repository with 50 delegated roles whose keys (targets and the delegations' key) live on the
// token, next to the same publish with the keys in the trust dir. Against a live notary-server. Results:
// bench/results/pkcs11.json. BENCH_RUNS (default 3) publishes per side, BENCH_SIGNATURES (default 300).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startNotaryServer } from '../scripts/lib/notary-server.mjs';
import { stats, writeResult } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 300);
const ROLES = 50;
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '123456';

const work = mkdtempSync(join(tmpdir(), 'bench-p11-'));
mkdirSync(join(work, 'tokens'));
process.env.SOFTHSM2_CONF = join(work, 'softhsm2.conf');
writeFileSync(process.env.SOFTHSM2_CONF, `directories.tokendir = ${join(work, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', PIN, '--so-pin', '12345678'], { stdio: 'pipe' });

const L = await import('../dist/index.js');
const crypto = L.nodeCryptoBackend;
const server = await startNotaryServer();
const result = { date: new Date().toISOString(), node: process.version, module: 'SoftHSM2 (Debian)', runs: RUNS };
try {
  // ---- signatures per second ----
  const token = L.Pkcs11KeyStore.open({ module: MODULE, token: 'bench', pin: async () => PIN, crypto });
  const message = new TextEncoder().encode('x'.repeat(1024));
  try {
    const keyId = await token.generateKey({ role: 'targets/bench', gun: '' });
    const handle = await token.keyHandle(keyId);
    await handle.sign('ecdsa', message); // login, warm-up
    let t = performance.now();
    for (let i = 0; i < SIGNATURES; i++) await handle.sign('ecdsa', message);
    const tokenMs = performance.now() - t;
    const soft = crypto.generateKey('ecdsa');
    t = performance.now();
    for (let i = 0; i < SIGNATURES; i++) crypto.sign('ecdsa', soft, message);
    const softMs = performance.now() - t;
    result.signatures = { count: SIGNATURES, tokenPerSecond: Math.round((SIGNATURES / tokenMs) * 1000), softwarePerSecond: Math.round((SIGNATURES / softMs) * 1000) };
    console.error(`signatures/s: SoftHSM ${result.signatures.tokenPerSecond} (verified in software each) | node:crypto ${result.signatures.softwarePerSecond}`);
  } finally {
    token.close();
  }

  // ---- publish of a 50-role repository ----
  const PASS = { NOTARY_ROOT_PASSPHRASE: 'bench-root-pass', NOTARY_TARGETS_PASSPHRASE: 'bench-targets-pass', NOTARY_SNAPSHOT_PASSPHRASE: 'bench-snapshot-pass', NOTARY_DELEGATION_PASSPHRASE: 'bench-deleg-pass' };
  async function repository(kind) {
    const trustDir = mkdtempSync(join(work, `${kind}-`));
    const gun = `bench.example.com/pkcs11/${kind}`;
    const files = await L.FileKeyStore.open(trustDir, { retriever: L.envRetriever(PASS), crypto });
    let store = files;
    let tok;
    if (kind === 'token') {
      tok = L.Pkcs11KeyStore.open({ module: MODULE, token: 'bench', pin: async () => PIN, crypto });
      store = new L.TokenAwareKeyStore(files, tok, { roles: new Set(['root', 'targets', 'delegation']), layout: 'token' }, crypto);
    }
    const remote = new L.NotaryRemote({ serverUrl: server.url, gun });
    const writer = new L.RepositoryWriter({ gun, remote, cache: new L.FileMetadataCache(trustDir, gun), keyStore: store, crypto });
    await writer.init();
    const delegationId = kind === 'token' ? await store.generateKey({ role: 'targets/r00' }) : await files.add(crypto.generateKey('ecdsa'), { role: 'targets/r00' });
    const handle = kind === 'token' ? await store.keyHandle(delegationId) : null;
    const pub = kind === 'token' ? { keytype: 'ecdsa', keyval: { private: null, public: Buffer.from(encodeSpki(handle.publicKey)).toString('base64') } } : null;
    const key = pub ?? (await files.list(), publicOf(await files.getPrivateKey(delegationId)));
    const changes = [];
    for (let i = 0; i < ROLES; i++) changes.push(L.delegationChange('create', `targets/r${String(i).padStart(2, '0')}`, { threshold: 1, addKeys: [key], addPaths: [''] }));
    await writer.publish(changes);
    return { writer, remote, close: () => tok?.close() };
  }
  const { encodeSpki } = await import('../dist/core/x509.js');
  const { publicKeyOf } = await import('../dist/core/init.js');
  const publicOf = ({ privateKey }) => publicKeyOf(privateKey);

  const repos = { file: await repository('file'), token: await repository('token') };
  const samples = { file: [], token: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const kind of run % 2 === 0 ? ['file', 'token'] : ['token', 'file']) {
      const meta = L.fileMetaOf(new TextEncoder().encode(`run ${run}`), crypto);
      const changes = [L.targetCreateChange('targets', `t-${run}`, meta)];
      for (let i = 0; i < ROLES; i++) changes.push(L.targetCreateChange(`targets/r${String(i).padStart(2, '0')}`, `t-${run}`, meta));
      const t = performance.now();
      await repos[kind].writer.publish(changes);
      samples[kind].push(performance.now() - t);
    }
  }
  for (const r of Object.values(repos)) {
    await r.remote.close();
    r.close();
  }
  result.publish50 = { roles: ROLES, signaturesOnTokenPerPublish: ROLES + 1, file: stats(samples.file), token: stats(samples.token) };
  result.publish50.ratio = result.publish50.token.median / result.publish50.file.median;
  console.error(
    `publish, ${ROLES} delegated roles + targets re-signed: keys in files ${result.publish50.file.median.toFixed(0)} ms | on SoftHSM ${result.publish50.token.median.toFixed(0)} ms | ratio ${result.publish50.ratio.toFixed(2)}`,
  );
  writeResult('pkcs11', result);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
