/**
 * `key rotate` against the real notary-server, judged by the Go client: our rotations (targets, snapshot
 * local and server-managed, root twice in a row, root with --legacy) are followed by Go readers that cached
 * the repository before them; Go's rotations are followed by our reader; rotated roots verify with our core.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileMetaOf } from '../src/core/build.js';
import { canonicalKeyId } from '../src/core/keys.js';
import { Metadata, type RootSigned } from '../src/core/metadata.js';
import { validateRoot } from '../src/core/root.js';
import { newVerifyContext } from '../src/core/verify.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { FileMetadataCache } from '../src/node/cache.js';
import { FileKeyStore } from '../src/node/keystore.js';
import { envRetriever } from '../src/node/passphrase.js';
import { NotaryRemote } from '../src/node/remote.js';
import { targetCreateChange } from '../src/repository/changelist.js';
import { RepositoryWriter } from '../src/repository/writer.js';
import { runNotary, runOurs } from './support/cli.js';
import { PASSPHRASE_ENV, goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

let server: Server;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const meta = fileMetaOf(new TextEncoder().encode('payload\n'), crypto);

async function writerFor(trustDir: string, gun: string) {
  const keyStore = await FileKeyStore.open(trustDir, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  const writer = new RepositoryWriter({ gun, remote, cache: new FileMetadataCache(trustDir, gun), keyStore, crypto });
  return { writer, remote, keyStore };
}

/** A repository made by us, published with one target. */
async function ourRepository(gun: string) {
  const trustDir = tempDir();
  const { writer, remote, keyStore } = await writerFor(trustDir, gun);
  await writer.init();
  await writer.publish([targetCreateChange('targets', 'first', meta)]);
  await remote.close();
  return { trustDir, keyStore };
}

const goList = (gun: string, dir: string) => goNotary(['-s', server.url, '-d', dir, 'list', gun]);
const ours = (trustDir: string, args: string[], stdin?: string) =>
  runOurs(['-s', server.url, '-d', trustDir, ...args], { env: PASSPHRASE_ENV, ...(stdin !== undefined ? { stdin } : {}) });

async function serverRoot(gun: string, version?: number): Promise<Metadata<'Root'>> {
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  try {
    const bytes = version === undefined ? await remote.getRoot() : await remote.getRootVersion(version);
    return Metadata.fromBytes(bytes, 'root') as Metadata<'Root'>;
  } finally {
    await remote.close();
  }
}

const roleKeyIds = (root: RootSigned, role: string) => root.roles?.[role]?.keyids ?? [];
const keyFiles = (trustDir: string) => readdirSync(join(trustDir, 'private')).filter((f) => f.endsWith('.key'));

