/**
 * The signing side: create a repository, apply staged changes, re-sign what changed, publish.
 *
 * Publishing follows Notary's client: refresh from the server first (so a publish never rolls a role back),
 * apply the changelist, re-sign root when it changed or is within six months of expiry, re-sign every
 * changed targets/delegation role (version + 1, default expiry), sign a new snapshot when we hold the
 * snapshot key (else the server does), and upload everything in one atomic multipart request. Every file
 * is written in Go-normal form, because the server hashes its own re-serialisation of what it stores.
 */
import { bumpVersion, newSnapshotSigned, newTargetsSigned, signMetadata, type MetadataSigner } from '../core/build.js';
import type { CryptoBackend } from '../core/crypto.js';
import { KeyStoreError, NotaryError } from '../core/errors.js';
import { generateSigningKey, rootCertificateKey, signingKey } from '../core/init.js';
import { canonicalKeyId, publicKeyJson, tufKeyId } from '../core/keys.js';
import { Metadata, type FileMetaJson, type KeyJson, type RootSigned, type SnapshotSigned, type TargetsSigned } from '../core/metadata.js';
import type { TrustPinning } from '../core/root.js';
import { DEFAULT_EXPIRY_DAYS, compareGoTime, expiresAfterDays, goTimeFromDate, parseGoTime } from '../core/time.js';
import { TrustedMetadataSet } from '../core/trusted.js';
import { parentRole } from '../core/verify.js';
import type { MetadataCache } from '../node/cache.js';
import type { KeyStore } from '../node/keystore.js';
import { applyChanges, type EditableCollection } from './apply.js';
import type { Change } from './changelist.js';
import { TrustedRepository, type MetadataRemote, type ReaderLogger } from './reader.js';

/** What publishing needs from a server (NotaryRemote; DirectoryRemote for a static mirror). */
export interface PublishingRemote extends MetadataRemote {
  publish(files: ReadonlyMap<string, Uint8Array>): Promise<void>;
  getKey(role: string): Promise<KeyJson>;
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

function isNotFound(err: unknown): boolean {
  return err instanceof NotaryError && err.code === 'NOT_FOUND';
}

/** Notary re-signs a role that expires within six months. */
function nearExpiry(expires: string, now: Date): boolean {
  const sixMonths = new Date(now);
  sixMonths.setUTCMonth(sixMonths.getUTCMonth() + 6);
  return compareGoTime(parseGoTime(expires, 'root.expires'), goTimeFromDate(sixMonths)) < 0;
}

export interface InitOptions {
  /** Canonical ID of a root key already in the key store to use (default: the first root key found, else a new one). */
  readonly rootKeyId?: string;
  /** Let the server hold the snapshot key (`notary key rotate <gun> snapshot -r` after init does the same). */
  readonly serverManagedSnapshot?: boolean;
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
    let rootPrivate;
    if (rootKeyId) {
      rootPrivate = (await keyStore.getPrivateKey(rootKeyId)).privateKey;
    } else {
      rootPrivate = crypto.generateKey('ecdsa');
      rootKeyId = await keyStore.add(rootPrivate, { role: 'root' });
    }
    const root = signingKey(rootCertificateKey(rootPrivate, gun, now, crypto), rootPrivate, crypto);
    const targets = generateSigningKey(crypto);
    await keyStore.add(targets.privateKey, { role: 'targets', gun });
    let snapshotPublic: KeyJson;
    let snapshotSigner: MetadataSigner | undefined;
    if (snapshotServerKey) {
      snapshotPublic = snapshotServerKey;
    } else {
      const snapshot = generateSigningKey(crypto);
      await keyStore.add(snapshot.privateKey, { role: 'snapshot', gun });
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

  /** Applies `changes` on top of the current repository, re-signs and uploads. */
  async publish(changes: readonly Change[]): Promise<PublishResult> {
    const { remote, crypto, gun } = this.options;
    if (!remote) throw offline();
    const now = this.clock();
    const state = await this.loadForWriting();
    const collection = state.collection;
    const held = new Set((await this.options.keyStore.list()).map((k) => k.keyId));
    applyChanges(collection, changes, crypto, now, {
      canSign: (_role, keys) => keys.some((k) => k.canonicalId !== undefined && held.has(k.canonicalId)),
      warn: (m) => this.log.warn(m),
    });

    const files = new Map<string, Uint8Array>();
    // Root: re-signed when changed or near expiry; on the first publish the cached root is sent as is.
    let rootBytes = state.rootBytes;
    if (collection.dirty.has('root') || nearExpiry(collection.root.expires, now)) {
      const signed = structuredClone(collection.root);
      bumpVersion(signed, now, DEFAULT_EXPIRY_DAYS.root);
      const signers = await this.signersFor('root', keysOf(collection.root, 'root'), state.originalRoot);
      const md = await signMetadata('Root', signed, 'root', signers);
      rootBytes = md.bytes!;
      files.set('root', rootBytes);
    } else if (state.initialPublish) {
      files.set('root', rootBytes);
    }

    // Targets and delegations that changed (and targets itself on the first publish).
    const roleBytes = new Map<string, Uint8Array>(state.roleBytes);
    const toSign = [...collection.dirty].filter((r) => r !== 'root');
    if (state.initialPublish && !toSign.includes('targets')) toSign.push('targets');
    for (const role of toSign.sort((a, b) => a.split('/').length - b.split('/').length)) {
      const signed = collection.roles.get(role);
      if (!signed) {
        roleBytes.delete(role); // deleted delegation
        continue;
      }
      bumpVersion(signed, now, DEFAULT_EXPIRY_DAYS.targets);
      const keys = role === 'targets' ? keysOf(collection.root, 'targets') : delegationKeys(collection, role);
      const md = await signMetadata('Targets', signed, role, await this.signersFor(role, keys));
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
    return { files, initialPublish: state.initialPublish };
  }

  /** The current repository as an editable collection: refreshed from the server, or bootstrapped from the cache on the first publish. */
  private async loadForWriting(): Promise<{
    collection: EditableCollection;
    rootBytes: Uint8Array;
    roleBytes: Map<string, Uint8Array>;
    snapshot: SnapshotSigned | undefined;
    originalRoot: RootSigned;
    initialPublish: boolean;
  }> {
    const { gun, remote, cache, crypto, trustPinning } = this.options;
    try {
      const repo = await TrustedRepository.open({ gun, remote, cache, crypto, clock: this.clock, ...(trustPinning ? { trustPinning } : {}), log: this.log });
      const report = await repo.loadAll();
      const set = repo.trusted;
      const roles = new Map<string, TargetsSigned>();
      const roleBytes = new Map<string, Uint8Array>();
      for (const [name, trusted] of set.roles) {
        roles.set(name, trusted.metadata.signed);
        roleBytes.set(name, trusted.metadata.bytes!);
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
      };
    } catch (err) {
      if (!isNotFound(err) || !/does not have trust data/.test((err as Error).message)) throw err;
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

function keysOf(root: RootSigned, role: string): Map<string, KeyJson> {
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
