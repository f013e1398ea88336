/**
 * Keys behind a PKCS#11 token (SoftHSM2), judged by notary-server and the Go client: init with the root on
 * the token, root rotations file ↔ token followed by a Go reader, a delegation key on the token, Go's own
 * YubiKey code path reading and signing with our token keys, and the faults (wrong PIN, missing module,
 * missing pkcs11js, a module failing mid-publish, a token that never confirms a touch) in separate
 * processes, each leaving nothing written.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, type RootSigned } from '../src/core/metadata.js';
import { resolvePkcs11Settings, GO_YUBIKEY_MODULE_PATHS } from '../src/tokens/pkcs11/config.js';
import { Pkcs11KeyStore } from '../src/tokens/pkcs11/token-store.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { NotaryRemote } from '../src/node/remote.js';
import { FileKeyStore } from '../src/node/keystore.js';
import { encodePublicKeyPem } from '../src/node/keyfile.js';
import { envRetriever } from '../src/node/passphrase.js';
import { PASSPHRASE_ENV, goNotary, startServer, tempDir, type Server } from './support/go-repo.js';
import { createSoftHsm, SOFTHSM_MODULE, USER_PIN, type SoftHsm } from './support/softhsm.js';

const BIN = join(process.cwd(), 'dist', 'cli', 'main.js');

let server: Server;
let hsm: SoftHsm;
const temps: string[] = [];
const temp = () => {
  const d = tempDir('notary-ts-p11-');
  temps.push(d);
  return d;
};

beforeAll(async () => {
  server = await startServer();
  hsm = createSoftHsm();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  hsm?.remove();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** The shipped bin in its own process (token faults must end the process, not a test runner). */
