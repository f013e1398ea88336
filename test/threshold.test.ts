/**
 * Threshold signing beyond Notary: a delegation with threshold 2 made by us, two signers with one key each
 * exchanging the pending version as a file (`cosign`), and Go's `notary list` as the judge of when the
 * role counts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpVersion, fileMetaOf, newSnapshotSigned, signMetadata } from '../src/core/build.js';
import { publicKeyOf } from '../src/core/init.js';
import { encodePublicKeyPem } from '../src/node/keyfile.js';
import { Metadata } from '../src/core/metadata.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { FileMetadataCache } from '../src/node/cache.js';
import { FileKeyStore } from '../src/node/keystore.js';
import { envRetriever } from '../src/node/passphrase.js';
import { NotaryRemote } from '../src/node/remote.js';
import { FileChangelist, delegationChange, targetCreateChange, witnessChange } from '../src/repository/changelist.js';
import { RoleCoSigner } from '../src/repository/cosign.js';
import { RepositoryWriter, type WriterOptions } from '../src/repository/writer.js';
import { runOurs } from './support/cli.js';
import { PASSPHRASE_ENV, goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

let server: Server;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const ROLE = 'targets/releases';
const meta = fileMetaOf(new TextEncoder().encode('release\n'), crypto);

async function optionsFor(trustDir: string, gun: string): Promise<WriterOptions & { remote: NotaryRemote; keyStore: FileKeyStore }> {
  const keyStore = await FileKeyStore.open(trustDir, { retriever: envRetriever(PASSPHRASE_ENV), crypto });
  const remote = new NotaryRemote({ serverUrl: server.url, gun });
  return { gun, remote, cache: new FileMetadataCache(trustDir, gun), keyStore, crypto };
}

const goList = (gun: string, dir = tempDir()) => goNotary(['-s', server.url, '-d', dir, 'list', gun]);
const ourList = async (gun: string, dir = tempDir()) => {
  const r = await runOurs(['-s', server.url, '-d', dir, 'list', gun], { env: PASSPHRASE_ENV });
  expect(r.code).toBe(0);
  return r.stdout;
};

/** The upload a client would make for `role` = `bytes`: the role and a snapshot we sign over it. */
async function withSnapshot(writer: RepositoryWriter, role: string, bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const state = await writer.loadEditable();
  const files = new Map([['root', state.rootBytes], ...state.roleBytes, [role, bytes]]);
  const snapshot = newSnapshotSigned(files, new Date(), crypto, (state.snapshot?.version ?? 0) + 1);
  const keys = new Map((state.collection.root.roles?.['snapshot']?.keyids ?? []).map((id) => [id, state.collection.root.keys![id]!]));
  const md = await signMetadata('Snapshot', snapshot, 'snapshot', await writer.heldSigners(keys));
  return new Map([
    [role, bytes],
    ['snapshot', md.bytes!],
  ]);
}

/** Re-signs targets with one delegation's threshold changed (Notary's CLI cannot change a threshold). */
async function setThreshold(writer: RepositoryWriter, role: string, threshold: number): Promise<void> {
  const state = await writer.loadEditable();
  const targets = structuredClone(state.collection.roles.get('targets')!);
  targets.delegations!.roles!.find((r) => r.name === role)!.threshold = threshold;
  bumpVersion(targets, new Date(), 1095);
  const keys = new Map((state.collection.root.roles?.['targets']?.keyids ?? []).map((id) => [id, state.collection.root.keys![id]!]));
  const md = await signMetadata('Targets', targets, 'targets', await writer.heldSigners(keys));
  await writer.publish([], { presigned: new Map([['targets', md.bytes!]]) });
}

