/**
 * Co-signing a targets role whose threshold is above 1 (beyond Notary, whose CLI only ever signs alone).
 *
 * notary-server refuses an upload whose targets/delegation metadata does not meet its threshold, so the
 * partially signed version travels off-server as a file — the role's metadata exactly as it will be
 * uploaded (Go's envelope, Go-normal form). The workflow:
 *
 *   1. `prepare`: signer A applies changes for the role on top of the current repository, bumps the version,
 *      signs with the role keys A holds and writes the file;
 *   2. `sign`: every other signer checks the file against the current repository (`inspect`: which targets it
 *      adds, removes or changes; how many distinct valid signatures it has) and adds their signatures;
 *   3. `publish`: once the threshold is met, anyone with push access uploads it with a new snapshot.
 *
 * Readers count the role only when its threshold is met (Notary and notary-ts skip it otherwise), so a
 * half-signed file that leaks changes nothing.
 */
import { bumpVersion, signMetadata } from '../core/build.js';
import { bytesEqual, fromBase64 } from '../core/bytes.js';
import { NotaryError } from '../core/errors.js';
import { canonicalKeyId, methodFitsKey, tufKeyId } from '../core/keys.js';
import { Metadata, type KeyJson, type SignatureJson, type TargetsSigned } from '../core/metadata.js';
import { DEFAULT_EXPIRY_DAYS, compareGoTime, goTimeFromDate } from '../core/time.js';
import { isDelegationName, newVerifyContext, parentRole } from '../core/verify.js';
import { applyChanges } from './apply.js';
import type { Change } from './changelist.js';
import { RepositoryWriter, assertGoNormal, type PublishResult, type WritableState, type WriterOptions } from './writer.js';

/** What a pending role file holds, checked against the current repository. */
export interface PendingRoleStatus {
  readonly gun: string;
  readonly role: string;
  readonly version: number;
  /** The version currently published (0 when the role has no metadata yet). */
  readonly currentVersion: number;
  readonly expires: string;
  readonly threshold: number;
  /** Canonical IDs of the role's keys. */
  readonly keyIds: readonly string[];
  /** Canonical IDs of the role keys with a valid signature (distinct keys; duplicates count once). */
  readonly signedBy: readonly string[];
  /** Signatures that do not count: unknown keys, bad signatures, duplicates. */
  readonly ignoredSignatures: number;
  /** True once `signedBy.length >= threshold`. */
  readonly complete: boolean;
  /** Target names compared with the current version. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export interface PendingRole {
  /** The file to hand to the next signer (exact upload bytes). */
  readonly bytes: Uint8Array;
  readonly status: PendingRoleStatus;
}

interface RoleInfo {
  readonly keys: Map<string, KeyJson>;
  readonly threshold: number;
  readonly current: TargetsSigned | undefined;
}

function roleInfo(state: WritableState, role: string): RoleInfo {
  const { collection } = state;
  // A copy: applying changes edits the collection in place, and the status compares with the published version.
  const published = collection.roles.get(role) ?? collection.invalid.get(role);
  const current = published ? structuredClone(published) : undefined;
  if (role === 'targets') {
    const r = collection.root.roles?.['targets'];
    const keys = new Map<string, KeyJson>();
    for (const id of r?.keyids ?? []) {
      const k = collection.root.keys?.[id];
      if (k) keys.set(id, k);
    }
    return { keys, threshold: r?.threshold ?? 1, current };
  }
  if (!isDelegationName(role)) throw new NotaryError('INVALID_ARGUMENT', `only targets roles can be co-signed, not ${role}`, { where: role });
  const parent = collection.roles.get(parentRole(role));
  const entry = parent?.delegations?.roles?.find((r) => r.name === role);
  if (!entry) throw new NotaryError('ROLE_NOT_FOUND', `${role} is not delegated in the current repository (publish the delegation first)`, { where: role });
  const keys = new Map<string, KeyJson>();
  for (const id of entry.keyids ?? []) {
    const k = parent?.delegations?.keys?.[id];
    if (k) keys.set(id, k);
  }
  return { keys, threshold: entry.threshold, current };
}

export class RoleCoSigner {
  private readonly writer: RepositoryWriter;

  constructor(private readonly options: WriterOptions, writer?: RepositoryWriter) {
    this.writer = writer ?? new RepositoryWriter(options);
  }

  /** A co-signer sharing a writer's remote, cache and key store. */
  static fromWriter(writer: RepositoryWriter): RoleCoSigner {
    return new RoleCoSigner(writer.writerOptions, writer);
  }

  private now(): Date {
    return (this.options.clock ?? (() => new Date()))();
  }

  /**
   * Signer A: applies `changes` (they must only touch `role`) to the current repository, bumps the
   * version and signs with the role keys held in the key store (possibly none: a coordinator may prepare).
   */
  async prepare(role: string, changes: readonly Change[]): Promise<PendingRole> {
    const { crypto } = this.options;
    const now = this.now();
    const state = await this.writer.loadEditable();
    const info = roleInfo(state, role);
    const held = new Set((await this.options.keyStore.list()).map((k) => k.keyId));
    for (const c of changes) {
      if (c.scope !== role) throw new NotaryError('INVALID_ARGUMENT', `change for ${c.scope} cannot be part of co-signed ${role} metadata`, { where: c.scope });
    }
    // The pending version is edited as if we could sign it: the threshold is met by co-signers later.
    applyChanges(state.collection, changes, crypto, now, {
      canSign: (r, keys) => r === role || keys.some((k) => k.canonicalId !== undefined && held.has(k.canonicalId)),
    });
    const others = [...state.collection.dirty].filter((r) => r !== role);
    if (others.length > 0) throw new NotaryError('INVALID_ARGUMENT', `changes touch ${others.join(', ')} as well as ${role}`, { where: role });
    let signed = state.collection.roles.get(role);
    if (!signed) throw new NotaryError('ROLE_NOT_FOUND', `${role} has no metadata to co-sign`, { where: role });
    signed = structuredClone(signed);
    signed.version = Math.max(signed.version, info.current?.version ?? 0); // also above a skipped (invalid) version
    bumpVersion(signed, now, DEFAULT_EXPIRY_DAYS.targets);
    const signers = await this.writer.heldSigners(info.keys);
    const md = await signMetadata('Targets', signed, role, signers);
    return { bytes: md.bytes!, status: this.status(info, role, md) };
  }

