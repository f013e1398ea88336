/**
 * X.509 as much as Notary needs: SubjectPublicKeyInfo, certificate parsing with Go's (crypto/x509, Go 1.19)
 * acceptance rules, Go-exact certificate PEM, the root certificate `notary init` makes, and Notary's checks on
 * root leaf certificates.
 *
 * Runs in any JS runtime: no Node modules. Signing is delegated to a callback.
 */
import { bytesEqual } from './bytes.js';
import type { EcCurve, PublicKeyMaterial } from './crypto.js';
import {
  DerError,
  DerSequence,
  Tag,
  TagClass,
  derBitString,
  derBoolean,
  derExplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derUtf8String,
  expectUniversal,
  isPrintableString,
  parseDer,
  readBigInt,
  readBitString,
  readBitStringBytes,
  readBoolean,
  readNull,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readUnsignedInteger,
  type DerNode,
} from './der.js';
import { KeyError, type ErrorCode } from './errors.js';
import { decodePem, encodePem } from './pem.js';
import { DAY_MS, addMonthsUtc } from './time.js';

// ------------------------------------------------------------------------------------------------------------
// OIDs

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
} as const;

const CURVE_BY_OID: Record<string, EcCurve> = { [OID.p256]: 'P-256', [OID.p384]: 'P-384', [OID.p521]: 'P-521' };
const OID_BY_CURVE: Record<EcCurve, string> = { 'P-256': OID.p256, 'P-384': OID.p384, 'P-521': OID.p521 };

/** Bytes of one coordinate / one half of a raw ECDSA signature. */
export const EC_FIELD_BYTES: Record<EcCurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/** Short Weierstrass a = -3 curves: prime p and coefficient b. */
const CURVE_PARAMS: Record<EcCurve, { p: bigint; b: bigint }> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    p: (1n << 384n) - (1n << 128n) - (1n << 96n) + (1n << 32n) - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

export type SignatureHash = 'md2' | 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface SignatureAlgorithm {
  /** Dotted OID of the AlgorithmIdentifier. */
  oid: string;
  /** OpenSSL-style name, e.g. `ecdsa-with-SHA256`, `sha1WithRSAEncryption`; the OID when unknown. */
  name: string;
  /** Key family the algorithm needs, when known. */
  keyKind?: 'rsa' | 'rsa-pss' | 'ecdsa' | 'ed25519' | 'dsa';
  /** Digest, when implied by the OID (RSA-PSS carries it in parameters; not decoded here). */
  hash?: SignatureHash;
}

const SIGNATURE_ALGORITHMS: Record<string, Omit<SignatureAlgorithm, 'oid'>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', keyKind: 'rsa', hash: 'md2' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', keyKind: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', keyKind: 'rsa', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'sha1WithRSA', keyKind: 'rsa', hash: 'sha1' },
  [OID.sha256WithRsa]: { name: 'sha256WithRSAEncryption', keyKind: 'rsa', hash: 'sha256' },
  [OID.sha384WithRsa]: { name: 'sha384WithRSAEncryption', keyKind: 'rsa', hash: 'sha384' },
  [OID.sha512WithRsa]: { name: 'sha512WithRSAEncryption', keyKind: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', keyKind: 'rsa-pss' },
  '1.2.840.10040.4.3': { name: 'dsa_with_SHA1', keyKind: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa_with_SHA256', keyKind: 'dsa', hash: 'sha256' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', keyKind: 'ecdsa', hash: 'sha1' },
  [OID.ecdsaWithSha256]: { name: 'ecdsa-with-SHA256', keyKind: 'ecdsa', hash: 'sha256' },
  [OID.ecdsaWithSha384]: { name: 'ecdsa-with-SHA384', keyKind: 'ecdsa', hash: 'sha384' },
  [OID.ecdsaWithSha512]: { name: 'ecdsa-with-SHA512', keyKind: 'ecdsa', hash: 'sha512' },
  [OID.ed25519]: { name: 'ED25519', keyKind: 'ed25519' },
};