describe('threshold 2 delegation, co-signed', () => {
  it('one signature: nobody counts the role and the server refuses it; two: Go and we show its targets', async () => {
    const gun = 'example.com/threshold/two';
    // Signer A owns the repository (root, targets, snapshot keys) and one release key.
    const dirA = tempDir();
    const a = await optionsFor(dirA, gun);
    const writerA = new RepositoryWriter(a);
    await writerA.init();
    await writerA.publish([targetCreateChange('targets', 'top', meta)]);
    // Signer B has only the other release key, in its own trust_dir.
    const dirB = tempDir();
    const b = await optionsFor(dirB, gun);
    const keyA = crypto.generateKey('ecdsa');
    const keyB = crypto.generateKey('ecdsa');
    const idA = await a.keyStore.add(keyA, { role: ROLE });
    const idB = await b.keyStore.add(keyB, { role: ROLE });
    // `delegation add --threshold 2` (notary-ts extension), auto-published.
    const pems = tempDir();
    writeFileSync(join(pems, 'a.pem'), encodePublicKeyPem(keyA, ROLE));
    writeFileSync(join(pems, 'b.pem'), encodePublicKeyPem(keyB, ROLE));
    const added = await runOurs(
      ['-s', server.url, '-d', dirA, 'delegation', 'add', gun, ROLE, join(pems, 'a.pem'), join(pems, 'b.pem'), '--all-paths', '--threshold', '2', '-p'],
      { env: PASSPHRASE_ENV },
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Successfully published changes for repository');
    const goDelegations = goNotary(['-s', server.url, '-d', tempDir(), 'delegation', 'list', gun]);
    expect(goDelegations).toMatch(new RegExp(`${ROLE}\\s+"" <all paths>\\s+(${idA}|${idB})\\s+2\\s`));
    expect(goDelegations).toContain(idA);
    expect(goDelegations).toContain(idB);

    // Signing alone is refused with Notary's message (and a hint).
    await expect(writerA.publish([targetCreateChange(ROLE, 'rel-1', meta)])).rejects.toThrow(
      /not enough signing keys: found 1 of 2 needed keys - 1 other possible keys \(.*\); targets\/releases needs co-signing/,
    );

    // A prepares the next version from its staged changes (CLI), signed with its key only.
    const pendingFile = join(tempDir(), 'releases.pending.json');
    const changelistA = new FileChangelist(dirA, gun);
    await changelistA.add(targetCreateChange(ROLE, 'rel-1', meta));
    await changelistA.add(targetCreateChange('targets', 'unrelated-staged', meta));
    const cli = (dir: string, args: string[]) => runOurs(['-s', server.url, '-d', dir, ...args], { env: PASSPHRASE_ENV });
    let run = await cli(dirA, ['cosign', 'prepare', gun, ROLE, pendingFile]);
    expect(run.stdout).toBe(
      `Role ${ROLE} of ${gun}, version 1 (published: 0), expires ${Metadata.fromBytes(readFileSync(pendingFile), ROLE).signed.expires}\n` +
        `Signatures: 1 of 2 needed\n` +
        [idA, idB].map((id) => `\t${id === idA ? 'signed ' : 'missing'} ${id}\n`).join('') +
        `Adds target "rel-1"\n`,
    );
    // Only the role's own change left the changelist.
    expect((await changelistA.list()).map((s) => s.change.path)).toEqual(['unrelated-staged']);

    // With one signature: our publish refuses, the server refuses a direct upload, readers never see it.
    const coA = new RoleCoSigner(a);
    await expect(coA.publish(ROLE, readFileSync(pendingFile))).rejects.toThrow(/valid signatures did not meet threshold for targets\/releases/);
    // A direct upload with a valid snapshot (so that only the threshold can be wrong) is refused by the server.
    const half = new Uint8Array(readFileSync(pendingFile));
    await expect(a.remote.publish(await withSnapshot(writerA, ROLE, half))).rejects.toThrow("The targets metadata is invalid: valid signatures did not meet threshold for targets/releases");
    expect(goList(gun)).not.toContain('rel-1');
    expect(await ourList(gun)).not.toContain('rel-1');

    // B inspects and co-signs (its reader has never seen the repository: it trusts it on first use).
    run = await cli(dirB, ['cosign', 'status', gun, ROLE, pendingFile, '--json']);
    const before = JSON.parse(run.stdout);
    expect(before).toMatchObject({ role: ROLE, version: 1, threshold: 2, signedBy: [idA], complete: false, added: ['rel-1'] });
    run = await cli(dirB, ['cosign', 'sign', gun, ROLE, pendingFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Signatures: 2 of 2 needed (complete)');
    // Signing again is idempotent: still two distinct signatures.
    await cli(dirB, ['cosign', 'sign', gun, ROLE, pendingFile]);
    const signed = Metadata.fromBytes(readFileSync(pendingFile), ROLE);
    expect(signed.signatures.length).toBe(2);

    // A tampered copy (target changed after signing) does not count, and cannot be published.
    const tampered = join(tempDir(), 'tampered.json');
    writeFileSync(tampered, readFileSync(pendingFile, 'utf8').replace('"length":8', '"length":9'));
    const tamperedStatus = await new RoleCoSigner(a).inspect(ROLE, readFileSync(tampered));
    expect(tamperedStatus).toMatchObject({ complete: false, signedBy: [], ignoredSignatures: 2 });

    // A (who holds the snapshot key) publishes; both clients now show the target under the delegation.
    run = await cli(dirA, ['cosign', 'publish', gun, ROLE, pendingFile]);
    expect(run.stdout).toBe(`Pushing changes to ${gun}\nSuccessfully published changes for repository ${gun}\n`);
    const goOut = goList(gun);
    expect(goOut).toMatch(/rel-1\s+\S+\s+8\s+targets\/releases/);
    expect(await ourList(gun)).toMatch(/rel-1\s+\S+\s+8\s+targets\/releases/);

    // The published file can no longer be published again (version is not above the current one).
    await expect(coA.publish(ROLE, readFileSync(pendingFile))).rejects.toThrow(/not above the current version 1/);

    // A second round: B prepares version 2 this time (a removal and an addition), A co-signs, A publishes.
    const coB = new RoleCoSigner(b);
    const round2 = await coB.prepare(ROLE, [targetCreateChange(ROLE, 'rel-2', meta)]);
    expect(round2.status).toMatchObject({ version: 2, currentVersion: 1, signedBy: [idB], added: ['rel-2'] });
    const cosigned = await coA.sign(ROLE, round2.bytes);
    expect(cosigned.status.complete).toBe(true);
    await coA.publish(ROLE, cosigned.bytes);
    const goAfter = goList(gun);
    expect(goAfter).toContain('rel-1');
    expect(goAfter).toContain('rel-2');
    expect(await ourList(gun)).toContain('rel-2');
    await a.remote.close();
    await b.remote.close();
  });

  it('a published version below its threshold is skipped by Go and by us until co-signed again', async () => {
    const gun = 'example.com/threshold/raised';
    const dirA = tempDir();
    const a = await optionsFor(dirA, gun);
    const writerA = new RepositoryWriter(a);
    await writerA.init();
    await writerA.publish([]);
    const b = await optionsFor(tempDir(), gun);
    const keyA = crypto.generateKey('ecdsa');
    const keyB = crypto.generateKey('ecdsa');
    await a.keyStore.add(keyA, { role: ROLE });
    await b.keyStore.add(keyB, { role: ROLE });
    // Threshold 1 at first: A alone publishes a target into the role.
    await writerA.publish([
      delegationChange('create', ROLE, { threshold: 1, addKeys: [publicKeyOf(keyA), publicKeyOf(keyB)] }),
      delegationChange('create', ROLE, { addPaths: [''] }),
      targetCreateChange(ROLE, 'signed-by-a-alone', meta),
    ]);
    const goReader = tempDir();
    const ourReader = tempDir();
    expect(goList(gun, goReader)).toContain('signed-by-a-alone');
    expect(await ourList(gun, ourReader)).toContain('signed-by-a-alone');

    // The owner raises the threshold to 2: the stored one-signature version no longer counts.
    await setThreshold(writerA, ROLE, 2);
    expect(goList(gun, goReader)).not.toContain('signed-by-a-alone');
    expect(goList(gun)).not.toContain('signed-by-a-alone');
    expect(await ourList(gun, ourReader)).not.toContain('signed-by-a-alone');
    expect(await ourList(gun)).not.toContain('signed-by-a-alone');
    // Re-signing it alone is refused.
    await expect(writerA.publish([witnessChange(ROLE)])).rejects.toThrow(/not enough signing keys: found 1 of 2/);

    // Co-signing the same content as a new version (witness) brings it back for everyone.
    const coA = new RoleCoSigner(a);
    const pending = await coA.prepare(ROLE, [witnessChange(ROLE)]);
    expect(pending.status).toMatchObject({ version: 2, currentVersion: 1, threshold: 2, complete: false, added: [], removed: [] });
    const complete = await new RoleCoSigner(b).sign(ROLE, pending.bytes);
    expect(complete.status.complete).toBe(true);
    await coA.publish(ROLE, complete.bytes);
    expect(goList(gun, goReader)).toContain('signed-by-a-alone');
    expect(await ourList(gun, ourReader)).toContain('signed-by-a-alone');
    await a.remote.close();
    await b.remote.close();
  });
});
