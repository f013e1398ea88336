/**
 * Verification primitives, each one of Notary's rules with a typed error: signatures over a threshold of
 * distinct keys, hashes against parent metadata, version and expiry, and delegation names and paths.
 * Pure functions: no IO, the clock is a parameter.
 */
import { bytesEqual, fromBase64, toHex } from './bytes.js';
import type { CryptoBackend } from './crypto.js';
import {
  DelegationError,
  ExpiredError,
  FormatError,
  HashError,
  RollbackError,
  SignatureError,
} from './errors.js';
import { KeyCache, methodFitsKey, tufKeyId, type PublicKeyLike } from './keys.js';
import type { FileMetaJson, Metadata } from './metadata.js';
import { formatGoUnixDate, isExpired } from './time.js';

/** A role's verification data: its keys (by TUF key ID) and threshold. */
export interface RoleKeys {
  readonly name: string;
  readonly keys: ReadonlyMap<string, PublicKeyLike>;
  readonly threshold: number;
}

export interface VerifyContext {
  readonly crypto: CryptoBackend;
  readonly keyCache: KeyCache;
}

export function newVerifyContext(crypto: CryptoBackend): VerifyContext {
  return { crypto, keyCache: new KeyCache() };
}

/** How many signatures by one key are tried before the rest by that key are ignored. */
export const MAX_TRIES_PER_KEY = 4;

/**
 * Checks that signatures from at least `threshold` distinct role keys verify over the canonical `signed`
 * bytes. Returns the key IDs whose signatures verified. Notary's rules: no signatures is an error;
 * signatures by unknown keys and with unknown methods are skipped; a key listed under an ID that is not its
 * own ID fails the whole check; duplicate signatures by one key count once.
 */
export function verifyThreshold(metadata: Metadata, role: RoleKeys, ctx: VerifyContext): string[] {
  if (metadata.signatures.length === 0) {
    throw new SignatureError('NO_SIGNATURES', `tuf: data has no signatures (${metadata.role})`, { where: metadata.role });
  }
  if (role.threshold < 1) {
    throw new SignatureError('THRESHOLD_NOT_MET', `invalid threshold ${role.threshold} for ${role.name}`, {
      where: role.name,
    });
  }
  const message = metadata.canonicalSigned();
  const valid = new Set<string>();
  // Work is bounded by the role's keys, not by the signature list: each key's ID is checked once and at
  // most MAX_TRIES_PER_KEY of its signatures are tried (Notary files carry one per key).
  const tries = new Map<string, number>();
  for (const sig of metadata.signatures) {
    const key = role.keys.get(sig.keyid);
    if (!key) continue;
    if (valid.has(sig.keyid)) continue;
    const tried = tries.get(sig.keyid);
    if (tried === undefined && tufKeyId(key, ctx.crypto) !== sig.keyid) {
      throw new SignatureError('KEY_ID_MISMATCH', `key ID ${sig.keyid} is not valid for key content (${role.name})`, {
        where: role.name,
      });
    }
    if ((tried ?? 0) >= MAX_TRIES_PER_KEY) continue;
    tries.set(sig.keyid, (tried ?? 0) + 1);
    const method = sig.method.toLowerCase(); // Go lowercases the method when decoding
    if (!methodFitsKey(method, key.keytype)) continue;
    const decoded = ctx.keyCache.decode(key);
    if (decoded instanceof Error) continue;
    const signature = fromBase64(sig.sig);
    if (!signature) continue;
    let ok = false;
    try {
      ok = ctx.crypto.verify(method, decoded.material, message, signature);
    } catch {
      ok = false; // an unusable key (e.g. RSA below 2048 bits) never verifies
    }
    if (ok) valid.add(sig.keyid);
  }
  if (valid.size < role.threshold) {
    throw new SignatureError('THRESHOLD_NOT_MET', `valid signatures did not meet threshold for ${role.name}`, {
      where: role.name,
    });
  }
  return [...valid];
}

const HASH_SIZES: Record<string, number> = { sha256: 32, sha512: 64 };

