/**
 * The signing side: create a repository, apply staged changes, re-sign what changed, publish.
 *
 * Publishing follows Notary's client: refresh from the server first (so a publish never rolls a role back),
 * apply the changelist, re-sign root when it changed or is within six months of expiry, re-sign every
 * changed targets/delegation role (version + 1, default expiry), sign a new snapshot when we hold the
 * snapshot key (else the server does), and upload everything in one atomic multipart request. Every file
 * is written in Go-normal form, because the server hashes its own re-serialisation of what it stores.
 */
import { bumpVersion, envelopeMargins, newSnapshotSigned, newTargetsSigned, signCanonical, signMetadata, type MetadataSigner } from '../core/build.js';
import { spliceTargetsCanonical } from '../core/splice.js';
import type { CryptoBackend } from '../core/crypto.js';
import { KeyStoreError, NotaryError, SignatureError } from '../core/errors.js';
import { generateSigningKey } from '../core/init.js';
import { canonicalKeyId, publicKeyJson, tufKeyId } from '../core/keys.js';
import { Metadata, goNormalSigned, serializeEnvelope, type FileMetaJson, type KeyJson, type RootSigned, type SnapshotSigned, type TargetsSigned } from '../core/metadata.js';
import type { TrustPinning } from '../core/root.js';
import { DEFAULT_EXPIRY_DAYS, addMonthsUtc, compareGoTime, expiresAfterDays, goTimeFromDate, parseGoTime } from '../core/time.js';
import { TrustedMetadataSet } from '../core/trusted.js';
import { isDelegationName, newVerifyContext, parentRole, verifyThreshold } from '../core/verify.js';
import type { MetadataCache } from '../node/cache.js';
import type { KeyStore } from '../node/keystore.js';
import { applyChanges, type EditableCollection } from './apply.js';
import { keyHandleOf, newKeyHandle, publicKeyJsonOf, rootCertificateOf, signerOf } from '../node/key-handles.js';
import { rootRoleChange, type Change } from './changelist.js';
import { TrustedRepository, type MetadataRemote, type ReaderLogger } from './reader.js';

/** What publishing needs from a server (NotaryRemote; DirectoryRemote for a static mirror). */
export interface PublishingRemote extends MetadataRemote {
  publish(files: ReadonlyMap<string, Uint8Array>): Promise<void>;
  getKey(role: string): Promise<KeyJson>;
  /** Asks the server for a new key for `timestamp` or `snapshot` (`key rotate -r`); optional for static mirrors. */
  rotateKey?(role: string): Promise<KeyJson>;
}

export interface WriterOptions {
  readonly gun: string;
  readonly remote: PublishingRemote | undefined;
  readonly cache: MetadataCache;
  readonly keyStore: KeyStore;
  readonly crypto: CryptoBackend;
  readonly clock?: () => Date;
  readonly trustPinning?: TrustPinning;
  readonly log?: ReaderLogger & { info?(message: string): void };
}

const silent = { warn: () => {}, debug: () => {} };

function offline(): NotaryError {
  return new NotaryError('OFFLINE', 'client is offline');
}

function isRootNotFound(err: unknown): boolean {
  return err instanceof NotaryError && err.code === 'NOT_FOUND' && err.where === 'root';
}

/** Notary re-signs a role that expires within six months. */
function nearExpiry(expires: string, now: Date): boolean {
  return compareGoTime(parseGoTime(expires, 'root.expires'), goTimeFromDate(addMonthsUtc(now, 6))) < 0;
}

export interface InitOptions {
  /** Canonical ID of a root key already in the key store to use (default: the first root key found, else a new one). */
  readonly rootKeyId?: string;
  /** Let the server hold the snapshot key (`notary key rotate <gun> snapshot -r` after init does the same). */
  readonly serverManagedSnapshot?: boolean;
  /**
   * The root key as root.json should list it (`ecdsa-x509`/`rsa-x509`, `notary init --rootcert`), instead of
   * a new Notary certificate; it must certify the root private key.
   */
  readonly rootCertificate?: KeyJson;
}

export interface InitResult {
  readonly rootKeyId: string;
  /** True when an existing root key was reused ("Root key found, using: <id>"). */
  readonly reusedRootKey: boolean;
  readonly root: Metadata<'Root'>;
}

