/**
 * The trusted metadata state machine: a pure, IO-free set of verified metadata that admits new files only
 * in Notary's order — root (and root rotations) → timestamp → snapshot → targets → delegations — and only
 * when every rule holds. The caller does the fetching; this class decides what is trusted.
 *
 * The order of checks per role follows Notary's builder, so the first error reported for a bad file is
 * the one Notary would report: hashes against the parent, then signatures, then structure, then version,
 * and expiry last (for delegations: structure and version before signatures).
 */
import type { CryptoBackend } from './crypto.js';
import { HashError, RollbackError, WorkflowError } from './errors.js';
import { canonicalKeyId } from './keys.js';
import { Metadata, ownEntry, type FileMetaJson } from './metadata.js';
import { checkSnapshotStructure, checkTimestampStructure, rootRoleKeys, validateRoot, type TrustPinning } from './root.js';
import { checkTargetsStructure, findChildRole, topLevelTargetsRole, type DelegatedRole } from './targets.js';
import {
  newVerifyContext,
  parentRole,
  verifyFileMeta,
  verifyMinVersion,
  verifyNotExpired,
  verifyThreshold,
  type RoleKeys,
  type VerifyContext,
} from './verify.js';

/**
 * Notary's size caps, applied here so that every path (HTTP, a directory, the cache, a library source)
 * gets them before anything is parsed: timestamp 1 MiB, root 100 MiB, any other file 100 MiB (and the
 * length its parent states, checked with its hashes).
 */
export const MAX_SIZES = { timestamp: 1 << 20, root: 100 << 20, other: 100 << 20 } as const;

function checkSize(bytes: Uint8Array, role: string): void {
  const max = role === 'timestamp' ? MAX_SIZES.timestamp : role === 'root' ? MAX_SIZES.root : MAX_SIZES.other;
  if (bytes.length > max) {
    throw new HashError('LENGTH_EXCEEDED', `${role} is ${bytes.length} bytes, more than the ${max} Notary allows`, { where: role });
  }
}

export interface TrustedSetOptions {
  readonly gun: string;
  readonly crypto: CryptoBackend;
  /** The time expiry is judged at; defaults to the current time. Set it to audit "as of" a moment. */
  readonly clock?: () => Date;
  readonly trustPinning?: TrustPinning;
}

export interface UpdateOptions {
  /** The lowest acceptable version: that of a verified cached copy (rollback protection). */
  readonly minVersion?: number;
}

export interface TrustedRole {
  readonly metadata: Metadata<'Targets'>;
  readonly role: DelegatedRole;
  /** TUF key IDs whose signatures verified. */
  readonly signers: readonly string[];
  /** The same keys under both of Notary's names (see SignerKey), in the order of `signers`. */
  readonly signerKeys: readonly SignerKey[];
}

/**
 * A key whose signature verified, by both of Notary's IDs: `keyId` is the TUF ID the signatures and
 * metadata use (and trust pinning matches); `canonicalId` is what `notary key list`, `delegation list` and
 * private key file names show — they differ only for certificate (`*-x509`) keys.
 */
export interface SignerKey {
  readonly keyId: string;
  readonly canonicalId: string;
}

function signerKeysOf(role: RoleKeys, signers: readonly string[], ctx: VerifyContext): SignerKey[] {
  return signers.map((keyId) => {
    const key = role.keys.get(keyId)!;
    const decoded = ctx.keyCache.decode(key);
    // A signer's key verified its signature, so it decoded; the fallback only keeps the type total.
    return { keyId, canonicalId: decoded instanceof Error ? keyId : canonicalKeyId(key, ctx.crypto, decoded) };
  });
}

export class TrustedMetadataSet {
  readonly gun: string;
  private readonly ctx: VerifyContext;
  private readonly clock: () => Date;
  private readonly trustPinning: TrustPinning | undefined;
  private rootMetadata: Metadata<'Root'>;
  private timestampMetadata: Metadata<'Timestamp'> | undefined;
  private snapshotMetadata: Metadata<'Snapshot'> | undefined;
  private readonly targetsRoles = new Map<string, TrustedRole>();
  private rootSignersList: readonly string[];

  private constructor(root: Metadata<'Root'>, signers: readonly string[], options: TrustedSetOptions, ctx: VerifyContext) {
    this.gun = options.gun;
    this.ctx = ctx;
    this.clock = options.clock ?? (() => new Date());
    this.trustPinning = options.trustPinning;
    this.rootMetadata = root;
    this.rootSignersList = signers;
  }

