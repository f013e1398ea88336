import { notaryFixturesDir } from './support/fixtures.js';
import * as nodeCrypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import type {
  CryptoBackend,
  EcCurve,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  SignatureMethod,
} from '../src/core/crypto.js';
import { KeyError } from '../src/core/errors.js';
import { bitLength, bytesToBigInt, emsaPssEncode, emsaPssVerify } from '../src/crypto/rsa-pure.js';

// Count KeyObject imports made by the node backend (to prove the per-key cache works).
vi.mock('node:crypto', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:crypto')>();
  return { ...orig, createPublicKey: vi.fn(orig.createPublicKey) };
});

const { nodeCryptoBackend } = await import('../src/crypto/node.js');
const { nobleCryptoBackend } = await import('../src/crypto/noble.js');

const BACKENDS: CryptoBackend[] = [nodeCryptoBackend, nobleCryptoBackend];
const CURVES: EcCurve[] = ['P-256', 'P-384', 'P-521'];
const FIELD: Record<EcCurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromB64u = (s: string | undefined): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64url'));
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b);

function leftPad(b: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(b, size - b.length);
  return out;
}

function xorAt(b: Uint8Array, index: number, mask: number): Uint8Array {
  const out = Uint8Array.from(b);
  out[index] = out[index]! ^ mask;
  return out;
}

function flip(b: Uint8Array, index = 0): Uint8Array {
  const out = Uint8Array.from(b);
  out[index] = out[index]! ^ 0x01;
  return out;
}

// ---- material from node KeyObjects (JWK export, SPKI DER) ----

function publicMaterial(ko: nodeCrypto.KeyObject): PublicKeyMaterial {
  const pub = ko.type === 'private' ? nodeCrypto.createPublicKey(ko) : ko;
  const jwk = pub.export({ format: 'jwk' });
  const spki = u8(pub.export({ type: 'spki', format: 'der' }));
  if (jwk.kty === 'EC') {
    const curve = jwk.crv as EcCurve;
    const size = FIELD[curve];
    const point = new Uint8Array(1 + 2 * size);
    point[0] = 4;
    point.set(leftPad(fromB64u(jwk.x), size), 1);
    point.set(leftPad(fromB64u(jwk.y), size), 1 + size);
    return { kind: 'ecdsa', curve, point, spki };
  }
  if (jwk.kty === 'OKP') return { kind: 'ed25519', raw: fromB64u(jwk.x) };
  if (jwk.kty === 'RSA') return { kind: 'rsa', n: fromB64u(jwk.n), e: fromB64u(jwk.e), spki };
  throw new Error('unexpected kty');
}

function privateMaterial(ko: nodeCrypto.KeyObject): PrivateKeyMaterial {
  const jwk = ko.export({ format: 'jwk' });
  const pub = publicMaterial(ko);
  if (pub.kind === 'ecdsa') return { kind: 'ecdsa', curve: pub.curve, d: leftPad(fromB64u(jwk.d), FIELD[pub.curve]), point: pub.point };
  if (pub.kind === 'ed25519') return { kind: 'ed25519', seed: fromB64u(jwk.d), publicKey: pub.raw };
  return {
    kind: 'rsa',
    n: fromB64u(jwk.n),
    e: fromB64u(jwk.e),
    d: fromB64u(jwk.d),
    p: fromB64u(jwk.p),
    q: fromB64u(jwk.q),
    dp: fromB64u(jwk.dp),
    dq: fromB64u(jwk.dq),
    qi: fromB64u(jwk.qi),
  };
}

interface TestKey {
  label: string;
  method: SignatureMethod;
  ko: nodeCrypto.KeyObject;
  pub: PublicKeyMaterial;
  priv: PrivateKeyMaterial;
}

function makeKey(label: string, method: SignatureMethod, ko: nodeCrypto.KeyObject): TestKey {
  return { label, method, ko, pub: publicMaterial(ko), priv: privateMaterial(ko) };
}

/** DER ECDSA-Sig-Value → raw r‖s, each left-padded to `size`. */
function derToRaw(der: Uint8Array, size: number): Uint8Array {
  let i = 0;
  const readLen = (): number => {
    let len = der[i++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = (len << 8) | der[i++]!;
    }
    return len;
  };
  expect(der[i++]).toBe(0x30);
  readLen();
  const ints: Uint8Array[] = [];
  for (let k = 0; k < 2; k++) {
    expect(der[i++]).toBe(0x02);
    const len = readLen();
    let v = der.subarray(i, i + len);
    i += len;
    while (v.length > 0 && v[0] === 0) v = v.subarray(1);
    ints.push(leftPad(v, size));
  }
  const out = new Uint8Array(2 * size);
  out.set(ints[0]!, 0);
  out.set(ints[1]!, size);
  return out;
}

