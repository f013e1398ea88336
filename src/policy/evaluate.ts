/**
 * The gate's decision over trusted metadata: given a rule, an image reference and a repository whose whole
 * delegation tree was admitted by Notary's update workflow, which digest may run and who signed it — or a
 * typed refusal saying why. Pure (no IO): the caller runs the workflow; this only reads what it admitted.
 */
import { toBase64, fromBase64, toHex } from '../core/bytes.js';
import type { CryptoBackend } from '../core/crypto.js';
import { canonicalKeyId, publicKeyJson, tufKeyId } from '../core/keys.js';
import { lookupTarget, type WalkReport } from '../core/collection.js';
import { NotaryError, TargetNotFoundError } from '../core/errors.js';
import { ownEntry } from '../core/metadata.js';
import { decodePem } from '../core/pem.js';
import { rootRoleKeys } from '../core/root.js';
import { childRoles } from '../core/targets.js';
import type { SignerKey, TrustedMetadataSet } from '../core/trusted.js';
import { pathAllowed } from '../core/verify.js';
import { parseCertificate, parseSpki } from '../core/x509.js';
import { PolicyError, type Rule } from './policy.js';

/** The image as the policy sees it: its normalised repository (the GUN) and tag and/or digest. */
export interface ImageSubject {
  readonly name: string;
  readonly tag?: string;
  /** `sha256:<hex>`. */
  readonly digest?: string;
}

export interface ImageSigner {
  readonly role: string;
  readonly keys: readonly SignerKey[];
}

/** A verified answer: the digest that may run, and the roles and keys that vouch for it. */
export interface TrustedImage {
  readonly name: string;
  readonly tag?: string;
  /** `sha256:<hex>` of the manifest (or index). */
  readonly digest: string;
  readonly length: number;
  readonly roles: readonly string[];
  readonly signers: readonly ImageSigner[];
}

const RELEASES = 'targets/releases';

interface Entry {
  readonly role: string;
  readonly sha256: string;
  readonly length: number;
  readonly keys: readonly SignerKey[];
}

function hexOf(b64: string | undefined): string | undefined {
  const bytes = b64 === undefined ? undefined : fromBase64(b64);
  return bytes && bytes.length === 32 ? toHex(bytes) : undefined;
}

/** A role's own entry for a tag, within its paths (a delegation cannot sign outside them). */
function entryIn(set: TrustedMetadataSet, role: string, tag: string): Entry | undefined {
  const trusted = set.roles.get(role);
  if (!trusted) return undefined;
  const meta = ownEntry(trusted.metadata.signed.targets, tag);
  if (!meta || !pathAllowed(trusted.role.paths, tag)) return undefined;
  const sha256 = hexOf(meta.hashes?.['sha256']);
  return sha256 === undefined ? undefined : { role, sha256, length: meta.length, keys: trusted.signerKeys };
}

/** Every delegation the admitted roles declare, admitted or not (to tell "not a delegation" from "skipped"). */
function declaredDelegations(set: TrustedMetadataSet): Set<string> {
  const out = new Set<string>();
  for (const trusted of set.roles.values()) for (const child of childRoles(trusted.role, trusted.metadata.signed)) out.add(child.name);
  return out;
}

