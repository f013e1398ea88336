/**
 * The image-level API for CI and deploy tools, with Docker Content Trust's rules and docker's settings
 * (trust dir, server, TLS, credentials, passphrases — see session.ts):
 *
 * - `resolveSignedImage('registry/app:1.2.3')` → the digest a trusted `docker pull` would use, with who
 *   signed it; refuses (TargetNotFoundError) a tag that is not released.
 * - `signImage('registry/app:1.2.3')` → signs the registry's current manifest digest for the tag.
 * - `revokeImage`, `inspectImage` → `docker trust revoke` / `inspect` as data.
 *
 * Every function settles with a verified answer or a NotaryError with a stable `code`.
 */
import { fromBase64, toHex } from '../../core/bytes.js';
import { NotaryError, TargetNotFoundError } from '../../core/errors.js';
import { parseNormalizedNamed, type ImageReference } from '../reference.js';
import { allTargetsByName, REPO_ADMIN, RELEASES_ROLE, repositoryTrust, signerName, type RepositoryTrust } from './inspect.js';
import { revoke, signTag, type SignOutcome, type SignProgress } from './operations.js';
import { registryCredentials, TrustSession, type TrustSessionOptions } from './session.js';

export type ImageTrustOptions = TrustSessionOptions;

export interface SignedImage {
  /** The normalised repository name (the GUN), e.g. `registry.example.com/team/app`. */
  readonly name: string;
  readonly tag: string;
  /** `sha256:<hex>`: pull `name@digest`. */
  readonly digest: string;
  /** Manifest size in bytes, as signed. */
  readonly size: number;
  /** The role the digest was taken from: `targets/releases` or `targets` (docker accepts no other). */
  readonly role: string;
  /** Who signed this tag with this digest: delegation names without `targets/` (`Repo Admin` for `targets` only). */
  readonly signers: readonly string[];
  /** Every role (`targets`, `targets/releases`, `targets/<signer>`…) listing this tag with this digest. */
  readonly roles: readonly string[];
}

export interface ResolveSignedImageOptions extends ImageTrustOptions {
  /** Refuse unless each of these signers (delegation names without `targets/`) signed the same digest. */
  readonly requireSigners?: readonly string[];
}

function parse(reference: string | ImageReference): ImageReference {
  return typeof reference === 'string' ? parseNormalizedNamed(reference) : reference;
}

