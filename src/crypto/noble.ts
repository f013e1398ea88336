/**
 * Pure-JS crypto backend on @noble (curves, hashes) plus a small BigInt RSA (./rsa-pure.ts). No Node imports:
 * it runs in browsers, Deno, Bun, workers. Randomness comes from `crypto.getRandomValues` via noble's
 * `randomBytes`.
 *
 * Ed25519 comes from `@noble/curves/ed25519.js` rather than `@noble/ed25519`: it is self-contained (SHA-512 is
 * wired in, so there is no global `hashes.sha512` hook to mutate — a hook on a shared module would leak into,
 * and could be overwritten by, any other user of @noble/ed25519 in the same program), and it shares its field
 * arithmetic with the NIST curves we need anyway.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import type { ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import type {
  CryptoBackend,
  EcCurve,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  SignatureMethod,
} from '../core/crypto.js';
import { KeyError } from '../core/errors.js';
import {
  MIN_RSA_BITS,
  rsaPkcs1v15VerifySha256,
  rsaPrivateFromBytes,
  rsaPssSignSha256,
  rsaPssVerifySha256,
  rsaPublicFromBytes,
  type RsaPrivate,
  type RsaPublic,
} from './rsa-pure.js';

const CURVES: Record<EcCurve, { ecdsa: ECDSA; fieldBytes: number }> = {
  'P-256': { ecdsa: p256, fieldBytes: 32 },
  'P-384': { ecdsa: p384, fieldBytes: 48 },
  'P-521': { ecdsa: p521, fieldBytes: 66 },
};

function curveOf(curve: EcCurve): { ecdsa: ECDSA; fieldBytes: number } {
  const c = CURVES[curve];
  if (c === undefined) throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported ECDSA curve ${String(curve)}`);
  return c;
}

/*
 * ECDSA options. Notary hashes with SHA-256 for EVERY curve, while noble's `prehash: true` would use the
 * curve's own hash (SHA-384 for P-384, SHA-512 for P-521). So we always pass the SHA-256 digest ourselves with
 * `prehash: false`; noble then applies bits2int to the 32-byte digest exactly as Go's hashToInt does (no
 * truncation is needed, the digest is shorter than every order). `lowS: false` because Go does not normalise S:
 * a high-S signature is valid in Notary and must verify here too. `format: 'compact'` is raw r‖s (P1363).
 * `extraEntropy: true` hedges the RFC 6979 nonce with fresh randomness, as Go's ecdsa.Sign mixes CSPRNG output
 * with the key and digest.
 */
const ECDSA_VERIFY_OPTS = { prehash: false, lowS: false, format: 'compact' } as const;
const ECDSA_SIGN_OPTS = { prehash: false, lowS: false, format: 'compact', extraEntropy: true } as const;

// Per-key caches: validation and decoding happen once per material object.
const validatedEcPoints = new WeakSet<PublicKeyMaterial | PrivateKeyMaterial>();
const rsaPublicCache = new WeakMap<PublicKeyMaterial, RsaPublic>();
const rsaPrivateCache = new WeakMap<PrivateKeyMaterial, RsaPrivate>();

function checkEcPoint(key: PublicKeyMaterial | PrivateKeyMaterial, ecdsa: ECDSA, point: Uint8Array): void {
  if (validatedEcPoints.has(key)) return;
  try {
    if (point[0] !== 0x04) throw new Error('not an uncompressed point');
    const P = ecdsa.Point.fromBytes(point);
    P.assertValidity();
    if (P.is0()) throw new Error('point at infinity');
  } catch (cause) {
    throw new KeyError('MALFORMED_KEY', 'invalid ECDSA public point', { cause });
  }
  validatedEcPoints.add(key);
}

function rsaPublic(key: PublicKeyMaterial & { kind: 'rsa' }): RsaPublic {
  let pub = rsaPublicCache.get(key);
  if (pub === undefined) {
    try {
      pub = rsaPublicFromBytes(key.n, key.e);
    } catch (cause) {
      throw new KeyError('MALFORMED_KEY', 'invalid RSA public key', { cause });
    }
    rsaPublicCache.set(key, pub);
  }
  return pub;
}