export interface PublishResult {
  /** The files uploaded, by role. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly initialPublish: boolean;
  /** Canonical IDs of private keys removed from the key store after the upload (keys a rotation replaced). */
  readonly removedKeys?: readonly string[];
}

export interface PublishOptions {
  /**
   * Also sign a re-signed root with the root keys of up to N older root versions (fetched as
   * `<v>.root.json`), so clients that still trust them can jump straight to the new root; -1 = all
   * (Notary's `--legacy N`, `SignWithAllOldVersions`). Any N > 0 forces a root re-sign, as in Notary.
   */
  readonly legacyVersions?: number;
  /**
   * Targets or delegation metadata already signed elsewhere (co-signing, src/repository/cosign.ts), by role:
   * uploaded byte for byte after checking it is Go-normal, newer than the current version and signed by
   * the role's threshold of its keys (as it stands after `changes`).
   */
  readonly presigned?: ReadonlyMap<string, Uint8Array>;
}

/** Base roles `key rotate` accepts. */
export type RotatableRole = 'root' | 'targets' | 'snapshot' | 'timestamp';

export interface RotateKeyOptions {
  /** Let the server generate and hold the new key: required for timestamp, optional for snapshot (`-r`). */
  readonly serverManaged?: boolean;
  /**
   * Canonical IDs of private keys already in the key store to rotate to (`-k`; the CLI imports the files
   * first). Default: a new ECDSA key (root keys: wrapped in a new Notary certificate).
   */
  readonly keyIds?: readonly string[];
  /** Root rotations: see PublishOptions.legacyVersions (`--legacy N`). */
  readonly legacyVersions?: number;
}

export interface RotateKeyResult extends PublishResult {
  readonly role: RotatableRole;
  /** The role's new public keys as root lists them (root keys: `ecdsa-x509` certificates). */
  readonly newKeys: readonly KeyJson[];
}

/** State a writer works on (see RepositoryWriter.loadEditable). */
export interface WritableState {
  readonly collection: EditableCollection;
  readonly rootBytes: Uint8Array;
  readonly roleBytes: Map<string, Uint8Array>;
  readonly snapshot: SnapshotSigned | undefined;
  readonly originalRoot: RootSigned;
  readonly initialPublish: boolean;
  /** Per role, the canonical bytes it was verified over (before any change): what a splice starts from. */
  readonly roleCanonical: ReadonlyMap<string, Uint8Array>;
  /** Resolves when the refresh's cache writes are done (see OpenOptions.deferCacheWrites). */
  readonly cacheWritten: Promise<void>;
}

/** Go's checkRotationInput. */
export function checkRotationInput(role: string, serverManaged: boolean): asserts role is RotatableRole {
  const canBeRemote = role === 'timestamp' || role === 'snapshot';
  const canBeLocal = role === 'snapshot' || role === 'targets' || role === 'root';
  if (!['root', 'targets', 'snapshot', 'timestamp'].includes(role) || isDelegationName(role)) {
    throw new NotaryError('INVALID_ARGUMENT', `notary does not currently permit rotating the ${role} key`, { where: role });
  }
  if (serverManaged && !canBeRemote) throw new NotaryError('INVALID_ARGUMENT', `notary does not permit the server managing the ${role} key`, { where: role });
  if (!serverManaged && !canBeLocal) throw new NotaryError('INVALID_ARGUMENT', `notary does not permit the client managing the ${role} key`, { where: role });
}

export class RepositoryWriter {
  private readonly log: ReaderLogger & { info?(message: string): void };
  private readonly clock: () => Date;

