/**
 * A small pure-JS RSA (BigInt) for the portable backend: RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) sign and
 * verify, and RSASSA-PKCS1-v1_5 (SHA-256) verify, per RFC 8017. No Node imports: it runs in any JS runtime.
 *
 * SECURITY NOTE: BigInt arithmetic (and so `modPow`) is NOT constant-time. Verification only touches public
 * data, so that is harmless there; signing leaks timing about the private key. Signing uses CRT, message
 * blinding and a verify-after-sign check, which blunts the obvious attacks, but RSA signing in the pure
 * backend exists for portability only — the node:crypto backend (OpenSSL) is the default and should be used
 * wherever it is available.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** Notary refuses RSA keys below this size (tuf/signed/verifiers.go minRSAKeySizeBit). */
export const MIN_RSA_BITS = 2048;
/** The only PSS salt length Notary produces or accepts: sha256.Size. */
export const PSS_SALT_LENGTH = 32;
const H_LEN = 32;

/** DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Uint8Array.from([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += bytes[i]!.toString(16).padStart(2, '0');
  return hex === '' ? 0n : BigInt('0x' + hex);
}

/** I2OSP: big-endian, left-padded to `length` bytes; throws if x does not fit. */
export function bigIntToBytes(x: bigint, length: number): Uint8Array {
  if (x < 0n) throw new RangeError('negative integer');
  let hex = x.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  if (hex.length / 2 > length) throw new RangeError('integer too large');
  const out = new Uint8Array(length);
  const off = length - hex.length / 2;
  for (let i = 0; i < hex.length / 2; i++) out[off + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** base^exp mod m with a fixed 4-bit window. Not constant-time (see the file comment). */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  if (exp < 0n) throw new RangeError('negative exponent');
  const b = mod(base, m);
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * b) % m);
  const hex = exp.toString(16);
  let r = 1n;
  for (let i = 0; i < hex.length; i++) {
    if (i > 0) {
      r = (r * r) % m;
      r = (r * r) % m;
      r = (r * r) % m;
      r = (r * r) % m;
    }
    const w = parseInt(hex[i]!, 16);
    if (w !== 0) r = (r * table[w]!) % m;
  }
  return r;
}

/** Modular inverse by the extended Euclidean algorithm; undefined if gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return oldR === 1n ? mod(oldS, m) : undefined;
}

export interface RsaPublic {
  readonly n: bigint;
  readonly e: bigint;
  /** modulus bit length */
  readonly bits: number;
  /** modulus byte length k */
  readonly k: number;
}

export interface RsaPrivate extends RsaPublic {
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  readonly dp: bigint;
  readonly dq: bigint;
  readonly qi: bigint;
}

/** Decodes and sanity-checks an RSA public key; throws a plain Error if it is unusable. */
export function rsaPublicFromBytes(nBytes: Uint8Array, eBytes: Uint8Array): RsaPublic {
  const n = bytesToBigInt(nBytes);
  const e = bytesToBigInt(eBytes);
  if (n < 3n || (n & 1n) === 0n) throw new Error('RSA modulus must be odd and > 2');
  if (e < 3n || (e & 1n) === 0n || e >= n) throw new Error('RSA public exponent must be odd, ≥ 3 and < n');
  const bits = bitLength(n);
  return { n, e, bits, k: Math.ceil(bits / 8) };
}

export function rsaPrivateFromBytes(key: {
  n: Uint8Array;
  e: Uint8Array;
  d: Uint8Array;
  p: Uint8Array;
  q: Uint8Array;
  dp: Uint8Array;
  dq: Uint8Array;
  qi: Uint8Array;
}): RsaPrivate {
  const pub = rsaPublicFromBytes(key.n, key.e);
  const priv: RsaPrivate = {
    ...pub,
    d: bytesToBigInt(key.d),
    p: bytesToBigInt(key.p),
    q: bytesToBigInt(key.q),
    dp: bytesToBigInt(key.dp),
    dq: bytesToBigInt(key.dq),
    qi: bytesToBigInt(key.qi),
  };
  if (priv.p * priv.q !== priv.n) throw new Error('RSA private key: p·q ≠ n');
  if (mod(priv.qi * priv.q, priv.p) !== 1n) throw new Error('RSA private key: qi·q ≢ 1 (mod p)');
  return priv;
}