function bin(args: readonly string[], env: Record<string, string | undefined> = {}, stdin = ''): Promise<Run> {
  return new Promise((done, reject) => {
    const full = Object.fromEntries(
      Object.entries({ PATH: process.env['PATH'], HOME: process.env['HOME'], TZ: 'UTC', ...PASSPHRASE_ENV, ...env }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const child = spawn(process.execPath, [BIN, ...args], { env: full, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => done({ stdout, stderr, code: code ?? -1 }));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

const ok = (r: Run, what: string) => expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);

/** Our CLI against the server with the token configured (env), plus extra env. */
const ours = (trustDir: string, args: string[], env: Record<string, string | undefined> = {}, stdin = '') =>
  bin(['-s', server.url, '-d', trustDir, ...args], { ...hsm.env, ...env }, stdin);
/** Our CLI with no token at all. */
const plain = (trustDir: string, args: string[], env: Record<string, string | undefined> = {}, stdin = '') =>
  bin(['-s', server.url, '-d', trustDir, ...args], env, stdin);

const goList = (gun: string, dir: string) => goNotary(['-s', server.url, '-d', dir, 'list', gun]);

/** Roles of the private key files in a trust dir. */
function fileKeyRoles(trustDir: string): string[] {
  const dir = join(trustDir, 'private');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.key'))
    .map((f) => /^role: (.*)$/m.exec(readFileSync(join(dir, f), 'latin1'))?.[1] ?? '');
}

async function serverRoot(gun: string): Promise<RootSigned> {
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  try {
    return (Metadata.fromBytes(await remote.getRoot(), 'root') as Metadata<'Root'>).signed;
  } finally {
    await remote.close();
  }
}

/** Canonical IDs and locations from `key list --json`. */
async function keyList(trustDir: string, env: Record<string, string | undefined> = {}) {
  const r = await ours(trustDir, ['--json', 'key', 'list'], env);
  ok(r, 'key list');
  return JSON.parse(r.stdout) as Array<{ role: string; gun: string; keyId: string; location: string }>;
}

function payload(dir: string, text = 'payload\n'): string {
  const p = join(dir, 'payload.txt');
  writeFileSync(p, text);
  return p;
}

describe('root key on the token', () => {
  it('init: the root key is made and certified on the token; notary-server and a fresh Go client accept the repository', async () => {
    const gun = 'example.com/p11/init';
    const trustDir = temp();
    ok(await ours(trustDir, ['init', gun, '-p']), 'init');
    ok(await ours(trustDir, ['add', gun, 'v1', payload(trustDir), '-p']), 'add');

    // No private root key material in the trust dir: the root key lives only on the token.
    expect(fileKeyRoles(trustDir).sort()).toEqual(['snapshot', 'targets']);
    const keys = await keyList(trustDir);
    const root = keys.find((k) => k.role === 'root')!;
    expect(root.location).toBe(hsm.label);

    // The root certificate in root.json certifies the token key (canonical ID) and is CN=<gun>.
    const rootSigned = await serverRoot(gun);
    const rootKeyId = rootSigned.roles!['root']!.keyids![0]!;
    expect(rootSigned.keys![rootKeyId]!.keytype).toBe('ecdsa-x509');
    const { canonicalKeyId } = await import('../src/core/keys.js');
    expect(canonicalKeyId(rootSigned.keys![rootKeyId]!, crypto)).toBe(root.keyId);

    expect(goList(gun, temp())).toContain('v1');
    const reader = await plain(temp(), ['list', gun]);
    ok(reader, 'our reader');
    expect(reader.stdout).toContain('v1');
  }, 120_000);
});

describe('root rotation between a file key and a token key', () => {
  it('file → token → file; a Go reader holding the old root follows each rotation', async () => {
    const gun = 'example.com/p11/rotate';
    const trustDir = temp();
    // Root in the files first (no token configured).
    ok(await plain(trustDir, ['init', gun, '-p']), 'init without token');
    ok(await plain(trustDir, ['add', gun, 'before', payload(trustDir), '-p']), 'add');
    const goReader = temp();
    expect(goList(gun, goReader)).toContain('before');
    const fileRoot = (await keyList(trustDir, { NOTARY_PKCS11_MODULE: undefined })).find((k) => k.role === 'root')!;
    expect(fileRoot.location).toContain(trustDir);

    // file → token: signed by the old (file) key and the new (token) key.
    ok(await ours(trustDir, ['key', 'rotate', gun, 'root'], {}, 'yes\n'), 'rotate to token');
    const afterFirst = await keyList(trustDir);
    const tokenRoot = afterFirst.find((k) => k.role === 'root' && k.location === hsm.label && k.keyId !== fileRoot.keyId);
    expect(tokenRoot, JSON.stringify(afterFirst)).toBeDefined();
    ok(await ours(trustDir, ['add', gun, 'middle', payload(trustDir), '-p']), 'add after rotation');
    const middle = goList(gun, goReader);
    expect(middle).toContain('middle');

    // token → file: NOTARY_PKCS11_ROLES=none puts the new root key in the files; the token key signs as old.
    ok(await ours(trustDir, ['key', 'rotate', gun, 'root'], { NOTARY_PKCS11_ROLES: 'none' }, 'yes\n'), 'rotate to file');
    const root = await serverRoot(gun);
    const { canonicalKeyId } = await import('../src/core/keys.js');
    const current = root.roles!['root']!.keyids!.map((id) => canonicalKeyId(root.keys![id]!, crypto));
    expect(current).not.toContain(tokenRoot!.keyId);
    const afterSecond = await keyList(trustDir);
    const newFileRoot = afterSecond.find((k) => k.keyId === current[0]);
    expect(newFileRoot?.location).toContain(trustDir);
    ok(await ours(trustDir, ['add', gun, 'after', payload(trustDir), '-p'], { NOTARY_PKCS11_ROLES: 'none' }), 'add after second rotation');
    const last = goList(gun, goReader);
    expect(last).toContain('after');
    expect(last).toContain('before');
  }, 180_000);
});

describe('a delegation key on the token', () => {
  it('key generate --pkcs11 -r targets/ci -o; delegation add; add -r targets/ci -p; Go lists the target and the key', async () => {
    const gun = 'example.com/p11/delegation';
    const trustDir = temp();
    ok(await plain(trustDir, ['init', gun, '-p']), 'init');
    const gen = await ours(trustDir, ['key', 'generate', '--pkcs11', '-r', 'targets/ci', '-o', join(trustDir, 'ci')]);
    ok(gen, 'generate');
    const keyId = /keyID: ([0-9a-f]{64})/.exec(gen.stdout)![1]!;
    const pem = readFileSync(join(trustDir, 'ci.pem'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\nrole: targets\/ci\n/);
    expect(fileKeyRoles(trustDir)).not.toContain('targets/ci');
    ok(await ours(trustDir, ['delegation', 'add', gun, 'targets/ci', join(trustDir, 'ci.pem'), '--all-paths', '-p']), 'delegation add');
    ok(await ours(trustDir, ['add', gun, 'built-by-ci', payload(trustDir), '-r', 'targets/ci', '-p']), 'add -r targets/ci');
    const goDir = temp();
    expect(goList(gun, goDir)).toMatch(/built-by-ci\s+\S+\s+\d+\s+targets\/ci/);
    expect(goNotary(['-s', server.url, '-d', goDir, 'delegation', 'list', gun])).toContain(keyId);

    // witness re-signs the role with the token key.
    const witnessed = await ours(trustDir, ['witness', gun, 'targets/ci', '-p']);
    ok(witnessed, 'witness');
    expect(goList(gun, temp())).toMatch(/built-by-ci\s+\S+\s+\d+\s+targets\/ci/);

    // An RSA key made on the token (rsapss signatures), and a software key moved onto the token.
    ok(await ours(trustDir, ['key', 'generate', 'rsa', '--pkcs11', '-r', 'targets/rsa', '-o', join(trustDir, 'rsa')]), 'generate rsa');
    ok(await ours(trustDir, ['delegation', 'add', gun, 'targets/rsa', join(trustDir, 'rsa.pem'), '--all-paths', '-p']), 'delegation add rsa');
    ok(await ours(trustDir, ['add', gun, 'rsa-signed', payload(trustDir), '-r', 'targets/rsa', '-p']), 'add -r targets/rsa');
    ok(await plain(trustDir, ['key', 'generate', '-r', 'targets/qa', '-o', join(trustDir, 'qa')]), 'software key');
    ok(await ours(trustDir, ['key', 'import', '--pkcs11', join(trustDir, 'qa-key.pem')]), 'import onto the token');
    expect((await keyList(trustDir)).find((k) => k.role === 'targets/qa')?.location).toBe(hsm.label);
    ok(await ours(trustDir, ['delegation', 'add', gun, 'targets/qa', join(trustDir, 'qa.pem'), '--all-paths', '-p']), 'delegation add qa');
    ok(await ours(trustDir, ['add', gun, 'qa-signed', payload(trustDir), '-r', 'targets/qa', '-p']), 'add -r targets/qa');
    const all = goList(gun, temp());
    expect(all).toMatch(/rsa-signed\s+\S+\s+\d+\s+targets\/rsa/);
    expect(all).toMatch(/qa-signed\s+\S+\s+\d+\s+targets\/qa/);

    // The key cannot be exported (it never left the token); key remove deletes it from the token.
    const exp = await ours(trustDir, ['key', 'export', '--key', keyId]);
    expect(exp.code).toBe(1);
    expect(exp.stdout).toContain('not extractable');
    const rm = await ours(trustDir, ['key', 'remove', keyId], {}, 'yes\n');
    ok(rm, 'key remove');
    expect(rm.stdout).toContain(`(role targets/ci) from ${hsm.label}`);
    expect((await keyList(trustDir)).some((k) => k.keyId === keyId)).toBe(false);
  }, 120_000);
});

describe('co-signing with a token key', () => {
  it('threshold 2: one key on the token (prepare), one in another trust dir (sign); Go lists the co-signed target', async () => {
    const gun = 'example.com/p11/cosign';
    const role = 'targets/rel';
    const dirA = temp();
    const dirB = temp();
    ok(await ours(dirA, ['init', gun, '-p']), 'init');
    const genA = await ours(dirA, ['key', 'generate', '--pkcs11', '-r', role, '-o', join(dirA, 'a')]);
    ok(genA, 'token key');
    const idA = /keyID: ([0-9a-f]{64})/.exec(genA.stdout)![1]!;
    // B's key: in B's trust dir, as `notary key generate -r targets/rel` would keep it.
    const keyB = crypto.generateKey('ecdsa');
    const storeB = await FileKeyStore.open(dirB, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
    await storeB.add(keyB, { role });
    writeFileSync(join(dirB, 'b.pem'), encodePublicKeyPem(keyB, role));
    ok(await ours(dirA, ['delegation', 'add', gun, role, join(dirA, 'a.pem'), join(dirB, 'b.pem'), '--all-paths', '--threshold', '2', '-p']), 'delegation add');
    ok(await ours(dirA, ['add', gun, 'rel-1', payload(dirA), '-r', role]), 'stage');
    const pending = join(dirA, 'pending.json');
    const prepared = await ours(dirA, ['--json', 'cosign', 'prepare', gun, role, pending]);
    ok(prepared, 'prepare');
    expect(JSON.parse(prepared.stdout)).toMatchObject({ signedBy: [expect.any(String)], complete: false });
    const signed = await plain(dirB, ['cosign', 'sign', gun, role, pending]);
    ok(signed, 'sign');
    expect(signed.stdout).toContain('Signatures: 2 of 2 needed (complete)');
    ok(await ours(dirA, ['cosign', 'publish', gun, role, pending]), 'publish');
    expect(goList(gun, temp())).toMatch(/rel-1\s+\S+\s+\d+\s+targets\/rel/);
    expect(goNotary(['-s', server.url, '-d', temp(), 'delegation', 'list', gun])).toContain(idA);
  }, 120_000);
});

describe("Go notary's YubiKey code path on the same token", () => {
  it('Go lists our token keys as `yubikey` and signs a root with our token root key; our probe finds the module too', async () => {
    const link = GO_YUBIKEY_MODULE_PATHS[0]!;
    expect(existsSync(link), `${link} exists already: a real YubiKey module is installed; this test only adds a temporary symlink`).toBe(false);
    const gun = 'example.com/p11/go-yubikey';
    const trustDir = temp();
    ok(await ours(trustDir, ['init', gun, '-p']), 'init with token root');
    ok(await ours(trustDir, ['add', gun, 'ours', payload(trustDir), '-p']), 'add');
    const rootId = (await keyList(trustDir)).find((k) => k.role === 'root' && k.location === hsm.label)!.keyId;

    // Go's own layout as an option: a software key in a PIV slot (CKA_ID 0..3) plus an encrypted backup.
    const layoutDir = temp();
    const gen = await ours(layoutDir, ['key', 'generate', '--pkcs11', '-r', 'root'], { NOTARY_PKCS11_LAYOUT: 'yubikey' });
    ok(gen, 'generate in the yubikey layout');
    const layoutId = /keyID: ([0-9a-f]{64})/.exec(gen.stdout)![1]!;
    expect(fileKeyRoles(layoutDir)).toEqual(['root']);

    symlinkSync(SOFTHSM_MODULE, link);
    try {
      const goEnv = { SOFTHSM2_CONF: hsm.conf };
      const listed = goNotary(['-s', server.url, '-d', trustDir, 'key', 'list'], goEnv);
      expect(listed).toMatch(new RegExp(`root\\s+${rootId}\\s+yubikey`));
      const layoutListed = goNotary(['-s', server.url, '-d', layoutDir, 'key', 'list'], goEnv);
      expect(layoutListed).toMatch(new RegExp(`root\\s+${layoutId}\\s+yubikey`));
      expect(layoutListed).toMatch(new RegExp(`root\\s+${layoutId}\\s+\\S*${layoutDir.slice(-8)}/private`));
      // Go re-signs root with our token key (a targets key rotation) from its own trust dir.
      // (from our trust dir: Go reads our snapshot key file and our cached metadata as they are)
      goNotary(['-s', server.url, '-d', trustDir, 'key', 'rotate', gun, 'targets'], goEnv);
      // With nothing configured, we probe Go's YubiKey paths as Go does and find the same token.
      const probed = await plain(trustDir, ['--json', 'key', 'list'], { SOFTHSM2_CONF: hsm.conf, NOTARY_PKCS11_PIN: USER_PIN });
      ok(probed, 'probe');
      expect(JSON.parse(probed.stdout).find((k: { keyId: string }) => k.keyId === rootId)?.location).toBe(hsm.label);
    } finally {
      unlinkSync(link);
    }
    expect(() => lstatSync(link)).toThrow();
    // The root Go signed verifies for Go and for us.
    expect(goList(gun, temp())).toContain('ours');
    const reader = await plain(temp(), ['list', gun]);
    ok(reader, 'our reader after Go signed');
    expect(reader.stdout).toContain('ours');
  }, 120_000);
});

describe('faults: typed errors, nothing written', () => {
  /** Everything under tuf/<gun> and private/, with contents. */
  function snapshotDir(trustDir: string): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (!e.name.startsWith('.')) out.set(p, readFileSync(p, 'latin1'));
      }
    };
    walk(join(trustDir, 'tuf'));
    walk(join(trustDir, 'private'));
    return out;
  }

  it('wrong PIN at init: TOKEN_PIN_INCORRECT, tried once, no keys or metadata written; the right PIN still works', async () => {
    const gun = 'example.com/p11/wrong-pin';
    const trustDir = temp();
    const r = await ours(trustDir, ['--json', 'init', gun], { NOTARY_PKCS11_PIN: '000000' });
    expect(r.code).toBe(1);
    // (the token may already hold a root key from another test: then "Root key found, using: …" comes first)
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).error.code).toBe('TOKEN_PIN_INCORRECT');
    expect(r.stdout + r.stderr).not.toContain('000000');
    expect([...snapshotDir(trustDir).keys()]).toEqual([]);
    ok(await ours(trustDir, ['init', gun]), 'init with the right PIN');
  }, 60_000);

  it('the PIN is tried once: a wrong PIN logs in once; a locked PIN or one on its final try (no terminal) is never tried', async () => {
    const gun = 'example.com/p11/pin-attempts';
    const trustDir = temp();
    const log = join(trustDir, 'logins.txt');
    const logins = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').length : 0);
    const viaShim = { NOTARY_PKCS11_MODULE: hsm.shim, PKCS11_SHIM_LOG: log };
    const wrong = await ours(trustDir, ['init', gun], { ...viaShim, NOTARY_PKCS11_PIN: '000000' });
    expect(wrong.code).toBe(1);
    expect(logins()).toBe(1);
    const locked = await ours(trustDir, ['--json', 'init', gun], { ...viaShim, PKCS11_SHIM_PIN_FLAGS: 'locked' });
    expect(locked.code).toBe(1);
    expect(JSON.parse(locked.stdout.trim().split('\n').pop()!).error.code).toBe('TOKEN_PIN_LOCKED');
    const final = await ours(trustDir, ['init', gun], { ...viaShim, PKCS11_SHIM_PIN_FLAGS: 'final' });
    expect(final.code).toBe(1);
    expect(final.stdout).toContain('has one PIN attempt left: enter the PIN at a terminal (no PIN was tried)');
    expect(logins()).toBe(1);
    expect([...snapshotDir(trustDir).keys()]).toEqual([]);
  }, 60_000);

  it('missing module, missing pkcs11js: one clear line, exit 1; without a token everything works without pkcs11js', async () => {
    const trustDir = temp();
    const missing = await ours(trustDir, ['--json', 'init', 'example.com/p11/missing'], { NOTARY_PKCS11_MODULE: join(trustDir, 'nope.so') });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'TOKEN_UNAVAILABLE' });
    expect(JSON.parse(missing.stdout).error.message).toContain('cannot load the PKCS#11 module');
    const noLib = await ours(trustDir, ['init', 'example.com/p11/missing'], { NOTARY_TS_NO_PKCS11JS: '1' });
    expect(noLib.code).toBe(1);
    expect(noLib.stdout).toBe('\n* fatal: PKCS#11 tokens need the optional package pkcs11js: run `npm install pkcs11js` (it builds with python3, make and a C++ compiler)\n');
    expect([...snapshotDir(trustDir).keys()]).toEqual([]);
    const gen = await plain(trustDir, ['key', 'generate', '--pkcs11'], { NOTARY_TS_NO_PKCS11JS: '1' });
    expect(gen.code).toBe(1);
    expect(gen.stdout).toContain('no PKCS#11 token configured');
    ok(await plain(trustDir, ['init', 'example.com/p11/no-token', '-p'], { NOTARY_TS_NO_PKCS11JS: '1' }), 'init without token and without pkcs11js');
  }, 60_000);

  it('a module failing mid-publish (second signature): TOKEN_FAILED, server, cache and changelist unchanged', async () => {
    const gun = 'example.com/p11/mid-publish';
    const trustDir = temp();
    // targets and targets/ci both on the token: a publish touching both needs two token signatures.
    ok(await ours(trustDir, ['init', gun, '-p'], { NOTARY_PKCS11_ROLES: 'root,targets' }), 'init');
    expect(fileKeyRoles(trustDir)).toEqual(['snapshot']);
    ok(await ours(trustDir, ['key', 'generate', '--pkcs11', '-r', 'targets/ci', '-o', join(trustDir, 'ci')]), 'generate');
    ok(await ours(trustDir, ['delegation', 'add', gun, 'targets/ci', join(trustDir, 'ci.pem'), '--all-paths', '-p']), 'delegation');
    ok(await ours(trustDir, ['add', gun, 'one', payload(trustDir)]), 'stage 1');
    ok(await ours(trustDir, ['add', gun, 'two', payload(trustDir), '-r', 'targets/ci']), 'stage 2');
    ok(await ours(trustDir, ['list', gun]), 'refresh the cache'); // a publish refreshes it first, legitimately
    const before = snapshotDir(trustDir);
    const serverBefore = await serverRoot(gun);
    const r = await ours(trustDir, ['--json', 'publish', gun], { NOTARY_PKCS11_MODULE: hsm.shim, PKCS11_SHIM_FAIL_AFTER: '1' });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).error).toMatchObject({ code: 'TOKEN_FAILED' });
    expect(r.stdout).toContain('CKR_DEVICE_REMOVED');
    expect(snapshotDir(trustDir)).toEqual(before);
    expect(await serverRoot(gun)).toEqual(serverBefore);
    expect(goList(gun, temp())).not.toContain('one');
    // Through the shim without faults the same publish goes through.
    ok(await ours(trustDir, ['publish', gun], { NOTARY_PKCS11_MODULE: hsm.shim }), 'publish');
    expect(goList(gun, temp())).toMatch(/two\s+\S+\s+\d+\s+targets\/ci/);
  }, 120_000);

  it('a token that never confirms (touch): the prompt, then TOKEN_TIMEOUT; nothing written', async () => {
    const gun = 'example.com/p11/touch';
    const trustDir = temp();
    ok(await ours(trustDir, ['init', gun, '-p'], { NOTARY_PKCS11_ROLES: 'root,targets' }), 'init');
    ok(await ours(trustDir, ['add', gun, 'x', payload(trustDir)]), 'stage');
    ok(await ours(trustDir, ['list', gun]), 'refresh the cache'); // a publish refreshes it first, legitimately
    const before = snapshotDir(trustDir);
    const started = Date.now();
    const r = await ours(trustDir, ['publish', gun], { NOTARY_PKCS11_MODULE: hsm.shim, PKCS11_SHIM_SIGN_DELAY_MS: '3000', NOTARY_PKCS11_TOUCH_TIMEOUT: '1.5' });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`Please touch the token ${hsm.label}`);
    expect(r.stdout).toContain(`token ${hsm.label} did not sign within 1.5 s`);
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(snapshotDir(trustDir)).toEqual(before);
    expect(goList(gun, temp())).not.toContain(' x ');
  }, 60_000);
});

