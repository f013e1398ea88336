/**
 * The default crypto backend, on `node:crypto` (OpenSSL: native, fast, FIPS-capable).
 *
 * KeyObjects are built once per key-material object (from JWK) and cached in WeakMaps, so verifying many
 * signatures with one key does not re-import it. Method rules (notary-facts §3.3):
 * - ecdsa: SHA-256 for every curve, raw r‖s (`dsaEncoding: 'ieee-p1363'`), exact length 2·⌈bits/8⌉, high-S valid.
 * - eddsa: pure Ed25519.
 * - rsapss: SHA-256, MGF1-SHA-256, salt exactly 32 (OpenSSL checks an explicit salt length strictly).
 * - rsapkcs1v15: SHA-256, verify only.
 * RSA keys below 2048 bits never verify; signatures must be exactly the modulus length (as Go requires).
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type {
  CryptoBackend,
  EcCurve,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  SignatureMethod,
} from '../core/crypto.js';
import { KeyError } from '../core/errors.js';

const MIN_RSA_BITS = 2048;
const PSS_SALT_LENGTH = 32;

const FIELD_BYTES: Record<EcCurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

function fieldBytes(curve: EcCurve): number {
  const n = FIELD_BYTES[curve];
  if (n === undefined) throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported ECDSA curve ${String(curve)}`);
  return n;
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function fromB64u(text: string | undefined): Uint8Array {
  if (text === undefined) throw new KeyError('MALFORMED_KEY', 'JWK export is missing a field');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

function toU8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bit length of a big-endian unsigned integer. */
function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

function ecXY(curve: EcCurve, point: Uint8Array): { x: string; y: string } {
  const size = fieldBytes(curve);
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) {
    throw new KeyError('MALFORMED_KEY', `ECDSA ${curve} point must be uncompressed (${1 + 2 * size} bytes)`);
  }
  return { x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) };
}

interface CachedPublic {
  key: KeyObject;
  /** ecdsa: signature length; rsa: modulus byte length; ed25519: 64 */
  sigLength: number;
  /** rsa only: modulus bit length */
  bits: number;
}

const publicCache = new WeakMap<PublicKeyMaterial, CachedPublic>();
const privateCache = new WeakMap<PrivateKeyMaterial, KeyObject>();

function importPublic(material: PublicKeyMaterial): CachedPublic {
  const cached = publicCache.get(material);
  if (cached !== undefined) return cached;
  let jwk: JsonWebKey;
  let sigLength: number;
  let bits = 0;
  switch (material.kind) {
    case 'ecdsa':
      jwk = { kty: 'EC', crv: material.curve, ...ecXY(material.curve, material.point) };
      sigLength = 2 * fieldBytes(material.curve);
      break;
    case 'ed25519':
      if (material.raw.length !== 32) throw new KeyError('MALFORMED_KEY', 'ed25519 public key must be 32 bytes');
      jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(material.raw) };
      sigLength = 64;
      break;
    case 'rsa': {
      bits = bitLength(material.n);
      const n = material.n;
      if (bits < 2 || (n[n.length - 1]! & 1) === 0) throw new KeyError('MALFORMED_KEY', 'RSA modulus must be odd');
      const e = material.e;
      if (bitLength(e) < 2 || (e[e.length - 1]! & 1) === 0) {
        throw new KeyError('MALFORMED_KEY', 'RSA public exponent must be odd and ≥ 3');
      }
      jwk = { kty: 'RSA', n: b64u(material.n), e: b64u(material.e) };
      sigLength = Math.ceil(bits / 8);
      break;
    }
    default:
      throw new KeyError('UNSUPPORTED_KEY_TYPE', 'unsupported public key kind');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new KeyError('MALFORMED_KEY', `invalid ${material.kind} public key`, { cause });
  }
  const entry: CachedPublic = { key, sigLength, bits };
  publicCache.set(material, entry);
  return entry;
}

