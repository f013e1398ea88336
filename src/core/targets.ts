/**
 * Targets and delegation rules: structure, delegation roles with restricted paths, and target lookup order.
 */
import { DelegationError, FormatError } from './errors.js';
import type { PublicKeyLike } from './keys.js';
import { ownEntry, type DelegationRoleJson, type Metadata, type TargetsSigned } from './metadata.js';
import { isDelegationName, isDirectChild, restrictPaths, type RoleKeys } from './verify.js';

/** A delegation role as the client uses it: keys, threshold, and paths already restricted by its parents. */
export interface DelegatedRole extends RoleKeys {
  readonly paths: readonly string[];
}

/** The top-level targets role acts as a delegation with path "" (everything). */
export function topLevelTargetsRole(keys: RoleKeys): DelegatedRole {
  return { ...keys, paths: [''] };
}

/**
 * Notary's targets structure rule: every delegation is a valid name and a direct child of this role,
 * threshold >= 1, and every key ID is in `delegations.keys`. A violation rejects the whole file.
 */
export function checkTargetsStructure(targets: Metadata<'Targets'>): void {
  const role = targets.role;
  const fail = (msg: string) => new FormatError('MALFORMED_METADATA', `${role} type metadata invalid: ${msg}`, { where: role });
  if (role !== 'targets' && !isDelegationName(role)) {
    throw new DelegationError('INVALID_DELEGATION_NAME', `tuf: invalid role ${role}`, { where: role });
  }
  if (targets.version < 1) throw fail('version cannot be less than one');
  const d = targets.signed.delegations;
  const names = new Set<string>();
  for (const r of d?.roles ?? []) {
    // A role listed twice would be walked twice per listing: k listings per level cost k^depth visits.
    if (names.has(r.name)) throw fail(`delegation role ${r.name} is listed more than once`);
    names.add(r.name);
    if (!isDelegationName(r.name) || !isDirectChild(role, r.name)) throw fail(`delegation role ${r.name} invalid`);
    if (r.threshold < 1) throw fail(`invalid threshold specified for ${r.name}: ${r.threshold}`);
    for (const id of r.keyids ?? []) {
      if (!ownEntry(d?.keys, id)) throw fail(`key ID ${id} specified in ${r.name} without corresponding key`);
    }
  }
}

function roleKeysOf(signed: TargetsSigned, r: DelegationRoleJson): Map<string, PublicKeyLike> {
  const keys = new Map<string, PublicKeyLike>();
  for (const id of r.keyids ?? []) {
    const key = ownEntry(signed.delegations?.keys, id);
    if (key) keys.set(id, key);
  }
  return keys;
}

/** The children a parent delegates to, in `roles` order, with paths restricted to the parent's. */
export function childRoles(parent: DelegatedRole, signed: TargetsSigned): DelegatedRole[] {
  const out: DelegatedRole[] = [];
  for (const r of signed.delegations?.roles ?? []) {
    if (!isDirectChild(parent.name, r.name)) continue;
    out.push({ name: r.name, keys: roleKeysOf(signed, r), threshold: r.threshold, paths: restrictPaths(parent.paths, r.paths) });
  }
  return out;
}

/** The delegation entry for `name` in its parent's metadata, restricted by the parent's paths. */
export function findChildRole(parent: DelegatedRole, signed: TargetsSigned, name: string): DelegatedRole | undefined {
  return childRoles(parent, signed).find((r) => r.name === name);
}