function bigFrom(b: Uint8Array): bigint {
  return BigInt('0x' + (hex(b) || '0'));
}
function bigTo(x: bigint, size: number): Uint8Array {
  return new Uint8Array(Buffer.from(x.toString(16).padStart(2 * size, '0'), 'hex'));
}

// ---- keys ----

const keys: Record<string, TestKey> = {};
let rsa1024: TestKey;

beforeAll(() => {
  for (const curve of CURVES) {
    keys[curve] = makeKey(curve, 'ecdsa', nodeCrypto.generateKeyPairSync('ec', { namedCurve: curve }).privateKey);
  }
  keys.ed25519 = makeKey('ed25519', 'eddsa', nodeCrypto.generateKeyPairSync('ed25519').privateKey);
  keys['rsa2048'] = makeKey('rsa2048', 'rsapss', nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  // 2049 bits: emBits ≡ 0 (mod 8) so emLen = k − 1 — the PSS edge case where EM has a leading zero byte.
  keys['rsa2049'] = makeKey('rsa2049', 'rsapss', nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2049 }).privateKey);
  rsa1024 = makeKey('rsa1024', 'rsapss', nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
}, 60_000);

const SIGNING_KEYS = ['P-256', 'P-384', 'P-521', 'ed25519', 'rsa2048', 'rsa2049'];
const MESSAGE = enc('{"signed":{"_type":"Targets","version":1},"x":"héllo"}');

function k(label: string): TestKey {
  const key = keys[label];
  if (key === undefined) throw new Error('missing key ' + label);
  return key;
}

// ---- hashes ----

describe('hashes (known answers)', () => {
  const vectors: Array<[string, string, string]> = [
    [
      '',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
    ],
    [
      'abc',
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    ],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
      '204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445',
    ],
  ];
  for (const backend of BACKENDS) {
    it(`${backend.name}: sha256/sha512`, () => {
      for (const [input, h256, h512] of vectors) {
        const a = backend.sha256(enc(input));
        const b = backend.sha512(enc(input));
        expect(a).toBeInstanceOf(Uint8Array);
        expect(hex(a)).toBe(h256);
        expect(hex(b)).toBe(h512);
      }
      // a subarray view must hash only its own bytes
      const big = enc('xxabcxx');
      expect(hex(backend.sha256(big.subarray(2, 5)))).toBe(vectors[1]![1]);
    });
  }
});

// ---- round trips and cross-backend ----

