/**
 * Creating keys and a new repository the way `notary init` does: an ECDSA P-256 root key wrapped in a
 * self-signed certificate (CN = GUN, 10 years), ECDSA targets and snapshot keys, a timestamp key (normally
 * the server's), root v1, targets v1 and snapshot v1 with Notary's default expiries.
 */
import { toBase64, utf8Encode } from './bytes.js';
import type { CryptoBackend, PrivateKeyMaterial } from './crypto.js';
import { KeyError } from './errors.js';
import { canonicalKeyId, publicKeyJson, tufKeyId } from './keys.js';
import type { KeyJson, Metadata } from './metadata.js';
import {
  newRootSigned,
  newSnapshotSigned,
  newTargetsSigned,
  newTimestampSigned,
  signMetadata,
  softwareSigner,
  type MetadataSigner,
} from './build.js';
import { DAY_MS, DEFAULT_EXPIRY_DAYS } from './time.js';
import { assembleCertificate, buildNotaryRootTbs, certificateToPem, createNotaryRootCertificate, encodeSpki } from './x509.js';
import type { PublicKeyMaterial } from './crypto.js';

/** A key pair as the signing side holds it. */
export interface SigningKey {
  /** The public key as metadata lists it (root keys: `ecdsa-x509`). */
  readonly publicKey: KeyJson;
  readonly privateKey: PrivateKeyMaterial;
  /** TUF key ID (metadata, signatures). */
  readonly keyId: string;
  /** Canonical key ID (file names, CLI output). */
  readonly canonicalId: string;
  readonly signer: MetadataSigner;
}

export function signingKey(publicKey: KeyJson, privateKey: PrivateKeyMaterial, crypto: CryptoBackend): SigningKey {
  return {
    publicKey,
    privateKey,
    keyId: tufKeyId(publicKey, crypto),
    canonicalId: canonicalKeyId(publicKey, crypto),
    signer: softwareSigner(publicKey, privateKey, crypto),
  };
}

/** The bare public key of a private key, as metadata stores it (`ecdsa`: SPKI DER; `ed25519`: raw). */
export function publicKeyOf(privateKey: PrivateKeyMaterial): KeyJson {
  switch (privateKey.kind) {
    case 'ed25519':
      return publicKeyJson('ed25519', toBase64(privateKey.publicKey));
    case 'ecdsa':
      return publicKeyJson('ecdsa', toBase64(encodeSpki({ kind: 'ecdsa', curve: privateKey.curve, point: privateKey.point, spki: new Uint8Array(0) })));
    case 'rsa':
      return publicKeyJson('rsa', toBase64(encodeSpki({ kind: 'rsa', n: privateKey.n, e: privateKey.e, spki: new Uint8Array(0) })));
  }
}

export function generateSigningKey(crypto: CryptoBackend, kind: 'ecdsa' | 'ed25519' = 'ecdsa'): SigningKey {
  const privateKey = crypto.generateKey(kind);
  return signingKey(publicKeyOf(privateKey), privateKey, crypto);
}

/** Wraps a root private key in Notary's self-signed certificate for `gun` (valid from now for 10 years). */
export function rootCertificateKey(privateKey: PrivateKeyMaterial, gun: string, now: Date, crypto: CryptoBackend): KeyJson {
  if (privateKey.kind !== 'ecdsa') {
    throw new KeyError('UNSUPPORTED_KEY_TYPE', `root keys must be ECDSA to be certified here, not ${privateKey.kind}`);
  }
  const bare = { kind: 'ecdsa' as const, curve: privateKey.curve, point: privateKey.point, spki: new Uint8Array(0) };
  const serial = BigInt('0x' + Array.from(crypto.randomBytes(16), (b) => b.toString(16).padStart(2, '0')).join(''));
  const der = createNotaryRootCertificate({
    gun,
    publicKey: bare,
    notBefore: now,
    notAfter: new Date(now.getTime() + DEFAULT_EXPIRY_DAYS.root * DAY_MS),
    serialNumber: serial,
    hash: 'sha256',
    sign: (tbs) => crypto.sign('ecdsa', privateKey, tbs),
  });
  return publicKeyJson('ecdsa-x509', toBase64(utf8Encode(certificateToPem(der))));
}