  constructor(private readonly options: WriterOptions) {
    this.log = options.log ?? silent;
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * `notary init`: root key (reused or new) in a Notary self-signed certificate, new targets and snapshot
   * keys, the server's timestamp key, and root/targets/snapshot v1 written to the cache. Nothing is uploaded.
   */
  async init(init: InitOptions = {}): Promise<InitResult> {
    const { gun, keyStore, crypto, remote, cache } = this.options;
    const now = this.clock();
    if (!remote) throw offline();
    // Ask the server first: a failure must not leave new keys behind.
    const timestampKey = normalKey(await remote.getKey('timestamp'));
    const snapshotServerKey = init.serverManagedSnapshot ? normalKey(await remote.getKey('snapshot')) : undefined;

    let rootKeyId = init.rootKeyId;
    let reusedRootKey = false;
    if (!rootKeyId) {
      const roots = (await keyStore.list()).filter((k) => k.role === 'root');
      if (roots.length > 0) {
        rootKeyId = roots[0]!.keyId;
        reusedRootKey = true;
      }
    } else {
      reusedRootKey = true;
    }
    // Through a handle, so a root key on a hardware token certifies and signs without leaving it.
    const rootHandle = rootKeyId ? await keyHandleOf(keyStore, rootKeyId, crypto) : await newKeyHandle(keyStore, crypto, { role: 'root' });
    rootKeyId = rootHandle.keyId;
    const rootPublic = init.rootCertificate ?? (await rootCertificateOf(rootHandle, gun, now, crypto));
    const root = { publicKey: rootPublic, keyId: tufKeyId(rootPublic, crypto), signer: signerOf(rootHandle, rootPublic, crypto) };
    const targets = await this.newSigningKey({ role: 'targets', gun });
    let snapshotPublic: KeyJson;
    let snapshotSigner: MetadataSigner | undefined;
    if (snapshotServerKey) {
      snapshotPublic = snapshotServerKey;
    } else {
      const snapshot = await this.newSigningKey({ role: 'snapshot', gun });
      snapshotPublic = snapshot.publicKey;
      snapshotSigner = snapshot.signer;
    }
    const ids = {
      root: root.keyId,
      targets: targets.keyId,
      snapshot: tufKeyId(snapshotPublic, crypto),
      timestamp: tufKeyId(timestampKey, crypto),
    };
    const rootSigned: RootSigned = {
      _type: 'Root',
      consistent_snapshot: false,
      expires: expiresAfterDays(now, DEFAULT_EXPIRY_DAYS.root),
      keys: { [ids.root]: root.publicKey, [ids.targets]: targets.publicKey, [ids.snapshot]: snapshotPublic, [ids.timestamp]: timestampKey },
      roles: {
        root: { keyids: [ids.root], threshold: 1 },
        snapshot: { keyids: [ids.snapshot], threshold: 1 },
        targets: { keyids: [ids.targets], threshold: 1 },
        timestamp: { keyids: [ids.timestamp], threshold: 1 },
      },
      version: 1,
    };
    const rootMd = await signMetadata('Root', rootSigned, 'root', [root.signer]);
    const targetsMd = await signMetadata('Targets', newTargetsSigned(now), 'targets', [targets.signer]);
    await cache.set('root', rootMd.bytes!);
    await cache.set('targets', targetsMd.bytes!);
    if (snapshotSigner) {
      const files = new Map([
        ['root', rootMd.bytes!],
        ['targets', targetsMd.bytes!],
      ]);
      const snapshotMd = await signMetadata('Snapshot', newSnapshotSigned(files, now, crypto), 'snapshot', [snapshotSigner]);
      await cache.set('snapshot', snapshotMd.bytes!);
    }
    return { rootKeyId, reusedRootKey, root: rootMd };
  }

  /** A new key for a role: in the key store's own way when it has one (a token), else generated here and added. */
  private async newSigningKey(info: { role: string; gun: string }): Promise<{ publicKey: KeyJson; keyId: string; signer: MetadataSigner }> {
    const { keyStore, crypto } = this.options;
    if (!keyStore.generateKey) {
      const key = generateSigningKey(crypto);
      await keyStore.add(key.privateKey, info);
      return key;
    }
    const handle = await keyHandleOf(keyStore, await keyStore.generateKey(info), crypto);
    const publicKey = publicKeyJsonOf(handle.publicKey);
    return { publicKey, keyId: tufKeyId(publicKey, crypto), signer: signerOf(handle, publicKey, crypto) };
  }

  /** Applies `changes` on top of the current repository, re-signs and uploads. */
  async publish(changes: readonly Change[], publishOptions: PublishOptions = {}): Promise<PublishResult> {
    if (!this.options.remote) throw offline();
    const now = this.clock();
    // The refresh's cache writes (a 10 MB targets.json) go on while we sign; waited for before returning.
    const state = await this.loadForWriting(true);
    try {
      return await this.signAndUpload(state, changes, publishOptions, now);
    } finally {
      await state.cacheWritten;
    }
  }

  private async signAndUpload(
    state: WritableState,
    changes: readonly Change[],
    publishOptions: PublishOptions,
    now: Date,
  ): Promise<PublishResult> {
    const { remote, crypto, gun } = this.options;
    if (!remote) throw offline();
    const collection = state.collection;
    // Target changes touch only their own entries (apply.ts): what a splice may rewrite.
    const changedTargets = new Set(changes.filter((c) => c.type === 'target').map((c) => c.path));
    const held = new Set((await this.options.keyStore.list()).map((k) => k.keyId));
    applyChanges(collection, changes, crypto, now, {
      canSign: (_role, keys) => keys.some((k) => k.canonicalId !== undefined && held.has(k.canonicalId)),
      warn: (m) => this.log.warn(m),
    });

    const files = new Map<string, Uint8Array>();
    // Root: re-signed when changed or near expiry; on the first publish the cached root is sent as is.
    let rootBytes = state.rootBytes;
    const legacyKeys = state.initialPublish ? new Map<string, KeyJson>() : await this.legacyRootKeys(state.originalRoot.version, publishOptions.legacyVersions ?? 0);
    if (collection.dirty.has('root') || nearExpiry(collection.root.expires, now) || legacyKeys.size > 0) {
      const signed = structuredClone(collection.root);
      bumpVersion(signed, now, DEFAULT_EXPIRY_DAYS.root);
      const signers = await this.rootSigners(collection.root, state.originalRoot, legacyKeys);
      const md = await signMetadata('Root', signed, 'root', signers);
      rootBytes = md.bytes!;
      files.set('root', rootBytes);
    } else if (state.initialPublish) {
      files.set('root', rootBytes);
    }

    // Targets and delegations that changed (and targets itself on the first publish).
    const roleBytes = new Map<string, Uint8Array>(state.roleBytes);
    const presigned = this.checkPresigned(collection, publishOptions.presigned, now);
    const toSign = [...collection.dirty].filter((r) => r !== 'root' && !presigned.has(r));
    if (state.initialPublish && !toSign.includes('targets')) toSign.push('targets');
    for (const role of toSign.sort((a, b) => a.split('/').length - b.split('/').length)) {
      const signed = collection.roles.get(role);
      if (!signed) {
        roleBytes.delete(role); // deleted delegation
        continue;
      }
      bumpVersion(signed, now, DEFAULT_EXPIRY_DAYS.targets);
      const keys = role === 'targets' ? keysOf(collection.root, 'targets') : delegationKeys(collection, role);
      const signers = await this.signersFor(role, keys);
      this.requireThreshold(role, keys, signers, role === 'targets' ? (collection.root.roles?.['targets']?.threshold ?? 1) : delegationThreshold(collection, role));
      // A large role with a few changed targets: its previous canonical bytes with those entries rewritten
      // (spliceTargetsCanonical proves the result, or declines and the role is re-encoded in full).
      const previous = state.roleCanonical.get(role);
      const spliced = previous && spliceTargetsCanonical(previous, signed, role, changedTargets, envelopeMargins(signers.length));
      if (spliced) this.log.debug(`${role}: re-signed from its previous canonical bytes (${changedTargets.size} target changes)`);
      const md = spliced ? await signCanonical('Targets', signed, role, spliced, signers) : await signMetadata('Targets', signed, role, signers);
      roleBytes.set(role, md.bytes!);
      files.set(role, md.bytes!);
    }
    for (const [role, md] of presigned) {
      roleBytes.set(role, md.bytes!);
      files.set(role, md.bytes!);
    }
    for (const role of [...roleBytes.keys()]) {
      if (role !== 'targets' && !collection.roles.has(role) && !collection.invalid.has(role)) roleBytes.delete(role);
    }

    // Snapshot: signed by us when we hold its key, otherwise left to the server.
    const snapshotKeys = keysOf(collection.root, 'snapshot');
    const snapshotSigners = await this.availableSigners(snapshotKeys);
    if (snapshotSigners.length > 0) {
      const previous: SnapshotSigned | undefined = state.snapshot ? structuredClone(state.snapshot) : undefined;
      const fresh = newSnapshotSigned(new Map([['root', rootBytes], ...roleBytes]), now, crypto, (previous?.version ?? 0) + 1);
      if (previous) {
        // Keep entries for roles we did not load (skipped ones), drop deleted delegations.
        for (const [role, meta] of Object.entries(previous.meta ?? {})) {
          if (!(role in (fresh.meta ?? {})) && collection.invalid.has(role)) fresh.meta![role] = meta as FileMetaJson;
        }
      }
      const md = await signMetadata('Snapshot', fresh, 'snapshot', snapshotSigners);
      files.set('snapshot', md.bytes!);
    } else {
      this.log.debug('Client does not have the key to sign snapshot. Assuming that server should sign the snapshot.');
    }
    this.log.debug(`publishing ${[...files.keys()].join(', ')} for ${gun}`);
    await remote.publish(files);
    const removedKeys = await this.removeReplacedKeys(state.originalRoot, collection.root);
    return { files, initialPublish: state.initialPublish, removedKeys };
  }

  /**
   * `notary key rotate <gun> <role>`: a new key for a base role (generated here, taken from the key store,
   * or — `serverManaged` — generated by the server), recorded in root as Notary's ReplaceBaseKeys does and
   * published at once on its own (the staged changelist is not touched). Root is re-signed by the old
   * root's threshold of keys and by the new keys; the old root certificate stays in `keys`. A replaced
   * targets or snapshot private key is removed from the key store, as Notary does — but only after the
   * server accepted the upload (Notary removes it before uploading).
   */
  async rotateKey(role: string, options: RotateKeyOptions = {}): Promise<RotateKeyResult> {
    const { remote, keyStore, crypto, gun } = this.options;
    const serverManaged = options.serverManaged ?? false;
    checkRotationInput(role, serverManaged);
    if (!remote) throw offline();
    const now = this.clock();
    const newKeys: KeyJson[] = [];
    if (serverManaged) {
      if (!remote.rotateKey) throw new NotaryError('INVALID_ARGUMENT', 'this remote cannot generate keys');
      try {
        newKeys.push(normalKey(await remote.rotateKey(role)));
      } catch (err) {
        throw new NotaryError(err instanceof NotaryError ? err.code : 'SERVER_ERROR', `unable to rotate remote key: ${(err as Error).message}`, { cause: err });
      }
    } else if (options.keyIds && options.keyIds.length > 0) {
      for (const id of options.keyIds) {
        let loaded;
        try {
          loaded = await keyHandleOf(keyStore, id, crypto);
        } catch (err) {
          if (err instanceof KeyStoreError && err.code === 'KEY_NOT_FOUND') throw new KeyStoreError('KEY_NOT_FOUND', `unable to find key: ${id}`, { cause: err });
          throw err;
        }
        if (role === 'root' && loaded.role !== 'root') {
          throw new KeyStoreError('KEY_STORE', `attempted to load root key but given ${loaded.role} key instead`, { where: id });
        }
        newKeys.push(role === 'root' ? await rootCertificateOf(loaded, gun, now, crypto) : publicKeyJsonOf(loaded.publicKey));
      }
    } else {
      const handle = await newKeyHandle(keyStore, crypto, role === 'root' ? { role } : { role, gun });
      newKeys.push(role === 'root' ? await rootCertificateOf(handle, gun, now, crypto) : publicKeyJsonOf(handle.publicKey));
    }
    const result = await this.publish([rootRoleChange(role, newKeys)], options.legacyVersions !== undefined ? { legacyVersions: options.legacyVersions } : {});
    return { ...result, role, newKeys };
  }

  /**
   * The repository as the next publish would start from it (refreshed from the server, or from the cache
   * before the first publish), for callers that prepare metadata themselves (co-signing).
   */
  async loadEditable(): Promise<WritableState> {
    return this.loadForWriting();
  }

  /** What this writer was opened with (remote, cache, key store…). */
  get writerOptions(): WriterOptions {
    return this.options;
  }

  /** Signers held in the key store for these keys (by TUF key ID); none is not an error. */
  async heldSigners(keys: ReadonlyMap<string, KeyJson>): Promise<MetadataSigner[]> {
    return this.availableSigners(keys);
  }

  /**
   * Root signers as Notary's SignRoot: the previous root role's threshold of keys when the root role
   * changed, the new root role's threshold, and (optionally, best effort) legacy root keys.
   */
  private async rootSigners(newRoot: RootSigned, originalRoot: RootSigned, legacy: ReadonlyMap<string, KeyJson>): Promise<MetadataSigner[]> {
    const byId = new Map<string, MetadataSigner>();
    const roles: RootSigned[] = [];
    if (!sameRole(originalRoot.roles?.['root'], newRoot.roles?.['root'])) roles.push(originalRoot);
    roles.push(newRoot);
    for (const root of roles) {
      const keys = keysOf(root, 'root');
      const signers = await this.availableSigners(keys);
      if (signers.length === 0) {
        const ids = [...keys.values()].map((k) => canonicalKeyId(k, this.options.crypto));
        throw new KeyStoreError('KEY_NOT_FOUND', `could not find necessary signing keys, at least one of these keys must be available: ${ids.join(', ')}`, {
          where: 'root',
        });
      }
      this.requireThreshold('root', keys, signers, root.roles?.['root']?.threshold ?? 1);
      for (const s of signers) byId.set(s.keyId, s);
    }
    const extra = new Map([...legacy].filter(([id]) => !byId.has(id)));
    for (const s of await this.availableSigners(extra)) byId.set(s.keyId, s);
    return [...byId.values()];
  }

  /** Notary's ErrInsufficientSignatures when fewer than `threshold` keys of a role are held. */
  private requireThreshold(role: string, keys: ReadonlyMap<string, KeyJson>, signers: readonly MetadataSigner[], threshold: number): void {
    if (signers.length >= threshold) return;
    const held = new Set(signers.map((s) => s.keyId));
    const missing = [...keys].filter(([id]) => !held.has(id)).map(([, k]) => canonicalKeyId(k, this.options.crypto));
    const candidates = missing.length > 0 ? ` (${missing.join(', ')})` : '';
    const message =
      signers.length === 0
        ? `signing keys not available: need ${threshold} keys from ${missing.length} possible keys${candidates}`
        : `not enough signing keys: found ${signers.length} of ${threshold} needed keys - ${missing.length} other possible keys${candidates}`;
    throw new SignatureError('THRESHOLD_NOT_MET', isDelegationName(role) ? `${message}; ${role} needs co-signing (notary-ts cosign)` : message, { where: role });
  }

  /** Root keys of root versions `current` down to `current - n` (n = -1: all), Notary's oldKeysForLegacyClientSupport. */
  private async legacyRootKeys(current: number, n: number): Promise<Map<string, KeyJson>> {
    const out = new Map<string, KeyJson>();
    const oldest = Math.max(1, n === -1 ? 1 : current - n);
    if (n === 0 || current <= 1 || oldest === current) return out;
    const remote = this.options.remote!;
    for (let v = current; v >= oldest; v--) {
      this.log.debug(`fetching old keys from version ${v}`);
      let bytes: Uint8Array;
      try {
        bytes = await remote.getRootVersion(v);
      } catch (err) {
        this.log.debug(`error downloading ${v}.root: ${(err as Error).message}`);
        continue;
      }
      const old = Metadata.fromBytes(bytes, 'root');
      for (const [id, key] of keysOf(old.signed, 'root')) out.set(id, key);
    }
    return out;
  }

  /** Validates co-signed role files for this publish; returns them parsed, by role. */
  private checkPresigned(collection: EditableCollection, presigned: ReadonlyMap<string, Uint8Array> | undefined, now: Date): Map<string, Metadata<'Targets'>> {
    const out = new Map<string, Metadata<'Targets'>>();
    if (!presigned) return out;
    const ctx = newVerifyContext(this.options.crypto);
    for (const [role, bytes] of presigned) {
      if (role !== 'targets' && !isDelegationName(role)) throw new NotaryError('INVALID_ARGUMENT', `only targets roles can be co-signed, not ${role}`, { where: role });
      if (collection.dirty.has(role)) {
        throw new NotaryError('INVALID_ARGUMENT', `${role} has staged changes as well as co-signed metadata; publish one or the other`, { where: role });
      }
      const md = Metadata.fromBytes(bytes, role) as Metadata<'Targets'>;
      if (md.type !== 'Targets') throw new NotaryError('MALFORMED_METADATA', `${role}: not targets metadata`, { where: role });
      assertGoNormal(md, role);
      const current = collection.roles.get(role)?.version ?? collection.invalid.get(role)?.version ?? 0;
      if (md.version <= current) {
        throw new NotaryError('BAD_VERSION', `co-signed ${role} has version ${md.version}, not above the current version ${current}`, { where: role });
      }
      const keys = role === 'targets' ? keysOf(collection.root, 'targets') : delegationKeys(collection, role);
      if (keys.size === 0) throw new NotaryError('ROLE_NOT_FOUND', `${role} is not delegated in the current repository`, { where: role });
      const threshold = role === 'targets' ? (collection.root.roles?.['targets']?.threshold ?? 1) : delegationThreshold(collection, role);
      verifyThreshold(md, { name: role, keys, threshold }, ctx);
      if (compareGoTime(md.expires, goTimeFromDate(now)) <= 0) throw new NotaryError('EXPIRED', `co-signed ${role} has expired`, { where: role });
      collection.roles.set(role, md.signed);
      collection.invalid.delete(role);
      out.set(role, md);
    }
    return out;
  }

  /** After an upload: private keys of base roles no longer listed in root (root keys always stay). */
  private async removeReplacedKeys(before: RootSigned, after: RootSigned): Promise<string[]> {
    const removed: string[] = [];
    const still = new Set(Object.keys(after.keys ?? {}));
    for (const [id, key] of Object.entries(before.keys ?? {})) {
      if (still.has(id) || !key) continue;
      const canonical = canonicalKeyId(key, this.options.crypto);
      try {
        if (await this.options.keyStore.remove(canonical)) removed.push(canonical);
      } catch (err) {
        this.log.warn(`could not remove replaced key ${canonical}: ${(err as Error).message}`);
      }
    }
    return removed;
  }

  /** The current repository as an editable collection: refreshed from the server, or bootstrapped from the cache on the first publish. */
  private async loadForWriting(deferCacheWrites = false): Promise<WritableState> {
    const { gun, remote, cache, crypto, trustPinning } = this.options;
    try {
      const repo = await TrustedRepository.open({ gun, remote, cache, crypto, clock: this.clock, ...(trustPinning ? { trustPinning } : {}), log: this.log, deferCacheWrites });
      const report = await repo.loadAll();
      const set = repo.trusted;
      const roles = new Map<string, TargetsSigned>();
      const roleBytes = new Map<string, Uint8Array>();
      const roleCanonical = new Map<string, Uint8Array>();
      for (const [name, trusted] of set.roles) {
        roles.set(name, trusted.metadata.signed);
        roleBytes.set(name, trusted.metadata.bytes!);
        const canonical = trusted.metadata.knownCanonicalSigned();
        if (canonical) roleCanonical.set(name, canonical);
      }
      const invalid = new Map<string, TargetsSigned>();
      for (const s of report.skipped) if (s.metadata) invalid.set(s.role, s.metadata.signed);
      return {
        collection: { gun, root: structuredClone(set.root.signed), roles, dirty: new Set(), invalid },
        rootBytes: set.root.bytes!,
        roleBytes,
        snapshot: set.snapshot?.signed,
        originalRoot: set.root.signed,
        initialPublish: false,
        roleCanonical,
        cacheWritten: repo.cacheWritten(),
      };
    } catch (err) {
      // "<host> does not have trust data for <gun>": a root 404, as Go's ErrRepositoryNotExist.
      if (!isRootNotFound(err)) throw err;
    }
    // First publish: the repository exists only in our cache (from init), or not at all.
    this.log.debug('repository not on the server: publishing for the first time from local metadata');
    let rootBytes = await cache.get('root');
    if (!rootBytes) {
      this.log.info?.(`No TUF data found locally or remotely - initializing repository ${gun} for the first time`);
      await this.init();
      rootBytes = (await cache.get('root'))!;
    }
    const now = this.clock();
    const set = TrustedMetadataSet.bootstrap(rootBytes, { gun, crypto, clock: () => now, ...(trustPinning ? { trustPinning } : {}) });
    const targetsBytes = await cache.get('targets');
    const targets = targetsBytes ? Metadata.fromBytes(targetsBytes, 'targets').signed : newTargetsSigned(now, 0);
    const snapshotBytes = await cache.get('snapshot');
    const snapshot = snapshotBytes ? Metadata.fromBytes(snapshotBytes, 'snapshot').signed : undefined;
    return {
      collection: { gun, root: structuredClone(set.root.signed), roles: new Map([['targets', targets]]), dirty: new Set(), invalid: new Map() },
      rootBytes,
      roleBytes: new Map(targetsBytes ? [['targets', targetsBytes]] : []),
      snapshot,
      originalRoot: set.root.signed,
      initialPublish: true,
      roleCanonical: new Map(),
      cacheWritten: Promise.resolve(),
    };
  }

  /** Signers for every key of `keys` the key store holds. */
  private async availableSigners(keys: ReadonlyMap<string, KeyJson>): Promise<MetadataSigner[]> {
    const signers: MetadataSigner[] = [];
    for (const [tufId, key] of keys) {
      try {
        const signer = await this.options.keyStore.getSigner(canonicalKeyId(key, this.options.crypto), key);
        if (signer.keyId === tufId) signers.push(signer);
      } catch (err) {
        if (err instanceof KeyStoreError && err.code === 'KEY_NOT_FOUND') continue;
        throw err;
      }
    }
    return signers;
  }

  /**
   * Signers for a role; for root, also the keys of the root as it was loaded when the root role changed
   * (a rotation is signed by the old and the new keys). At least one key must be available.
   */
  private async signersFor(role: string, keys: ReadonlyMap<string, KeyJson>, originalRoot?: RootSigned): Promise<MetadataSigner[]> {
    const all = new Map(keys);
    if (originalRoot) for (const [id, k] of keysOf(originalRoot, 'root')) all.set(id, k);
    const signers = await this.availableSigners(all);
    if (signers.length === 0) {
      const ids = [...keys.values()].map((k) => canonicalKeyId(k, this.options.crypto));
      throw new KeyStoreError('KEY_NOT_FOUND', `could not find necessary signing keys, at least one of these keys must be available: ${ids.join(', ')}`, {
        where: role,
      });
    }
    return signers;
  }
}

function normalKey(key: KeyJson): KeyJson {
  return publicKeyJson(key.keytype, key.keyval.public);
}

/** The keys a root lists for one of its roles, by key ID, as stored (for signing with them). */
export function keysOf(root: RootSigned, role: string): Map<string, KeyJson> {
  const out = new Map<string, KeyJson>();
  for (const id of root.roles?.[role]?.keyids ?? []) {
    const key = root.keys?.[id];
    if (key) out.set(id, key);
  }
  return out;
}

function delegationKeys(collection: EditableCollection, role: string): Map<string, KeyJson> {
  const parent = collection.roles.get(parentRole(role));
  const out = new Map<string, KeyJson>();
  const entry = parent?.delegations?.roles?.find((r) => r.name === role);
  for (const id of entry?.keyids ?? []) {
    const key = parent?.delegations?.keys?.[id];
    if (key) out.set(id, key);
  }
  return out;
}

function delegationThreshold(collection: EditableCollection, role: string): number {
  const parent = collection.roles.get(parentRole(role));
  return parent?.delegations?.roles?.find((r) => r.name === role)?.threshold ?? 1;
}

function sameRole(a: { keyids: string[] | null; threshold: number } | null | undefined, b: { keyids: string[] | null; threshold: number } | null | undefined): boolean {
  if (!a || !b) return a === b;
  const ka = [...(a.keyids ?? [])].sort();
  const kb = [...(b.keyids ?? [])].sort();
  return a.threshold === b.threshold && ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** Refuses metadata whose bytes are not what the server's re-serialisation would produce (facts §1.9). */
export function assertGoNormal(md: Metadata<'Targets'>, role: string): void {
  const normal = serializeEnvelope(goNormalSigned('Targets', md.signed, role), md.signatures);
  const bytes = md.bytes!;
  if (normal.length !== bytes.length || normal.some((b, i) => b !== bytes[i])) {
    throw new NotaryError('NON_CANONICAL', `${role}: metadata is not in the form notary-server stores; re-create it with notary-ts`, { where: role });
  }
}
