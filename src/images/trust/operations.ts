/**
 * Docker Content Trust operations on one image repository, as `docker trust` performs them (docker/cli
 * cli/command/trust, cli/trust): read what is signed, initialise a repository with a signer, add and remove
 * signers, sign a tag into every role we hold a key for, revoke. Messages along the way go to `progress`
 * in docker's order, so the CLI can print them exactly where docker does.
 */
import { fromHex, toBase64 } from '../../core/bytes.js';
import { NotaryError } from '../../core/errors.js';
import { canonicalKeyId } from '../../core/keys.js';
import type { KeyJson } from '../../core/metadata.js';
import type { TrustedMetadataSet } from '../../core/trusted.js';
import { pathAllowed } from '../../core/verify.js';
import { delegationChange, delegationDeleteChange, targetCreateChange, targetDeleteChange, type Change } from '../../repository/changelist.js';
import { allTargetsByName, releasedRows, repositoryTrust, RELEASES_ROLE, type RepositoryTrust, type SignedTag } from './inspect.js';
import type { TrustSession } from './session.js';

/** A released tag: the manifest digest and size docker signs. */
export interface ImageTarget {
  readonly tag: string;
  /** `sha256:<hex>` */
  readonly digest: string;
  readonly size: number;
}

export class TrustOperationError extends NotaryError {}

/** Whether an error means "this repository has no trust data yet" (Notary's ErrRepositoryNotExist / NotInitialized). */
export function isNotInitialized(err: unknown): boolean {
  return err instanceof NotaryError && err.code === 'NOT_FOUND' && err.where === 'root';
}

/** The verified trust data, or undefined when the repository was never initialised on the server. */
export async function loadTrusted(session: TrustSession): Promise<TrustedMetadataSet | undefined> {
  try {
    const repo = await session.open();
    return repo.trusted;
  } catch (err) {
    if (isNotInitialized(err)) return undefined;
    throw err;
  }
}

export async function inspectTrust(session: TrustSession, tag: string): Promise<RepositoryTrust> {
  const repo = await session.open();
  return repositoryTrust(repo.trusted, tag, session.crypto);
}

/** Canonical IDs of every private key in the trust dir (any gun), as GetSignableRoles collects them. */
async function localKeyIds(session: TrustSession): Promise<Set<string>> {
  const store = await session.keyStore();
  return new Set((await store.list()).map((k) => k.keyId));
}

/** Every delegation (anywhere in the tree) with canonical key IDs: Notary's GetDelegationRoles. */
export function delegationRoles(set: TrustedMetadataSet, crypto: TrustSession['crypto']): { name: string; keyIds: string[]; paths: string[]; threshold: number }[] {
  const out: { name: string; keyIds: string[]; paths: string[]; threshold: number }[] = [];
  for (const role of set.roles.values()) {
    const d = role.metadata.signed.delegations;
    for (const r of d?.roles ?? []) {
      out.push({
        name: r.name,
        keyIds: (r.keyids ?? []).map((id) => {
          const key = d?.keys?.[id];
          return key ? canonicalKeyId(key, crypto) : id;
        }),
        paths: [...(r.paths ?? [])],
        threshold: r.threshold,
      });
    }
  }
  return out;
}

/** docker's GetSignableRoles: `targets` when there are no delegations, else the direct children we hold a key for. */
export async function signableRoles(session: TrustSession, set: TrustedMetadataSet, tag: string): Promise<string[]> {
  const all = delegationRoles(set, session.crypto);
  if (all.length === 0) return ['targets'];
  const held = await localKeyIds(session);
  const roles: string[] = [];
  for (const role of all) {
    if (role.name.split('/').length !== 2 || !pathAllowed(role.paths, tag)) continue;
    if (role.keyIds.some((id) => held.has(id))) roles.push(role.name);
  }
  if (roles.length === 0) throw new TrustOperationError('KEY_NOT_FOUND', 'no valid signing keys for delegation roles');
  return roles;
}

/** The changes that make `name` a signer: `targets/<name>` and `targets/releases`, both with all paths. */
export function addSignerChanges(name: string, keys: readonly KeyJson[]): Change[] {
  const data = { threshold: 1, addKeys: [...keys], addPaths: [''] };
  return [delegationChange('create', `targets/${name}`, data), delegationChange('create', RELEASES_ROLE, data)];
}

