/**
 * Every committed vector set (made by the real notary + notary-server, see test-vectors/README.md) and
 * Notary's own compatibility fixtures verify on both crypto backends, and give the targets the Go client
 * listed.
 */
import { describe, expect, it } from 'vitest';
import { toHex, fromBase64 } from '../src/core/bytes.js';
import { listTargets, lookupTarget } from '../src/core/collection.js';
import { NotaryError } from '../src/core/errors.js';
import { canonicalKeyId, keyCertificates, tufKeyId } from '../src/core/keys.js';
import { loadCollection, type FileSource } from '../src/core/load.js';
import { Metadata } from '../src/core/metadata.js';
import { TrustedMetadataSet } from '../src/core/trusted.js';
import { BACKENDS } from './support/backends.js';
import { notaryFixtureRepos, vectorSets } from './support/fixtures.js';

const sets = vectorSets();

function sourceOf(files: Map<string, Uint8Array>): FileSource {
  return (name) => files.get(name);
}

function atTime(iso: string): () => Date {
  const d = new Date(iso);
  return () => d;
}

describe('committed vectors are present', () => {
  it('has the four sets the generator makes', () => {
    expect(sets.map((s) => s.name)).toEqual(['basic', 'delegations', 'root-rotation', 'server-snapshot']);
  });
});

for (const [backendName, crypto] of BACKENDS) {
  describe(`vectors on the ${backendName} backend`, () => {
    for (const set of sets) {
      it(`${set.name}: loads and lists what notary listed`, async () => {
        const { gun, generatedAt } = set.manifest;
        const loaded = await loadCollection(sourceOf(set.files), { gun, crypto, clock: atTime(generatedAt) });
        expect(loaded.skipped).toEqual([]);
        const listed = listTargets(loaded.set);
        // The manifest has one entry per (name, role); the listing keeps the first role breadth-first.
        const expectedNames = [...new Set<string>(set.manifest.targets.map((t: { name: string }) => t.name))].sort((a, b) =>
          Buffer.compare(Buffer.from(a), Buffer.from(b)),
        );
        expect(listed.map((t) => t.name)).toEqual(expectedNames);
        for (const t of listed) {
          const candidates = set.manifest.targets.filter((m: { name: string }) => m.name === t.name);
          const match = candidates.find((m: { role: string }) => m.role === t.role);
          expect(match, `${t.name} in role ${t.role}`).toBeDefined();
          expect(toHex(fromBase64(t.hashes['sha256']!)!)).toBe(match.sha256);
          expect(t.length).toBe(match.length);
          expect(lookupTarget(loaded.set, t.name).role).toBe(t.role);
        }
        // The Go CLI's table lists the same rows in the same order.
        const cliNames = (set.manifest.cli.list as string)
          .split('\n')
          .slice(2)
          .filter((l) => l.trim() !== '');
        expect(cliNames.length).toBe(listed.length);
      });

      it(`${set.name}: key IDs match the ones notary reported`, () => {
        const root = Metadata.fromBytes(set.files.get('root')!, 'root');
        for (const role of set.manifest.roles) {
          for (const key of role.keys ?? []) {
            const json = root.signed.keys?.[key.keyid] ?? findDelegationKey(set.files, key.keyid);
            expect(json, key.keyid).toBeDefined();
            expect(tufKeyId(json!, crypto)).toBe(key.keyid);
            if (key.canonicalId) expect(canonicalKeyId(json!, crypto)).toBe(key.canonicalId);
          }
        }
      });
    }

    it('root-rotation: a client holding 1.root.json walks 2..5 and cannot jump', async () => {
      const set = sets.find((s) => s.name === 'root-rotation')!;
      const { gun, generatedAt } = set.manifest;
      const clock = atTime(generatedAt);
      const v1 = set.files.get('1.root')!;
      const loaded = await loadCollection(sourceOf(set.files), { gun, crypto, clock, trustedRoot: v1 });
      expect(loaded.set.root.version).toBe(5);

      const direct = TrustedMetadataSet.bootstrap(v1, { gun, crypto, clock });
      expect(() => direct.updateRoot(set.files.get('5.root')!, { final: true })).toThrowError(
        expect.objectContaining({ code: 'ROOT_ROTATION_FAILED' }),
      );
      // Each step is signed by its predecessor's key.
      for (let v = 2; v <= 5; v++) direct.updateRoot(set.files.get(`${v}.root`)!, { final: v === 5 });
      expect(direct.root.version).toBe(5);
      // ...and a lower version is never accepted after a higher one.
      expect(() => direct.updateRoot(set.files.get('4.root')!, { final: true })).toThrowError(NotaryError);
    });

    describe('Notary fixtures/compatibility', () => {
      for (const repo of notaryFixtureRepos()) {
        it(`${repo.name} verifies as of its creation time`, async () => {
          // Judge the fixture a day after its root certificate was made (notary0.3's has since expired).
          const root = Metadata.fromBytes(repo.files.get('root')!, 'root');
          const rootKey = root.signed.keys![root.signed.roles!['root']!.keyids![0]!]!;
          const created = new Date(keyCertificates(rootKey)[0]!.notBefore.getTime() + 86_400_000);
          const loaded = await loadCollection(sourceOf(repo.files), { gun: repo.gun, crypto, clock: () => created });
          const names = listTargets(loaded.set).map((t) => `${t.name}:${t.role}`);
          expect(names).toContain('LICENSE:targets');
          if (repo.name === 'notary0.3') expect(names).toContain('hello:targets/releases');
        });
      }

      it('notary0.3 is refused today: its root certificate expired in 2026', async () => {
        const repo = notaryFixtureRepos().find((r) => r.name === 'notary0.3')!;
        await expect(loadCollection(sourceOf(repo.files), { gun: repo.gun, crypto, clock: () => new Date('2026-11-23T00:00:00Z') })).rejects.toMatchObject({
          code: 'NO_VALID_ROOT_CERTIFICATES',
        });
      });
    });
  });
}

function findDelegationKey(files: Map<string, Uint8Array>, keyid: string) {
  for (const [name, bytes] of files) {
    if (name !== 'targets' && !name.startsWith('targets/')) continue;
    const md = Metadata.fromBytes(bytes, name);
    const key = md.signed.delegations?.keys?.[keyid];
    if (key) return key;
  }
  return undefined;
}