/** The algorithms Notary refuses (Go's SHA1WithRSA, DSAWithSHA1, ECDSAWithSHA1). */
const SHA1_SIGNATURE_OIDS = new Set(['1.2.840.113549.1.1.5', '1.3.14.3.2.29', '1.2.840.10040.4.3', '1.2.840.10045.4.1']);

/** Go's x509.KeyUsage bits (bit i of the KeyUsage BIT STRING is `1 << i`). */
export const KeyUsage = {
  digitalSignature: 1,
  contentCommitment: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  certSign: 32,
  crlSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;

// ------------------------------------------------------------------------------------------------------------
// Errors

function rethrow(code: ErrorCode, context: string, e: unknown): never {
  if (e instanceof KeyError && !(e instanceof DerError)) throw e;
  const message = e instanceof Error ? e.message : String(e);
  throw new KeyError(code, `${context}: ${message}`, { cause: e });
}

function guard<T>(code: ErrorCode, context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    rethrow(code, context, e);
  }
}

// ------------------------------------------------------------------------------------------------------------
// SubjectPublicKeyInfo

function bytesToBigInt(b: Uint8Array): bigint {
  let hex = '';
  for (const x of b) hex += (x < 16 ? '0' : '') + x.toString(16);
  return hex === '' ? 0n : BigInt('0x' + hex);
}

function bitLength(unsignedBigEndian: Uint8Array): number {
  let i = 0;
  while (i < unsignedBigEndian.length && unsignedBigEndian[i] === 0) i++;
  if (i === unsignedBigEndian.length) return 0;
  return (unsignedBigEndian.length - i - 1) * 8 + (32 - Math.clz32(unsignedBigEndian[i]!));
}

/** True if `point` is an uncompressed SEC1 point on `curve` (as Go's elliptic.Unmarshal requires). */
export function isValidEcPoint(curve: EcCurve, point: Uint8Array): boolean {
  const size = EC_FIELD_BYTES[curve];
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) return false;
  const { p, b } = CURVE_PARAMS[curve];
  const x = bytesToBigInt(point.subarray(1, 1 + size));
  const y = bytesToBigInt(point.subarray(1 + size));
  if (x >= p || y >= p) return false;
  const rhs = (((x * x) % p) * x - 3n * x + b) % p;
  return (y * y - rhs) % p === 0n;
}

function parseAlgorithmIdentifier(node: DerNode): { oid: string; params: DerNode | undefined } {
  const seq = new DerSequence(expectUniversal(node, Tag.SEQUENCE, 'AlgorithmIdentifier'));
  const oid = readOid(seq.nextUniversal(Tag.OID, 'algorithm'));
  const params = seq.done ? undefined : seq.next();
  seq.end('AlgorithmIdentifier');
  return { oid, params };
}