/** Canonical IDs of pinned keys: PEM public keys or certificates (the bare key's ID), or 64-hex key IDs. */
export function pinnedKeyIds(pins: readonly string[], crypto: CryptoBackend): Set<string> {
  const ids = new Set<string>();
  for (const pin of pins) {
    const text = pin.trim();
    if (/^[0-9a-f]{64}$/.test(text)) {
      ids.add(text);
      continue;
    }
    let blocks;
    try {
      blocks = decodePem(text);
    } catch (err) {
      throw new PolicyError('POLICY_INVALID', `a pinned root key is not valid PEM: ${(err as Error).message}`, { cause: err });
    }
    if (blocks.length === 0) throw new PolicyError('POLICY_INVALID', 'a pinned root key holds no PEM block (expected PUBLIC KEY or CERTIFICATE, or a 64-hex key ID)');
    for (const block of blocks) {
      try {
        const spki = block.type === 'CERTIFICATE' ? parseCertificate(block.bytes).spki : block.type === 'PUBLIC KEY' ? block.bytes : undefined;
        if (!spki) throw new Error(`unexpected PEM block ${block.type}`);
        const kind = parseSpki(spki).kind;
        if (kind !== 'ecdsa' && kind !== 'rsa') throw new Error(`${kind} keys cannot be Notary root keys`);
        ids.add(tufKeyId(publicKeyJson(kind, toBase64(spki)), crypto));
      } catch (err) {
        throw new PolicyError('POLICY_INVALID', `a pinned root key could not be read: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return ids;
}

/** The root role must list one of the pinned keys (as Connaisseur pins a root public key). */
export function checkPinnedRoot(set: TrustedMetadataSet, pinned: ReadonlySet<string>, crypto: CryptoBackend): void {
  const keys = rootRoleKeys(set.root.signed, 'root').keys;
  const ids: string[] = [];
  for (const key of keys.values()) {
    try {
      ids.push(canonicalKeyId(key, crypto));
    } catch {
      // a key that does not decode cannot match a pin
    }
  }
  if (!ids.some((id) => pinned.has(id))) {
    throw new PolicyError('ROOT_KEY_NOT_PINNED', `the root of ${set.gun} is not signed by a pinned root key (its root keys: ${ids.join(', ') || 'none'})`, {
      where: 'root',
    });
  }
}

/** Refuses when any trusted role expires before `at + windowMs`. */
export function checkFreshness(set: TrustedMetadataSet, at: Date, windowMs: number): void {
  const limit = at.getTime() + windowMs;
  for (const [name, md] of set.files()) {
    const expires = md.expires.unixSeconds * 1000;
    if (expires < limit) {
      throw new PolicyError('EXPIRES_SOON', `${name} of ${set.gun} expires at ${new Date(expires).toISOString()}, within the rule's freshness window`, {
        where: name,
      });
    }
  }
}

function digestHex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

function image(subject: ImageSubject, tag: string | undefined, entries: readonly Entry[]): TrustedImage {
  const first = entries[0]!;
  return {
    name: subject.name,
    ...(tag !== undefined ? { tag } : {}),
    digest: `sha256:${first.sha256}`,
    length: first.length,
    roles: entries.map((e) => e.role),
    signers: entries.map((e) => ({ role: e.role, keys: e.keys })),
  };
}

/** Docker's rule: the tag's entry in targets/releases, else in targets — and only those two roles count. */
function dockerRule(set: TrustedMetadataSet, subject: ImageSubject, tag: string): Entry[] {
  let found;
  try {
    found = lookupTarget(set, tag, [RELEASES, 'targets']);
  } catch (err) {
    if (err instanceof TargetNotFoundError) throw new TargetNotFoundError('TARGET_NOT_FOUND', `No valid trust data for ${tag}`, { where: `${subject.name}:${tag}` });
    throw err;
  }
  if (found.role !== RELEASES && found.role !== 'targets') {
    // Docker treats other delegations as audit trails only (notary#592): a tag only they sign is unsigned.
    throw new TargetNotFoundError('TARGET_NOT_FOUND', `No valid trust data for ${tag} (signed only in ${found.role}, which Docker's rule does not accept)`, {
      where: `${subject.name}:${tag}`,
    });
  }
  const entry = entryIn(set, found.role, tag);
  if (!entry) throw new TargetNotFoundError('TARGET_NOT_FOUND', `No valid trust data for ${tag}: no sha256 listed`, { where: `${subject.name}:${tag}` });
  return [entry];
}

function describeDigests(entries: readonly Entry[]): string {
  return entries.map((e) => `${e.role} sha256:${e.sha256}`).join(', ');
}

