/**
 * Applying staged changes to an editable collection with Notary 0.7's semantics (client/helpers.go
 * applyChangelist over tuf.Repo): the same walks, the same checks in the same order, the same error texts,
 * the same shapes left in the metadata (`keyids: null` once a role has no keys, `paths` omitted when empty,
 * role order kept, unused delegation keys pruned). Pure: no IO; signing ability is asked through a hook.
 */
import type { CryptoBackend } from '../core/crypto.js';
import { DelegationError, KeyStoreError, NotaryError } from '../core/errors.js';
import { canonicalKeyId, tufKeyId } from '../core/keys.js';
import { canonicalize } from '../core/canonical.js';
import { newTargetsSigned } from '../core/build.js';
import { ownEntry, setOwnEntry, type DelegationRoleJson, type FileMetaJson, type KeyJson, type RootSigned, type TargetsSigned } from '../core/metadata.js';
import { isDelegationName, parentRole, pathAllowed, restrictPaths } from '../core/verify.js';
import {
  decodeDelegationData,
  decodeRootRoleData,
  decodeTargetMeta,
  isWildDelegationName,
  type Change,
} from './changelist.js';

export interface EditableCollection {
  readonly gun: string;
  root: RootSigned;
  /** Signed objects of targets and every delegation role, by role name (mutated in place). */
  readonly roles: Map<string, TargetsSigned>;
  /**
   * Roles changed since load: they must be re-signed (version+1) on publish. May also hold `root`,
   * `snapshot` and `timestamp` (after a root key change). A delegation listed here but absent from `roles`
   * was deleted: drop it from the snapshot.
   */
  readonly dirty: Set<string>;
  /** Roles whose metadata was skipped as invalid/expired on load (Go's `invalid` repo; used by witness). */
  readonly invalid: Map<string, TargetsSigned>;
}

/** A role's key, with both of Notary's IDs (for a signing-key lookup). */
export interface RoleKey {
  readonly tufId: string;
  /** Undefined when the key (e.g. a broken certificate) has no canonical ID. */
  readonly canonicalId: string | undefined;
  readonly key: KeyJson;
}

export interface ApplyOptions {
  /**
   * Go's VerifyCanSign: true when at least one private key of the role is available. Default: always true
   * (the signer finds out at signing time). With it, adding targets or editing delegations without the
   * needed key fails with Notary's error, and `delegation purge` skips roles it cannot re-sign.
   */
  readonly canSign?: (role: string, keys: readonly RoleKey[]) => boolean;
  /** Notary's warnings (threshold above the number of keys, purge skipping a role). */
  readonly warn?: (message: string) => void;
}

// ---------------------------------------------------------------------------------------------------
// Errors (Go's data.ErrInvalidRole and friends, with stable codes)

type InvalidRoleCode = 'INVALID_DELEGATION_NAME' | 'ROLE_NOT_FOUND' | 'INVALID_DELEGATION' | 'PATH_NOT_ALLOWED';

/** `tuf: invalid role X. reason` — Go's ErrInvalidRole (AddTargets/RemoveTargets treat it specially). */
class InvalidRoleError extends DelegationError {}

function invalidRole(role: string, reason: string, code: InvalidRoleCode): InvalidRoleError {
  return new InvalidRoleError(code, reason ? `tuf: invalid role ${role}. ${reason}` : `tuf: invalid role ${role}.`, { where: role });
}

function unsupported(message: string, where: string): NotaryError {
  return new NotaryError('INVALID_ARGUMENT', message, { where });
}

function notLoaded(role: string): NotaryError {
  return new NotaryError('ROLE_NOT_FOUND', `${role} role has not been loaded`, { where: role });
}

// ---------------------------------------------------------------------------------------------------
// Go's slice helpers

/** data.mergeStrSlices: appends what `orig` lacks (duplicates within `add` are kept, as in Go). */
function mergeStrings(orig: readonly string[], add: readonly string[]): string[] {
  const have = new Set(orig);
  const out = [...orig];
  for (const e of add) if (!have.has(e)) out.push(e);
  return out;
}

/** data.subtractStrSlices: nil (null) when nothing is left. */
function subtractStrings(orig: readonly string[], remove: readonly string[]): string[] | null {
  const kill = new Set(remove);
  const keep = orig.filter((e) => !kill.has(e));
  return keep.length === 0 ? null : keep;
}