describe('settings', () => {
  it('flags over environment over the config file; Go YubiKey paths probed only when nothing is configured', () => {
    const dir = temp();
    const probe = join(dir, 'libykcs11.so');
    const s = (section: unknown, env: Record<string, string>, flags = {}) => resolvePkcs11Settings(section, env, flags, { cwd: dir, configDir: '/etc/x', probePaths: [probe] });
    expect(s({}, {})).toBeUndefined();
    writeFileSync(probe, '');
    expect(s({}, {})).toMatchObject({ module: probe, probed: true });
    expect(s({ module: 'lib.so', token: 'a', slot: 3 }, {})).toMatchObject({ module: '/etc/x/lib.so', token: 'a', slot: 3n, probed: false });
    expect(s({ module: 'lib.so', token: 'a' }, { NOTARY_PKCS11_MODULE: '/m.so', NOTARY_PKCS11_TOKEN: 'b' })).toMatchObject({ module: '/m.so', token: 'b' });
    expect(s({ module: 'lib.so' }, { NOTARY_PKCS11_MODULE: '/m.so' }, { module: '/f.so', token: 'c', slot: '0x10' })).toMatchObject({ module: '/f.so', token: 'c', slot: 16n });
    expect([...s({ module: '/x.so' }, {})!.roles]).toEqual(['root']);
    expect([...s({ module: '/x.so', roles: ['targets', 'delegation'] }, {})!.roles]).toEqual(['targets', 'delegation']);
    expect([...s({ module: '/x.so' }, { NOTARY_PKCS11_ROLES: 'none' })!.roles]).toEqual([]);
    expect(() => s({ module: '/x.so', slot: 'one' }, {})).toThrow(/slot/);
    expect(() => s({ module: '/x.so', layout: 'other' }, {})).toThrow(/layout/);
    mkdirSync(join(dir, 'unused'));
  });

  it('signatures from the token verify in software; a key made on the token is not extractable', async () => {
    process.env['SOFTHSM2_CONF'] = hsm.conf;
    const store = Pkcs11KeyStore.open({ module: SOFTHSM_MODULE, token: hsm.label, pin: async () => USER_PIN, crypto });
    try {
      const keyId = await store.generateKey({ role: 'targets/unit', gun: '' });
      const handle = await store.keyHandle(keyId);
      const message = new TextEncoder().encode('canonical bytes');
      const sig = await handle.sign('ecdsa', message);
      expect(sig.length).toBe(64);
      const { encodeSpki } = await import('../src/core/x509.js');
      const pub = { ...handle.publicKey, spki: encodeSpki({ ...handle.publicKey, spki: new Uint8Array(0) } as typeof handle.publicKey) } as typeof handle.publicKey;
      expect(crypto.verify('ecdsa', pub, message, sig)).toBe(true);
      expect(crypto.verify('ecdsa', pub, new TextEncoder().encode('other bytes'), sig)).toBe(false);
      expect(await store.isExtractable(keyId)).toBe(false);
      await expect(store.getPrivateKey(keyId)).rejects.toMatchObject({ code: 'KEY_NOT_EXTRACTABLE' });
      expect(await store.remove(keyId)).toBe(true);

      // Ed25519 where the token supports it (SoftHSM 2.6 does): pure EdDSA over the message, Notary's `eddsa`.
      const edId = await store.generateKey({ role: 'targets/ed', gun: '', algorithm: 'ed25519' });
      const signer = await store.getSigner(edId);
      expect(signer.method).toBe('eddsa');
      const edSig = await signer.sign(message);
      const edKey = await store.keyHandle(edId);
      expect(edKey.publicKey.kind).toBe('ed25519');
      expect(crypto.verify('eddsa', edKey.publicKey, message, edSig)).toBe(true);
      expect((await store.list()).find((k) => k.keyId === edId)).toMatchObject({ role: 'targets/ed', location: hsm.label });
      expect(await store.remove(edId)).toBe(true);
    } finally {
      store.close();
    }
  });
});
