/**
 * Reading a trusted collection: the delegation walk (which roles to admit, in Notary's order), and target
 * listing and lookup over what was admitted. The walk takes a file getter, so the same code serves a
 * directory of files, a cache, or a remote server (the IO layers supply the getter).
 */
import { compareUtf8 } from './canonical.js';
import { NotaryError, TargetNotFoundError } from './errors.js';
import { Metadata, ownEntry, type FileMetaJson } from './metadata.js';
import { childRoles, type DelegatedRole } from './targets.js';
import { isSkippableDelegationError, type SignerKey, type TrustedMetadataSet, type TrustedRole } from './trusted.js';
import { pathAllowed } from './verify.js';

export type RoleGetter = (role: string, meta: FileMetaJson) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

export interface WalkReport {
  /**
   * Delegations skipped because they were expired or below threshold (Notary warns and goes on), with their
   * parsed metadata so a writer can re-sign ("witness") them.
   */
  readonly skipped: { role: string; error: NotaryError; metadata?: Metadata<'Targets'> }[];
}

/**
 * Admits the delegation tree below `targets` (which must already be trusted), pre-order depth-first with
 * children in their parent's `roles` order, as Notary's client does. Roles the snapshot does not list are
 * not fetched; expired or below-threshold roles are skipped with their subtree; other errors abort.
 * `shouldVisit` lets a lookup prune roles whose paths cannot contain the target.
 */
export interface WalkOptions {
  /** Prune roles (and their subtrees), e.g. those whose paths cannot contain a looked-up target. */
  readonly shouldVisit?: (role: DelegatedRole) => boolean;
  /** Called with a role's children as soon as it is admitted, so a caller can prefetch them concurrently. */
  readonly onAdmitted?: (children: readonly DelegatedRole[]) => void;
  /** The lowest admissible version of a role (that of a cached copy: rollback protection); default 1. */
  readonly minVersion?: (role: string) => number;
}

export async function walkDelegations(set: TrustedMetadataSet, getRole: RoleGetter, options: WalkOptions = {}): Promise<WalkReport> {
  const shouldVisit = options.shouldVisit ?? (() => true);
  const targets = set.targets;
  if (!targets) throw new NotaryError('OUT_OF_ORDER', 'targets must be trusted before its delegations', { where: 'targets' });
  const skipped: WalkReport['skipped'] = [];
  const top = childRoles(targets.role, targets.metadata.signed);
  options.onAdmitted?.(top.filter(shouldVisit));
  const stack: DelegatedRole[] = top.reverse();
  // Each role at most once, whatever its parents list (structure checks refuse duplicates; this bounds it).
  const visited = new Set<string>();
  while (stack.length > 0) {
    const role = stack.pop()!;
    if (visited.has(role.name)) continue;
    visited.add(role.name);
    if (!shouldVisit(role)) continue;
    let trusted = set.roles.get(role.name);
    if (!trusted) {
      const meta = set.snapshotMeta(role.name);
      if (!meta) continue;
      const bytes = await getRole(role.name, meta);
      if (bytes === undefined) {
        throw new NotaryError('NOT_FOUND', `${role.name} trust data unavailable.  Has a notary repository been initialized?`, {
          where: role.name,
        });
      }
      try {
        trusted = set.updateDelegation(role.name, bytes, { minVersion: options.minVersion?.(role.name) ?? 1 });
      } catch (err) {
        if (isSkippableDelegationError(err)) {
          let metadata: Metadata<'Targets'> | undefined;
          try {
            metadata = Metadata.fromBytes(bytes, role.name);
          } catch {
            metadata = undefined;
          }
          skipped.push({ role: role.name, error: err as NotaryError, ...(metadata ? { metadata } : {}) });
          continue;
        }
        throw err;
      }
    }
    const children = childRoles(trusted.role, trusted.metadata.signed);
    options.onAdmitted?.(children.filter(shouldVisit));
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return { skipped };
}

export interface TargetRecord {
  readonly name: string;
  readonly role: string;
  readonly length: number;
  readonly hashes: Readonly<Record<string, string>>;
  readonly custom?: unknown;
  /** TUF key IDs whose signatures on the role verified (the IDs in the metadata; trust pinning uses these). */
  readonly signers: readonly string[];
  /** The same keys with the canonical IDs `key list` and `delegation list` show (see SignerKey). */
  readonly signerKeys: readonly SignerKey[];
}

function record(name: string, meta: FileMetaJson, role: TrustedRole): TargetRecord {
  // Built in one shape (no spread): listings create one per target.
  const rec: { -readonly [K in keyof TargetRecord]: TargetRecord[K] } = {
    name,
    role: role.role.name,
    length: meta.length,
    hashes: meta.hashes ?? {},
    signers: role.signers,
    signerKeys: role.signerKeys,
  };
  if (meta.custom !== undefined) rec.custom = meta.custom;
  return rec;
}

/**
 * Trusted roles breadth-first from `start` (default `targets`), children in `roles` order: Notary's
 * listing and lookup order, in which the top-level role wins over delegations.
 */
export function rolesBreadthFirst(set: TrustedMetadataSet, start = 'targets'): TrustedRole[] {
  const first = set.roles.get(start);
  if (!first) return [];
  const out: TrustedRole[] = [];
  const queue: TrustedRole[] = [first];
  const queued = new Set<string>([start]); // each role once, as in walkDelegations
  for (let i = 0; i < queue.length; i++) {
    const role = queue[i]!;
    out.push(role);
    for (const child of childRoles(role.role, role.metadata.signed)) {
      const trusted = set.roles.get(child.name);
      if (trusted && !queued.has(child.name)) {
        queued.add(child.name);
        queue.push(trusted);
      }
    }
  }
  return out;
}

/** Every target visible in the collection: first-seen per name, only within each role's paths. */
export function listTargets(set: TrustedMetadataSet, roles: readonly string[] = ['targets']): TargetRecord[] {
  const visits: TrustedRole[] = [];
  for (const start of roles) {
    for (const role of rolesBreadthFirst(set, start)) {
      if (start !== role.role.name && roles.includes(role.role.name)) continue;
      visits.push(role);
    }
  }
  let out: TargetRecord[];
  if (visits.length === 1) {
    // One role: its names are already unique, no first-seen map needed.
    const role = visits[0]!;
    const files = role.metadata.signed.targets ?? {};
    out = [];
    for (const name in files) if (pathAllowed(role.role.paths, name)) out.push(record(name, files[name]!, role));
  } else {
    const seen = new Map<string, TargetRecord>();
    for (const role of visits) {
      const files = role.metadata.signed.targets ?? {};
      for (const name in files) {
        if (seen.has(name) || !pathAllowed(role.role.paths, name)) continue;
        seen.set(name, record(name, files[name]!, role));
      }
    }
    out = [...seen.values()];
  }
  // Go sorts names by bytes, i.e. UTF-8 order.
  return out.sort((a, b) => compareUtf8(a.name, b.name));
}

/** The first role (breadth-first) that lists `name` within its paths, as Notary's lookup answers. */
export function lookupTarget(set: TrustedMetadataSet, name: string, roles: readonly string[] = ['targets']): TargetRecord {
  for (const start of roles) {
    for (const role of rolesBreadthFirst(set, start)) {
      const meta = ownEntry(role.metadata.signed.targets, name);
      if (meta && pathAllowed(role.role.paths, name)) return record(name, meta, role);
    }
  }
  throw new TargetNotFoundError('TARGET_NOT_FOUND', `No valid trust data for ${name}`, { where: name });
}