function publicKeyOnly(key: KeyJson): KeyJson {
  return { keytype: key.keytype, keyval: { private: null, public: key.keyval.public } };
}

// ---------------------------------------------------------------------------------------------------

interface WalkRole {
  readonly name: string;
  readonly keys: Map<string, KeyJson>;
  readonly threshold: number;
  readonly paths: string[];
}

type VisitResult = 'stop' | 'continue';

class Applier {
  private readonly canonicalIds = new Map<string, string>();

  constructor(
    private readonly col: EditableCollection,
    private readonly crypto: CryptoBackend,
    private readonly now: Date,
    private readonly options: ApplyOptions,
  ) {}

  apply(change: Change): void {
    const scope = change.scope;
    const isDel = isDelegationName(scope) || isWildDelegationName(scope);
    if (scope === 'targets' || isDel) return this.applyTargetsChange(change);
    if (scope === 'root') return this.applyRootChange(change);
    throw unsupported(`scope not supported: ${scope}`, scope);
  }

  // -- roles -------------------------------------------------------------------------------------

  private baseRole(name: string): WalkRole {
    const isBase = name === 'root' || name === 'targets' || name === 'snapshot' || name === 'timestamp';
    if (!isBase && !isDelegationName(name)) throw invalidRole(name, 'invalid base role name', 'INVALID_DELEGATION_NAME');
    const root = this.col.root;
    const roleData = root.roles?.[name];
    if (!roleData) throw invalidRole(name, 'role not found in root file', 'ROLE_NOT_FOUND');
    const keys = new Map<string, KeyJson>();
    for (const id of roleData.keyids ?? []) {
      const key = root.keys?.[id];
      if (!key) throw invalidRole(name, `key with ID ${id} was not found in root metadata`, 'INVALID_DELEGATION');
      keys.set(id, key);
    }
    return { name, keys, threshold: roleData.threshold, paths: [] };
  }

  /** SignedTargets.BuildDelegationRole: the role as its parent lists it (paths unrestricted). */
  private buildDelegationRole(parent: TargetsSigned, r: DelegationRoleJson): WalkRole {
    const keys = new Map<string, KeyJson>();
    const known = parent.delegations?.keys ?? {};
    for (const id of r.keyids ?? []) {
      const key = known[id];
      if (!key) throw invalidRole(r.name, `role lists unknown key ${id} as a signing key`, 'INVALID_DELEGATION');
      keys.set(id, key);
    }
    return { name: r.name, keys, threshold: r.threshold, paths: r.paths ?? [] };
  }

  /** GetValidDelegations: the children that build and are direct children, paths restricted to the parent's. */
  private validDelegations(signed: TargetsSigned, parent: WalkRole): WalkRole[] {
    const out: WalkRole[] = [];
    const roles = signed.delegations?.roles ?? [];
    for (const r of roles) {
      // Go builds each child by name: the first role with that name wins.
      const first = roles.find((x) => x.name === r.name)!;
      let built: WalkRole;
      try {
        built = this.buildDelegationRole(signed, first);
      } catch {
        continue;
      }
      if (parentRole(built.name) !== parent.name) continue;
      out.push({ ...built, paths: restrictPaths(parent.paths, built.paths) });
    }
    return out;
  }

  /** tuf.Repo.WalkTargets: breadth-first from `targets`, visiting `rolePath` (and below) where `targetPath` fits. */
  private walk(targetPath: string, rolePath: string, visit: (signed: TargetsSigned, role: WalkRole) => VisitResult): void {
    const targets = this.baseRole('targets');
    const queue: WalkRole[] = [{ ...targets, paths: [''] }];
    while (queue.length > 0) {
      const role = queue.shift()!;
      const signed = this.col.roles.get(role.name);
      if (!signed) continue;
      if (rolePath.startsWith(role.name + '/')) {
        queue.push(...this.validDelegations(signed, role));
        continue;
      }
      const validPath = targetPath === '' || pathAllowed(role.paths, targetPath);
      const inSubtree = rolePath === '' || rolePath === role.name || role.name.startsWith(rolePath + '/');
      if (validPath && inSubtree) {
        if (visit(signed, role) === 'stop') return;
        queue.push(...this.validDelegations(signed, role));
      }
    }
  }