/**
 * Notary's self-signed root certificate for a key whose private half may be out of reach (a hardware
 * token): `sign` gets the TBSCertificate and returns the raw signature (ECDSA over SHA-256, raw r‖s). The
 * structure is the one rootCertificateKey makes.
 */
export async function rootCertificateKeyWith(
  publicKey: PublicKeyMaterial,
  sign: (tbs: Uint8Array) => Promise<Uint8Array>,
  commonName: string,
  now: Date,
  crypto: CryptoBackend,
): Promise<KeyJson> {
  if (publicKey.kind !== 'ecdsa') throw new KeyError('UNSUPPORTED_KEY_TYPE', `root keys must be ECDSA to be certified here, not ${publicKey.kind}`);
  const serial = BigInt('0x' + Array.from(crypto.randomBytes(16), (b) => b.toString(16).padStart(2, '0')).join(''));
  const bare = { kind: 'ecdsa' as const, curve: publicKey.curve, point: publicKey.point, spki: new Uint8Array(0) };
  const tbs = buildNotaryRootTbs({
    gun: commonName,
    publicKey: bare,
    notBefore: now,
    notAfter: new Date(now.getTime() + DEFAULT_EXPIRY_DAYS.root * DAY_MS),
    serialNumber: serial,
    hash: 'sha256',
  });
  const der = assembleCertificate(tbs, bare, 'sha256', await sign(tbs));
  return publicKeyJson('ecdsa-x509', toBase64(utf8Encode(certificateToPem(der))));
}

export function generateRootKey(crypto: CryptoBackend, gun: string, now: Date): SigningKey {
  const privateKey = crypto.generateKey('ecdsa');
  return signingKey(rootCertificateKey(privateKey, gun, now, crypto), privateKey, crypto);
}

export interface RepositoryKeys {
  readonly root: SigningKey;
  readonly targets: SigningKey;
  readonly snapshot: SigningKey;
  /** The timestamp key: normally only its public half, fetched from the server. */
  readonly timestamp: { publicKey: KeyJson; signer?: MetadataSigner };
}

export function generateRepositoryKeys(crypto: CryptoBackend, gun: string, now: Date): RepositoryKeys {
  const timestamp = generateSigningKey(crypto, 'ed25519');
  return {
    root: generateRootKey(crypto, gun, now),
    targets: generateSigningKey(crypto),
    snapshot: generateSigningKey(crypto),
    timestamp: { publicKey: timestamp.publicKey, signer: timestamp.signer },
  };
}

export interface InitialMetadata {
  readonly root: Metadata<'Root'>;
  readonly targets: Metadata<'Targets'>;
  readonly snapshot: Metadata<'Snapshot'>;
  /** Present only when the timestamp signer is held locally (a directory remote or tests). */
  readonly timestamp?: Metadata<'Timestamp'>;
}

/** Root v1, empty targets v1 and snapshot v1 (and timestamp v1 when its signer is given), as `notary init`. */
export async function initRepositoryMetadata(keys: RepositoryKeys, crypto: CryptoBackend, now: Date): Promise<InitialMetadata> {
  const tsId = tufKeyId(keys.timestamp.publicKey, crypto);
  const rootSigned = newRootSigned({
    now,
    keys: {
      [keys.root.keyId]: keys.root.publicKey,
      [keys.targets.keyId]: keys.targets.publicKey,
      [keys.snapshot.keyId]: keys.snapshot.publicKey,
      [tsId]: keys.timestamp.publicKey,
    },
    roles: {
      root: { keyids: [keys.root.keyId] },
      targets: { keyids: [keys.targets.keyId] },
      snapshot: { keyids: [keys.snapshot.keyId] },
      timestamp: { keyids: [tsId] },
    },
  });
  const root = await signMetadata('Root', rootSigned, 'root', [keys.root.signer]);
  const targets = await signMetadata('Targets', newTargetsSigned(now), 'targets', [keys.targets.signer]);
  const files = new Map([
    ['root', root.bytes!],
    ['targets', targets.bytes!],
  ]);
  const snapshot = await signMetadata('Snapshot', newSnapshotSigned(files, now, crypto), 'snapshot', [keys.snapshot.signer]);
  if (!keys.timestamp.signer) return { root, targets, snapshot };
  const timestamp = await signMetadata('Timestamp', newTimestampSigned(snapshot.bytes!, now, crypto), 'timestamp', [keys.timestamp.signer]);
  return { root, targets, snapshot, timestamp };
}