  /**
   * Starts from a root: either a cached one (the cache is the pin) or one fetched for the first time (trust
   * pinning or TOFU). The root may be expired here so that a rotation can replace it; call
   * `assertRootFresh()` before using it for anything else.
   */
  static bootstrap(rootBytes: Uint8Array, options: TrustedSetOptions & { previousRoot?: Metadata<'Root'>; minVersion?: number }): TrustedMetadataSet {
    const ctx = newVerifyContext(options.crypto);
    checkSize(rootBytes, 'root');
    const root = Metadata.fromBytes(rootBytes, 'root');
    const validateOptions = {
      gun: options.gun,
      now: (options.clock ?? (() => new Date()))(),
      ...(options.previousRoot ? { previous: options.previousRoot } : {}),
      ...(options.trustPinning ? { trustPinning: options.trustPinning } : {}),
    };
    const signers = validateRoot(root, validateOptions, ctx);
    verifyMinVersion(root, options.minVersion ?? 1);
    return new TrustedMetadataSet(root, signers, options, ctx);
  }

  get root(): Metadata<'Root'> {
    return this.rootMetadata;
  }
  get rootSigners(): readonly string[] {
    return this.rootSignersList;
  }
  get timestamp(): Metadata<'Timestamp'> | undefined {
    return this.timestampMetadata;
  }
  get snapshot(): Metadata<'Snapshot'> | undefined {
    return this.snapshotMetadata;
  }
  /** Every file trusted so far, by role name: root, timestamp and snapshot once admitted, then targets roles. */
  files(): [string, Metadata][] {
    const out: [string, Metadata][] = [['root', this.rootMetadata]];
    if (this.timestampMetadata) out.push(['timestamp', this.timestampMetadata]);
    if (this.snapshotMetadata) out.push(['snapshot', this.snapshotMetadata]);
    for (const [name, role] of this.targetsRoles) out.push([name, role.metadata]);
    return out;
  }
  get targets(): TrustedRole | undefined {
    return this.targetsRoles.get('targets');
  }
  /** Every trusted targets role (top-level and delegations), in the order they were admitted. */
  get roles(): ReadonlyMap<string, TrustedRole> {
    return this.targetsRoles;
  }
  get now(): Date {
    return this.clock();
  }

  assertRootFresh(): void {
    verifyNotExpired(this.rootMetadata, this.clock());
  }

  /**
   * Admits a newer root, which must be signed by the current root's threshold of certificates and by its
   * own. Intermediate roots of a rotation walk may be expired (`final: false`); the last must not be.
   * `expectedMeta` is the root's hashes when known (from a previously trusted snapshot).
   */
  updateRoot(bytes: Uint8Array, options: { final: boolean; expectedMeta?: FileMetaJson; version?: number }): Metadata<'Root'> {
    if (this.timestampMetadata) throw new WorkflowError('OUT_OF_ORDER', 'cannot update root after timestamp', { where: 'root' });
    checkSize(bytes, 'root');
    if (options.final && options.expectedMeta) verifyFileMeta(bytes, 'root', options.expectedMeta, this.ctx);
    const root = Metadata.fromBytes(bytes, 'root');
    // `N.root.json` must be version N: a server could otherwise answer every N with the same root.
    if (options.version !== undefined && root.version !== options.version) {
      throw new RollbackError('BAD_VERSION', `${options.version}.root.json holds root version ${root.version}`, { where: 'root' });
    }
    const signers = validateRoot(
      root,
      {
        gun: this.gun,
        now: this.clock(),
        previous: this.rootMetadata,
        ...(this.trustPinning ? { trustPinning: this.trustPinning } : {}),
      },
      this.ctx,
    );
    verifyMinVersion(root, this.rootMetadata.version);
    if (options.final) verifyNotExpired(root, this.clock());
    this.rootMetadata = root;
    this.rootSignersList = signers;
    return root;
  }

  updateTimestamp(bytes: Uint8Array, options: UpdateOptions = {}): Metadata<'Timestamp'> {
    if (this.snapshotMetadata) throw new WorkflowError('OUT_OF_ORDER', 'cannot update timestamp after snapshot', { where: 'timestamp' });
    this.assertRootFresh();
    checkSize(bytes, 'timestamp');
    const ts = Metadata.fromBytes(bytes, 'timestamp');
    verifyThreshold(ts, rootRoleKeys(this.rootMetadata.signed, 'timestamp'), this.ctx);
    checkTimestampStructure(ts);
    verifyMinVersion(ts, options.minVersion ?? 1);
    if (this.timestampMetadata) verifyMinVersion(ts, this.timestampMetadata.version);
    verifyNotExpired(ts, this.clock());
    this.timestampMetadata = ts;
    return ts;
  }

