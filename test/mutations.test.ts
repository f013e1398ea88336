/**
 * Systematic tampering: every signature, every signed field and every referenced file of a real
 * Notary-made repository is changed in turn, and each change must be refused with the right error code —
 * by the state machine in Notary's order, and by the signature check itself.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../src/core/bytes.js';
import { NotaryError } from '../src/core/errors.js';
import { loadCollection } from '../src/core/load.js';
import { Metadata, serializeEnvelope, type AnySigned, type SignatureJson } from '../src/core/metadata.js';
import { rootRoleKeys } from '../src/core/root.js';
import { newVerifyContext, verifyThreshold } from '../src/core/verify.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { vectorSets } from './support/fixtures.js';

const set = vectorSets().find((s) => s.name === 'delegations')!;
const { gun, generatedAt } = set.manifest;
const clock = () => new Date(generatedAt);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths to every leaf value of a JSON tree. */
function leaves(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => leaves((value as Record<string | number, Json>)[k]!, [...path, k]));
}

function mutateLeaf(v: Json): Json | undefined {
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'string' && v.length > 0) {
    // Change one character within its class, so the value stays well-formed where it can.
    const i = v.length > 2 && v.endsWith('=') ? v.replace(/=+$/, '').length - 1 : v.length - 1;
    const c = v[i]!;
    const r = /[0-8]/.test(c) ? String(Number(c) + 1) : c === '9' ? '0' : /[a-y]/i.test(c) ? String.fromCharCode(c.charCodeAt(0) + 1) : c === 'z' ? 'a' : c === 'Z' ? 'A' : 'x';
    return v.slice(0, i) + r + v.slice(i + 1);
  }
  return undefined;
}

function withMutation(bytes: Uint8Array, role: string, path: (string | number)[]): Uint8Array | undefined {
  const md = Metadata.fromBytes(bytes, role);
  const signed = structuredClone(md.signed) as unknown as Json;
  let parent = signed as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  const mutated = mutateLeaf(parent[last]!);
  if (mutated === undefined) return undefined;
  parent[last] = mutated;
  return serializeEnvelope(signed as unknown as AnySigned, md.signatures);
}

async function refusal(files: Map<string, Uint8Array>): Promise<NotaryError> {
  try {
    await loadCollection((name) => files.get(name), { gun, crypto, clock });
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    return err as NotaryError;
  }
  throw new Error('tampered repository was accepted');
}

const roles = [...set.files.keys()].filter((r) => !/^\d+\.root$/.test(r));