/** Go's CheckValidHashStructures: known algorithms must have the right digest size. */
export function checkHashStructure(hashes: Record<string, string> | null, where: string): void {
  if (!hashes) return;
  for (const alg in hashes) {
    const size = HASH_SIZES[alg];
    if (size === undefined) continue;
    const bytes = fromBase64(hashes[alg]!);
    if (!bytes || bytes.length !== size) {
      throw new FormatError('MALFORMED_METADATA', `${where}: invalid ${alg} checksum (must be ${size} bytes)`, { where });
    }
  }
}

/**
 * Checks bytes against every known hash their parent lists (sha256, sha512); at least one must be known.
 * `length` is the download cap the parent states: bytes beyond it are refused before hashing.
 */
export function verifyFileMeta(bytes: Uint8Array, role: string, meta: FileMetaJson | undefined, ctx: VerifyContext): void {
  const hashes = meta?.hashes ?? {};
  if (meta && meta.length > 0 && bytes.length > meta.length) {
    throw new HashError('LENGTH_EXCEEDED', `${role} is ${bytes.length} bytes, more than the ${meta.length} its parent states`, {
      where: role,
    });
  }
  let checked = 0;
  for (const alg of ['sha256', 'sha512'] as const) {
    const expectedText = hashes[alg];
    if (expectedText === undefined) continue;
    const expected = fromBase64(expectedText) ?? new Uint8Array(0);
    const actual = alg === 'sha256' ? ctx.crypto.sha256(bytes) : ctx.crypto.sha512(bytes);
    if (!bytesEqual(actual, expected)) {
      throw new HashError('HASH_MISMATCH', `${alg} checksum for ${role} did not match: expected ${toHex(expected)}`, {
        where: role,
      });
    }
    checked++;
  }
  if (checked === 0) {
    throw new HashError('NO_CHECKSUMS', `no checksums for supported algorithms were provided for ${role}`, { where: role });
  }
}

export function verifyMinVersion(metadata: Metadata, minVersion: number): void {
  if (metadata.version < minVersion) {
    throw new RollbackError('ROLLBACK', `${metadata.role}: version ${metadata.version} is lower than current version ${minVersion}`, {
      where: metadata.role,
    });
  }
}

export function verifyNotExpired(metadata: Metadata, now: Date): void {
  if (isExpired(metadata.expires, now)) {
    throw new ExpiredError('EXPIRED', `${metadata.role} expired at ${formatGoUnixDate(metadata.expires)}`, {
      where: metadata.role,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Delegations

const DELEGATION_CHARS = /^[-a-z0-9_/]+$/;

/**
 * Notary's delegation name rule: `targets/` prefix, lowercase letters, digits, `-`, `_`, `/` only, shorter
 * than 256 bytes, and path-clean (no `//`, no trailing `/`; dots are already excluded by the character set).
 */
export function isDelegationName(name: string): boolean {
  return (
    name.startsWith('targets/') &&
    DELEGATION_CHARS.test(name) &&
    name.length < 256 &&
    !name.includes('//') &&
    !name.endsWith('/')
  );
}

export function parentRole(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '' : name.slice(0, i);
}

export function isDirectChild(parent: string, child: string): boolean {
  return parentRole(child) === parent;
}

export function assertDelegationName(name: string): void {
  if (!isDelegationName(name)) {
    throw new DelegationError('INVALID_DELEGATION_NAME', `tuf: invalid role ${name}. invalid delegation role name`, {
      where: name,
    });
  }
}

/**
 * A child's effective paths: those of its own paths that start with one of the parent's paths. Paths are
 * plain string prefixes (no globs, no directory semantics); non-conforming ones are dropped silently.
 */
export function restrictPaths(parentPaths: readonly string[], childPaths: readonly string[] | null | undefined): string[] {
  if (!childPaths || childPaths.length === 0) return [];
  return childPaths.filter((p) => parentPaths.some((pp) => p.startsWith(pp)));
}

export function pathAllowed(paths: readonly string[], target: string): boolean {
  return paths.some((p) => target.startsWith(p));
}
