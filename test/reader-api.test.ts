/**
 * The verification API deploy tools import, over a repository the real Go notary made (test-vectors),
 * served by an in-memory remote: lookups with their signing role and keys, digest and content checks,
 * delegations, and "as of time T" audits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { MemoryMetadataCache } from '../src/node/cache.js';
import { TrustedRepository, type MetadataRemote } from '../src/repository/reader.js';
import { vectorSets } from './support/fixtures.js';

const set = vectorSets().find((s) => s.name === 'delegations')!;
const { gun, generatedAt } = set.manifest;

function remoteOf(files: Map<string, Uint8Array>): MetadataRemote {
  const get = async (name: string) => {
    const bytes = files.get(name);
    if (!bytes) throw Object.assign(new Error(`${name} not found`), { code: 'NOT_FOUND' });
    return bytes;
  };
  return {
    host: 'vectors.invalid',
    getTimestamp: () => get('timestamp'),
    getRoot: () => get('root'),
    getRootVersion: (v) => get(`${v}.root`),
    getRoleByChecksum: (role) => get(role),
    getRole: (role) => get(role),
  };
}

const open = (clock = () => new Date(generatedAt)) =>
  TrustedRepository.open({ gun, remote: remoteOf(set.files), cache: new MemoryMetadataCache(), crypto, clock });

describe('TrustedRepository (verification API)', () => {
  it('looks up a delegated target with its role and signing key', async () => {
    const repo = await open();
    const expected = set.manifest.targets.find((t: { name: string }) => t.name === 'rel/one');
    const t = await repo.lookup('rel/one');
    expect(t.role).toBe('targets/releases');
    expect(t.signers.length).toBe(1);
    expect(Buffer.from(t.hashes['sha256']!, 'base64').toString('hex')).toBe(expected.sha256);
  });

  it('verifies a digest (with or without sha256: prefix) and refuses others', async () => {
    const repo = await open();
    const expected = set.manifest.targets.find((t: { name: string }) => t.name === 'rel/one');
    await expect(repo.verifyDigest('rel/one', { sha256: expected.sha256, length: expected.length })).resolves.toMatchObject({ role: 'targets/releases' });
    await expect(repo.verifyDigest('rel/one', { sha256: `sha256:${expected.sha256}` })).resolves.toBeDefined();
    await expect(repo.verifyDigest('rel/one', { sha256: '0'.repeat(64) })).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    await expect(repo.verifyDigest('rel/one', { sha256: expected.sha256, length: expected.length + 1 })).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    await expect(repo.verifyDigest('rel/one', { sha256: 'nothex' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(repo.verifyDigest('no/such', { sha256: expected.sha256 })).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND' });
  });

  it('verifies content against the target (every listed hash)', async () => {
    const repo = await open();
    const expected = set.manifest.targets.find((t: { name: string }) => t.name === 'rel/one');
    const payload = new Uint8Array(readFileSync(join(set.dir, expected.payload)));
    await expect(repo.verifyContent('rel/one', payload)).resolves.toMatchObject({ name: 'rel/one' });
    payload[0]! ^= 1;
    await expect(repo.verifyContent('rel/one', payload)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
  });

  it('lists delegations and per-role targets', async () => {
    const repo = await open();
    const names = (await repo.delegations()).map((d) => d.name).sort();
    expect(names).toEqual(set.manifest.delegations.map((d: { name: string }) => d.name).sort());
    const releases = await repo.listTargets(['targets/releases']);
    expect(releases.every((t) => t.role === 'targets/releases')).toBe(true);
    expect(releases.map((t) => t.name)).toContain('rel/one');
  });

  it('audits "as of" a time: the same repository is refused once its timestamp has expired', async () => {
    const later = new Date(new Date(set.manifest.clock.timestampExpires).getTime() + 1000);
    await expect(open(() => later)).rejects.toMatchObject({ code: 'EXPIRED', where: 'timestamp' });
  });

  it('deferCacheWrites: returns before the cache is written, cacheWritten() waits for it, a failed write warns', async () => {
    const cache = new MemoryMetadataCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { get: (role: string) => cache.get(role), remove: (role: string) => cache.remove(role), set: async (role: string, bytes: Uint8Array) => { if (role !== 'root') await gate; await cache.set(role, bytes); } };
    const repo = await TrustedRepository.open({ gun, remote: remoteOf(set.files), cache: slow, crypto, clock: () => new Date(generatedAt), deferCacheWrites: true });
    // The root is written during bootstrap (trust on first use); the rest waits behind the gate.
    expect(await cache.get('targets')).toBeUndefined();
    expect((await repo.listTargets()).length).toBeGreaterThan(0);
    release();
    await repo.cacheWritten();
    for (const role of ['timestamp', 'snapshot', 'targets']) expect(await cache.get(role), role).toEqual(set.files.get(role));

    const warnings: string[] = [];
    const failing = { get: async () => undefined, remove: async () => {}, set: async (role: string) => { if (role !== 'root') throw new Error('disk full'); } };
    const other = await TrustedRepository.open({ gun, remote: remoteOf(set.files), cache: failing, crypto, clock: () => new Date(generatedAt), deferCacheWrites: true, log: { warn: (m) => warnings.push(m), debug: () => {} } });
    await other.cacheWritten();
    expect(warnings).toEqual(['could not write metadata to the cache: disk full']);
    await expect(TrustedRepository.open({ gun, remote: remoteOf(set.files), cache: failing, crypto, clock: () => new Date(generatedAt) })).rejects.toThrow('disk full');
  });
});