  /** tuf.Repo.GetDelegationRole. */
  private delegationRole(name: string): WalkRole {
    if (!isDelegationName(name)) throw invalidRole(name, 'invalid delegation name', 'INVALID_DELEGATION_NAME');
    if (!this.col.root.roles?.['targets']) throw notLoaded('targets');
    if (!this.col.roles.has('targets')) throw notLoaded('targets');
    let found: WalkRole | undefined;
    this.walk('', parentRole(name), (signed) => {
      const r = (signed.delegations?.roles ?? []).find((x) => x.name === name);
      if (!r) return 'continue';
      // Go also rejects keys whose certificate is invalid (not expiry); not modelled here.
      found = this.buildDelegationRole(signed, r);
      return 'stop';
    });
    if (!found) throw invalidRole(name, 'delegation does not exist', 'ROLE_NOT_FOUND');
    return found;
  }

  private canonicalId(tufId: string, key: KeyJson): string | undefined {
    let id = this.canonicalIds.get(tufId);
    if (id === undefined) {
      try {
        id = canonicalKeyId(key, this.crypto);
      } catch {
        return undefined;
      }
      this.canonicalIds.set(tufId, id);
    }
    return id;
  }

  /** Like canonicalId, but a broken key aborts (Go's CanonicalKeyID error is returned). */
  private requireCanonicalId(tufId: string, key: KeyJson): string {
    const id = this.canonicalId(tufId, key);
    if (id === undefined) return canonicalKeyId(key, this.crypto); // throws the KeyError
    return id;
  }

  /** tuf.Repo.VerifyCanSign: returns the error instead of throwing (callers treat kinds differently). */
  private verifyCanSign(name: string): NotaryError | undefined {
    let role: WalkRole;
    try {
      if (isDelegationName(name)) role = this.delegationRole(name);
      else {
        try {
          role = this.baseRole(name);
        } catch {
          return invalidRole(name, 'does not exist', 'ROLE_NOT_FOUND');
        }
      }
    } catch (err) {
      if (err instanceof NotaryError) return err;
      throw err;
    }
    const canSign = this.options.canSign;
    if (!canSign) return undefined;
    const keys: RoleKey[] = [...role.keys].map(([tufId, key]) => ({ tufId, canonicalId: this.canonicalId(tufId, key), key }));
    if (canSign(name, keys)) return undefined;
    const ids = keys.map((k) => k.canonicalId).filter((id): id is string => id !== undefined);
    return new KeyStoreError(
      'KEY_NOT_FOUND',
      `could not find necessary signing keys, at least one of these keys must be available: ${ids.join(', ')}`,
      { where: name },
    );
  }

  private initTargets(role: string): TargetsSigned {
    // data.NewTargets: version 0 (1 once signed), dirty. The signer sets the real expiry.
    const signed = newTargetsSigned(this.now, 0);
    this.col.roles.set(role, signed);
    this.col.dirty.add(role);
    return signed;
  }

  // -- targets ---------------------------------------------------------------------------------

  private applyTargetsChange(change: Change): void {
    switch (change.type) {
      case 'target':
        return this.changeTargetMeta(change);
      case 'delegation':
        return this.changeTargetsDelegation(change);
      case 'witness':
        return this.witness(change.scope);
      default:
        throw unsupported('only target meta and delegations changes supported', change.scope);
    }
  }

  private changeTargetMeta(change: Change): void {
    switch (change.action) {
      case 'create':
        return this.addTarget(change.scope, change.path, decodeTargetMeta(change));
      case 'delete':
        return this.removeTarget(change.scope, change.path);
      default:
        throw unsupported(`action not yet supported: ${change.action}`, change.scope);
    }
  }

  /** tuf.Repo.AddTargets for one target. */
  private addTarget(role: string, path: string, meta: FileMetaJson): void {
    const cantSign = this.verifyCanSign(role);
    if (cantSign instanceof InvalidRoleError) throw cantSign;
    if (!this.col.roles.has(role)) this.initTargets(role);
    let added = false;
    let needSign = false;
    this.walk(path, role, (signed) => {
      if (fileMetaEquals(meta, ownEntry(signed.targets, path))) {
        added = true;
        return 'stop';
      }
      needSign = true;
      if (!cantSign) {
        signed.targets ??= {};
        setOwnEntry(signed.targets, path, meta);
        this.col.dirty.add(role);
        added = true;
      }
      return 'stop';
    });
    if (needSign && cantSign) throw cantSign;
    if (!added) throw new DelegationError('PATH_NOT_ALLOWED', 'Could not add all targets', { where: path });
  }

