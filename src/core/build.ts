/**
 * Creating and changing metadata the way Notary's client does, and signing it into Go-normal bytes.
 * Signed objects are edited in place (a 100,000-target role must not be copied per change).
 */
import { toBase64 } from './bytes.js';
import type { CryptoBackend, PrivateKeyMaterial, PublicKeyMaterial, SignatureMethod } from './crypto.js';
import { DelegationError, KeyError, NotaryError } from './errors.js';
import { decodePublicKey, signingMethodFor, tufKeyId, type PublicKeyLike } from './keys.js';
import {
  Metadata,
  goNormalSigned,
  ENVELOPE_HEAD,
  ownEntry,
  setOwnEntry,
  serializeCanonicalEnvelope,
  type DelegationRoleJson,
  type FileMetaJson,
  type KeyJson,
  type RootSigned,
  type SignatureJson,
  type SignedByType,
  type SignedType,
  type SnapshotSigned,
  type TargetsSigned,
  type TimestampSigned,
} from './metadata.js';
import { canonicalizeToBytes, type CanonicalBytes } from './canonical.js';
import { utf8Encode } from './bytes.js';
import { DEFAULT_EXPIRY_DAYS, expiresAfterDays } from './time.js';
import { assertDelegationName, isDirectChild } from './verify.js';