/** MGF1 with SHA-256 (RFC 8017 §B.2.1). */
export function mgf1Sha256(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const buf = new Uint8Array(seed.length + 4);
  buf.set(seed, 0);
  for (let counter = 0, off = 0; off < length; counter++, off += H_LEN) {
    buf[seed.length] = (counter >>> 24) & 0xff;
    buf[seed.length + 1] = (counter >>> 16) & 0xff;
    buf[seed.length + 2] = (counter >>> 8) & 0xff;
    buf[seed.length + 3] = counter & 0xff;
    const h = sha256(buf);
    out.set(h.subarray(0, Math.min(H_LEN, length - off)), off);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** M' = 0x00·8 ‖ mHash ‖ salt, hashed. */
function pssHashPrime(mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  const mPrime = new Uint8Array(8 + mHash.length + salt.length);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + mHash.length);
  return sha256(mPrime);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-256 / MGF1-SHA-256. */
export function emsaPssEncode(mHash: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const emLen = Math.ceil(emBits / 8);
  if (emLen < H_LEN + salt.length + 2) throw new Error('encoding error: modulus too small');
  const h = pssHashPrime(mHash, salt);
  const dbLen = emLen - H_LEN - 1;
  const db = new Uint8Array(dbLen);
  db[dbLen - salt.length - 1] = 0x01;
  db.set(salt, dbLen - salt.length);
  const mask = mgf1Sha256(h, dbLen);
  for (let i = 0; i < dbLen; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >>> (8 * emLen - emBits));
  const em = new Uint8Array(emLen);
  em.set(db, 0);
  em.set(h, dbLen);
  em[emLen - 1] = 0xbc;
  return em;
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with SHA-256 / MGF1-SHA-256 and an exact salt length. */
export function emsaPssVerify(mHash: Uint8Array, em: Uint8Array, emBits: number, sLen: number): boolean {
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen) return false;
  if (emLen < H_LEN + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLen = emLen - H_LEN - 1;
  const maskedDb = em.subarray(0, dbLen);
  const h = em.subarray(dbLen, dbLen + H_LEN);
  const topMask = (0xff << (8 - (8 * emLen - emBits))) & 0xff; // the leftmost 8·emLen − emBits bits
  if ((maskedDb[0]! & topMask) !== 0) return false;
  const dbMask = mgf1Sha256(h, dbLen);
  const db = new Uint8Array(dbLen);
  for (let i = 0; i < dbLen; i++) db[i] = maskedDb[i]! ^ dbMask[i]!;
  db[0] = db[0]! & (0xff >>> (8 * emLen - emBits));
  const psLen = emLen - H_LEN - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(dbLen - sLen);
  return equalBytes(pssHashPrime(mHash, salt), h);
}

/** RSAVP1 on a signature of exactly k bytes; undefined if out of range. */
function rsavp1(key: RsaPublic, signature: Uint8Array): bigint | undefined {
  if (signature.length !== key.k) return undefined;
  const s = bytesToBigInt(signature);
  if (s >= key.n) return undefined;
  return modPow(s, key.e, key.n);
}

/**
 * RSASSA-PSS-VERIFY with SHA-256, MGF1-SHA-256 and salt length exactly `saltLength` (32 for Notary).
 * The signature must be exactly k bytes long, as Go's rsa.VerifyPSS requires.
 */
export function rsaPssVerifySha256(
  key: RsaPublic,
  message: Uint8Array,
  signature: Uint8Array,
  saltLength = PSS_SALT_LENGTH,
): boolean {
  const m = rsavp1(key, signature);
  if (m === undefined) return false;
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  let em: Uint8Array;
  try {
    em = bigIntToBytes(m, emLen);
  } catch {
    return false; // m ≥ 2^(8·emLen): cannot be a valid encoding
  }
  return emsaPssVerify(sha256(message), em, emBits, saltLength);
}

/** RSASSA-PKCS1-V1_5-VERIFY with SHA-256 (encode-and-compare, RFC 8017 §8.2.2). */
export function rsaPkcs1v15VerifySha256(key: RsaPublic, message: Uint8Array, signature: Uint8Array): boolean {
  const m = rsavp1(key, signature);
  if (m === undefined) return false;
  const tLen = SHA256_DIGEST_INFO.length + H_LEN;
  if (key.k < tLen + 11) return false;
  const expected = new Uint8Array(key.k);
  expected[1] = 0x01;
  expected.fill(0xff, 2, key.k - tLen - 1);
  expected.set(SHA256_DIGEST_INFO, key.k - tLen);
  expected.set(sha256(message), key.k - H_LEN);
  return equalBytes(bigIntToBytes(m, key.k), expected);
}

/** RSASP1 with CRT, message blinding and a verify-after-sign check (guards against faulty CRT results). */
function rsasp1(key: RsaPrivate, m: bigint, randomBytes: (n: number) => Uint8Array): bigint {
  if (m >= key.n) throw new Error('message representative out of range');
  // Blinding: sign m·r^e, then divide by r.
  let r: bigint;
  let rInv: bigint | undefined;
  do {
    r = mod(bytesToBigInt(randomBytes(key.k)), key.n);
    rInv = r > 1n ? modInverse(r, key.n) : undefined;
  } while (rInv === undefined);
  const blinded = (m * modPow(r, key.e, key.n)) % key.n;
  const m1 = modPow(blinded % key.p, key.dp, key.p);
  const m2 = modPow(blinded % key.q, key.dq, key.q);
  const h = mod(key.qi * (m1 - m2), key.p);
  const sBlinded = m2 + h * key.q;
  const s = (sBlinded * rInv) % key.n;
  if (modPow(s, key.e, key.n) !== m) throw new Error('RSA signing fault detected');
  return s;
}

/** RSASSA-PSS-SIGN with SHA-256, MGF1-SHA-256, salt 32. */
export function rsaPssSignSha256(
  key: RsaPrivate,
  message: Uint8Array,
  randomBytes: (n: number) => Uint8Array,
): Uint8Array {
  const emBits = key.bits - 1;
  const em = emsaPssEncode(sha256(message), emBits, randomBytes(PSS_SALT_LENGTH));
  const s = rsasp1(key, bytesToBigInt(em), randomBytes);
  return bigIntToBytes(s, key.k);
}