describe('sign/verify', () => {
  for (const signer of BACKENDS) {
    for (const label of SIGNING_KEYS) {
      it(`${signer.name} signs ${label}; both backends verify; tampering fails`, () => {
        const key = k(label);
        const sig = signer.sign(key.method, key.priv, MESSAGE);
        if (key.method === 'ecdsa') expect(sig.length).toBe(2 * FIELD[key.label as EcCurve]);
        if (key.method === 'eddsa') expect(sig.length).toBe(64);
        // Node's own verifier (independent of the backends) agrees.
        if (key.method === 'ecdsa') {
          expect(nodeCrypto.verify('sha256', MESSAGE, { key: key.ko, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
        }
        if (key.method === 'rsapss') {
          expect(
            nodeCrypto.verify('sha256', MESSAGE, { key: key.ko, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig),
          ).toBe(true);
        }
        const other = k(label === 'P-256' ? 'P-384' : label === 'ed25519' ? 'P-256' : label === 'rsa2048' ? 'rsa2049' : 'P-256');
        const sameKindOther =
          key.method === 'eddsa'
            ? publicMaterial(nodeCrypto.generateKeyPairSync('ed25519').privateKey)
            : key.method === 'ecdsa'
              ? publicMaterial(nodeCrypto.generateKeyPairSync('ec', { namedCurve: key.label }).privateKey)
              : other.pub;
        for (const verifier of BACKENDS) {
          expect(verifier.verify(key.method, key.pub, MESSAGE, sig), `${verifier.name} valid`).toBe(true);
          expect(verifier.verify(key.method, key.pub, flip(MESSAGE, 5), sig), `${verifier.name} msg`).toBe(false);
          expect(verifier.verify(key.method, key.pub, MESSAGE, flip(sig, 3)), `${verifier.name} sig head`).toBe(false);
          expect(verifier.verify(key.method, key.pub, MESSAGE, flip(sig, sig.length - 1)), `${verifier.name} sig tail`).toBe(false);
          expect(verifier.verify(key.method, sameKindOther, MESSAGE, sig), `${verifier.name} wrong key`).toBe(false);
          expect(verifier.verify(key.method, key.pub, MESSAGE, sig.subarray(1)), `${verifier.name} short`).toBe(false);
          expect(verifier.verify(key.method, key.pub, MESSAGE, new Uint8Array([...sig, 0])), `${verifier.name} long`).toBe(false);
          expect(verifier.verify(key.method, key.pub, MESSAGE, new Uint8Array(0)), `${verifier.name} empty`).toBe(false);
          // a method that does not fit the key type never verifies
          const wrongMethod: SignatureMethod = key.method === 'eddsa' ? 'ecdsa' : 'eddsa';
          expect(verifier.verify(wrongMethod, key.pub, MESSAGE, sig)).toBe(false);
        }
      });
    }
  }

  it('ecdsa signatures are randomised (hedged nonces) on both backends', () => {
    for (const backend of BACKENDS) {
      const a = backend.sign('ecdsa', k('P-256').priv, MESSAGE);
      const b = backend.sign('ecdsa', k('P-256').priv, MESSAGE);
      expect(hex(a)).not.toBe(hex(b));
    }
  });

  it('signing rsapkcs1v15 (or mismatched method/key) throws UNSUPPORTED_ALGORITHM', () => {
    for (const backend of BACKENDS) {
      for (const [method, label] of [
        ['rsapkcs1v15', 'rsa2048'],
        ['ecdsa', 'ed25519'],
        ['eddsa', 'P-256'],
        ['rsapss', 'P-256'],
      ] as const) {
        let err: unknown;
        try {
          backend.sign(method, k(label).priv, MESSAGE);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(KeyError);
        expect((err as KeyError).code).toBe('UNSUPPORTED_ALGORITHM');
      }
    }
  });

  it('rsapkcs1v15 signatures (made by node:crypto) verify on both backends', () => {
    for (const label of ['rsa2048', 'rsa2049']) {
      const key = k(label);
      const sig = u8(nodeCrypto.sign('sha256', MESSAGE, { key: key.ko, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }));
      const pssSig = nobleCryptoBackend.sign('rsapss', key.priv, MESSAGE);
      for (const b of BACKENDS) {
        expect(b.verify('rsapkcs1v15', key.pub, MESSAGE, sig)).toBe(true);
        expect(b.verify('rsapkcs1v15', key.pub, flip(MESSAGE), sig)).toBe(false);
        expect(b.verify('rsapkcs1v15', key.pub, MESSAGE, flip(sig, 100))).toBe(false);
        // the two RSA methods do not accept each other's signatures
        expect(b.verify('rsapss', key.pub, MESSAGE, sig)).toBe(false);
        expect(b.verify('rsapkcs1v15', key.pub, MESSAGE, pssSig)).toBe(false);
      }
      // PKCS#1 v1.5 with SHA-1 (different DigestInfo) is refused
      const sha1 = u8(nodeCrypto.sign('sha1', MESSAGE, { key: key.ko, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }));
      for (const b of BACKENDS) expect(b.verify('rsapkcs1v15', key.pub, MESSAGE, sha1)).toBe(false);
    }
  });

  it('generateKey: ecdsa is P-256, ed25519 works; keys interoperate across backends', () => {
    for (const gen of BACKENDS) {
      const ec = gen.generateKey('ecdsa');
      expect(ec.kind).toBe('ecdsa');
      if (ec.kind !== 'ecdsa') return;
      expect(ec.curve).toBe('P-256');
      expect(ec.d.length).toBe(32);
      expect(ec.point.length).toBe(65);
      expect(ec.point[0]).toBe(4);
      const ecPub: PublicKeyMaterial = { kind: 'ecdsa', curve: 'P-256', point: ec.point, spki: new Uint8Array(0) };
      const ed = gen.generateKey('ed25519');
      expect(ed.kind).toBe('ed25519');
      if (ed.kind !== 'ed25519') return;
      expect(ed.seed.length).toBe(32);
      expect(ed.publicKey.length).toBe(32);
      const edPub: PublicKeyMaterial = { kind: 'ed25519', raw: ed.publicKey };
      for (const signer of BACKENDS) {
        const s1 = signer.sign('ecdsa', ec, MESSAGE);
        const s2 = signer.sign('eddsa', ed, MESSAGE);
        for (const v of BACKENDS) {
          expect(v.verify('ecdsa', ecPub, MESSAGE, s1)).toBe(true);
          expect(v.verify('eddsa', edPub, MESSAGE, s2)).toBe(true);
        }
      }
    }
  });

  it('randomBytes returns the requested length and differs between calls', () => {
    for (const b of BACKENDS) {
      const a = b.randomBytes(32);
      expect(a).toBeInstanceOf(Uint8Array);
      expect(a.length).toBe(32);
      expect(hex(a)).not.toBe(hex(b.randomBytes(32)));
      expect(b.randomBytes(0).length).toBe(0);
    }
  });
});

// ---- ECDSA specifics ----

describe('ecdsa rules', () => {
  it('wrong-length signatures are invalid, not errors (including DER and P1363 of another curve)', () => {
    const key = k('P-256');
    const raw = nodeCryptoBackend.sign('ecdsa', key.priv, MESSAGE);
    const der = u8(nodeCrypto.sign('sha256', MESSAGE, key.ko));
    expect(nodeCrypto.verify('sha256', MESSAGE, key.ko, der)).toBe(true); // sanity: a valid DER signature
    for (const b of BACKENDS) {
      expect(b.verify('ecdsa', key.pub, MESSAGE, der)).toBe(false);
      expect(b.verify('ecdsa', key.pub, MESSAGE, new Uint8Array(96))).toBe(false);
      expect(b.verify('ecdsa', key.pub, MESSAGE, raw.subarray(0, 63))).toBe(false);
      expect(b.verify('ecdsa', key.pub, MESSAGE, new Uint8Array(64))).toBe(false); // r = s = 0
      const nBytes = bigTo(p256.Point.CURVE().n, 32);
      expect(b.verify('ecdsa', key.pub, MESSAGE, new Uint8Array([...raw.subarray(0, 32), ...nBytes]))).toBe(false); // s = n
    }
  });

  it('a high-S P-256 signature (s → n − s) verifies on both backends', () => {
    const key = k('P-256');
    const n = p256.Point.CURVE().n;
    for (const signer of BACKENDS) {
      const sig = signer.sign('ecdsa', key.priv, MESSAGE);
      const s = bigFrom(sig.subarray(32));
      const highS = s > n / 2n ? s : n - s;
      expect(highS > n / 2n).toBe(true);
      const high = new Uint8Array([...sig.subarray(0, 32), ...bigTo(highS, 32)]);
      const low = new Uint8Array([...sig.subarray(0, 32), ...bigTo(n - highS, 32)]);
      // noble's default policy (lowS: true) would refuse it: the test is meaningful
      expect(p256.verify(high, MESSAGE, key.pub.kind === 'ecdsa' ? key.pub.point : new Uint8Array(0))).toBe(false);
      for (const v of BACKENDS) {
        expect(v.verify('ecdsa', key.pub, MESSAGE, high), `${v.name} high-S`).toBe(true);
        expect(v.verify('ecdsa', key.pub, MESSAGE, low), `${v.name} low-S`).toBe(true);
        expect(v.verify('ecdsa', key.pub, flip(MESSAGE), high)).toBe(false);
      }
    }
  });

  it('P-384 and P-521 use SHA-256 (not the curve hash): node verify with sha256 accepts, sha384/512 does not', () => {
    for (const label of ['P-384', 'P-521'] as const) {
      const key = k(label);
      for (const signer of BACKENDS) {
        const sig = signer.sign('ecdsa', key.priv, MESSAGE);
        const opts = { key: key.ko, dsaEncoding: 'ieee-p1363' as const };
        expect(nodeCrypto.verify('sha256', MESSAGE, opts, sig)).toBe(true);
        expect(nodeCrypto.verify(label === 'P-384' ? 'sha384' : 'sha512', MESSAGE, opts, sig)).toBe(false);
      }
      // and a signature over the curve-native hash is refused by both backends
      const native = u8(nodeCrypto.sign(label === 'P-384' ? 'sha384' : 'sha512', MESSAGE, { key: key.ko, dsaEncoding: 'ieee-p1363' }));
      for (const v of BACKENDS) expect(v.verify('ecdsa', key.pub, MESSAGE, native)).toBe(false);
    }
  });

  it('an invalid public point is an unusable key: KeyError', () => {
    const good = k('P-256').pub;
    if (good.kind !== 'ecdsa') throw new Error('unreachable');
    const offCurve = Uint8Array.from(good.point);
    offCurve[64] = offCurve[64]! ^ 1;
    const bad: PublicKeyMaterial = { kind: 'ecdsa', curve: 'P-256', point: offCurve, spki: good.spki };
    const short: PublicKeyMaterial = { kind: 'ecdsa', curve: 'P-384', point: good.point, spki: good.spki };
    const sig = nodeCryptoBackend.sign('ecdsa', k('P-256').priv, MESSAGE);
    for (const b of BACKENDS) {
      expect(() => b.verify('ecdsa', bad, MESSAGE, sig)).toThrow(KeyError);
      expect(() => b.verify('ecdsa', short, MESSAGE, sig)).toThrow(KeyError);
      expect(() => b.verify('eddsa', { kind: 'ed25519', raw: new Uint8Array(31) }, MESSAGE, new Uint8Array(64))).toThrow(KeyError);
    }
  });

  it('node backend caches KeyObjects per material (no per-call import)', () => {
    const spy = vi.mocked(nodeCrypto.createPublicKey);
    const material = publicMaterial(k('P-256').ko); // a fresh object, not yet seen by the backend
    const sig = nodeCryptoBackend.sign('ecdsa', k('P-256').priv, MESSAGE);
    const before = spy.mock.calls.length;
    for (let i = 0; i < 200; i++) expect(nodeCryptoBackend.verify('ecdsa', material, MESSAGE, sig)).toBe(true);
    expect(spy.mock.calls.length - before).toBe(1);
  });
});

// ---- RSA specifics ----

describe('rsa rules', () => {
  function pssSign(key: TestKey, saltLength: number, message = MESSAGE): Uint8Array {
    return u8(nodeCrypto.sign('sha256', message, { key: key.ko, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength }));
  }

  it('PSS salt length must be exactly 32', () => {
    for (const label of ['rsa2048', 'rsa2049']) {
      const key = k(label);
      for (const salt of [0, 20, 31, 33, 64]) {
        const sig = pssSign(key, salt);
        for (const b of BACKENDS) expect(b.verify('rsapss', key.pub, MESSAGE, sig), `${b.name} salt ${salt}`).toBe(false);
      }
      const ok = pssSign(key, 32);
      for (const b of BACKENDS) expect(b.verify('rsapss', key.pub, MESSAGE, ok)).toBe(true);
    }
  });

  it('RSA keys below 2048 bits are refused (verify false, sign throws)', () => {
    const sig = pssSign(rsa1024, 32);
    const pkcs = u8(nodeCrypto.sign('sha256', MESSAGE, { key: rsa1024.ko, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }));
    expect(nodeCrypto.verify('sha256', MESSAGE, { key: rsa1024.ko, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)).toBe(true);
    for (const b of BACKENDS) {
      expect(b.verify('rsapss', rsa1024.pub, MESSAGE, sig)).toBe(false);
      expect(b.verify('rsapkcs1v15', rsa1024.pub, MESSAGE, pkcs)).toBe(false);
      expect(() => b.sign('rsapss', rsa1024.priv, MESSAGE)).toThrow(KeyError);
    }
  });

  it('a signature shorter than the modulus (leading zero stripped) is refused, as in Go', () => {
    const key = k('rsa2048');
    // find a signature whose first byte is zero, then strip it
    let sig = pssSign(key, 32);
    let msg = MESSAGE;
    for (let i = 0; sig[0] !== 0 && i < 5000; i++) {
      msg = enc('m' + i);
      sig = pssSign(key, 32, msg);
    }
    expect(sig[0]).toBe(0);
    for (const b of BACKENDS) {
      expect(b.verify('rsapss', key.pub, msg, sig)).toBe(true);
      expect(b.verify('rsapss', key.pub, msg, sig.subarray(1))).toBe(false);
    }
  });

  it('malformed PSS encodings (raw-signed with the private key) are refused; the well-formed one verifies', () => {
    for (const label of ['rsa2048', 'rsa2049']) {
      const key = k(label);
      if (key.pub.kind !== 'rsa') throw new Error('unreachable');
      const kLen = key.pub.n.length;
      const bits = bitLength(bytesToBigInt(key.pub.n));
      const emBits = bits - 1;
      const emLen = Math.ceil(emBits / 8);
      const mHash = nodeCryptoBackend.sha256(MESSAGE);
      const rawSign = (em: Uint8Array): Uint8Array =>
        u8(nodeCrypto.privateEncrypt({ key: key.ko, padding: nodeCrypto.constants.RSA_NO_PADDING }, leftPad(em, kLen)));
      const good = emsaPssEncode(mHash, emBits, nodeCrypto.randomBytes(32));
      expect(good.length).toBe(emLen);
      const dbLen = emLen - 33;
      const separator = dbLen - 32 - 1;
      // Masking is XOR, so flipping a masked byte flips the same DB byte; H (over M') stays valid.
      const variants: Array<[string, Uint8Array]> = [
        ['separator 0x01 → 0x03', xorAt(good, separator, 0x02)],
        ['non-zero PS byte', xorAt(good, 3, 0x40)],
        ['PS byte next to the separator', xorAt(good, separator - 1, 0x01)],
        ['trailer 0xbc → 0xbd', xorAt(good, emLen - 1, 0x01)],
      ];
      if (8 * emLen - emBits > 0) {
        // EM with its top bit set must still be < n to be signable: try salts until one fits.
        let topSet = xorAt(good, 0, 0x80);
        for (let i = 0; i < 500 && bytesToBigInt(topSet) >= bytesToBigInt(key.pub.n); i++) {
          topSet = xorAt(emsaPssEncode(mHash, emBits, nodeCrypto.randomBytes(32)), 0, 0x80);
        }
        expect(bytesToBigInt(topSet) < bytesToBigInt(key.pub.n)).toBe(true);
        expect(emsaPssVerify(mHash, xorAt(topSet, 0, 0x80), emBits, 32)).toBe(true);
        variants.push(['top bit set', topSet]);
      }
      for (const b of BACKENDS) expect(b.verify('rsapss', key.pub, MESSAGE, rawSign(good)), `${b.name} ${label} good`).toBe(true);
      for (const [what, em] of variants) {
        if (bytesToBigInt(em) >= bytesToBigInt(key.pub.n)) continue;
        const sig = rawSign(em);
        for (const b of BACKENDS) expect(b.verify('rsapss', key.pub, MESSAGE, sig), `${b.name} ${label} ${what}`).toBe(false);
        expect(emsaPssVerify(mHash, em, emBits, 32), what).toBe(false);
      }
    }
  });

  it('a signature ≥ n is refused', () => {
    const key = k('rsa2048');
    if (key.pub.kind !== 'rsa') throw new Error('unreachable');
    for (const b of BACKENDS) {
      expect(b.verify('rsapss', key.pub, MESSAGE, key.pub.n)).toBe(false);
      expect(b.verify('rsapss', key.pub, MESSAGE, new Uint8Array(256).fill(0xff))).toBe(false);
    }
  });
});

// ---- OpenSSL-made signatures ----


// openssl is installed by the test command (scripts/test.sh); a missing openssl must fail, not skip.
describe('signatures made by the openssl CLI', () => {
  let dir: string;
  const msgFile = (): string => join(dir, 'msg.bin');
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'notary-ts-crypto-'));
    writeFileSync(msgFile(), MESSAGE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function keyFile(key: TestKey): string {
    const path = join(dir, `${key.label}.pem`);
    writeFileSync(path, key.ko.export({ type: 'pkcs8', format: 'pem' }));
    return path;
  }
  function openssl(args: string[]): Uint8Array {
    const out = join(dir, 'sig.bin');
    // options must precede the input file for `openssl dgst`
    execFileSync('openssl', [args[0]!, '-out', out, ...args.slice(1)], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(out));
  }

  it('ecdsa P-256/P-384/P-521 with -sha256 (DER → raw) verifies on both; high-S variant too', () => {
    for (const curve of CURVES) {
      const key = k(curve);
      const der = openssl(['dgst', '-sha256', '-sign', keyFile(key), msgFile()]);
      const raw = derToRaw(der, FIELD[curve]);
      for (const b of BACKENDS) {
        expect(b.verify('ecdsa', key.pub, MESSAGE, raw), `${b.name} ${curve}`).toBe(true);
        expect(b.verify('ecdsa', key.pub, MESSAGE, der), `${b.name} ${curve} DER`).toBe(false);
        expect(b.verify('ecdsa', key.pub, flip(MESSAGE), raw)).toBe(false);
      }
      if (curve === 'P-256') {
        const n = p256.Point.CURVE().n;
        const s = bigFrom(raw.subarray(32));
        const flipped = new Uint8Array([...raw.subarray(0, 32), ...bigTo(n - s, 32)]);
        for (const b of BACKENDS) expect(b.verify('ecdsa', key.pub, MESSAGE, flipped)).toBe(true);
      }
    }
    // P-384 over SHA-384 (the curve-native hash) must not verify
    const der384 = openssl(['dgst', '-sha384', '-sign', keyFile(k('P-384')), msgFile()]);
    for (const b of BACKENDS) expect(b.verify('ecdsa', k('P-384').pub, MESSAGE, derToRaw(der384, 48))).toBe(false);
  });

  it('ed25519 (pkeyutl -rawin) verifies on both', () => {
    const key = k('ed25519');
    const sig = openssl(['pkeyutl', '-sign', '-rawin', '-inkey', keyFile(key), '-in', msgFile()]);
    expect(sig.length).toBe(64);
    for (const b of BACKENDS) {
      expect(b.verify('eddsa', key.pub, MESSAGE, sig)).toBe(true);
      expect(b.verify('eddsa', key.pub, flip(MESSAGE), sig)).toBe(false);
    }
  });

  it('rsapss salt 32 verifies on both; salt 20 and 1024-bit keys are refused; pkcs1v15 verifies', () => {
    for (const label of ['rsa2048', 'rsa2049']) {
      const key = k(label);
      const pss = (salt: number): Uint8Array =>
        openssl(['dgst', '-sha256', '-sign', keyFile(key), '-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${salt}`, msgFile()]);
      const sig32 = pss(32);
      const sig20 = pss(20);
      const pkcs = openssl(['dgst', '-sha256', '-sign', keyFile(key), msgFile()]);
      for (const b of BACKENDS) {
        expect(b.verify('rsapss', key.pub, MESSAGE, sig32), `${b.name} ${label} salt 32`).toBe(true);
        expect(b.verify('rsapss', key.pub, MESSAGE, sig20), `${b.name} ${label} salt 20`).toBe(false);
        expect(b.verify('rsapss', key.pub, flip(MESSAGE), sig32)).toBe(false);
        expect(b.verify('rsapkcs1v15', key.pub, MESSAGE, pkcs), `${b.name} ${label} pkcs1`).toBe(true);
        expect(b.verify('rsapss', key.pub, MESSAGE, pkcs)).toBe(false);
      }
    }
    const small = openssl(['dgst', '-sha256', '-sign', keyFile(rsa1024), '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', msgFile()]);
    for (const b of BACKENDS) expect(b.verify('rsapss', rsa1024.pub, MESSAGE, small)).toBe(false);
  });

  it('signatures made by the backends verify with openssl', () => {
    const cases: Array<[string, string[]]> = [
      ['P-256', ['-sha256']],
      ['P-384', ['-sha256']],
      ['rsa2048', ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']],
    ];
    for (const backend of BACKENDS) {
      for (const [label, opts] of cases) {
        const key = k(label);
        let sig = backend.sign(key.method, key.priv, MESSAGE);
        if (key.method === 'ecdsa') {
          // raw → DER for openssl
          const pubKo = nodeCrypto.createPublicKey(key.ko);
          const half = sig.length / 2;
          const int = (b: Uint8Array): number[] => {
            let v = Array.from(b);
            while (v.length > 1 && v[0] === 0) v = v.slice(1);
            if (v[0]! & 0x80) v = [0, ...v];
            return [0x02, v.length, ...v];
          };
          const body = [...int(sig.subarray(0, half)), ...int(sig.subarray(half))];
          sig = new Uint8Array([0x30, body.length, ...body]);
          expect(nodeCrypto.verify('sha256', MESSAGE, pubKo, sig)).toBe(true);
        }
        const sigPath = join(dir, 'backend-sig.bin');
        const pubPath = join(dir, `${label}.pub.pem`);
        writeFileSync(sigPath, sig);
        writeFileSync(pubPath, nodeCrypto.createPublicKey(key.ko).export({ type: 'spki', format: 'pem' }));
        const out = execFileSync('openssl', ['dgst', ...opts, '-verify', pubPath, '-signature', sigPath, msgFile()], { stdio: 'pipe' });
        expect(out.toString()).toContain('Verified OK');
      }
    }
  });
});

// ---- real Notary 0.1 fixture (signed by Go notary) ----

// Notary's own fixtures, fetched from the Debian source package by the test setup (never skipped).
const FIXTURE_DIR = join(notaryFixturesDir(), 'notary0.1', 'tuf', 'docker.com', 'notary0.1', 'samplerepo', 'metadata');

// Copies of the small fixture files, so the test does not depend on the source tree being present.
const EMBEDDED: Record<string, { file: string; key: string }> = {
  'snapshot.json': {
    file: '{"signed":{"_type":"Snapshot","expires":"2116-01-11T16:58:57.197958956-08:00","meta":{"root":{"hashes":{"sha256":"fMvVcv5Se773HesG6Or0tdFMvhBa4lyKsi4LSB683F4="},"length":2429},"targets":{"hashes":{"sha256":"HPcl2zJ5gM2Kv1Hz1IihF4HBMvLrrpzjmgccWpJeV7Y="},"length":439}},"version":2},"signatures":[{"keyid":"a55ccf652b0be4b6c4d356cbb02d9ea432bb84a2571665be3df7c7396af8e8b8","method":"ecdsa","sig":"oFwXmCdukz9lJqjGM2MM1/rn3UNvcOAjjXvw3Qo0915qXIJ5/9mABQ7Q8B/7a+GDbi1J4WfOSvAQ16pwQrTv2g=="}]}',
    key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6A7d++A5KSNHAvNGD3r7zCOXE5ztDjGXvYmUxP0VE1AM7pwrIWAdCZVbbZXBMYk+hWVLmNDT6eYqHEhtgyES5Q==',
  },
  'targets.json': {
    file: '{"signed":{"_type":"Targets","delegations":{"keys":{},"roles":[]},"expires":"2116-01-11T16:58:57.194192511-08:00","targets":{"LICENSE":{"hashes":{"sha256":"k5W6xvzLJry1XvsIPRtLD+cqHCX5WfBWwBYSCzu1amI="},"length":11309}},"version":2},"signatures":[{"keyid":"7fc757801b9bab4ec9e35bfe7a6b61668ff6f4c81b5632af19e6c728ab799599","method":"ecdsa","sig":"Q2YkzUU2dTwanLhtiKd+FogRxi33GmFiX9EreHcyvRNjDU+2hPQwpoKSxlILAoXLxhqA9d7ixDmxmZhyXAzjiQ=="}]}',
    key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMNbne5Ki6AlF/B0VHhaZ2Z1xHAL2KqXoL+j5lYUw37Qjhkcav/JG2A3K1qJd6yC+OTa0Bl2PDBEvHvnWNa6WYA==',
  },
  'timestamp.json': {
    file: '{"signed":{"_type":"Timestamp","expires":"2116-01-12T00:58:43.527711489Z","meta":{"snapshot":{"hashes":{"sha256":"lbmRtDEnrK4xv9M42C+vTVUR5Vu8qq373Q+Lnfe9hXk="},"length":488}},"version":1},"signatures":[{"keyid":"1192c9d6a8e45e4fa80fd3eb7fff45778ccad29c84f4ce7afcf45f62210a4955","method":"ecdsa","sig":"W4CVwbbPCBO0hV8KvXNTaOZmysSc3uR5HN7StpkFWfVh4EzqNvxdZc+qZc856mQjE5PYOxFcPNGa+4NIhUV13w=="}]}',
    key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwTj8+har32eLdvKi3X7P6njHqzXWTFtOBYEJdJEZ9aqwRbcplVztUeJpdHPA6JoiHAgK9+hXRxVOmM49FAywsA==',
  },
};

/** The signed bytes of these fixtures: the raw text between `"signed":` and `,"signatures"`. */
function signedBytes(file: string): Uint8Array {
  const start = file.indexOf('"signed":') + '"signed":'.length;
  const end = file.lastIndexOf(',"signatures"');
  expect(start).toBeGreaterThan(8);
  expect(end).toBeGreaterThan(start);
  return enc(file.slice(start, end));
}

function sigOf(file: string): Uint8Array {
  const parsed = JSON.parse(file) as { signatures: Array<{ method: string; sig: string }> };
  const s = parsed.signatures[0];
  expect(s?.method).toBe('ecdsa');
  return fromB64(s!.sig);
}

describe('Notary 0.1 fixture signatures', () => {
  for (const [name, { file, key }] of Object.entries(EMBEDDED)) {
    it(`${name} (embedded copy) verifies on both backends`, () => {
      const pub = publicMaterial(nodeCrypto.createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' }));
      expect(pub.kind).toBe('ecdsa');
      const msg = signedBytes(file);
      const sig = sigOf(file);
      expect(sig.length).toBe(64);
      for (const b of BACKENDS) {
        expect(b.verify('ecdsa', pub, msg, sig), b.name).toBe(true);
        expect(b.verify('ecdsa', pub, flip(msg, 20), sig)).toBe(false);
        expect(b.verify('ecdsa', pub, msg, flip(sig, 40))).toBe(false);
      }
      // the other fixture keys do not verify it
      for (const other of Object.values(EMBEDDED)) {
        if (other.key === key) continue;
        const otherPub = publicMaterial(nodeCrypto.createPublicKey({ key: Buffer.from(other.key, 'base64'), format: 'der', type: 'spki' }));
        for (const b of BACKENDS) expect(b.verify('ecdsa', otherPub, msg, sig)).toBe(false);
      }
    });
  }

  describe('from the notary source tree', () => {
    interface Root {
      signed: { keys: Record<string, { keytype: string; keyval: { public: string } }>; roles: Record<string, { keyids: string[] }> };
      signatures: Array<{ keyid: string; method: string; sig: string }>;
    }
    const loadRoot = (): { text: string; root: Root } => {
      const text = readFileSync(join(FIXTURE_DIR, 'root.json'), 'utf8');
      return { text, root: JSON.parse(text) as Root };
    };

    it('the files match the embedded copies', () => {
      for (const [name, { file }] of Object.entries(EMBEDDED)) {
        expect(readFileSync(join(FIXTURE_DIR, name), 'utf8')).toBe(file);
      }
    });

    it('snapshot/targets/timestamp verify with the keys listed in root.json', () => {
      const { root } = loadRoot();
      for (const role of ['snapshot', 'targets', 'timestamp']) {
        const text = readFileSync(join(FIXTURE_DIR, `${role}.json`), 'utf8');
        const keyid = root.signed.roles[role]!.keyids[0]!;
        const entry = root.signed.keys[keyid]!;
        expect(entry.keytype).toBe('ecdsa');
        const pub = publicMaterial(nodeCrypto.createPublicKey({ key: Buffer.from(entry.keyval.public, 'base64'), format: 'der', type: 'spki' }));
        for (const b of BACKENDS) expect(b.verify('ecdsa', pub, signedBytes(text), sigOf(text)), `${role} ${b.name}`).toBe(true);
      }
    });

    it('root.json verifies with its ecdsa-x509 certificate key', () => {
      const { text, root } = loadRoot();
      const sigEntry = root.signatures[0]!;
      const entry = root.signed.keys[sigEntry.keyid]!;
      expect(entry.keytype).toBe('ecdsa-x509');
      const cert = new nodeCrypto.X509Certificate(Buffer.from(entry.keyval.public, 'base64').toString('utf8'));
      const pub = publicMaterial(cert.publicKey);
      for (const b of BACKENDS) expect(b.verify('ecdsa', pub, signedBytes(text), fromB64(sigEntry.sig)), b.name).toBe(true);
    });
  });
});
