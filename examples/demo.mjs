// The notary-ts demo: verify a repository the real Go notary made (committed in test-vectors/), ask which
// digest a tag is and who signed it, then watch tampered and frozen copies being refused.
// Run: npm ci && npm run demo
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  loadCollection, listTargets, lookupTarget, NotaryError, toHex, fromBase64, Metadata, serializeEnvelope, nodeCryptoBackend,
  FileKeyStore, constantRetriever, DirectoryRemote, RepositoryWriter, TrustedRepository, MemoryMetadataCache, FileMetadataCache,
  targetCreateChange, fileMetaOf,
} from '../dist/index.js';

// Any failure: one line and exit 1, never a stack trace (a rejected top-level await lands here).
process.on('uncaughtException', (err) => {
  console.error(err instanceof NotaryError ? `demo failed [${err.code}]: ${err.message}` : `demo failed: ${err?.message ?? err}`);
  process.exit(1);
});

const root = join(fileURLToPath(import.meta.url), '..', '..');
const set = join(root, 'test-vectors', 'delegations');
const manifest = JSON.parse(readFileSync(join(set, 'manifest.json'), 'utf8'));

function readFiles(dir) {
  const files = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p).slice(0, -'.json'.length), new Uint8Array(readFileSync(p)));
    }
  };
  walk(dir);
  return files;
}

const files = readFiles(join(set, 'metadata'));
// The vectors were signed by a real notary-server whose timestamp lives 14 days: judge them as of then.
const clock = () => new Date(manifest.generatedAt);
const options = { gun: manifest.gun, crypto: nodeCryptoBackend, clock };
const hex = (b64) => toHex(fromBase64(b64));

console.log(`Repository ${manifest.gun} (made by Go notary ${manifest.notaryVersion})\n`);
const { set: trusted } = await loadCollection((name) => files.get(name), options);
for (const t of listTargets(trusted)) console.log(`  ${t.name.padEnd(16)} ${hex(t.hashes.sha256).slice(0, 16)}…  ${String(t.length).padStart(4)} bytes  ${t.role}`);

const answer = lookupTarget(trusted, 'rel/one');
console.log(`\nWhich digest is "rel/one", and who signed it?\n  sha256:${hex(answer.hashes.sha256)}\n  role ${answer.role}, key ${answer.signers[0]}\n`);

async function refused(label, source, opts = options) {
  try {
    await loadCollection(source, opts);
    console.log(`  ${label}: ACCEPTED (this should not happen)`);
    process.exitCode = 1;
  } catch (err) {
    if (!(err instanceof NotaryError)) throw err;
    console.log(`  ${label}: refused [${err.code}] ${err.message}`);
  }
}

console.log('Attacks:');
// 1. Change one target's length in targets.json, keep the signature.
const targets = Metadata.fromBytes(files.get('targets'), 'targets');
const forged = structuredClone(targets.signed);
Object.values(forged.targets)[0].length += 1;
const tampered = new Map(files).set('targets', serializeEnvelope(forged, targets.signatures));
await refused('tampered targets.json', (n) => tampered.get(n));
// 2. Swap in another repository's snapshot (mix-and-match).
const other = readFiles(join(root, 'test-vectors', 'basic', 'metadata'));
const mixed = new Map(files).set('snapshot', other.get('snapshot'));
await refused('snapshot from another repository', (n) => mixed.get(n));
// 3. Replay the same files a month later (freeze attack): the timestamp has expired.
const later = new Date(new Date(manifest.generatedAt).getTime() + 30 * 86400_000);
await refused('same files 30 days later', (n) => files.get(n), { ...options, clock: () => later });
// 4. Claim the repository is someone else's.
await refused('wrong repository name', (n) => files.get(n), { ...options, gun: 'example.com/someone-else' });

// Part 2: sign. Create a repository with our writer and publish it into a directory laid out like a
// Notary server (serve it with any static file server and the Go client reads it), then verify it back.
console.log('\nSigning:');
const work = mkdtempSync(join(tmpdir(), 'notary-ts-demo-'));
const gun = 'registry.example.com/demo/app';
const crypto = nodeCryptoBackend;
const keyStore = await FileKeyStore.open(join(work, 'trust'), { retriever: constantRetriever('demo passphrase'), crypto });
const mirror = new DirectoryRemote({ dir: join(work, 'www'), gun, keyStore, crypto });
const writer = new RepositoryWriter({ gun, remote: mirror, cache: new FileMetadataCache(join(work, 'trust'), gun), keyStore, crypto });
const init = await writer.init();
console.log(`  init: root key ${init.rootKeyId.slice(0, 16)}… in a Notary self-signed certificate for ${gun}`);
const manifest1 = new TextEncoder().encode('{"schemaVersion":2,"layers":[]}');
await writer.publish([targetCreateChange('targets', 'v1.0.0', fileMetaOf(manifest1, crypto))]);
console.log(`  published v1.0.0 into ${join(work, 'www')}/v2/${gun}/_trust/tuf/`);
const reader = await TrustedRepository.open({ gun, remote: mirror, cache: new MemoryMetadataCache(), crypto });
const v1 = await reader.lookup('v1.0.0');
console.log(`  verified back: v1.0.0 = sha256:${hex(v1.hashes.sha256)} signed by ${v1.role}`);