  updateSnapshot(bytes: Uint8Array, options: UpdateOptions = {}): Metadata<'Snapshot'> {
    const timestamp = this.timestampMetadata;
    if (!timestamp) throw new WorkflowError('OUT_OF_ORDER', 'snapshot needs a trusted timestamp first', { where: 'snapshot' });
    if (this.targetsRoles.size > 0) throw new WorkflowError('OUT_OF_ORDER', 'cannot update snapshot after targets', { where: 'snapshot' });
    checkSize(bytes, 'snapshot');
    verifyFileMeta(bytes, 'snapshot', timestamp.signed.meta?.['snapshot'], this.ctx);
    const snapshot = Metadata.fromBytes(bytes, 'snapshot');
    verifyThreshold(snapshot, rootRoleKeys(this.rootMetadata.signed, 'snapshot'), this.ctx);
    checkSnapshotStructure(snapshot);
    verifyMinVersion(snapshot, options.minVersion ?? 1);
    if (this.snapshotMetadata) verifyMinVersion(snapshot, this.snapshotMetadata.version);
    verifyNotExpired(snapshot, this.clock());
    // The root we trust must be the one this snapshot lists; if not, the root has rotated.
    if (this.rootMetadata.bytes) verifyFileMeta(this.rootMetadata.bytes, 'root', snapshot.signed.meta?.['root'], this.ctx);
    this.snapshotMetadata = snapshot;
    return snapshot;
  }

  /** The hashes and length the trusted snapshot lists for a role (undefined if it lists none). */
  snapshotMeta(role: string): FileMetaJson | undefined {
    return ownEntry(this.snapshotMetadata?.signed.meta, role) ?? undefined;
  }

  updateTargets(bytes: Uint8Array, options: UpdateOptions = {}): TrustedRole {
    const snapshot = this.snapshotMetadata;
    if (!snapshot) throw new WorkflowError('OUT_OF_ORDER', 'targets needs a trusted snapshot first', { where: 'targets' });
    if (this.targetsRoles.has('targets')) throw new WorkflowError('OUT_OF_ORDER', 'targets is already loaded', { where: 'targets' });
    checkSize(bytes, 'targets');
    verifyFileMeta(bytes, 'targets', snapshot.signed.meta?.['targets'], this.ctx);
    const targets = Metadata.fromBytes(bytes, 'targets');
    const keys = rootRoleKeys(this.rootMetadata.signed, 'targets');
    const signers = verifyThreshold(targets, keys, this.ctx);
    checkTargetsStructure(targets);
    verifyMinVersion(targets, options.minVersion ?? 1);
    verifyNotExpired(targets, this.clock());
    const role = topLevelTargetsRole(keys);
    const trusted: TrustedRole = { metadata: targets, role, signers, signerKeys: signerKeysOf(role, signers, this.ctx) };
    this.targetsRoles.set('targets', trusted);
    return trusted;
  }

  /**
   * The delegation `name` as its (already trusted) parent delegates it, or undefined when the parent does
   * not list it. Throws OUT_OF_ORDER when the parent is not trusted yet.
   */
  delegatedRole(name: string): DelegatedRole | undefined {
    const parent = this.targetsRoles.get(parentRole(name));
    if (!parent) {
      throw new WorkflowError('OUT_OF_ORDER', `${name}: its parent ${parentRole(name)} must be trusted first`, { where: name });
    }
    return findChildRole(parent.role, parent.metadata.signed, name);
  }

  /**
   * Admits a delegation. Errors with codes THRESHOLD_NOT_MET and EXPIRED mean "skip this role and its
   * subtree" in Notary's walk (see isSkippableDelegationError); any other error aborts the update.
   */
  updateDelegation(name: string, bytes: Uint8Array, options: UpdateOptions = {}): TrustedRole {
    if (this.targetsRoles.has(name)) throw new WorkflowError('OUT_OF_ORDER', `${name} is already loaded`, { where: name });
    const role = this.delegatedRole(name);
    if (!role) throw new WorkflowError('ROLE_NOT_FOUND', `role does not exist: ${name}`, { where: name });
    checkSize(bytes, name);
    verifyFileMeta(bytes, name, ownEntry(this.snapshotMetadata?.signed.meta, name), this.ctx);
    const md = Metadata.fromBytes(bytes, name);
    checkTargetsStructure(md);
    verifyMinVersion(md, options.minVersion ?? 1);
    const signers = verifyThreshold(md, role, this.ctx);
    verifyNotExpired(md, this.clock());
    const trusted: TrustedRole = { metadata: md, role, signers, signerKeys: signerKeysOf(role, signers, this.ctx) };
    this.targetsRoles.set(name, trusted);
    return trusted;
  }
}

/** Notary skips a delegation (and its subtree) for these errors and aborts for any other. */
export function isSkippableDelegationError(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    ((err as { code: string }).code === 'THRESHOLD_NOT_MET' || (err as { code: string }).code === 'EXPIRED')
  );
}