function rsaPrivate(key: PrivateKeyMaterial & { kind: 'rsa' }): RsaPrivate {
  let priv = rsaPrivateCache.get(key);
  if (priv === undefined) {
    try {
      priv = rsaPrivateFromBytes(key);
    } catch (cause) {
      throw new KeyError('MALFORMED_KEY', 'invalid RSA private key', { cause });
    }
    rsaPrivateCache.set(key, priv);
  }
  return priv;
}

function verify(method: SignatureMethod, key: PublicKeyMaterial, message: Uint8Array, signature: Uint8Array): boolean {
  switch (method) {
    case 'ecdsa': {
      if (key.kind !== 'ecdsa') return false;
      const { ecdsa, fieldBytes } = curveOf(key.curve);
      checkEcPoint(key, ecdsa, key.point);
      if (signature.length !== 2 * fieldBytes) return false;
      try {
        return ecdsa.verify(signature, sha256(message), key.point, ECDSA_VERIFY_OPTS);
      } catch {
        return false;
      }
    }
    case 'eddsa': {
      if (key.kind !== 'ed25519') return false;
      if (key.raw.length !== 32) throw new KeyError('MALFORMED_KEY', 'ed25519 public key must be 32 bytes');
      if (signature.length !== 64) return false;
      try {
        // zip215: false = RFC 8032 strict decoding (canonical encodings, no small-order keys).
        return ed25519.verify(signature, message, key.raw, { zip215: false });
      } catch {
        return false;
      }
    }
    case 'rsapss':
    case 'rsapkcs1v15': {
      if (key.kind !== 'rsa') return false;
      const pub = rsaPublic(key);
      if (pub.bits < MIN_RSA_BITS) return false; // Notary: ErrInvalidKeyLength → the signature is invalid
      if (signature.length !== pub.k) return false;
      try {
        return method === 'rsapss'
          ? rsaPssVerifySha256(pub, message, signature)
          : rsaPkcs1v15VerifySha256(pub, message, signature);
      } catch {
        return false;
      }
    }
    default:
      return false;
  }
}

function sign(method: SignatureMethod, key: PrivateKeyMaterial, message: Uint8Array): Uint8Array {
  if (method === 'ecdsa' && key.kind === 'ecdsa') {
    const { ecdsa, fieldBytes } = curveOf(key.curve);
    if (key.d.length !== fieldBytes) throw new KeyError('MALFORMED_KEY', 'ECDSA private scalar has the wrong size');
    try {
      return ecdsa.sign(sha256(message), key.d, ECDSA_SIGN_OPTS);
    } catch (cause) {
      throw new KeyError('MALFORMED_KEY', 'invalid ECDSA private key', { cause });
    }
  }
  if (method === 'eddsa' && key.kind === 'ed25519') {
    if (key.seed.length !== 32) throw new KeyError('MALFORMED_KEY', 'ed25519 seed must be 32 bytes');
    return ed25519.sign(message, key.seed);
  }
  if (method === 'rsapss' && key.kind === 'rsa') {
    const priv = rsaPrivate(key);
    if (priv.bits < MIN_RSA_BITS) throw new KeyError('MALFORMED_KEY', `RSA key must be at least ${MIN_RSA_BITS} bits`);
    return rsaPssSignSha256(priv, message, randomBytes);
  }
  throw new KeyError('UNSUPPORTED_ALGORITHM', `cannot sign with method ${method} and a ${key.kind} key`);
}

function generateKey(kind: 'ecdsa' | 'ed25519'): PrivateKeyMaterial {
  if (kind === 'ecdsa') {
    const secretKey = p256.utils.randomSecretKey();
    // getPublicKey(…, false) is the uncompressed SEC1 point 0x04‖X‖Y (keygen() would give the compressed one).
    return { kind: 'ecdsa', curve: 'P-256', d: secretKey, point: p256.getPublicKey(secretKey, false) };
  }
  if (kind === 'ed25519') {
    const { secretKey, publicKey } = ed25519.keygen();
    return { kind: 'ed25519', seed: secretKey, publicKey };
  }
  throw new KeyError('UNSUPPORTED_KEY_TYPE', `cannot generate ${String(kind)} keys`);
}

function randomBytes(length: number): Uint8Array {
  return nobleRandomBytes(length);
}

export const nobleCryptoBackend: CryptoBackend = {
  name: 'noble',
  sha256: (data) => sha256(data),
  sha512: (data) => sha512(data),
  verify,
  sign,
  generateKey,
  randomBytes,
};