/** Something that can sign metadata: a software key, a key in the trust_dir, or a hardware token. */
export interface MetadataSigner {
  /** TUF key ID of the public key as metadata lists it. */
  readonly keyId: string;
  readonly method: SignatureMethod;
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export function softwareSigner(publicKey: PublicKeyLike, privateKey: PrivateKeyMaterial, crypto: CryptoBackend): MetadataSigner {
  const method = signingMethodFor(publicKey.keytype);
  let material: PublicKeyMaterial | undefined;
  const failed = (why: string, cause?: unknown) =>
    new KeyError('SIGNING_FAILED', `signing with key ${tufKeyId(publicKey, crypto)} failed: ${why}`, cause === undefined ? {} : { cause });
  return {
    keyId: tufKeyId(publicKey, crypto),
    method,
    // Every signature is checked against the key's own public key before it is used: a private key whose
    // parts disagree (or a backend fault) must not yield metadata that no client can verify.
    sign: (message) => {
      let sig: Uint8Array;
      try {
        sig = crypto.sign(method, privateKey, message);
      } catch (err) {
        if (err instanceof NotaryError) throw err;
        throw failed((err as Error)?.message ?? String(err), err);
      }
      material ??= decodePublicKey(publicKey).material;
      let ok = false;
      try {
        ok = crypto.verify(method, material, message, sig);
      } catch {
        ok = false;
      }
      if (!ok) throw failed('the signature does not verify against the public key (the private key is inconsistent)');
      return sig;
    },
  };
}

/** hashes (sha256 + sha512, as `notary add` writes) and length of some bytes. */
export function fileMetaOf(bytes: Uint8Array, crypto: CryptoBackend, custom?: unknown): FileMetaJson {
  const meta: FileMetaJson = {
    hashes: { sha256: toBase64(crypto.sha256(bytes)), sha512: toBase64(crypto.sha512(bytes)) },
    length: bytes.length,
  };
  if (custom !== undefined && custom !== null) meta.custom = custom;
  return meta;
}

export interface NewRootOptions {
  /** Keys by TUF key ID. */
  readonly keys: Record<string, KeyJson>;
  readonly roles: Record<'root' | 'targets' | 'snapshot' | 'timestamp', { keyids: string[]; threshold?: number }>;
  readonly now: Date;
  readonly version?: number;
}

export function newRootSigned(options: NewRootOptions): RootSigned {
  const roles: RootSigned['roles'] = {};
  for (const [name, r] of Object.entries(options.roles)) roles[name] = { keyids: r.keyids, threshold: r.threshold ?? 1 };
  return {
    _type: 'Root',
    consistent_snapshot: false,
    expires: expiresAfterDays(options.now, DEFAULT_EXPIRY_DAYS.root),
    keys: options.keys,
    roles,
    version: options.version ?? 1,
  };
}

export function newTargetsSigned(now: Date, version = 1): TargetsSigned {
  return {
    _type: 'Targets',
    delegations: { keys: {}, roles: [] },
    expires: expiresAfterDays(now, DEFAULT_EXPIRY_DAYS.targets),
    targets: {},
    version,
  };
}

/** A snapshot listing root, targets and every delegation by the exact bytes given. */
export function newSnapshotSigned(files: ReadonlyMap<string, Uint8Array>, now: Date, crypto: CryptoBackend, version = 1): SnapshotSigned {
  const meta: Record<string, FileMetaJson> = {};
  for (const [role, bytes] of files) meta[role] = fileMetaOf(bytes, crypto);
  return { _type: 'Snapshot', expires: expiresAfterDays(now, DEFAULT_EXPIRY_DAYS.snapshot), meta, version };
}

export function newTimestampSigned(snapshotBytes: Uint8Array, now: Date, crypto: CryptoBackend, version = 1): TimestampSigned {
  return {
    _type: 'Timestamp',
    expires: expiresAfterDays(now, DEFAULT_EXPIRY_DAYS.timestamp),
    meta: { snapshot: fileMetaOf(snapshotBytes, crypto) },
    version,
  };
}

/** Notary's re-sign step: version + 1 and a fresh default expiry for the role. */
export function bumpVersion(signed: { version: number; expires: string }, now: Date, days: number): void {
  signed.version += 1;
  signed.expires = expiresAfterDays(now, days);
}

export function setTarget(targets: TargetsSigned, name: string, meta: FileMetaJson): void {
  targets.targets ??= {};
  setOwnEntry(targets.targets, name, meta);
}

export function removeTarget(targets: TargetsSigned, name: string): boolean {
  if (!targets.targets || ownEntry(targets.targets, name) === undefined) return false;
  delete targets.targets[name];
  return true;
}

export interface DelegationSpec {
  readonly name: string;
  readonly keys: readonly KeyJson[];
  readonly threshold?: number;
  readonly paths?: readonly string[];
}

/** Adds or replaces a delegation in its parent (insertion order is kept: it is Notary's walk order). */
export function setDelegation(parent: TargetsSigned, parentName: string, spec: DelegationSpec, crypto: CryptoBackend): void {
  assertDelegationName(spec.name);
  if (!isDirectChild(parentName, spec.name)) {
    throw new DelegationError('INVALID_DELEGATION', `${spec.name} is not a direct child of ${parentName}`, { where: spec.name });
  }
  parent.delegations ??= { keys: {}, roles: [] };
  const delegations = parent.delegations;
  delegations.keys ??= {};
  delegations.roles ??= [];
  const keyids: string[] = [];
  for (const key of spec.keys) {
    const id = tufKeyId(key, crypto);
    delegations.keys[id] = { keytype: key.keytype, keyval: { private: null, public: key.keyval.public } };
    keyids.push(id);
  }
  const role: DelegationRoleJson = { keyids, name: spec.name, threshold: spec.threshold ?? 1 };
  if (spec.paths && spec.paths.length > 0) role.paths = [...spec.paths];
  const existing = delegations.roles.findIndex((r) => r.name === spec.name);
  if (existing >= 0) delegations.roles[existing] = role;
  else delegations.roles.push(role);
}

export function removeDelegation(parent: TargetsSigned, name: string): boolean {
  const roles = parent.delegations?.roles;
  if (!roles) return false;
  const i = roles.findIndex((r) => r.name === name);
  if (i < 0) return false;
  roles.splice(i, 1);
  return true;
}

/**
 * Signs `signed` (normalised to Go's form first) with every signer and returns the metadata with its file
 * bytes. `extraSignatures` are kept (co-signing: several signers adding to one version).
 */
export async function signMetadata<T extends SignedType>(
  type: T,
  signed: SignedByType[T],
  role: string,
  signers: readonly MetadataSigner[],
  extraSignatures: readonly SignatureJson[] = [],
): Promise<Metadata<T>> {
  const normal = goNormalSigned(type, signed, role) as SignedByType[T];
  const canonical = canonicalizeToBytes(normal, envelopeMargins(signers.length + extraSignatures.length));
  return signCanonical(type, normal, role, canonical, signers, extraSignatures);
}

/**
 * Room around canonical bytes for the file's envelope, so the file is written around them, not copied:
 * a signature entry is under 1 KiB even for RSA-4096.
 */
export function envelopeMargins(signatureCount: number): { before: number; after: number } {
  return { before: ENVELOPE_HEAD.length, after: 64 + 1024 * signatureCount };
}

/**
 * Signs metadata whose canonical bytes the caller prepared (signMetadata, or spliceTargetsCanonical for
 * a large targets role): `canonical` must be exactly the canonical form of Go's normalisation of `signed`.
 */
export async function signCanonical<T extends SignedType>(
  type: T,
  signed: SignedByType[T],
  role: string,
  canonical: CanonicalBytes,
  signers: readonly MetadataSigner[],
  extraSignatures: readonly SignatureJson[] = [],
): Promise<Metadata<T>> {
  const message = canonical.bytes;
  const signatures: SignatureJson[] = extraSignatures.filter((s) => !signers.some((x) => x.keyId === s.keyid));
  for (const signer of signers) {
    const sig = await signer.sign(message);
    signatures.push({ keyid: signer.keyId, method: signer.method, sig: toBase64(sig) });
  }
  const bytes = serializeCanonicalEnvelope(canonical, signatures);
  return Metadata.fromOwnOutput(type, signed, signatures, role, bytes, message);
}