/** Initialises the repository (root key reused if there is one, snapshot key on the server) without publishing. */
export async function initialize(session: TrustSession): Promise<void> {
  const writer = await session.writer();
  await writer.init({ serverManagedSnapshot: true });
}

export async function publish(session: TrustSession, changes: readonly Change[]): Promise<void> {
  const writer = await session.writer();
  await writer.publish(changes);
}

/**
 * The signer key docker uses for `targets/<user>` on a first sign: the first key (by ID) stored under the
 * user's name, else a new ECDSA key stored under it.
 */
export async function getOrGenerateSignerKey(session: TrustSession, name: string): Promise<KeyJson> {
  const store = await session.keyStore();
  const existing = (await store.list()).filter((k) => k.role === name).map((k) => k.keyId).sort();
  const { publicKeyOf } = await import('../../core/init.js');
  if (existing.length > 0) return publicKeyOf((await store.getPrivateKey(existing[0]!)).privateKey);
  const key = session.crypto.generateKey('ecdsa');
  await store.add(key, { role: name });
  return publicKeyOf(key);
}

export interface SignOutcome {
  /** The repository was initialised with `targets/<signer>` and `targets/releases`. */
  readonly initialized?: { signer: string };
  /** The tag was already released with this digest: co-signed (its existing signers). */
  readonly existing?: SignedTag;
  /** The tag was released with another digest, which the new signature replaces. */
  readonly replacedDigest?: string;
  readonly roles: readonly string[];
  readonly target: ImageTarget;
}

export type SignProgress =
  | { kind: 'initialized'; signer: string }
  | { kind: 'cosign-start' }
  | { kind: 'cosigning'; existing: SignedTag }
  | { kind: 'signing' };

/**
 * `docker trust sign` without a daemon: `resolve` gives the registry's digest and size for the tag. A tag
 * already released with that digest is co-signed (nothing new is asserted); a new tag, or one whose digest
 * moved, is signed with the registry's digest into every role we hold a key for (`--local` forces this).
 */
export async function signTag(
  session: TrustSession,
  tag: string,
  resolve: () => Promise<{ digest: string; size: number }>,
  options: { signer?: string; local?: boolean; progress?: (p: SignProgress) => void } = {},
): Promise<SignOutcome> {
  let set = await loadTrusted(session);
  let initialized: { signer: string } | undefined;
  let resolved: { digest: string; size: number } | undefined;
  if (!set) {
    // As docker checks the local image before initialising, the registry must have the tag.
    resolved = await resolve();
    const signer = options.signer ?? '';
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(signer)) {
      throw new TrustOperationError('INVALID_ARGUMENT', `could not add signer to repo: ${signer}: invalid delegation role name`, { where: signer });
    }
    await initialize(session);
    const key = await getOrGenerateSignerKey(session, signer);
    await publish(session, addSignerChanges(signer, [key]));
    initialized = { signer };
    options.progress?.({ kind: 'initialized', signer });
    set = await loadTrusted(session);
    if (!set) throw new TrustOperationError('NOT_FOUND', `trust data for ${session.gun} is missing right after it was published`);
  }
  resolved ??= await resolve();
  const hex = resolved.digest.replace(/^sha256:/, '');
  const released = releasedRows(allTargetsByName(set, tag));
  const current = options.local ? undefined : released.find((r) => r.digest === hex);
  const target: ImageTarget = { tag, digest: `sha256:${hex}`, size: resolved.size };
  let length = resolved.size;
  if (current) {
    // Co-sign: docker signs the hash and length that are already released.
    options.progress?.({ kind: 'cosign-start' });
    const entry = allTargetsByName(set, tag).find((t) => (t.role === 'targets' || t.role === RELEASES_ROLE) && t.sha256 === hex);
    length = entry?.length ?? length;
  } else {
    options.progress?.({ kind: 'signing' });
  }
  const roles = await signableRoles(session, set, tag);
  if (current) options.progress?.({ kind: 'cosigning', existing: current });
  const meta = { hashes: { sha256: toBase64(fromHex(hex)) }, length };
  await publish(
    session,
    roles.map((role) => targetCreateChange(role, tag, meta)),
  );
  const replaced = released.find((r) => r.digest !== hex);
  return {
    ...(initialized ? { initialized } : {}),
    ...(current ? { existing: current } : {}),
    ...(replaced && !current ? { replacedDigest: `sha256:${replaced.digest}` } : {}),
    roles,
    target: { ...target, size: length },
  };
}

