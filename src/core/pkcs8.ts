/**
 * The unencrypted PKCS#8 PrivateKeyInfo Notary 0.7 writes inside its key files (the encryption layer is
 * separate), and reading it back:
 *
 * | key     | version | AlgorithmIdentifier                     | privateKey OCTET STRING                         |
 * |---------|---------|-----------------------------------------|-------------------------------------------------|
 * | ECDSA   | 1       | { id-ecPublicKey, namedCurve }          | SEC1 ECPrivateKey v1 with [0] curve, [1] point  |
 * | RSA     | 0       | { rsaEncryption } (no NULL parameter)   | PKCS#1 RSAPrivateKey                            |
 * | Ed25519 | 0       | { 1.3.6.1.4.1.11591.15.1 }              | 96 bytes: public ‖ seed ‖ public                |
 *
 * Decoding also takes the standard forms OpenSSL/Node write for EC and RSA (version 0, RSA with NULL), as
 * Go's ParsePKCS8PrivateKey does. RFC 8410 Ed25519 (1.3.101.112) is refused, as Notary refuses it.
 *
 * Runs in any JS runtime: no Node modules.
 */
import { bytesEqual, concatBytes } from './bytes.js';
import type { EcCurve, PrivateKeyMaterial } from './crypto.js';
import {
  DerSequence,
  Tag,
  TagClass,
  derBitString,
  derExplicit,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  expectUniversal,
  parseDer,
  readBigInt,
  readBitStringBytes,
  readNull,
  readOctetString,
  readOid,
  readSmallInt,
  readUnsignedInteger,
} from './der.js';
import { KeyError } from './errors.js';
import { EC_FIELD_BYTES, OID, isValidEcPoint } from './x509.js';

/** Notary's (non-standard) Ed25519 private key algorithm OID. */
export const NOTARY_ED25519_OID = '1.3.6.1.4.1.11591.15.1';

const CURVE_BY_OID: Record<string, EcCurve> = { [OID.p256]: 'P-256', [OID.p384]: 'P-384', [OID.p521]: 'P-521' };
const OID_BY_CURVE: Record<EcCurve, string> = { 'P-256': OID.p256, 'P-384': OID.p384, 'P-521': OID.p521 };
const CURVE_ORDER: Record<EcCurve, bigint> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521': 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

function bad(message: string, cause?: unknown): never {
  throw new KeyError('MALFORMED_KEY', message, cause === undefined ? {} : { cause });
}

function toBigInt(b: Uint8Array): bigint {
  let hex = '';
  for (const x of b) hex += (x < 16 ? '0' : '') + x.toString(16);
  return hex === '' ? 0n : BigInt('0x' + hex);
}

function leftPad(b: Uint8Array, size: number): Uint8Array {
  if (b.length > size) bad('private key value too long');
  const out = new Uint8Array(size);
  out.set(b, size - b.length);
  return out;
}