function importPrivate(material: PrivateKeyMaterial): KeyObject {
  const cached = privateCache.get(material);
  if (cached !== undefined) return cached;
  let jwk: JsonWebKey;
  switch (material.kind) {
    case 'ecdsa':
      if (material.d.length !== fieldBytes(material.curve)) {
        throw new KeyError('MALFORMED_KEY', 'ECDSA private scalar has the wrong size');
      }
      jwk = { kty: 'EC', crv: material.curve, ...ecXY(material.curve, material.point), d: b64u(material.d) };
      break;
    case 'ed25519':
      if (material.seed.length !== 32 || material.publicKey.length !== 32) {
        throw new KeyError('MALFORMED_KEY', 'ed25519 seed and public key must be 32 bytes');
      }
      jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(material.publicKey), d: b64u(material.seed) };
      break;
    case 'rsa':
      jwk = {
        kty: 'RSA',
        n: b64u(material.n),
        e: b64u(material.e),
        d: b64u(material.d),
        p: b64u(material.p),
        q: b64u(material.q),
        dp: b64u(material.dp),
        dq: b64u(material.dq),
        qi: b64u(material.qi),
      };
      break;
    default:
      throw new KeyError('UNSUPPORTED_KEY_TYPE', 'unsupported private key kind');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new KeyError('MALFORMED_KEY', `invalid ${material.kind} private key`, { cause });
  }
  privateCache.set(material, key);
  return key;
}

function verify(method: SignatureMethod, material: PublicKeyMaterial, message: Uint8Array, signature: Uint8Array): boolean {
  const expectedKind = method === 'ecdsa' ? 'ecdsa' : method === 'eddsa' ? 'ed25519' : 'rsa';
  if (method !== 'ecdsa' && method !== 'eddsa' && method !== 'rsapss' && method !== 'rsapkcs1v15') return false;
  if (material.kind !== expectedKind) return false;
  const { key, sigLength, bits } = importPublic(material);
  if (signature.length !== sigLength) return false;
  if (material.kind === 'rsa' && bits < MIN_RSA_BITS) return false; // Notary: ErrInvalidKeyLength
  const data = view(message);
  const sig = view(signature);
  try {
    switch (method) {
      case 'ecdsa':
        return nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
      case 'eddsa':
        return nodeVerify(null, data, key, sig);
      case 'rsapss':
        return nodeVerify(
          'sha256',
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
          sig,
        );
      case 'rsapkcs1v15':
        return nodeVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    }
  } catch {
    return false;
  }
}

function sign(method: SignatureMethod, material: PrivateKeyMaterial, message: Uint8Array): Uint8Array {
  const data = view(message);
  if (method === 'ecdsa' && material.kind === 'ecdsa') {
    return toU8(nodeSign('sha256', data, { key: importPrivate(material), dsaEncoding: 'ieee-p1363' }));
  }
  if (method === 'eddsa' && material.kind === 'ed25519') {
    return toU8(nodeSign(null, data, importPrivate(material)));
  }
  if (method === 'rsapss' && material.kind === 'rsa') {
    if (bitLength(material.n) < MIN_RSA_BITS) {
      throw new KeyError('MALFORMED_KEY', `RSA key must be at least ${MIN_RSA_BITS} bits`);
    }
    return toU8(
      nodeSign('sha256', data, {
        key: importPrivate(material),
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: PSS_SALT_LENGTH,
      }),
    );
  }
  throw new KeyError('UNSUPPORTED_ALGORITHM', `cannot sign with method ${method} and a ${material.kind} key`);
}

function generateKey(kind: 'ecdsa' | 'ed25519'): PrivateKeyMaterial {
  if (kind === 'ecdsa') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    const x = fromB64u(jwk.x);
    const y = fromB64u(jwk.y);
    const d = fromB64u(jwk.d);
    const point = new Uint8Array(65);
    point[0] = 0x04;
    point.set(x, 1 + 32 - x.length);
    point.set(y, 1 + 64 - y.length);
    const dPadded = new Uint8Array(32);
    dPadded.set(d, 32 - d.length);
    const material: PrivateKeyMaterial = { kind: 'ecdsa', curve: 'P-256', d: dPadded, point };
    privateCache.set(material, privateKey);
    return material;
  }
  if (kind === 'ed25519') {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const material: PrivateKeyMaterial = { kind: 'ed25519', seed: fromB64u(jwk.d), publicKey: fromB64u(jwk.x) };
    privateCache.set(material, privateKey);
    return material;
  }
  throw new KeyError('UNSUPPORTED_KEY_TYPE', `cannot generate ${String(kind)} keys`);
}

export const nodeCryptoBackend: CryptoBackend = {
  name: 'node',
  sha256: (data) => toU8(createHash('sha256').update(view(data)).digest()),
  sha512: (data) => toU8(createHash('sha512').update(view(data)).digest()),
  verify,
  sign,
  generateKey,
  randomBytes: (length) => toU8(nodeRandomBytes(length)),
};