describe('tampering with the delegations vector', () => {
  it('the untampered repository loads (control)', async () => {
    const loaded = await loadCollection((name) => set.files.get(name), { gun, crypto, clock });
    expect(loaded.set.roles.size).toBeGreaterThan(3);
  });

  for (const role of roles) {
    it(`${role}: every signature byte flip is refused`, async () => {
      const md = Metadata.fromBytes(set.files.get(role)!, role);
      expect(md.signatures.length).toBeGreaterThan(0);
      for (let i = 0; i < md.signatures.length; i++) {
        const sigs: SignatureJson[] = md.signatures.map((s) => ({ ...s }));
        const raw = fromBase64(sigs[i]!.sig)!;
        raw[raw.length >> 1]! ^= 0x01;
        sigs[i]!.sig = toBase64(raw);
        const tampered = serializeEnvelope(md.signed, sigs);
        const files = new Map(set.files).set(role, tampered);
        const err = await refusal(files);
        // Files below timestamp are pinned by their parent's hash, which is checked first.
        const expected = role === 'root' || role === 'timestamp' ? 'THRESHOLD_NOT_MET' : 'HASH_MISMATCH';
        expect(err.code, `${role} signature ${i}`).toBe(expected);
      }
    });

    it(`${role}: every signed field change is refused`, async () => {
      const original = Metadata.fromBytes(set.files.get(role)!, role);
      const paths = leaves(original.signed as unknown as Json);
      expect(paths.length).toBeGreaterThan(3);
      let tried = 0;
      for (const path of paths) {
        const tampered = withMutation(set.files.get(role)!, role, path);
        if (!tampered) continue;
        tried++;
        const files = new Map(set.files).set(role, tampered);
        const err = await refusal(files);
        const where = `${role}: ${path.join('.')}`;
        if (role === 'root') {
          // A changed certificate may stop parsing; anything else breaks the signature.
          expect(['THRESHOLD_NOT_MET', 'NO_VALID_ROOT_CERTIFICATES', 'MALFORMED_METADATA', 'BAD_TIME'], where).toContain(err.code);
        } else if (role === 'timestamp') {
          expect(['THRESHOLD_NOT_MET', 'BAD_TIME', 'MALFORMED_METADATA'], where).toContain(err.code);
        } else {
          expect(err.code, where).toBe('HASH_MISMATCH');
          expect(err.where, where).toBe(role);
        }
        // The signature check alone refuses the change too (it is not only the hash that catches it).
        let md: Metadata;
        try {
          md = Metadata.fromBytes(tampered, role);
        } catch (e) {
          expect(['BAD_TIME', 'MALFORMED_METADATA']).toContain((e as NotaryError).code);
          continue;
        }
        if (role === 'root' || role === 'timestamp' || role === 'snapshot' || role === 'targets') {
          const root = Metadata.fromBytes(set.files.get('root')!, 'root');
          expect(() => verifyThreshold(md, rootRoleKeys(root.signed, role), newVerifyContext(crypto)), where).toThrowError(
            expect.objectContaining({ code: expect.stringMatching(/THRESHOLD_NOT_MET|KEY_ID_MISMATCH/) }),
          );
        }
      }
      expect(tried).toBeGreaterThan(3);
    });
  }

  it('a snapshot that does not match the timestamp hash is refused (mix-and-match)', async () => {
    const other = vectorSets().find((s) => s.name === 'basic')!;
    const files = new Map(set.files).set('snapshot', other.files.get('snapshot')!);
    expect((await refusal(files)).code).toBe('HASH_MISMATCH');
  });

  it('removing all signatures gives NO_SIGNATURES', async () => {
    const md = Metadata.fromBytes(set.files.get('timestamp')!, 'timestamp');
    const files = new Map(set.files).set('timestamp', serializeEnvelope(md.signed, []));
    expect((await refusal(files)).code).toBe('NO_SIGNATURES');
  });

  it('a signature under an unknown key ID is ignored; the method is case-insensitive', async () => {
    const md = Metadata.fromBytes(set.files.get('timestamp')!, 'timestamp');
    const sigs = [{ keyid: 'ab'.repeat(32), method: 'eddsa', sig: md.signatures[0]!.sig }, ...md.signatures.map((s) => ({ ...s, method: s.method.toUpperCase() }))];
    const files = new Map(set.files).set('timestamp', serializeEnvelope(md.signed, sigs));
    await expect(loadCollection((n) => files.get(n), { gun, crypto, clock })).resolves.toBeDefined();
  });

  it('a signature with a method that does not fit the key is not counted', async () => {
    const md = Metadata.fromBytes(set.files.get('timestamp')!, 'timestamp');
    const sigs = md.signatures.map((s) => ({ ...s, method: 'ecdsa' }));
    const files = new Map(set.files).set('timestamp', serializeEnvelope(md.signed, sigs));
    expect((await refusal(files)).code).toBe('THRESHOLD_NOT_MET');
  });

  it('expired timestamp (freeze) is refused at the timestamp', async () => {
    const after = new Date(new Date(set.manifest.clock.timestampExpires).getTime() + 1000);
    await expect(loadCollection((n) => set.files.get(n), { gun, crypto, clock: () => after })).rejects.toMatchObject({
      code: 'EXPIRED',
      where: 'timestamp',
    });
  });

  it('a root certificate checked after it expires is refused', async () => {
    await expect(loadCollection((n) => set.files.get(n), { gun, crypto, clock: () => new Date('2037-01-01T00:00:00Z') })).rejects.toMatchObject({
      code: 'NO_VALID_ROOT_CERTIFICATES',
    });
  });

  it('a GUN that does not match the root certificate CN is refused', async () => {
    await expect(loadCollection((n) => set.files.get(n), { gun: 'example.com/other', crypto, clock })).rejects.toMatchObject({
      code: 'NO_VALID_ROOT_CERTIFICATES',
    });
  });
});