function parseSpkiNode(node: DerNode): PublicKeyMaterial {
  const seq = new DerSequence(expectUniversal(node, Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
  const alg = parseAlgorithmIdentifier(seq.next('algorithm'));
  const keyBits = readBitStringBytes(seq.nextUniversal(Tag.BIT_STRING, 'subjectPublicKey'), 'subjectPublicKey');
  seq.end('SubjectPublicKeyInfo');
  switch (alg.oid) {
    case OID.ecPublicKey: {
      if (!alg.params || alg.params.tagClass !== TagClass.universal || alg.params.tag !== Tag.OID) {
        throw new KeyError('UNSUPPORTED_KEY_TYPE', 'EC public key without a named curve');
      }
      const curveOid = readOid(alg.params);
      const curve = CURVE_BY_OID[curveOid];
      if (!curve) throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported elliptic curve ${curveOid}`);
      if (!isValidEcPoint(curve, keyBits)) throw new KeyError('MALFORMED_KEY', `invalid ${curve} public point`);
      const point = keyBits.slice();
      return { kind: 'ecdsa', curve, point, spki: encodeEcSpki(curve, point) };
    }
    case OID.rsaEncryption: {
      if (!alg.params) throw new KeyError('MALFORMED_KEY', 'RSA key missing NULL parameters');
      readNull(alg.params);
      const rsa = new DerSequence(parseDer(keyBits), 'RSAPublicKey');
      const nNode = rsa.nextUniversal(Tag.INTEGER, 'modulus');
      const eNode = rsa.nextUniversal(Tag.INTEGER, 'publicExponent');
      rsa.end('RSAPublicKey');
      if (readBigInt(nNode) <= 0n) throw new KeyError('MALFORMED_KEY', 'RSA modulus is not a positive number');
      if (readBigInt(eNode) <= 0n) throw new KeyError('MALFORMED_KEY', 'RSA public exponent is not a positive number');
      const n = readUnsignedInteger(nNode).slice();
      const e = readUnsignedInteger(eNode).slice();
      if (e.length > 8) throw new KeyError('MALFORMED_KEY', 'RSA public exponent too large');
      return { kind: 'rsa', n, e, spki: encodeRsaSpki(n, e) };
    }
    case OID.ed25519: {
      if (alg.params) throw new KeyError('MALFORMED_KEY', 'Ed25519 key encoded with parameters');
      if (keyBits.length !== 32) throw new KeyError('MALFORMED_KEY', `Ed25519 public key must be 32 bytes, not ${keyBits.length}`);
      return { kind: 'ed25519', raw: keyBits.slice() };
    }
    default:
      throw new KeyError('UNSUPPORTED_KEY_TYPE', `unsupported public key algorithm ${alg.oid}`);
  }
}

/**
 * Parses a DER SubjectPublicKeyInfo (EC P-256/P-384/P-521 named curves, RSA, Ed25519), with Go's rules: RSA
 * needs the NULL parameter, EC points must be uncompressed and on the curve, no trailing bytes. The `spki` of
 * the result is the re-encoding Go's `MarshalPKIXPublicKey` would give (identical for valid DER input).
 */
export function parseSpki(der: Uint8Array): PublicKeyMaterial {
  return guard('MALFORMED_KEY', 'invalid SubjectPublicKeyInfo', () => parseSpkiNode(parseDer(der)));
}

function encodeEcSpki(curve: EcCurve, point: Uint8Array): Uint8Array {
  return derSequence(derSequence(derOid(OID.ecPublicKey), derOid(OID_BY_CURVE[curve])), derBitString(point));
}

function encodeRsaSpki(n: Uint8Array, e: Uint8Array): Uint8Array {
  return derSequence(
    derSequence(derOid(OID.rsaEncryption), derNull()),
    derBitString(derSequence(derInteger(n), derInteger(e))),
  );
}

/**
 * DER SubjectPublicKeyInfo exactly as Go's `x509.MarshalPKIXPublicKey` writes it: EC {id-ecPublicKey,
 * namedCurve} with the uncompressed point; RSA {rsaEncryption, NULL} with PKCS#1 RSAPublicKey; Ed25519
 * {1.3.101.112} (no parameters) with the raw key. Built from the key fields (the `spki` field is ignored).
 */
export function encodeSpki(key: PublicKeyMaterial): Uint8Array {
  switch (key.kind) {
    case 'ecdsa':
      if (!isValidEcPoint(key.curve, key.point)) throw new KeyError('MALFORMED_KEY', `invalid ${key.curve} public point`);
      return encodeEcSpki(key.curve, key.point);
    case 'rsa':
      return encodeRsaSpki(key.n, key.e);
    case 'ed25519':
      if (key.raw.length !== 32) throw new KeyError('MALFORMED_KEY', 'Ed25519 public key must be 32 bytes');
      return derSequence(derSequence(derOid(OID.ed25519)), derBitString(key.raw));
  }
}

// ------------------------------------------------------------------------------------------------------------
// Certificates

export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** Content of the extnValue OCTET STRING. */
  value: Uint8Array;
}

export interface Certificate {
  /** The whole certificate DER. */
  der: Uint8Array;
  /** The raw TBSCertificate (what the signature covers). */
  tbs: Uint8Array;
  /** 1, 2 or 3 (Go's one-based numbering). */
  version: number;
  serialNumber: bigint;
  /** Last CN attribute of the subject, '' if none (Go's pkix.Name.CommonName). */
  subjectCommonName: string;
  issuerCommonName: string;
  /** Raw Name DER. */
  subjectRaw: Uint8Array;
  issuerRaw: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA; false when the extension is absent. */
  isCA: boolean;
  basicConstraintsValid: boolean;
  /** basicConstraints pathLenConstraint; -1 when absent. */
  maxPathLen: number;
  /** Go KeyUsage bitmask (see `KeyUsage`); 0 when the extension is absent. */
  keyUsage: number;
  /** ExtendedKeyUsage OIDs in order; empty when absent. */
  extKeyUsage: string[];
  extensions: CertificateExtension[];
  signatureAlgorithm: SignatureAlgorithm;
  /** SHA-1 based signature (sha1WithRSA, dsaWithSHA1, ecdsa-with-SHA1): Notary refuses these. */
  isSha1Signed: boolean;
  publicKey: PublicKeyMaterial;
  /** The public key re-encoded as Go's MarshalPKIXPublicKey does (what Notary's canonical key ID hashes). */
  spki: Uint8Array;
  /** The SubjectPublicKeyInfo bytes exactly as they appear in the certificate. */
  rawSpki: Uint8Array;
  /** Modulus bit length for RSA keys. */
  rsaBits?: number;
  /** signatureValue bytes (for ECDSA: DER ECDSA-Sig-Value; see `ecdsaDerToRaw`). */
  signature: Uint8Array;
}

function commonNameOf(nameNode: DerNode): string {
  let cn = '';
  const rdns = new DerSequence(expectUniversal(nameNode, Tag.SEQUENCE, 'Name'));
  while (!rdns.done) {
    const set = new DerSequence(rdns.nextUniversal(Tag.SET, 'RelativeDistinguishedName'));
    while (!set.done) {
      const atv = new DerSequence(set.nextUniversal(Tag.SEQUENCE, 'AttributeTypeAndValue'));
      const type = readOid(atv.nextUniversal(Tag.OID, 'attribute type'));
      const value = readString(atv.next('attribute value'));
      atv.end('AttributeTypeAndValue');
      if (type === OID.commonName) cn = value;
    }
  }
  return cn;
}

function parseKeyUsage(value: Uint8Array): number {
  const bs = readBitString(parseDer(value));
  let usage = 0;
  for (let i = 0; i < 9; i++) {
    const byte = bs.bytes[i >> 3];
    if (byte !== undefined && (byte >> (7 - (i & 7))) & 1) usage |= 1 << i;
  }
  return usage;
}

function parseBasicConstraints(value: Uint8Array): { isCA: boolean; maxPathLen: number } {
  const seq = DerSequence.of(value, 'BasicConstraints');
  const ca = seq.optional(TagClass.universal, Tag.BOOLEAN);
  const isCA = ca ? readBoolean(ca) : false;
  const len = seq.optional(TagClass.universal, Tag.INTEGER);
  const maxPathLen = len ? readSmallInt(len, 'pathLenConstraint') : -1;
  seq.end('BasicConstraints');
  return { isCA, maxPathLen };
}

function parseExtKeyUsage(value: Uint8Array): string[] {
  const seq = DerSequence.of(value, 'ExtKeyUsage');
  const out: string[] = [];
  while (!seq.done) out.push(readOid(seq.nextUniversal(Tag.OID, 'KeyPurposeId')));
  return out;
}

function parseCertificateInner(der: Uint8Array): Certificate {
  const outer = DerSequence.of(der, 'Certificate');
  const tbsNode = outer.nextUniversal(Tag.SEQUENCE, 'TBSCertificate');
  const outerAlgNode = outer.nextUniversal(Tag.SEQUENCE, 'signatureAlgorithm');
  const sigNode = outer.nextUniversal(Tag.BIT_STRING, 'signatureValue');
  outer.end('Certificate');

  const tbs = new DerSequence(tbsNode, 'TBSCertificate');
  let version = 1;
  const versionNode = tbs.optional(TagClass.context, 0);
  if (versionNode) {
    if (!versionNode.constructed) throw new DerError('malformed version');
    const vn = readSmallInt(expectUniversal(parseDer(versionNode.content), Tag.INTEGER, 'version'));
    if (vn < 0) throw new DerError('malformed version');
    if (vn > 2) throw new DerError('invalid version');
    version = vn + 1;
  }
  const serialNumber = readBigInt(tbs.nextUniversal(Tag.INTEGER, 'serialNumber'));
  const innerAlgNode = tbs.nextUniversal(Tag.SEQUENCE, 'signature');
  if (!bytesEqual(innerAlgNode.raw, outerAlgNode.raw)) {
    throw new DerError('inner and outer signature algorithm identifiers do not match');
  }
  const sigAlg = parseAlgorithmIdentifier(outerAlgNode);
  const issuerNode = tbs.nextUniversal(Tag.SEQUENCE, 'issuer');
  const validity = new DerSequence(tbs.nextUniversal(Tag.SEQUENCE, 'validity'), 'Validity');
  const notBefore = readTime(validity.next('notBefore'));
  const notAfter = readTime(validity.next('notAfter'));
  validity.end('Validity');
  const subjectNode = tbs.nextUniversal(Tag.SEQUENCE, 'subject');
  const spkiNode = tbs.nextUniversal(Tag.SEQUENCE, 'subjectPublicKeyInfo');

  const extensions: CertificateExtension[] = [];
  if (version > 1) {
    tbs.optional(TagClass.context, 1); // issuerUniqueID
    tbs.optional(TagClass.context, 2); // subjectUniqueID
    if (version === 3) {
      const extsNode = tbs.optional(TagClass.context, 3);
      if (extsNode) {
        if (!extsNode.constructed) throw new DerError('malformed extensions');
        const exts = DerSequence.of(extsNode.content, 'Extensions');
        const seen = new Set<string>();
        while (!exts.done) {
          const ext = new DerSequence(exts.nextUniversal(Tag.SEQUENCE, 'Extension'));
          const oid = readOid(ext.nextUniversal(Tag.OID, 'extnID'));
          const critNode = ext.optional(TagClass.universal, Tag.BOOLEAN);
          const critical = critNode ? readBoolean(critNode) : false;
          const value = readOctetString(ext.nextUniversal(Tag.OCTET_STRING, 'extnValue'));
          ext.end('Extension');
          if (seen.has(oid)) throw new DerError(`duplicate extension ${oid}`);
          seen.add(oid);
          extensions.push({ oid, critical, value });
        }
      }
    }
  }
  tbs.end('TBSCertificate');

  let isCA = false;
  let basicConstraintsValid = false;
  let maxPathLen = -1;
  let keyUsage = 0;
  let extKeyUsage: string[] = [];
  for (const ext of extensions) {
    if (ext.oid === OID.basicConstraints) {
      ({ isCA, maxPathLen } = parseBasicConstraints(ext.value));
      basicConstraintsValid = true;
    } else if (ext.oid === OID.keyUsage) {
      keyUsage = parseKeyUsage(ext.value);
    } else if (ext.oid === OID.extKeyUsage) {
      extKeyUsage = parseExtKeyUsage(ext.value);
    }
  }

  const publicKey = guard('MALFORMED_CERTIFICATE', 'certificate public key', () => parseSpkiNode(spkiNode));
  const known = SIGNATURE_ALGORITHMS[sigAlg.oid];
  const signatureAlgorithm: SignatureAlgorithm = { oid: sigAlg.oid, ...(known ?? { name: sigAlg.oid }) };
  const cert: Certificate = {
    der,
    tbs: tbsNode.raw,
    version,
    serialNumber,
    subjectCommonName: commonNameOf(subjectNode),
    issuerCommonName: commonNameOf(issuerNode),
    subjectRaw: subjectNode.raw,
    issuerRaw: issuerNode.raw,
    notBefore,
    notAfter,
    isCA,
    basicConstraintsValid,
    maxPathLen,
    keyUsage,
    extKeyUsage,
    extensions,
    signatureAlgorithm,
    isSha1Signed: SHA1_SIGNATURE_OIDS.has(sigAlg.oid),
    publicKey,
    spki: publicKey.kind === 'ed25519' ? encodeSpki(publicKey) : publicKey.spki,
    rawSpki: spkiNode.raw,
    signature: readBitString(sigNode).bytes,
  };
  if (publicKey.kind === 'rsa') cert.rsaBits = bitLength(publicKey.n);
  return cert;
}

/**
 * Parses a DER X.509 certificate with Go 1.19's acceptance rules where they matter (version 1–3, matching
 * inner/outer signature algorithms, string types in names, RSA NULL parameters, on-curve EC points, no
 * duplicate extensions). Supported key types: EC P-256/384/521, RSA, Ed25519. Throws KeyError
 * MALFORMED_CERTIFICATE (or UNSUPPORTED_KEY_TYPE for other keys).
 */
export function parseCertificate(der: Uint8Array): Certificate {
  return guard('MALFORMED_CERTIFICATE', 'invalid certificate', () => parseCertificateInner(der));
}

/** Go-exact PEM of a certificate: no headers, 64-character lines, LF endings, final newline. */
export function certificateToPem(der: Uint8Array): string {
  return encodePem('CERTIFICATE', der);
}

/**
 * All certificates of a PEM bundle in order, as Notary's LoadCertBundleFromPEM reads them: every block must be a
 * CERTIFICATE that parses, and there must be at least one.
 */
export function pemToCertificates(text: string): Certificate[] {
  const blocks = guard('MALFORMED_CERTIFICATE', 'invalid certificate PEM', () => decodePem(text));
  const certs: Certificate[] = [];
  for (const block of blocks) {
    if (block.type !== 'CERTIFICATE') throw new KeyError('MALFORMED_CERTIFICATE', `invalid pem block type: ${block.type}`);
    certs.push(parseCertificate(block.bytes));
  }
  if (certs.length === 0) throw new KeyError('MALFORMED_CERTIFICATE', 'no valid certificates found');
  return certs;
}

// ------------------------------------------------------------------------------------------------------------
// ECDSA signature encodings

/** Raw r‖s (IEEE P1363, equal halves) → DER ECDSA-Sig-Value SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new KeyError('MALFORMED_KEY', 'raw ECDSA signature must have two equal halves');
  const half = raw.length / 2;
  return derSequence(derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half)));
}

/**
 * DER ECDSA-Sig-Value → raw r‖s with each half left-padded to `size` bytes (32 for P-256, 48 for P-384, 66 for
 * P-521). Strict DER; r and s must be positive and fit in `size` bytes.
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array {
  return guard('MALFORMED_KEY', 'invalid ECDSA signature', () => {
    const seq = DerSequence.of(der, 'ECDSA-Sig-Value');
    const rNode = seq.nextUniversal(Tag.INTEGER, 'r');
    const sNode = seq.nextUniversal(Tag.INTEGER, 's');
    seq.end('ECDSA-Sig-Value');
    const out = new Uint8Array(2 * size);
    [rNode, sNode].forEach((node, i) => {
      if (readBigInt(node) <= 0n) throw new KeyError('MALFORMED_KEY', 'ECDSA signature value must be positive');
      const v = readUnsignedInteger(node);
      if (v.length > size) throw new KeyError('MALFORMED_KEY', 'ECDSA signature value too large for the curve');
      out.set(v, i * size + size - v.length);
    });
    return out;
  });
}

// ------------------------------------------------------------------------------------------------------------
// Notary root certificates

export type CertificateHash = 'sha256' | 'sha384' | 'sha512';

export interface NotaryRootCertificateOptions {
  /** The GUN; becomes Subject = Issuer = CN=<gun>. */
  gun: string;
  /** The root public key (ECDSA or RSA; Notary cannot certify Ed25519 root keys). */
  publicKey: PublicKeyMaterial;
  notBefore: Date;
  notAfter: Date;
  /** Non-negative serial; Notary draws a random integer below 2^128. */
  serialNumber: bigint;
  /**
   * Signs the TBSCertificate bytes with the root private key over `hash` (see `hash` below) and
   * returns the raw signature as Notary's backends produce it: ECDSA raw r‖s (IEEE P1363), RSA PKCS#1 v1.5
   * signature bytes.
   */
  sign: (tbs: Uint8Array, hash: CertificateHash) => Uint8Array;
  /**
   * Digest of the certificate signature. Default: Go's choice in x509.CreateCertificate (verified against
   * `notary init --rootkey`): SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521. Pass 'sha256' to
   * sign with a backend that only does ECDSA over SHA-256; Notary accepts either (it never checks a leaf's
   * self-signature).
   */
  hash?: CertificateHash;
}

/** Go's digest for a certificate signed by this key: SHA-384 for P-384, SHA-512 for P-521, else SHA-256. */
export function defaultCertificateHash(key: PublicKeyMaterial): CertificateHash {
  if (key.kind === 'ecdsa' && key.curve === 'P-384') return 'sha384';
  if (key.kind === 'ecdsa' && key.curve === 'P-521') return 'sha512';
  return 'sha256';
}

/** The signature AlgorithmIdentifier Go writes for this key and digest. */
export function certificateSignatureAlgorithm(key: PublicKeyMaterial, hash: CertificateHash): Uint8Array {
  switch (key.kind) {
    case 'ecdsa': {
      const oid = { sha256: OID.ecdsaWithSha256, sha384: OID.ecdsaWithSha384, sha512: OID.ecdsaWithSha512 }[hash];
      return derSequence(derOid(oid)); // ECDSA: parameters absent
    }
    case 'rsa': {
      const oid = { sha256: OID.sha256WithRsa, sha384: OID.sha384WithRsa, sha512: OID.sha512WithRsa }[hash];
      return derSequence(derOid(oid), derNull());
    }
    default:
      throw new KeyError('UNSUPPORTED_KEY_TYPE', `cannot make a Notary root certificate for a ${key.kind} key`);
  }
}

/** Name with a single CN, written as Go's pkix.Name marshals it (PrintableString when possible, else UTF8String). */
function commonNameName(cn: string): Uint8Array {
  if (cn === '') return derSequence();
  if (/[\uD800-\uDFFF]/.test(cn.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
    throw new KeyError('MALFORMED_CERTIFICATE', 'common name is not valid Unicode');
  }
  const value = isPrintableString(cn) ? derPrintableString(cn) : derUtf8String(cn);
  return derSequence(derSet(derSequence(derOid(OID.commonName), value)));
}

/**
 * The TBSCertificate `notary init` / `key rotate … root` would sign (Go's x509.CreateCertificate on Notary's
 * template): v3, serial, Subject = Issuer = CN=<gun>, validity in whole UTC seconds (UTCTime 1950–2049, else
 * GeneralizedTime), then extensions in Go's order: KeyUsage (critical) {digitalSignature, keyEncipherment},
 * ExtKeyUsage {codeSigning}, BasicConstraints (critical) CA:FALSE written as an empty SEQUENCE. No SKI/AKI.
 */
export function buildNotaryRootTbs(opts: Omit<NotaryRootCertificateOptions, 'sign'>): Uint8Array {
  const { gun, publicKey, notBefore, notAfter, serialNumber } = opts;
  if (serialNumber < 0n) throw new KeyError('MALFORMED_CERTIFICATE', 'serial number must not be negative');
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new KeyError('MALFORMED_CERTIFICATE', 'invalid validity dates');
  }
  const name = commonNameName(gun);
  const keyUsage = derSequence(derOid(OID.keyUsage), derBoolean(true), derOctetString(derBitString(Uint8Array.of(0xa0), 5)));
  const extKeyUsage = derSequence(derOid(OID.extKeyUsage), derOctetString(derSequence(derOid(OID.codeSigning))));
  const basicConstraints = derSequence(derOid(OID.basicConstraints), derBoolean(true), derOctetString(derSequence()));
  return derSequence(
    derExplicit(0, derInteger(2)),
    derInteger(serialNumber),
    certificateSignatureAlgorithm(publicKey, opts.hash ?? defaultCertificateHash(publicKey)),
    name,
    derSequence(derTime(notBefore), derTime(notAfter)),
    name,
    encodeSpki(publicKey),
    derExplicit(3, derSequence(keyUsage, extKeyUsage, basicConstraints)),
  );
}

/**
 * Wraps a TBSCertificate and a raw signature into the certificate DER: for ECDSA the raw r‖s becomes a DER
 * ECDSA-Sig-Value; RSA signature bytes are used as they are.
 */
export function assembleCertificate(tbs: Uint8Array, publicKey: PublicKeyMaterial, hash: CertificateHash, rawSignature: Uint8Array): Uint8Array {
  let signature: Uint8Array;
  if (publicKey.kind === 'ecdsa') {
    if (rawSignature.length !== 2 * EC_FIELD_BYTES[publicKey.curve]) {
      throw new KeyError('MALFORMED_KEY', `raw ${publicKey.curve} signature must be ${2 * EC_FIELD_BYTES[publicKey.curve]} bytes`);
    }
    signature = ecdsaRawToDer(rawSignature);
  } else if (publicKey.kind === 'rsa') {
    const modulusBytes = Math.ceil(bitLength(publicKey.n) / 8);
    if (rawSignature.length !== modulusBytes) throw new KeyError('MALFORMED_KEY', `RSA signature must be ${modulusBytes} bytes`);
    signature = rawSignature;
  } else {
    throw new KeyError('UNSUPPORTED_KEY_TYPE', `cannot make a Notary root certificate for a ${publicKey.kind} key`);
  }
  return derSequence(tbs, certificateSignatureAlgorithm(publicKey, hash), derBitString(signature));
}

/**
 * A self-signed root certificate with the structure Notary 0.7's `notary init` produces (see buildNotaryRootTbs).
 * Signature algorithm as Go picks it: ecdsa-with-SHA256/384/512 for P-256/384/521, sha256WithRSAEncryption for
 * RSA (override with `hash`). Returns the certificate DER.
 */
export function createNotaryRootCertificate(opts: NotaryRootCertificateOptions): Uint8Array {
  const hash = opts.hash ?? defaultCertificateHash(opts.publicKey);
  const tbs = buildNotaryRootTbs({ ...opts, hash });
  return assembleCertificate(tbs, opts.publicKey, hash, opts.sign(tbs, hash));
}

// ------------------------------------------------------------------------------------------------------------
// Notary's leaf checks


/** Notary's MatchCNToGun: exact, or CN ending in '*' whose prefix (all trailing '*' removed) starts the GUN. */
export function commonNameMatchesGun(commonName: string, gun: string): boolean {
  if (commonName.endsWith('*')) return gun.startsWith(commonName.replace(/\*+$/, ''));
  return commonName === gun;
}

/**
 * Notary's utils.ValidateCertificate: NotBefore ≤ NotAfter, not SHA-1 signed, RSA ≥ 2048 bits, and — only when
 * `now` is given — NotBefore ≤ now + 1 day and NotAfter ≥ now. Returns the problem, or undefined.
 */
export function certificateProblem(cert: Certificate, now: Date | undefined): string | undefined {
  const cn = cert.subjectCommonName;
  if (cert.notBefore.getTime() > cert.notAfter.getTime()) return 'certificate validity window is invalid';
  if (cert.isSha1Signed) return `certificate with CN ${cn} uses invalid SHA1 signature algorithm`;
  if (cert.publicKey.kind === 'rsa' && (cert.rsaBits ?? 0) < 2048) return 'RSA bit length is too short';
  if (now) {
    const t = now.getTime();
    if (t + DAY_MS < cert.notBefore.getTime() || t > cert.notAfter.getTime()) return `certificate with CN ${cn} is expired`;
  }
  return undefined;
}

/**
 * Notary's checks on a root leaf certificate (trustpinning validRootLeafCerts + ValidateCertificate with
 * expiry), in Go's order: not a CA, CN matches the GUN, then certificateProblem.
 */
export function checkRootCertificate(cert: Certificate, gun: string, now: Date): { ok: true } | { ok: false; reason: string } {
  const cn = cert.subjectCommonName;
  if (cert.isCA) return { ok: false, reason: `certificate with CN ${cn} is a CA certificate, not a leaf` };
  if (!commonNameMatchesGun(cn, gun)) return { ok: false, reason: `certificate CN ${cn} does not match the GUN ${gun}` };
  const problem = certificateProblem(cert, now);
  return problem ? { ok: false, reason: problem } : { ok: true };
}

/** True when the certificate expires within 6 months of `now` (Notary then warns "near expiry"). */
export function certificateExpiresSoon(cert: Certificate, now: Date): boolean {
  return cert.notAfter.getTime() < addMonthsUtc(now, 6).getTime();
}