/** `docker trust revoke`: removes `tag` (or every released tag) from the roles we can sign. */
export async function revoke(session: TrustSession, tag: string | undefined): Promise<string[]> {
  const set = await loadTrusted(session);
  if (!set) throw new TrustOperationError('NOT_FOUND', `${new URL(session.serverUrl).host} does not have trust data for ${session.gun}`, { where: 'root' });
  const changes: Change[] = [];
  const removed: string[] = [];
  const remove = async (name: string) => {
    for (const role of await signableRoles(session, set, name)) changes.push(targetDeleteChange(role, name));
    removed.push(name);
  };
  if (tag !== undefined) {
    // GetTargetByName(tag, releases, targets)
    if (allTargetsByName(set, tag).length === 0) throw new TrustOperationError('TARGET_NOT_FOUND', `No valid trust data for ${tag}`, { where: tag });
    await remove(tag);
  } else {
    const names = [...new Set(allTargetsByName(set, '').map((t) => t.name))].sort();
    if (names.length === 0) throw new TrustOperationError('TARGET_NOT_FOUND', 'no signed tags to remove');
    for (const name of names) await remove(name);
  }
  await publish(session, changes);
  return removed;
}

/** `docker trust signer add` for one repository; returns whether the repository had to be initialised. */
export async function addSigner(session: TrustSession, name: string, keys: readonly KeyJson[], progress?: (p: 'initializing' | 'initialized') => void): Promise<{ initialized: boolean }> {
  const set = await loadTrusted(session);
  let initialized = false;
  if (!set) {
    progress?.('initializing');
    await initialize(session);
    initialized = true;
    progress?.('initialized');
  }
  await publish(session, addSignerChanges(name, keys));
  return { initialized };
}

export interface RemoveSignerCheck {
  /** Removing the signer's keys leaves `targets/releases` below its threshold of signatures. */
  readonly lastSigner: boolean;
}

/**
 * `docker trust signer remove`, as docker documents it: `confirm` is asked only when the signer signed the
 * last released version (unless forced); then the signer's keys leave `targets/releases` and its role is
 * deleted. Returns false when the user declined.
 */
export async function removeSigner(
  session: TrustSession,
  name: string,
  options: { force?: boolean; confirm?: () => Promise<boolean>; repoName?: string } = {},
): Promise<boolean> {
  if (name === 'releases') throw new TrustOperationError('INVALID_ARGUMENT', 'releases is a reserved keyword and cannot be removed');
  const repoName = options.repoName ?? session.ref.name;
  let set: TrustedMetadataSet | undefined;
  try {
    set = await loadTrusted(session);
    if (!set) throw new TrustOperationError('NOT_FOUND', `${new URL(session.serverUrl).host} does not have trust data for ${session.gun}`, { where: 'root' });
  } catch (err) {
    if (!(err instanceof NotaryError)) throw err;
    throw new TrustOperationError(err.code, `error retrieving signers for ${repoName}: ${err.message}`, { ...(err.where ? { where: err.where } : {}), cause: err });
  }
  const roleName = `targets/${name}`;
  const role = delegationRoles(set, session.crypto).find((r) => r.name === roleName);
  if (!role) throw new TrustOperationError('ROLE_NOT_FOUND', `no signer ${name} for repository ${repoName}`, { where: roleName });
  const releases = set.roles.get(RELEASES_ROLE);
  const signatures = releases?.metadata.signatures ?? [];
  const releasesEntry = delegationRoles(set, session.crypto).find((r) => r.name === RELEASES_ROLE);
  if (releasesEntry) {
    if (signatures.length === 0) throw new TrustOperationError('NO_SIGNATURES', 'all signed tags are currently revoked, use docker trust sign to fix');
    const remaining = signatures.filter((s) => !role.keyIds.includes(s.keyid)).length;
    if (remaining < releasesEntry.threshold && !options.force) {
      if (!(await (options.confirm ?? (async () => false))())) return false;
    }
  }
  await publish(session, [delegationChange('update', RELEASES_ROLE, { removeKeys: role.keyIds }), delegationDeleteChange(roleName)]);
  return true;
}