async function withSession<T>(ref: ImageReference, options: ImageTrustOptions, fn: (s: TrustSession) => Promise<T>): Promise<T> {
  const session = new TrustSession(ref, options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/**
 * The signed digest of an image, as a trusted pull resolves it: the tag (default `latest`) is looked up in
 * `targets/releases`, then `targets`; a tag only in another delegation is not released. A reference with a
 * digest must match the signed one; a digest-only reference is looked up among the released targets.
 */
export async function resolveSignedImage(reference: string | ImageReference, options: ResolveSignedImageOptions = {}): Promise<SignedImage> {
  const ref = parse(reference);
  return withSession(ref, options, async (session) => {
    const repo = await session.open();
    const set = repo.trusted;
    let tag = ref.tag;
    let record;
    if (tag === undefined && ref.digest) {
      const want = ref.digest.replace(/^sha256:/, '');
      const released = (await repo.listTargets([RELEASES_ROLE, 'targets'])).find(
        (t) => (t.role === RELEASES_ROLE || t.role === 'targets') && toHex(fromBase64(t.hashes['sha256'] ?? '') ?? new Uint8Array()) === want,
      );
      if (!released) throw new TargetNotFoundError('TARGET_NOT_FOUND', `no trust signature found for ${ref.name}@${ref.digest}`, { where: ref.digest });
      record = released;
      tag = released.name;
    } else {
      tag ??= 'latest';
      record = await repo.lookup(tag, [RELEASES_ROLE, 'targets']);
      if (record.role !== RELEASES_ROLE && record.role !== 'targets') throw new TargetNotFoundError('TARGET_NOT_FOUND', `No valid trust data for ${tag}`, { where: tag });
    }
    const b64 = record.hashes['sha256'];
    const hex = b64 === undefined ? undefined : toHex(fromBase64(b64) ?? new Uint8Array());
    if (!hex) throw new NotaryError('NO_CHECKSUMS', 'no valid hash, expecting sha256', { where: tag });
    if (ref.digest && ref.tag !== undefined && ref.digest !== `sha256:${hex}`) {
      throw new TargetNotFoundError('HASH_MISMATCH', `signed image for ${ref.name}:${tag} does not match provided digest`, { where: tag });
    }
    const holders = allTargetsByName(set, tag).filter((t) => t.sha256 === hex);
    const roles = [...new Set(holders.map((t) => t.role))];
    const named = roles.filter((r) => r !== 'targets' && r !== RELEASES_ROLE).map(signerName);
    const signers = named.length > 0 ? named : [REPO_ADMIN];
    for (const required of options.requireSigners ?? []) {
      if (!named.includes(required)) {
        throw new TargetNotFoundError('THRESHOLD_NOT_MET', `${ref.name}:${tag} (sha256:${hex}) is not signed by ${required}`, { where: `targets/${required}` });
      }
    }
    return { name: ref.name, tag, digest: `sha256:${hex}`, size: record.length, role: record.role, signers, roles };
  });
}

export interface SignImageOptions extends ImageTrustOptions {
  /**
   * The manifest digest and size to sign. Default: asked of the registry (with docker's credentials), so
   * what is signed is what the registry serves for the tag now.
   */
  readonly resolveDigest?: () => Promise<{ digest: string; size: number }>;
  /** The signer for a repository's first signature (`targets/<signer>`; default: the registry login user, as docker). */
  readonly signer?: string;
  /** Sign the registry's digest even when the tag is already released (docker's `--local`). */
  readonly local?: boolean;
  readonly progress?: (p: SignProgress) => void;
}

/** `docker trust sign IMAGE:TAG` without a daemon. */
export async function signImage(reference: string | ImageReference, options: SignImageOptions = {}): Promise<SignOutcome> {
  const ref = parse(reference);
  const tag = ref.tag;
  if (!tag) {
    throw new NotaryError('INVALID_ARGUMENT', ref.digest ? 'cannot use a digest reference for IMAGE:TAG' : `no tag specified for ${typeof reference === 'string' ? reference : ref.name}`);
  }
  return withSession(ref, options, async (session) => {
    const resolve =
      options.resolveDigest ??
      (async () => {
        const { resolveImageDigest } = await import('./registry-digest.js');
        return resolveImageDigest(ref, tag, session.env, options.configDir);
      });
    const signer = options.signer ?? (await registryCredentials(ref, session.env, options.configDir))?.username;
    return signTag(session, tag, resolve, {
      ...(signer ? { signer } : {}),
      ...(options.local ? { local: true } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    });
  });
}

/** `docker trust revoke`: the tag (or, without one, every released tag) leaves the roles we hold keys for. Returns the tags. */
export async function revokeImage(reference: string | ImageReference, options: ImageTrustOptions = {}): Promise<string[]> {
  const ref = parse(reference);
  if (!ref.tag && ref.digest) throw new NotaryError('INVALID_ARGUMENT', 'cannot use a digest reference for IMAGE:TAG');
  return withSession(ref, options, (session) => revoke(session, ref.tag));
}

/** `docker trust inspect` as data (format it with formatInspectJson / formatInspectPretty). */
export async function inspectImage(reference: string | ImageReference, options: ImageTrustOptions = {}): Promise<RepositoryTrust> {
  const ref = parse(reference);
  const tag = ref.digest ? '' : (ref.tag ?? '');
  return withSession(ref, options, async (session) => {
    const repo = await session.open();
    return repositoryTrust(repo.trusted, tag, session.crypto);
  });
}