/** The signers a rule requires, all on one digest. */
function signersRule(set: TrustedMetadataSet, rule: Rule, subject: ImageSubject, tag: string, skipped: ReadonlyMap<string, NotaryError>): Entry[] {
  const requirement = rule.signers!;
  const roles = 'allOf' in requirement ? requirement.allOf : requirement.anyOf;
  const needed = 'allOf' in requirement ? requirement.allOf.length : requirement.count;
  const declared = declaredDelegations(set);
  const where = `${subject.name}:${tag}`;
  const signed: Entry[] = [];
  const missing: string[] = [];
  for (const role of roles) {
    if (!declared.has(role)) {
      if ('allOf' in requirement) {
        throw new PolicyError('NOT_A_DELEGATION', `${role} is not a delegation of ${subject.name} (rule ${rule.name} requires it)`, { where });
      }
      missing.push(`${role} (not a delegation)`);
      continue;
    }
    const entry = entryIn(set, role, tag);
    if (entry) signed.push(entry);
    else {
      const skip = skipped.get(role);
      missing.push(skip ? `${role} (skipped: ${skip.code})` : role);
    }
  }
  const digests = new Set(signed.map((e) => e.sha256));
  if (digests.size > 1) {
    throw new PolicyError('DIGEST_CONFLICT', `the required signers of ${tag} signed different digests: ${describeDigests(signed)}`, { where });
  }
  if (signed.length < needed) {
    const what = 'allOf' in requirement ? 'every one of' : `${needed} of`;
    throw new PolicyError('SIGNER_MISSING', `${tag} must be signed by ${what} ${roles.join(', ')}; missing: ${missing.join(', ')}`, { where });
  }
  return signed;
}

function yieldForTag(set: TrustedMetadataSet, rule: Rule, subject: ImageSubject, tag: string, skipped: ReadonlyMap<string, NotaryError>): Entry[] {
  return rule.signers ? signersRule(set, rule, subject, tag, skipped) : dockerRule(set, subject, tag);
}

/** Every tag name any admitted role lists (for reverse lookups of digest-only references). */
function allTags(set: TrustedMetadataSet): Set<string> {
  const names = new Set<string>();
  for (const trusted of set.roles.values()) for (const name in trusted.metadata.signed.targets ?? {}) names.add(name);
  return names;
}

export interface EvaluateOptions {
  readonly crypto: CryptoBackend;
  /** The time freshness is judged at (default: the trusted set's clock). */
  readonly at?: Date;
  /** Delegations the walk skipped (expired or below threshold), to say so in refusals. */
  readonly skipped?: WalkReport['skipped'];
  /** Canonical IDs of pinned root keys, when the rule pins keys (see pinnedKeyIds). */
  readonly pinnedRootKeys?: ReadonlySet<string>;
}

/**
 * Decides an image under a rule, over a repository whose delegation tree was admitted. A tag yields one
 * digest or a refusal; a reference with a digest passes only if that digest is what the rule yields for its
 * tag (or, digest only, for some tag, as Docker's daemon reverse-looks it up).
 */
export function evaluateRule(rule: Rule, subject: ImageSubject, set: TrustedMetadataSet, options: EvaluateOptions): TrustedImage {
  if (rule.action === 'deny') throw new PolicyError('POLICY_DENIED', `images matching ${rule.name} are denied by policy`, { where: subject.name });
  if (options.pinnedRootKeys) checkPinnedRoot(set, options.pinnedRootKeys, options.crypto);
  if (rule.freshnessMs !== undefined) checkFreshness(set, options.at ?? set.now, rule.freshnessMs);
  const skipped = new Map((options.skipped ?? []).map((s) => [s.role, s.error]));
  const wanted = subject.digest === undefined ? undefined : digestHex(subject.digest);
  if (subject.tag !== undefined || wanted === undefined) {
    const tag = subject.tag ?? 'latest';
    const entries = yieldForTag(set, rule, subject, tag, skipped);
    if (wanted !== undefined && entries[0]!.sha256 !== wanted) {
      throw new PolicyError('DIGEST_MISMATCH', `signed image for ${subject.name}:${tag} does not match provided digest: signed sha256:${entries[0]!.sha256}, asked for sha256:${wanted}`, {
        where: `${subject.name}:${tag}`,
      });
    }
    return image(subject, tag, entries);
  }
  for (const tag of [...allTags(set)].sort()) {
    let entries: Entry[];
    try {
      entries = yieldForTag(set, rule, subject, tag, skipped);
    } catch (err) {
      if (err instanceof NotaryError) continue;
      throw err;
    }
    if (entries[0]!.sha256 === wanted) return image(subject, undefined, entries);
  }
  throw new PolicyError('SIGNER_MISSING', `no trust signature found for ${subject.name}@sha256:${wanted} under rule ${rule.name}`, { where: subject.name });
}