  /** tuf.Repo.RemoveTargets for one target. */
  private removeTarget(role: string, path: string): void {
    const cantSign = this.verifyCanSign(role);
    if (cantSign instanceof InvalidRoleError) throw cantSign;
    if (!this.col.roles.has(role)) return; // the role exists but has no metadata yet: nothing to remove
    let needSign = false;
    this.walk('', role, (signed) => {
      needSign = signed.targets != null && Object.prototype.hasOwnProperty.call(signed.targets, path);
      if (needSign && !cantSign) {
        delete signed.targets![path];
        this.col.dirty.add(role);
      }
      return 'stop';
    });
    if (needSign && cantSign) throw cantSign;
  }

  // -- witness ---------------------------------------------------------------------------------

  private witness(role: string): void {
    if (this.col.roles.has(role)) {
      this.col.dirty.add(role);
      return;
    }
    let delegation: WalkRole | undefined;
    try {
      delegation = this.delegationRole(role);
    } catch {
      delegation = undefined;
    }
    if (delegation) {
      if (delegation.threshold > delegation.keys.size) {
        throw invalidRole(role, 'role does not specify enough valid signing keys to meet its required threshold', 'INVALID_DELEGATION');
      }
      const invalid = this.col.invalid.get(role);
      if (invalid) {
        this.col.invalid.delete(role);
        this.col.roles.set(role, invalid);
        this.col.dirty.add(role);
        return;
      }
    }
    throw invalidRole(role, 'this role is not known', 'ROLE_NOT_FOUND');
  }

  // -- delegations -----------------------------------------------------------------------------

  private changeTargetsDelegation(change: Change): void {
    const scope = change.scope;
    switch (change.action) {
      case 'create': {
        const td = decodeDelegationData(change);
        this.updateDelegationKeys(scope, td.addKeys, [], td.threshold ?? 0);
        return this.updateDelegationPaths(scope, td.addPaths ?? [], [], false);
      }
      case 'update': {
        const td = decodeDelegationData(change);
        if (isWildDelegationName(scope)) return this.purgeDelegationKeys(scope, td.removeKeys ?? []);
        const role = this.delegationRole(scope);
        // Removals name canonical IDs; metadata lists TUF IDs.
        const canonicalToTuf = new Map<string, string>();
        for (const [tufId, key] of role.keys) canonicalToTuf.set(this.requireCanonicalId(tufId, key), tufId);
        const removeTuf = (td.removeKeys ?? []).map((id) => canonicalToTuf.get(id) ?? '');
        this.updateDelegationKeys(scope, td.addKeys, removeTuf, td.threshold ?? 0);
        return this.updateDelegationPaths(scope, td.addPaths ?? [], td.removePaths ?? [], td.clearPaths === true);
      }
      case 'delete':
        return this.deleteDelegation(scope);
      default:
        throw unsupported(`unsupported action against delegations: ${change.action}`, scope);
    }
  }

  private assertDelegated(name: string): void {
    if (!isDelegationName(name)) throw invalidRole(name, 'not a valid delegated role', 'INVALID_DELEGATION_NAME');
  }

  private throwIfCannotSign(role: string): void {
    const err = this.verifyCanSign(role);
    if (err) throw err;
  }

  /** tuf.Repo.UpdateDelegationKeys: create the role (needs keys' threshold ≥ 1) or edit its keys. */
  private updateDelegationKeys(name: string, addKeys: KeyJson[] | undefined, removeKeys: string[], threshold: number): void {
    this.assertDelegated(name);
    const parent = parentRole(name);
    this.throwIfCannotSign(parent);
    if (!this.col.roles.has(parent)) this.initTargets(parent);
    this.walk('', parent, (signed, role) => this.updateVisitor(signed, role, name, addKeys ?? [], removeKeys, [], [], false, threshold));
  }

  /** tuf.Repo.UpdateDelegationPaths: edit paths of a role whose parent has metadata. */
  private updateDelegationPaths(name: string, addPaths: string[], removePaths: string[], clearPaths: boolean): void {
    this.assertDelegated(name);
    const parent = parentRole(name);
    this.throwIfCannotSign(parent);
    if (!this.col.roles.has(parent)) throw invalidRole(name, 'no valid delegated role exists', 'ROLE_NOT_FOUND');
    this.walk('', parent, (signed, role) => this.updateVisitor(signed, role, name, [], [], addPaths, removePaths, clearPaths, 1));
  }

