/**
 * The state machine and delegation rules on repositories built here with our own keys (so we can sign
 * what Notary's CLI cannot make: thresholds above 1, expired or under-signed delegations, rollbacks).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bumpVersion,
  fileMetaOf,
  newSnapshotSigned,
  newTargetsSigned,
  newTimestampSigned,
  setDelegation,
  setTarget,
  signMetadata,
  type MetadataSigner,
} from '../src/core/build.js';
import { utf8Encode } from '../src/core/bytes.js';
import { listTargets, lookupTarget } from '../src/core/collection.js';
import { generateRepositoryKeys, generateSigningKey, initRepositoryMetadata, type RepositoryKeys, type SigningKey } from '../src/core/init.js';
import { loadCollection } from '../src/core/load.js';
import { Metadata } from '../src/core/metadata.js';
import { TrustedMetadataSet } from '../src/core/trusted.js';
import { expiresAfterDays } from '../src/core/time.js';
import { BACKENDS } from './support/backends.js';

const gun = 'example.com/synthetic';
const now = new Date('2026-06-01T12:00:00.5Z');
const clock = () => now;

for (const [backendName, crypto] of BACKENDS) {
  describe(`synthetic repositories (${backendName})`, () => {
    let keys: RepositoryKeys;
    let base: Awaited<ReturnType<typeof initRepositoryMetadata>>;
    let dA: SigningKey, dB: SigningKey, dC: SigningKey;

    beforeAll(async () => {
      keys = generateRepositoryKeys(crypto, gun, now);
      base = await initRepositoryMetadata(keys, crypto, now);
      [dA, dB, dC] = [generateSigningKey(crypto), generateSigningKey(crypto, 'ed25519'), generateSigningKey(crypto)];
    });

    /** Builds targets + delegations from a spec, then snapshot and timestamp over them. */
    async function build(spec: {
      delegations?: { name: string; keys: SigningKey[]; threshold?: number; paths?: string[]; signers?: MetadataSigner[]; expired?: boolean; targets?: string[] }[];
      targets?: string[];
      omitFromSnapshot?: string[];
    }) {
      const files = new Map<string, Uint8Array>([['root', base.root.bytes!]]);
      const t = newTargetsSigned(now, 2);
      for (const name of spec.targets ?? []) setTarget(t, name, fileMetaOf(utf8Encode(name), crypto));
      for (const d of spec.delegations ?? []) {
        const parent = d.name.slice(0, d.name.lastIndexOf('/'));
        if (parent === 'targets') setDelegation(t, 'targets', { name: d.name, keys: d.keys.map((k) => k.publicKey), threshold: d.threshold, paths: d.paths }, crypto);
      }
      files.set('targets', (await signMetadata('Targets', t, 'targets', [keys.targets.signer])).bytes!);
      for (const d of spec.delegations ?? []) {
        const dt = newTargetsSigned(now);
        if (d.expired) dt.expires = expiresAfterDays(now, -1);
        for (const name of d.targets ?? []) setTarget(dt, name, fileMetaOf(utf8Encode(name + d.name), crypto));
        const md = await signMetadata('Targets', dt, d.name, d.signers ?? d.keys.map((k) => k.signer));
        files.set(d.name, md.bytes!);
      }
      const listed = new Map([...files].filter(([n]) => !(spec.omitFromSnapshot ?? []).includes(n)));
      const snapshot = await signMetadata('Snapshot', newSnapshotSigned(listed, now, crypto, 2), 'snapshot', [keys.snapshot.signer]);
      files.set('snapshot', snapshot.bytes!);
      const ts = await signMetadata('Timestamp', newTimestampSigned(snapshot.bytes!, now, crypto, 2), 'timestamp', [keys.timestamp.signer!]);
      files.set('timestamp', ts.bytes!);
      return files;
    }

    const load = (files: Map<string, Uint8Array>) => loadCollection((n) => files.get(n), { gun, crypto, clock });

    it('a freshly initialised repository verifies (our init writes what our verifier accepts)', async () => {
      const files = await build({ targets: ['app/v1'] });
      const { set } = await load(files);
      expect(lookupTarget(set, 'app/v1').role).toBe('targets');
      expect(lookupTarget(set, 'app/v1').signers).toEqual([keys.targets.keyId]);
      expect(set.rootSigners).toEqual([keys.root.keyId]);
    });

    it('threshold 2 is met only by two distinct keys; duplicate signatures by one key count once', async () => {
      const met = await build({ delegations: [{ name: 'targets/releases', keys: [dA, dB], threshold: 2, paths: [''], targets: ['rel'] }] });
      const loaded = await load(met);
      expect(lookupTarget(loaded.set, 'rel').role).toBe('targets/releases');
      expect([...lookupTarget(loaded.set, 'rel').signers].sort()).toEqual([dA.keyId, dB.keyId].sort());

      const duplicate = await build({
        delegations: [{ name: 'targets/releases', keys: [dA, dB], threshold: 2, paths: [''], targets: ['rel'], signers: [dA.signer, { ...dA.signer, keyId: dA.keyId }] }],
      });
      // signMetadata replaces a signer's earlier signature; add a literal duplicate instead.
      const md = Metadata.fromBytes(duplicate.get('targets/releases')!, 'targets/releases');
      expect(md.signatures.length).toBe(2);
      const under = await load(duplicate);
      expect(under.skipped.map((s) => [s.role, s.error.code])).toEqual([['targets/releases', 'THRESHOLD_NOT_MET']]);
      expect(() => lookupTarget(under.set, 'rel')).toThrowError(expect.objectContaining({ code: 'TARGET_NOT_FOUND' }));
    });

    it('an expired or under-signed delegation is skipped with its subtree; others still count', async () => {
      const files = await build({
        delegations: [
          { name: 'targets/old', keys: [dA], paths: [''], targets: ['x'], expired: true },
          { name: 'targets/bad', keys: [dA], paths: [''], targets: ['y'], signers: [dC.signer] },
          { name: 'targets/good', keys: [dB], paths: [''], targets: ['z'] },
        ],
      });
      const loaded = await load(files);
      expect(loaded.skipped.map((s) => [s.role, s.error.code])).toEqual([
        ['targets/old', 'EXPIRED'],
        ['targets/bad', 'THRESHOLD_NOT_MET'],
      ]);
      expect(listTargets(loaded.set).map((t) => t.name)).toEqual(['z']);
    });

    it('a delegation signing outside its paths: those targets are invisible', async () => {
      const files = await build({ delegations: [{ name: 'targets/qa', keys: [dA], paths: ['qa/'], targets: ['qa/ok', 'prod/evil'] }] });
      const { set } = await load(files);
      expect(listTargets(set).map((t) => t.name)).toEqual(['qa/ok']);
      expect(() => lookupTarget(set, 'prod/evil')).toThrowError(expect.objectContaining({ code: 'TARGET_NOT_FOUND' }));
    });

    it('top-level targets wins over a delegation for the same name', async () => {
      const files = await build({ targets: ['same'], delegations: [{ name: 'targets/releases', keys: [dA], paths: [''], targets: ['same'] }] });
      const { set } = await load(files);
      expect(lookupTarget(set, 'same').role).toBe('targets');
      expect(lookupTarget(set, 'same', ['targets/releases']).role).toBe('targets/releases');
    });

    it('a delegation missing from the snapshot is not fetched', async () => {
      const files = await build({ delegations: [{ name: 'targets/releases', keys: [dA], paths: [''], targets: ['r'] }], omitFromSnapshot: ['targets/releases'] });
      let asked = false;
      const loaded = await loadCollection(
        (n) => {
          if (n === 'targets/releases') asked = true;
          return files.get(n);
        },
        { gun, crypto, clock },
      );
      expect(asked).toBe(false);
      expect(loaded.set.roles.has('targets/releases')).toBe(false);
    });

    it('rollback: a version below the trusted one is refused for every role', async () => {
      const files = await build({ targets: ['a'] });
      const set = TrustedMetadataSet.bootstrap(files.get('root')!, { gun, crypto, clock });
      expect(() => set.updateTimestamp(files.get('timestamp')!, { minVersion: 3 })).toThrowError(expect.objectContaining({ code: 'ROLLBACK' }));
      set.updateTimestamp(files.get('timestamp')!, { minVersion: 2 });
      expect(() => set.updateSnapshot(files.get('snapshot')!, { minVersion: 3 })).toThrowError(expect.objectContaining({ code: 'ROLLBACK' }));
      set.updateSnapshot(files.get('snapshot')!);
      expect(() => set.updateTargets(files.get('targets')!, { minVersion: 5 })).toThrowError(expect.objectContaining({ code: 'ROLLBACK' }));
    });

    it('metadata is admitted only in order', async () => {
      const files = await build({ targets: ['a'] });
      const set = TrustedMetadataSet.bootstrap(files.get('root')!, { gun, crypto, clock });
      expect(() => set.updateSnapshot(files.get('snapshot')!)).toThrowError(expect.objectContaining({ code: 'OUT_OF_ORDER' }));
      expect(() => set.updateTargets(files.get('targets')!)).toThrowError(expect.objectContaining({ code: 'OUT_OF_ORDER' }));
      set.updateTimestamp(files.get('timestamp')!);
      expect(() => set.updateRoot(files.get('root')!, { final: true })).toThrowError(expect.objectContaining({ code: 'OUT_OF_ORDER' }));
    });

    it('a rotated root is detected: the trusted root must match the snapshot', async () => {
      const files = await build({ targets: ['a'] });
      const other = await initRepositoryMetadata(generateRepositoryKeys(crypto, gun, now), crypto, now);
      const set = TrustedMetadataSet.bootstrap(other.root.bytes!, { gun, crypto, clock });
      // The timestamp is signed by a key the other root does not list.
      expect(() => set.updateTimestamp(files.get('timestamp')!)).toThrowError(expect.objectContaining({ code: 'THRESHOLD_NOT_MET' }));
    });

    it('root rotation co-signed by the old key is a direct jump; a new root alone is refused', async () => {
      const newRoot = generateRepositoryKeys(crypto, gun, now).root;
      const rotated = structuredClone(base.root.signed);
      rotated.keys![newRoot.keyId] = newRoot.publicKey;
      rotated.roles!['root'] = { keyids: [newRoot.keyId], threshold: 1 };
      bumpVersion(rotated, now, 3650);
      const coSigned = await signMetadata('Root', rotated, 'root', [keys.root.signer, newRoot.signer]);
      const alone = await signMetadata('Root', rotated, 'root', [newRoot.signer]);
      const set = TrustedMetadataSet.bootstrap(base.root.bytes!, { gun, crypto, clock });
      expect(() => set.updateRoot(alone.bytes!, { final: true })).toThrowError(expect.objectContaining({ code: 'ROOT_ROTATION_FAILED' }));
      set.updateRoot(coSigned.bytes!, { final: true });
      expect(set.root.version).toBe(2);
      expect(set.rootSigners).toEqual([newRoot.keyId]);
    });

    it('trust pinning: certs by TUF ID (exact and prefix*), disable_tofu', async () => {
      const bytes = base.root.bytes!;
      expect(() => TrustedMetadataSet.bootstrap(bytes, { gun, crypto, clock, trustPinning: { certs: { [gun]: [keys.root.keyId] } } })).not.toThrow();
      expect(() => TrustedMetadataSet.bootstrap(bytes, { gun, crypto, clock, trustPinning: { certs: { 'example.com/*': [keys.root.keyId] } } })).not.toThrow();
      // Pinning by the canonical ID fails, as in Notary.
      expect(() => TrustedMetadataSet.bootstrap(bytes, { gun, crypto, clock, trustPinning: { certs: { [gun]: [keys.root.canonicalId] } } })).toThrowError(
        expect.objectContaining({ code: 'TRUST_PINNING_FAILED' }),
      );
      expect(() => TrustedMetadataSet.bootstrap(bytes, { gun, crypto, clock, trustPinning: { disableTofu: true } })).toThrowError(
        expect.objectContaining({ code: 'TRUST_PINNING_FAILED' }),
      );
    });
  });
}