/** SEC1 ECPrivateKey exactly as Go's x509.MarshalECPrivateKey writes it. */
export function encodeSec1EcPrivateKey(key: Extract<PrivateKeyMaterial, { kind: 'ecdsa' }>): Uint8Array {
  const size = EC_FIELD_BYTES[key.curve];
  if (!isValidEcPoint(key.curve, key.point)) bad(`invalid ${key.curve} public point`);
  return derSequence(
    derInteger(1),
    derOctetString(leftPad(stripZeros(key.d), size)),
    derExplicit(0, derOid(OID_BY_CURVE[key.curve])),
    derExplicit(1, derBitString(key.point)),
  );
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

/** PKCS#1 RSAPrivateKey (version 0, two primes) as Go's x509.MarshalPKCS1PrivateKey writes it. */
export function encodePkcs1RsaPrivateKey(key: Extract<PrivateKeyMaterial, { kind: 'rsa' }>): Uint8Array {
  return derSequence(
    derInteger(0),
    ...[key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map((v) => derInteger(v)),
  );
}

/** The PrivateKeyInfo DER Notary 0.7 writes for this key (see the table at the top of this file). */
export function encodePkcs8(key: PrivateKeyMaterial): Uint8Array {
  switch (key.kind) {
    case 'ecdsa':
      return derSequence(
        derInteger(1),
        derSequence(derOid(OID.ecPublicKey), derOid(OID_BY_CURVE[key.curve])),
        derOctetString(encodeSec1EcPrivateKey(key)),
      );
    case 'rsa':
      return derSequence(derInteger(0), derSequence(derOid(OID.rsaEncryption)), derOctetString(encodePkcs1RsaPrivateKey(key)));
    case 'ed25519':
      return derSequence(derInteger(0), derSequence(derOid(NOTARY_ED25519_OID)), derOctetString(encodeEd25519Blob(key)));
  }
}

/**
 * SEC1 ECPrivateKey → key material. The curve comes from `curveFromAlgorithm` (PKCS#8 parameters) or else
 * from [0]. The public point must be present in [1] (Notary, Go and OpenSSL always write it; the core cannot
 * derive it without curve arithmetic).
 */
export function decodeSec1EcPrivateKey(der: Uint8Array, curveFromAlgorithm?: EcCurve): Extract<PrivateKeyMaterial, { kind: 'ecdsa' }> {
  const seq = DerSequence.of(der, 'ECPrivateKey');
  if (readSmallInt(seq.nextUniversal(Tag.INTEGER, 'version')) !== 1) bad('unknown EC private key version');
  let d = readOctetString(seq.nextUniversal(Tag.OCTET_STRING, 'privateKey'));
  const params = seq.optional(TagClass.context, 0);
  const pub = seq.optional(TagClass.context, 1);
  seq.end('ECPrivateKey');
  let curve = curveFromAlgorithm;
  if (params) {
    const oid = readOid(expectUniversal(parseDer(params.content), Tag.OID, 'namedCurve'));
    const fromParams = CURVE_BY_OID[oid];
    if (!fromParams) throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported elliptic curve ${oid}`);
    curve ??= fromParams;
  }
  if (!curve) bad('EC private key names no curve');
  const size = EC_FIELD_BYTES[curve];
  while (d.length > size) {
    if (d[0] !== 0) bad('invalid EC private key length');
    d = d.subarray(1);
  }
  const k = toBigInt(d);
  if (k === 0n || k >= CURVE_ORDER[curve]) bad('invalid elliptic curve private key value');
  if (!pub) bad('EC private key without its public key is not supported');
  const point = readBitStringBytes(parseDer(pub.content), 'publicKey');
  if (!isValidEcPoint(curve, point)) bad(`invalid ${curve} public point`);
  return { kind: 'ecdsa', curve, d: leftPad(d, size), point: point.slice() };
}

/**
 * Go's rsa.PrivateKey.Validate and its precomputed values: n = p·q, e odd and in range, d·e ≡ 1 modulo
 * p−1 and q−1, dp = d mod (p−1), dq = d mod (q−1), qi·q ≡ 1 mod p. A key failing any of these signs
 * garbage (or a CRT fault) instead of refusing, so it is refused on load.
 */
export function checkRsaPrivateKey(v: Record<'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', Uint8Array>): void {
  const n = toBigInt(v.n), e = toBigInt(v.e), d = toBigInt(v.d), p = toBigInt(v.p), q = toBigInt(v.q);
  if (p * q !== n) bad('RSA key: n is not p·q');
  if (p <= 1n || q <= 1n || p === q) bad('RSA key: invalid primes');
  if (e < 3n || e % 2n === 0n || e >= 1n << 31n) bad('RSA key: invalid public exponent');
  const p1 = p - 1n, q1 = q - 1n;
  if ((d * e) % p1 !== 1n || (d * e) % q1 !== 1n) bad('RSA key: d is not the inverse of e');
  if (toBigInt(v.dp) !== d % p1 || toBigInt(v.dq) !== d % q1) bad('RSA key: dp or dq is not d mod (prime − 1)');
  if ((toBigInt(v.qi) * q) % p !== 1n) bad('RSA key: qi is not the inverse of q mod p');
}

/** PKCS#1 RSAPrivateKey → key material (two-prime keys only; n = p·q is checked). */
export function decodePkcs1RsaPrivateKey(der: Uint8Array): Extract<PrivateKeyMaterial, { kind: 'rsa' }> {
  const seq = DerSequence.of(der, 'RSAPrivateKey');
  const version = readSmallInt(seq.nextUniversal(Tag.INTEGER, 'version'));
  if (version !== 0) throw new KeyError('UNSUPPORTED_KEY_TYPE', 'multi-prime RSA keys are not supported');
  const names = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
  const v = {} as Record<(typeof names)[number], Uint8Array>;
  for (const name of names) {
    const node = seq.nextUniversal(Tag.INTEGER, name);
    if (readBigInt(node) <= 0n) bad(`RSA ${name} must be positive`);
    v[name] = readUnsignedInteger(node).slice();
  }
  seq.end('RSAPrivateKey');
  checkRsaPrivateKey(v);
  return { kind: 'rsa', ...v };
}

/**
 * Notary's 96-byte Ed25519 private key (public ‖ seed ‖ public), used inside its PKCS#8 and as the body of
 * legacy `ED25519 PRIVATE KEY` PEM. Go signs with the last 32 bytes as the public half, so both copies must agree.
 * (That the public key belongs to the seed is not checked here: that needs curve arithmetic.)
 */
export function decodeEd25519Blob(blob: Uint8Array): Extract<PrivateKeyMaterial, { kind: 'ed25519' }> {
  if (blob.length !== 96) bad('malformed ed25519 private key');
  const publicKey = blob.slice(0, 32);
  if (!bytesEqual(publicKey, blob.subarray(64, 96))) bad('ed25519 private key: the two public key copies differ');
  return { kind: 'ed25519', seed: blob.slice(32, 64), publicKey };
}

/** The 96-byte blob for an Ed25519 key (see decodeEd25519Blob). */
export function encodeEd25519Blob(key: Extract<PrivateKeyMaterial, { kind: 'ed25519' }>): Uint8Array {
  if (key.seed.length !== 32 || key.publicKey.length !== 32) bad('Ed25519 seed and public key must be 32 bytes');
  return concatBytes(key.publicKey, key.seed, key.publicKey);
}

/**
 * PrivateKeyInfo DER → key material: Notary's layouts (EC version 1, RSA without NULL, Ed25519 with OID
 * 1.3.6.1.4.1.11591.15.1 and the 96-byte blob) and the standard EC/RSA forms. Throws KeyError MALFORMED_KEY or
 * UNSUPPORTED_KEY_TYPE.
 */
export function decodePkcs8(der: Uint8Array): PrivateKeyMaterial {
  try {
    const seq = DerSequence.of(der, 'PrivateKeyInfo');
    const version = readSmallInt(seq.nextUniversal(Tag.INTEGER, 'version'));
    if (version !== 0 && version !== 1) bad(`unknown PKCS#8 version ${version}`);
    const alg = new DerSequence(seq.nextUniversal(Tag.SEQUENCE, 'privateKeyAlgorithm'));
    const oid = readOid(alg.nextUniversal(Tag.OID, 'algorithm'));
    const params = alg.done ? undefined : alg.next();
    alg.end('AlgorithmIdentifier');
    const inner = readOctetString(seq.nextUniversal(Tag.OCTET_STRING, 'privateKey'));
    seq.optional(TagClass.context, 0); // attributes
    seq.optional(TagClass.context, 1); // publicKey (RFC 5958 v2)
    seq.end('PrivateKeyInfo');
    switch (oid) {
      case OID.ecPublicKey: {
        let curve: EcCurve | undefined;
        if (params && params.tagClass === TagClass.universal && params.tag === Tag.OID) {
          const c = readOid(params);
          curve = CURVE_BY_OID[c];
          if (!curve) throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported elliptic curve ${c}`);
        }
        return decodeSec1EcPrivateKey(inner, curve);
      }
      case OID.rsaEncryption:
        if (params) readNull(params);
        return decodePkcs1RsaPrivateKey(inner);
      case NOTARY_ED25519_OID:
        return decodeEd25519Blob(inner);
      case OID.ed25519:
        throw new KeyError('UNSUPPORTED_KEY_TYPE', 'RFC 8410 Ed25519 private keys are not supported by Notary');
      default:
        throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported private key algorithm ${oid}`);
    }
  } catch (e) {
    if (e instanceof KeyError && (e.code === 'UNSUPPORTED_KEY_TYPE' || e.constructor === KeyError)) throw e;
    bad(`invalid PKCS#8 private key: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}