  /** tuf.delegationUpdateVisitor, run on the parent's metadata. */
  private updateVisitor(
    parent: TargetsSigned,
    parentRoleInfo: WalkRole,
    name: string,
    addKeys: readonly KeyJson[],
    removeKeys: readonly string[],
    addPaths: readonly string[],
    removePaths: readonly string[],
    clearPaths: boolean,
    threshold: number,
  ): VisitResult {
    if (addPaths.length !== restrictPaths(parentRoleInfo.paths, addPaths).length) {
      throw invalidRole(name, 'invalid paths to add to role', 'PATH_NOT_ALLOWED');
    }
    const existing = (parent.delegations?.roles ?? []).find((r) => r.name === name);
    let keyids: string[] | null;
    let paths: string[] | null;
    let roleThreshold: number;
    if (existing) {
      paths = subtractStrings([...(existing.paths ?? [])], removePaths);
      if (clearPaths) paths = [];
      if (addPaths.length > 0) paths = mergeStrings(paths ?? [], addPaths);
      keyids = subtractStrings([...(existing.keyids ?? [])], removeKeys);
      roleThreshold = existing.threshold; // an existing role keeps its threshold
    } else {
      if (threshold < 1) throw invalidRole(name, '', 'INVALID_DELEGATION');
      keyids = addKeys.map((k) => tufKeyId(k, this.crypto));
      paths = [...addPaths];
      roleThreshold = threshold;
    }
    for (const k of addKeys) {
      const id = tufKeyId(k, this.crypto);
      if (!(keyids ?? []).includes(id)) (keyids ??= []).push(id);
    }
    if ((keyids?.length ?? 0) < roleThreshold) {
      this.options.warn?.(
        `role ${name} has fewer keys than its threshold of ${roleThreshold}; it will not be usable until keys are added to it`,
      );
    }
    // Commit: nothing may fail from here on.
    parent.delegations ??= { keys: {}, roles: [] };
    const delegations = parent.delegations;
    delegations.keys ??= {};
    delegations.roles ??= [];
    for (const k of addKeys) delegations.keys[tufKeyId(k, this.crypto)] = publicKeyOnly(k);
    const role: DelegationRoleJson = { keyids, name, threshold: roleThreshold };
    if (paths && paths.length > 0) role.paths = paths;
    const at = delegations.roles.findIndex((r) => r.name === name);
    if (at < 0) delegations.roles.push(role);
    else delegations.roles[at] = role;
    this.col.dirty.add(parentRoleInfo.name);
    removeUnusedKeys(parent);
    return 'stop';
  }

  /** tuf.Repo.DeleteDelegation: only the role itself; its own delegations' files stay (unreachable). */
  private deleteDelegation(name: string): void {
    this.assertDelegated(name);
    const parent = parentRole(name);
    this.throwIfCannotSign(parent);
    // Go drops the role's metadata and snapshot entry whether or not it was loaded.
    this.col.roles.delete(name);
    this.col.invalid.delete(name);
    this.col.dirty.add(name);
    const p = this.col.roles.get(parent);
    if (!p) return;
    const roles = p.delegations?.roles;
    const at = roles ? roles.findIndex((r) => r.name === name) : -1;
    if (roles && at >= 0) {
      roles.splice(at, 1);
      removeUnusedKeys(p);
      this.col.dirty.add(parent);
    }
  }

  /** tuf.Repo.PurgeDelegationKeys: remove canonical key IDs from every delegation under `targets/…/*`. */
  private purgeDelegationKeys(wild: string, removeKeys: readonly string[]): void {
    const remove = new Set(removeKeys);
    this.walk('', parentRole(wild), (signed, role) => {
      const keys = signed.delegations?.keys ?? {};
      const candidates: string[] = [];
      for (const id of Object.keys(keys)) {
        if (remove.has(this.requireCanonicalId(id, keys[id]!))) candidates.push(id);
      }
      if (candidates.length === 0) return 'continue';
      if (this.verifyCanSign(role.name)) {
        this.options.warn?.(
          `role ${role.name} contains keys being purged but you do not have the necessary keys present to sign it; keys will not be purged from ${role.name} or its immediate children`,
        );
        return 'continue';
      }
      for (const id of candidates) delete keys[id];
      for (const r of signed.delegations?.roles ?? []) {
        r.keyids = subtractStrings(r.keyids ?? [], candidates);
        if ((r.keyids?.length ?? 0) < r.threshold) {
          this.options.warn?.(
            `role ${r.name} has fewer keys than its threshold of ${r.threshold}; it will not be usable until keys are added to it`,
          );
        }
      }
      this.col.dirty.add(role.name);
      return 'continue';
    });
  }