describe('our key rotations, followed by Go', () => {
  it('targets, snapshot (local, then -r) and timestamp (-r): a Go reader with the old state follows each', async () => {
    const gun = 'example.com/rotate/ours-signing';
    const { trustDir, keyStore } = await ourRepository(gun);
    const goDir = tempDir();
    expect(goList(gun, goDir)).toContain('first');
    const ourReader = tempDir();
    expect((await ours(ourReader, ['list', gun])).stdout).toContain('first');

    const before = (await serverRoot(gun)).signed;
    const oldTargets = roleKeyIds(before, 'targets')[0]!;
    const oldSnapshot = roleKeyIds(before, 'snapshot')[0]!;

    // targets: new local key, root updated, targets re-signed; the old private key is gone.
    let run = await ours(trustDir, ['key', 'rotate', gun, 'targets']);
    expect(run.stdout).toBe(`Successfully rotated targets key for repository ${gun}\n`);
    expect(run.code).toBe(0);
    let root = (await serverRoot(gun)).signed;
    expect(root.version).toBe(before.version + 1);
    const newTargets = roleKeyIds(root, 'targets')[0]!;
    expect(newTargets).not.toBe(oldTargets);
    expect(root.keys?.[oldTargets]).toBeUndefined();
    expect(existsSync(join(trustDir, 'private', `${oldTargets}.key`))).toBe(false);
    expect(existsSync(join(trustDir, 'private', `${newTargets}.key`))).toBe(true);
    expect(goList(gun, goDir)).toContain('first');

    // snapshot, local
    run = await ours(trustDir, ['key', 'rotate', gun, 'snapshot']);
    expect(run.stdout).toBe(`Successfully rotated snapshot key for repository ${gun}\n`);
    root = (await serverRoot(gun)).signed;
    const localSnapshot = roleKeyIds(root, 'snapshot')[0]!;
    expect(localSnapshot).not.toBe(oldSnapshot);
    expect(existsSync(join(trustDir, 'private', `${oldSnapshot}.key`))).toBe(false);
    expect(goList(gun, goDir)).toContain('first');

    // snapshot, server-managed: the server's new key; our local snapshot key file is removed.
    run = await ours(trustDir, ['key', 'rotate', gun, 'snapshot', '-r']);
    expect(run.stdout).toBe(`Successfully rotated snapshot key for repository ${gun}\n`);
    root = (await serverRoot(gun)).signed;
    const serverSnapshot = roleKeyIds(root, 'snapshot')[0]!;
    expect(root.keys?.[serverSnapshot]?.keytype).toBe('ed25519');
    expect(existsSync(join(trustDir, 'private', `${localSnapshot}.key`))).toBe(false);
    expect(goList(gun, goDir)).toContain('first');

    // timestamp needs -r; then -r works and readers follow.
    run = await ours(trustDir, ['key', 'rotate', gun, 'timestamp']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('\n* fatal: notary does not permit the client managing the timestamp key\n');
    const oldTimestamp = roleKeyIds(root, 'timestamp')[0]!;
    run = await ours(trustDir, ['key', 'rotate', gun, 'timestamp', '-r']);
    expect(run.stdout).toBe(`Successfully rotated timestamp key for repository ${gun}\n`);
    root = (await serverRoot(gun)).signed;
    expect(roleKeyIds(root, 'timestamp')[0]).not.toBe(oldTimestamp);

    // Publishing on top still works (targets signed by the new key, snapshot by the server).
    const { writer, remote } = await writerFor(trustDir, gun);
    const published = await writer.publish([targetCreateChange('targets', 'second', meta)]);
    expect([...published.files.keys()]).toEqual(['targets']);
    await remote.close();
    const listing = goList(gun, goDir);
    expect(listing).toContain('first');
    expect(listing).toContain('second');
    expect((await ours(ourReader, ['list', gun])).stdout).toContain('second');
    expect(goList(gun, tempDir())).toContain('second');
    // Only the root key and the current targets key remain in the store.
    expect(keyFiles(trustDir).sort()).toEqual([`${newTargets}.key`, `${(await keyStore.list()).find((k) => k.role === 'root')!.keyId}.key`].sort());
  });

  it('root twice in a row: readers holding v1 walk; the new roots verify with our core and Go', async () => {
    const gun = 'example.com/rotate/ours-root';
    const { trustDir } = await ourRepository(gun);
    const goV1 = tempDir();
    expect(goList(gun, goV1)).toContain('first');
    const oursV1 = tempDir();
    expect((await ours(oursV1, ['list', gun])).stdout).toContain('first');
    const v1 = await serverRoot(gun);

    // Declined: nothing happens.
    let run = await ours(trustDir, ['key', 'rotate', gun, 'root'], 'no\n');
    expect(run.stdout).toBe(
      'Warning: you are about to rotate your root key.\n\nYou must use your old key to sign this root rotation.\nAre you sure you want to proceed?  (yes/no)  \nAborting action.\n',
    );
    expect((await serverRoot(gun)).version).toBe(v1.version);

    run = await ours(trustDir, ['key', 'rotate', gun, 'root'], 'YES\n');
    expect(run.stdout).toMatch(/\(yes\/no\) {2}Successfully rotated root key for repository example\.com\/rotate\/ours-root\n$/);
    const v2 = await serverRoot(gun);
    run = await ours(trustDir, ['key', 'rotate', gun, 'root'], 'y\n');
    expect(run.code).toBe(0);
    const v3 = await serverRoot(gun);
    expect([v2.version, v3.version]).toEqual([2, 3]);

    const ctx = newVerifyContext(crypto);
    const now = new Date();
    const r1 = roleKeyIds(v1.signed, 'root')[0]!;
    const r2 = roleKeyIds(v2.signed, 'root')[0]!;
    const r3 = roleKeyIds(v3.signed, 'root')[0]!;
    expect(new Set([r1, r2, r3]).size).toBe(3);
    // v2: signed by the old root and the new one, old certificate kept in keys.
    expect(v2.signatures.map((s) => s.keyid).sort()).toEqual([r1, r2].sort());
    expect(v2.signed.keys?.[r1]?.keytype).toBe('ecdsa-x509');
    expect(validateRoot(v2, { gun, now, previous: v1 }, ctx)).toEqual([r2]);
    // v3: signed by v2's key and its own, not by v1's: a v1 holder must walk through 2.root.json.
    expect(v3.signatures.map((s) => s.keyid).sort()).toEqual([r2, r3].sort());
    expect(Object.keys(v3.signed.keys ?? {})).toEqual(expect.arrayContaining([r1, r2, r3]));
    expect(validateRoot(v3, { gun, now, previous: v2 }, ctx)).toEqual([r3]);
    expect(() => validateRoot(v3, { gun, now, previous: v1 }, ctx)).toThrow(/could not rotate trust/);

    // Readers that cached v1 walk to v3; a fresh Go reader trusts v3 on first use.
    expect(goList(gun, goV1)).toContain('first');
    const oursList = await ours(oursV1, ['list', gun]);
    expect(oursList.code).toBe(0);
    expect(oursList.stdout).toContain('first');
    expect(goList(gun, tempDir())).toContain('first');

    // Publishing afterwards signs root-free changes as usual; Go follows.
    const { writer, remote } = await writerFor(trustDir, gun);
    await writer.publish([targetCreateChange('targets', 'after-root-rotation', meta)]);
    await remote.close();
    expect(goList(gun, goV1)).toContain('after-root-rotation');

    // --legacy 2: v4 is also signed with the keys of v3, v2 and v1 roots, so a v1 holder jumps directly.
    run = await ours(trustDir, ['key', 'rotate', gun, 'root', '--legacy', '2'], 'yes\n');
    expect(run.code).toBe(0);
    const v4 = await serverRoot(gun);
    const r4 = roleKeyIds(v4.signed, 'root')[0]!;
    expect(v4.signatures.map((s) => s.keyid).sort()).toEqual([r1, r2, r3, r4].sort());
    expect(validateRoot(v4, { gun, now, previous: v1 }, ctx)).toEqual([r4]);
    expect(goList(gun, goV1)).toContain('after-root-rotation');
    expect((await ours(oursV1, ['list', gun])).stdout).toContain('after-root-rotation');
  });

  it('root to a key given with -k (encrypted key file), and refusals', async () => {
    const gun = 'example.com/rotate/ours-keyfile';
    const { trustDir } = await ourRepository(gun);
    const goV1 = tempDir();
    goList(gun, goV1);
    const work = tempDir();
    // An encrypted root key file made by Go (`key generate -o`, passphrase from NOTARY_DELEGATION_PASSPHRASE).
    goNotary(['-d', tempDir(), 'key', 'generate', '-o', join(work, 'newroot')], { NOTARY_DELEGATION_PASSPHRASE: PASSPHRASE_ENV.NOTARY_ROOT_PASSPHRASE });
    const run = await ours(trustDir, ['key', 'rotate', gun, 'root', '-k', join(work, 'newroot-key.pem')], 'yes\n');
    expect(run.stdout).toContain(`Successfully rotated root key for repository ${gun}`);
    const v2 = await serverRoot(gun);
    const store = await FileKeyStore.open(trustDir, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
    const imported = (await store.list()).filter((k) => k.role === 'root').map((k) => k.keyId);
    const newRootKey = v2.signed.keys?.[roleKeyIds(v2.signed, 'root')[0]!];
    expect(imported).toContain(canonicalKeyId(newRootKey!, crypto));
    expect(goList(gun, goV1)).toContain('first');

    // Unencrypted root key files are refused; delegations cannot be rotated; targets cannot be server-managed.
    const plain = join(work, 'plain.pem');
    await import('node:child_process').then((cp) =>
      cp.execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', plain]),
    );
    expect((await ours(trustDir, ['key', 'rotate', gun, 'root', '-k', plain], 'yes\n')).stdout).toBe('\n* fatal: only encrypted root keys may be imported\n');
    expect((await ours(trustDir, ['key', 'rotate', gun, 'targets/x'])).stdout).toBe('\n* fatal: notary does not currently permit rotating the targets/x key\n');
    expect((await ours(trustDir, ['key', 'rotate', gun, 'targets', '-r'])).stdout).toBe('\n* fatal: notary does not permit the server managing the targets key\n');
    expect((await serverRoot(gun)).version).toBe(v2.version);
  });
});

describe("Go's key rotations, followed by us", () => {
  it('targets, snapshot -r and root rotated by Go: our cached reader follows; we publish on top from Go\'s trust dir', async () => {
    const gun = 'example.com/rotate/go';
    const goDir = tempDir();
    const g = (args: string[], input?: string) => goNotary(['-s', server.url, '-d', goDir, ...args], {}, input);
    g(['init', gun]);
    const file = join(tempDir(), 'payload');
    (await import('node:fs')).writeFileSync(file, 'payload\n');
    g(['add', gun, 'by-go', file]);
    g(['publish', gun]);
    const ourReader = tempDir();
    expect((await ours(ourReader, ['list', gun])).stdout).toContain('by-go');

    // Same output and exit code as Go for refusals and a declined root rotation.
    for (const [args, stdin] of [
      [['key', 'rotate', gun, 'timestamp'], ''],
      [['key', 'rotate', gun, 'targets', '-r'], ''],
      [['key', 'rotate', gun, 'targets/x'], ''],
      [['key', 'rotate', gun, 'root'], 'nope\n'],
    ] as const) {
      const full = ['-s', server.url, '-d', goDir, ...args];
      const go = await runNotary(full, { env: PASSPHRASE_ENV, stdin });
      const us = await runOurs(full, { env: PASSPHRASE_ENV, stdin });
      expect({ out: us.stdout, code: us.code }, args.join(' ')).toEqual({ out: go.stdout, code: go.code });
    }
    const usage = await ours(goDir, ['key', 'rotate', gun]);
    expect(usage.stdout).toMatch(/\n\* fatal: Must specify a GUN and a key role to rotate\n$/);
    const oldTargets = roleKeyIds((await serverRoot(gun)).signed, 'targets')[0]!;
    expect(g(['key', 'rotate', gun, 'targets'])).toBe(`Successfully rotated targets key for repository ${gun}\n`);
    expect(existsSync(join(goDir, 'private', `${oldTargets}.key`))).toBe(false); // Go removes it too
    expect((await ours(ourReader, ['list', gun])).stdout).toContain('by-go');
    g(['key', 'rotate', gun, 'snapshot', '-r']);
    expect((await ours(ourReader, ['list', gun])).stdout).toContain('by-go');
    g(['key', 'rotate', gun, 'root'], 'yes\n');
    g(['key', 'rotate', gun, 'root'], 'yes\n');
    const root = await serverRoot(gun);
    expect(root.version).toBe(5); // v1 + targets, snapshot and two root rotations
    const listed = await ours(ourReader, ['list', gun]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('by-go');
    // Our core accepts Go's rotated root against its predecessor.
    expect(validateRoot(root, { gun, now: new Date(), previous: await serverRoot(gun, 4) }, newVerifyContext(crypto)).length).toBe(1);

    // We publish from Go's trust dir with Go's rotated keys; Go (and a fresh Go) follow.
    const { writer, remote } = await writerFor(goDir, gun);
    await writer.publish([targetCreateChange('targets', 'by-us', meta)]);
    await remote.close();
    expect(g(['list', gun])).toContain('by-us');
    expect(goList(gun, tempDir())).toContain('by-us');
  });
});