  /** Signer B…: adds signatures by the role keys held here; keeps the valid signatures already present. */
  async sign(role: string, bytes: Uint8Array): Promise<PendingRole> {
    const state = await this.writer.loadEditable();
    const md = this.parse(role, bytes);
    const info = roleInfo(state, role);
    this.checkAgainst(role, md, info);
    const signers = await this.writer.heldSigners(info.keys);
    if (signers.length === 0) {
      const ids = [...info.keys.values()].map((k) => canonicalKeyId(k, this.options.crypto));
      throw new NotaryError('KEY_NOT_FOUND', `none of the keys of ${role} are in the key store (${ids.join(', ')})`, { where: role });
    }
    const keep = this.validSignatures(md, info).filter((s) => !signers.some((x) => x.keyId === s.keyid));
    const signed = await signMetadata('Targets', md.signed, role, signers, keep);
    if (!bytesEqual(signed.canonicalSigned(), md.canonicalSigned())) {
      throw new NotaryError('NON_CANONICAL', `${role}: signing changed the signed content`, { where: role });
    }
    return { bytes: signed.bytes!, status: this.status(info, role, signed) };
  }

  /** What the file changes and how far it is from its threshold. */
  async inspect(role: string, bytes: Uint8Array): Promise<PendingRoleStatus> {
    const state = await this.writer.loadEditable();
    const md = this.parse(role, bytes);
    return this.status(roleInfo(state, role), role, md);
  }

  /** Uploads the role (with a new snapshot when we hold its key) once its threshold is met. */
  async publish(role: string, bytes: Uint8Array): Promise<PublishResult> {
    return this.writer.publish([], { presigned: new Map([[role, bytes]]) });
  }

  private parse(role: string, bytes: Uint8Array): Metadata<'Targets'> {
    const md = Metadata.fromBytes(bytes, role) as Metadata<'Targets'>;
    if (md.type !== 'Targets') throw new NotaryError('MALFORMED_METADATA', `${role}: not targets metadata`, { where: role });
    assertGoNormal(md, role);
    return md;
  }

  private checkAgainst(role: string, md: Metadata<'Targets'>, info: RoleInfo): void {
    const current = info.current?.version ?? 0;
    if (md.version <= current) {
      throw new NotaryError('BAD_VERSION', `pending ${role} has version ${md.version} but version ${current} is already published; prepare it again`, { where: role });
    }
    if (compareGoTime(md.expires, goTimeFromDate(this.now())) <= 0) throw new NotaryError('EXPIRED', `pending ${role} has expired`, { where: role });
  }

  /** Signatures by distinct role keys that verify (Notary's counting rule). */
  private validSignatures(md: Metadata<'Targets'>, info: RoleInfo): SignatureJson[] {
    const ctx = newVerifyContext(this.options.crypto);
    const message = md.canonicalSigned();
    const seen = new Set<string>();
    const out: SignatureJson[] = [];
    for (const sig of md.signatures) {
      const key = info.keys.get(sig.keyid);
      if (!key || seen.has(sig.keyid) || tufKeyId(key, ctx.crypto) !== sig.keyid) continue;
      const method = sig.method.toLowerCase();
      if (!methodFitsKey(method, key.keytype)) continue;
      const decoded = ctx.keyCache.decode(key);
      const raw = fromBase64(sig.sig);
      if (decoded instanceof Error || !raw) continue;
      let ok = false;
      try {
        ok = ctx.crypto.verify(method, decoded.material, message, raw);
      } catch {
        ok = false;
      }
      if (!ok) continue;
      seen.add(sig.keyid);
      out.push(sig);
    }
    return out;
  }

  private status(info: RoleInfo, role: string, md: Metadata<'Targets'>): PendingRoleStatus {
    const valid = this.validSignatures(md, info);
    const before = info.current?.targets ?? {};
    const after = md.signed.targets ?? {};
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    for (const name of Object.keys(after)) {
      if (!(name in before)) added.push(name);
      else if (JSON.stringify(before[name]) !== JSON.stringify(after[name])) changed.push(name);
    }
    for (const name of Object.keys(before)) if (!(name in after)) removed.push(name);
    const canonical = (id: string) => {
      const k = info.keys.get(id);
      return k ? canonicalKeyId(k, this.options.crypto) : id;
    };
    return {
      gun: this.options.gun,
      role,
      version: md.version,
      currentVersion: info.current?.version ?? 0,
      expires: md.signed.expires,
      threshold: info.threshold,
      keyIds: [...info.keys.keys()].map(canonical),
      signedBy: valid.map((s) => canonical(s.keyid)),
      ignoredSignatures: md.signatures.length - valid.length,
      complete: valid.length >= info.threshold,
      added: added.sort(),
      removed: removed.sort(),
      changed: changed.sort(),
    };
  }
}