  // -- root ------------------------------------------------------------------------------------

  private applyRootChange(change: Change): void {
    if (change.type !== 'role') throw unsupported(`type of root change not yet supported: ${change.type}`, 'root');
    if (change.action !== 'create') throw unsupported(`action not yet supported for root: ${change.action}`, 'root');
    const data = decodeRootRoleData(change);
    this.replaceBaseKeys(data.role, data.keys);
  }

  /** tuf.Repo.ReplaceBaseKeys = RemoveBaseKeys(all current) + AddBaseKeys(new). */
  private replaceBaseKeys(role: string, keys: readonly KeyJson[]): void {
    const current = this.baseRole(role);
    const root = this.col.root;
    const roles = (root.roles ??= {});
    const keyMap = (root.keys ??= {});
    const roleData = roles[role]!;
    // RemoveBaseKeys
    const toDelete = new Set(current.keys.keys());
    roleData.keyids = subtractStrings(roleData.keyids ?? [], [...toDelete]);
    this.markRoleDirty(role);
    for (const [other, r] of Object.entries(roles)) {
      if (other === role || !r) continue;
      for (const id of r.keyids ?? []) toDelete.delete(id);
    }
    if (role !== 'root') for (const id of toDelete) delete keyMap[id];
    // AddBaseKeys
    for (const k of keys) {
      const id = tufKeyId(k, this.crypto);
      keyMap[id] = publicKeyOnly(k);
      (roleData.keyids ??= []).push(id);
    }
    this.col.dirty.add('root');
    this.markRoleDirty(role);
  }

  private markRoleDirty(role: string): void {
    if (role === 'snapshot' || role === 'timestamp') this.col.dirty.add(role);
    else if (role === 'targets' && this.col.roles.has('targets')) this.col.dirty.add('targets');
  }
}

/** utils.RemoveUnusedKeys: drop delegation keys no role of this file uses. */
function removeUnusedKeys(signed: TargetsSigned): void {
  const d = signed.delegations;
  if (!d?.keys) return;
  const used = new Set<string>();
  for (const r of d.roles ?? []) for (const id of r.keyids ?? []) used.add(id);
  for (const id of Object.keys(d.keys)) if (!used.has(id)) delete d.keys[id];
}

/** data.FileMeta.Equals (custom compared by its canonical form; Go compares the raw bytes). */
function fileMetaEquals(a: FileMetaJson, b: FileMetaJson | undefined): boolean {
  b ??= { hashes: null, length: 0 }; // Go compares with the zero FileMeta when the target is absent
  const ha = a.hashes ?? {};
  const hb = b.hashes ?? {};
  if (a.length !== b.length || Object.keys(ha).length !== Object.keys(hb).length) return false;
  const ca = a.custom ?? undefined;
  const cb = b.custom ?? undefined;
  if ((ca === undefined) !== (cb === undefined)) return false;
  for (const alg of Object.keys(ha)) if (ha[alg] !== hb[alg]) return false;
  if (ca === undefined) return true;
  try {
    return canonicalize(ca) === canonicalize(cb);
  } catch {
    return false;
  }
}

/** Applies one change in place. Throws Notary's error if the change cannot be applied. */
export function applyChange(collection: EditableCollection, change: Change, crypto: CryptoBackend, now: Date, options: ApplyOptions = {}): void {
  new Applier(collection, crypto, now, options).apply(change);
}

/**
 * Applies changes in order; the first failure aborts (Notary: one failing change fails the whole publish,
 * and the collection must then be discarded).
 */
export function applyChanges(
  collection: EditableCollection,
  changes: readonly Change[],
  crypto: CryptoBackend,
  now: Date,
  options: ApplyOptions = {},
): void {
  const applier = new Applier(collection, crypto, now, options);
  for (const change of changes) applier.apply(change);
}
