/**
 * FileKeyStore against trust_dirs the real Notary wrote, Notary's legacy fixtures (migration compared with
 * what the Go client does to a copy), damaged files, file modes, and two processes writing at once.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../src/core/bytes.js';
import { NotaryError } from '../src/core/errors.js';
import { canonicalKeyId, decodePublicKey, type PublicKeyLike } from '../src/core/keys.js';
import { nodeCryptoBackend } from '../src/crypto/node.js';
import { decodeKeyFile, privateKeyId, readKeyFileInfo } from '../src/node/keyfile.js';
import { FileKeyStore, KEYSTORE_LOCK_FILE } from '../src/node/keystore.js';
import { callbackRetriever, constantRetriever, envRetriever, type PassphraseRetriever } from '../src/node/passphrase.js';
import { runNotary } from './support/cli.js';
import { notaryFixturesDir, REPO_ROOT, VECTORS_DIR } from './support/fixtures.js';

const crypto = nodeCryptoBackend;

function tmp(prefix = 'ks-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every path under dir (relative), with content hash and mode, so any change on disk shows. */
function treeState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const mode = (st.mode & 0o777).toString(8);
      if (st.isDirectory()) {
        out[relative(dir, p) + '/'] = mode;
        walk(p);
      } else out[relative(dir, p)] = `${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

function modesOk(dir: string): void {
  for (const [path, state] of Object.entries(treeState(dir))) {
    if (!path.startsWith('private')) continue;
    expect(state.split(' ')[0], path).toBe(path.endsWith('/') ? '700' : '600');
  }
}

async function expectCode(p: Promise<unknown>, code: string, mentions?: string): Promise<NotaryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    expect((err as NotaryError).code).toBe(code);
    if (mentions) expect((err as Error).message).toContain(mentions);
    return err as NotaryError;
  }
  throw new Error(`expected ${code}`);
}

function vectorSet(name: string) {
  const dir = join(VECTORS_DIR, name);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const trustDir = tmp();
  cpSync(join(dir, 'trust_dir', 'private'), join(trustDir, 'private'), { recursive: true });
  chmodSync(join(trustDir, 'private'), 0o700);
  const root = JSON.parse(readFileSync(join(dir, 'metadata', 'root.json'), 'utf8'));
  const targets = JSON.parse(readFileSync(join(dir, 'metadata', 'targets.json'), 'utf8'));
  return { manifest, trustDir, root, targets, env: manifest.passphraseEnv as Record<string, string> };
}

describe('keys notary 0.7 created (committed vectors)', () => {
  for (const name of ['basic', 'delegations']) {
    it(`${name}: lists every key with role and gun, decrypts it, and signs what the metadata key verifies`, async () => {
      const v = vectorSet(name);
      const store = await FileKeyStore.open(v.trustDir, { retriever: envRetriever(v.env) });
      const keys = await store.list();
      expect(keys.map((k) => k.keyId).sort()).toEqual(readdirSync(join(v.trustDir, 'private')).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4)).sort());
      expect(keys[0]!.role).toBe('root');
      // Every public key in root and in the top-level delegations, by canonical ID.
      const published = new Map<string, PublicKeyLike>();
      for (const k of Object.values<PublicKeyLike>(v.root.signed.keys)) published.set(canonicalKeyId(k, crypto), k);
      for (const k of Object.values<PublicKeyLike>(v.targets.signed.delegations?.keys ?? {})) published.set(canonicalKeyId(k, crypto), k);
      let checked = 0;
      for (const info of keys) {
        if (info.role === 'targets' || info.role === 'snapshot') expect(info.gun).toBe(v.manifest.gun);
        else expect(info.gun).toBe('');
        const pub = published.get(info.keyId);
        if (!pub) continue; // e.g. a nested delegation's key, published deeper down
        const signer = await store.getSigner(info.keyId, pub);
        const message = utf8Encode(`notary-ts signs with ${info.keyId}`);
        const sig = await signer.sign(message);
        expect(crypto.verify(signer.method, decodePublicKey(pub).material, message, sig)).toBe(true);
        expect(crypto.verify(signer.method, decodePublicKey(pub).material, utf8Encode('other'), sig)).toBe(false);
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(name === 'basic' ? 3 : 5);
    });
  }

  it('a wrong passphrase is tried twice from the environment, then BAD_PASSPHRASE; nothing on disk changes', async () => {
    const v = vectorSet('basic');
    const store = await FileKeyStore.open(v.trustDir, { retriever: envRetriever({ NOTARY_TARGETS_PASSPHRASE: 'wrong' }) });
    const before = treeState(v.trustDir);
    const targets = (await store.list()).find((k) => k.role === 'targets')!;
    const err = await expectCode(store.getPrivateKey(targets.keyId), 'BAD_PASSPHRASE', targets.keyId);
    expect(err.message).toContain('password invalid, operation has failed.');
    expect(err.message).not.toContain('wrong');
    await expectCode(store.changePassphrase(targets.keyId, constantRetriever('newpassphrase')), 'BAD_PASSPHRASE');
    expect(treeState(v.trustDir)).toEqual(before);
    const asked: number[] = [];
    const counting: PassphraseRetriever = (r) => {
      asked.push(r.attempt);
      return envRetriever({ NOTARY_TARGETS_PASSPHRASE: 'wrong' })(r);
    };
    await expectCode((await FileKeyStore.open(v.trustDir, { retriever: counting })).getPrivateKey(targets.keyId), 'BAD_PASSPHRASE');
    expect(asked).toEqual([0, 1, 2]); // attempt 2 answers giveUp: two real tries, as Notary
  });
});

describe('legacy layouts migrate exactly as notary does it', () => {
  for (const [fixture, passphrase] of [
    ['notary0.1', 'randompass'],
    ['notary0.3', 'password'],
  ] as const) {
    it(`${fixture}: same files, bytes and listing as the Go client leaves on a copy; keys still decrypt`, async () => {
      const ours = tmp();
      const go = tmp();
      cpSync(join(notaryFixturesDir(), fixture), ours, { recursive: true });
      cpSync(join(notaryFixturesDir(), fixture), go, { recursive: true });
      const goList = await runNotary(['-d', go, 'key', 'list']);
      expect(goList.code).toBe(0);
      const store = await FileKeyStore.open(ours, { retriever: constantRetriever(passphrase) });
      const strip = (t: Record<string, string>) =>
        Object.fromEntries(Object.entries(t).filter(([p]) => p.startsWith('private')).map(([p, s]) => [p, s.split(' ')[1] ?? 'dir']));
      expect(strip(treeState(ours))).toEqual(strip(treeState(go)));
      expect(existsSync(join(ours, 'private', 'root_keys'))).toBe(false);
      expect(existsSync(join(ours, 'private', 'tuf_keys'))).toBe(false);
      expect(existsSync(join(ours, 'trusted_certificates'))).toBe(existsSync(join(go, 'trusted_certificates')));
      for (const f of readdirSync(join(ours, 'private'))) expect((lstatSync(join(ours, 'private', f)).mode & 0o777).toString(8)).toBe('600');
      const keys = await store.list();
      expect(keys.length).toBeGreaterThanOrEqual(3);
      for (const k of keys) {
        const { privateKey } = await store.getPrivateKey(k.keyId);
        expect(privateKeyId(privateKey)).toBe(k.keyId);
      }
      // Re-storing converts to PKCS#8 (as `notary key passwd` does) and the Go client can read the result.
      const target = keys.find((k) => k.role === 'targets')!;
      await store.changePassphrase(target.keyId, constantRetriever('new-targets-pass'));
      const text = readFileSync(join(ours, 'private', target.keyId + '.key'), 'latin1');
      expect(readKeyFileInfo(text).type).toBe('ENCRYPTED PRIVATE KEY');
      expect(readKeyFileInfo(text).gun).toBe(target.gun);
      const goPasswd = await runNotary(['-d', ours, 'key', 'passwd', target.keyId], { env: { NOTARY_TARGETS_PASSPHRASE: 'new-targets-pass' } });
      expect(goPasswd.stdout).toContain('Successfully updated passphrase');
    });
  }
});

describe('damaged files and wrong types', () => {
  it('give typed errors naming the file, are skipped by list (as notary), and change nothing on disk', async () => {
    const v = vectorSet('basic');
    const dir = join(v.trustDir, 'private');
    const good = readdirSync(dir).find((f) => readFileSync(join(dir, f), 'latin1').includes('role: targets'))!;
    const text = readFileSync(join(dir, good), 'latin1');
    const id = (n: number) => n.toString(16).padStart(64, 'a');
    writeFileSync(join(dir, id(1) + '.key'), text.slice(0, 180), { mode: 0o600 }); // truncated: no END line
    writeFileSync(join(dir, id(2) + '.key'), 'not a key\n', { mode: 0o600 });
    writeFileSync(join(dir, id(3) + '.key'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', { mode: 0o600 });
    const lines = text.split('\n');
    const flip = (line: string, at: number) => line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
    writeFileSync(join(dir, id(4) + '.key'), [...lines.slice(0, 6), flip(lines[6]!, 10), ...lines.slice(7)].join('\n'), { mode: 0o600 });
    writeFileSync(join(dir, id(5) + '.key'), [...lines.slice(0, 5), ...lines.slice(6)].join('\n'), { mode: 0o600 });
    const logs: string[] = [];
    const store = await FileKeyStore.open(v.trustDir, { retriever: envRetriever(v.env), log: (_l, m) => logs.push(m) });
    const before = treeState(v.trustDir);
    const listed = (await store.list()).map((k) => k.keyId);
    expect(listed).not.toContain(id(1));
    expect(listed).not.toContain(id(2));
    expect(listed).not.toContain(id(3));
    expect(listed).toContain(id(4)); // header intact: listed, as notary lists it
    expect(logs.some((l) => l.includes(id(1)))).toBe(true);
    await expectCode(store.getPrivateKey(id(1)), 'MALFORMED_KEY', id(1));
    await expectCode(store.getPrivateKey(id(2)), 'MALFORMED_KEY', id(2));
    await expectCode(store.getPrivateKey(id(3)), 'UNSUPPORTED_KEY_TYPE', id(3));
    // A flipped ciphertext byte decrypts to garbage: indistinguishable from a wrong passphrase.
    await expectCode(store.getPrivateKey(id(4)), 'BAD_PASSPHRASE', id(4));
    await expectCode(store.getPrivateKey(id(5)), 'MALFORMED_KEY', id(5));
    await expectCode(store.getPrivateKey('f'.repeat(64)), 'KEY_NOT_FOUND');
    for (const n of [1, 2, 3, 4, 5]) await expect(store.changePassphrase(id(n), constantRetriever('whatever1'))).rejects.toBeInstanceOf(NotaryError);
    expect(treeState(v.trustDir)).toEqual(before);
  });
});

describe('writes', () => {
  it('add / import / passwd / remove keep 0600 files in 0700 dirs and the lock file is gone afterwards', async () => {
    const trustDir = join(tmp(), 'fresh');
    const store = await FileKeyStore.open(trustDir, { retriever: constantRetriever('a-passphrase') });
    modesOk(trustDir);
    const k1 = await store.add(crypto.generateKey('ecdsa'), { role: 'targets', gun: 'example.com/app' });
    const k2 = await store.add(crypto.generateKey('ecdsa'), { role: 'root', gun: 'ignored/for/root' });
    const k3 = await store.add(crypto.generateKey('ed25519'), { role: 'targets/qa', gun: 'ignored' });
    modesOk(trustDir);
    const listed = await store.list();
    expect(listed.map((k) => [k.role, k.gun, k.keyId])).toEqual([
      ['root', '', k2],
      ['targets/qa', '', k3],
      ['targets', 'example.com/app', k1],
    ]);
    await store.changePassphrase(k1, constantRetriever('another-pass'));
    modesOk(trustDir);
    const exported = await store.exportKeys();
    const other = await FileKeyStore.open(join(tmp(), 'other'), { retriever: constantRetriever('x') });
    expect((await other.importKeys(exported)).sort()).toEqual([k1, k2, k3].sort());
    modesOk(other.trustDir);
    expect(await store.remove(k3)).toBe(true);
    expect(await store.remove(k3)).toBe(false);
    modesOk(trustDir);
    expect(existsSync(join(trustDir, 'private', KEYSTORE_LOCK_FILE))).toBe(false);
    expect(readdirSync(join(trustDir, 'private')).filter((f) => !f.endsWith('.key'))).toEqual([]);
    const { privateKey } = await (await FileKeyStore.open(trustDir, { retriever: constantRetriever('another-pass') })).getPrivateKey(k1);
    expect(privateKeyId(privateKey)).toBe(k1);
  });

  it('a callback retriever sees role and attempt; an empty passphrase stores an unencrypted PRIVATE KEY as notary does', async () => {
    const seen: string[] = [];
    const store = await FileKeyStore.open(tmp(), {
      retriever: callbackRetriever((r) => {
        seen.push(`${r.alias}:${r.createNew}:${r.attempt}`);
        return '';
      }),
    });
    const id = await store.add(crypto.generateKey('ecdsa'), { role: 'snapshot', gun: 'g' });
    const text = readFileSync(join(store.privateDir, id + '.key'), 'latin1');
    expect(text.startsWith('-----BEGIN PRIVATE KEY-----\ngun: g\nrole: snapshot\n\n')).toBe(true);
    expect(privateKeyId((await store.getPrivateKey(id)).privateKey)).toBe(id);
    expect(seen).toEqual(['snapshot:true:0']);
  });
});

describe('two processes writing at once', () => {
  let build: string;
  beforeAll(() => {
    // Inside the repository so the compiled modules resolve node_modules (zod, …).
    mkdirSync(join(REPO_ROOT, 'node_modules', '.cache'), { recursive: true });
    build = mkdtempSync(join(REPO_ROOT, 'node_modules', '.cache', 'keystore-test-build-'));
    try {
      execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(REPO_ROOT, 'tsconfig.json'), '--outDir', build, '--noEmit', 'false'], { stdio: 'ignore' });
    } catch {
      // tsc exits non-zero on type errors elsewhere in the tree but still emits
    }
  }, 120_000);
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  it('leave a consistent store: every key present, decryptable, 0600, no temp or lock files', async () => {
    const trustDir = tmp();
    const legacy = join(notaryFixturesDir(), 'notary0.1');
    cpSync(legacy, trustDir, { recursive: true }); // both processes also race to migrate
    const script = `
      const { FileKeyStore } = await import(${JSON.stringify(join(build, 'node', 'keystore.js'))});
      const { constantRetriever } = await import(${JSON.stringify(join(build, 'node', 'passphrase.js'))});
      const { nodeCryptoBackend } = await import(${JSON.stringify(join(build, 'crypto', 'node.js'))});
      const store = await FileKeyStore.open(process.argv[1], { retriever: constantRetriever('concurrent-pass') });
      const ids = [];
      for (let i = 0; i < 15; i++) ids.push(await store.add(nodeCryptoBackend.generateKey('ecdsa'), { role: 'targets', gun: 'race/' + process.pid }));
      process.stdout.write(JSON.stringify(ids));
    `;
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, trustDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const store = await FileKeyStore.open(trustDir, { retriever: constantRetriever('concurrent-pass') });
    const listed = new Set((await store.list()).map((k) => k.keyId));
    for (const id of [...a!, ...b!]) {
      expect(listed.has(id)).toBe(true);
      expect(privateKeyId((await store.getPrivateKey(id)).privateKey)).toBe(id);
    }
    expect(listed.size).toBe(30 + 3); // + the three migrated legacy keys
    expect(readdirSync(join(trustDir, 'private')).filter((f) => !f.endsWith('.key'))).toEqual([]);
    modesOk(trustDir);
    // The migrated legacy keys survived the race intact.
    for (const k of await store.list()) {
      if (k.gun.startsWith('race/')) continue;
      const text = readFileSync(join(trustDir, 'private', k.keyId + '.key'), 'latin1');
      expect(privateKeyId(decodeKeyFile(text, 'randompass'))).toBe(k.keyId);
    }
  }, 120_000);
});


