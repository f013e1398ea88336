/**
 * Moving a repository's trust data off a Notary server (Docker Hub's shuts down on 2026-12-08) to another
 * notary-server or to a directory any static file server can serve, without breaking clients that pinned
 * its root.
 *
 * What changes: the keys the source server held (timestamp always; snapshot unless the owner holds it) are
 * replaced by keys at the destination (the server's, or local keys for a directory), and a new root version
 * listing them is signed with the owner's root key (plus every older root key the owner still holds, so
 * clients pinned to an older root jump straight to it). Targets and delegation files are carried byte for
 * byte (their signatures do not depend on the server); expired delegations are re-signed when their keys
 * are held, else left out (clients skip them anyway). Snapshot and timestamp versions continue above the
 * source's, because a client's rollback floor is its cached copy.
 *
 * Destinations:
 * * a directory: the verified root history `1..N.root.json` byte for byte, the new root N+1, then the
 *   roles, the snapshot, and `timestamp.json` last (before it exists the directory serves no repository);
 * * a notary-server: it accepts a first root only as version 1 or 2, each later one only as +1, and signs
 *   every timestamp itself, so the history cannot be copied: versions 1..N+1 are re-issued, all listing the
 *   destination's keys and signed by the owner's root key. Each upload is atomic at the server and leaves a
 *   repository that verifies; timestamps (and server-made snapshots) are first advanced past the source's
 *   versions by empty publishes, and the root steps come last, so the moment a pinned client accepts the
 *   destination's root, the rest is already above its rollback floor.
 *
 * A run is resumable: a partly written directory (no `timestamp.json`) is rewritten; a notary-server that
 * holds an earlier step of this migration (a root signed by the source's root keys) is continued.
 */
import { newSnapshotSigned, newTimestampSigned, signMetadata, type MetadataSigner } from '../core/build.js';
import { fromBase64, toHex } from '../core/bytes.js';
import type { CryptoBackend } from '../core/crypto.js';
import { KeyStoreError, NotaryError } from '../core/errors.js';
import { generateSigningKey, publicKeyOf, rootCertificateKey, signingKey } from '../core/init.js';
import { canonicalKeyId, publicKeyJson, tufKeyId } from '../core/keys.js';
import { Metadata, type KeyJson, type RootSigned } from '../core/metadata.js';
import { DEFAULT_EXPIRY_DAYS, expiresAfterDays, isExpired } from '../core/time.js';
import { TrustedMetadataSet } from '../core/trusted.js';
import { MemoryMetadataCache } from '../node/cache.js';
import { DirectoryRemote } from '../node/directory-remote.js';
import type { KeyStore } from '../node/keystore.js';
import { TrustedRepository, type MetadataRemote } from '../repository/reader.js';
import { keysOf, type PublishingRemote } from '../repository/writer.js';
import { ensurePingable, killSwitch, layoutFiles, readLayoutFile, tufDir, writeLayout } from './layout.js';
import type { VerifiedSource } from './source.js';

export type Destination =
  | { readonly kind: 'server'; readonly url: string; readonly remote: PublishingRemote }
  | { readonly kind: 'directory'; readonly url: string; readonly dir: string };

export interface MigrateOptions {
  readonly source: VerifiedSource;
  readonly destination: Destination;
  readonly keyStore: KeyStore;
  readonly crypto: CryptoBackend;
  readonly clock?: () => Date;
  readonly progress?: (message: string) => void;
  readonly warn?: (message: string) => void;
  /** Timestamp lifetime for a directory destination (days, default 14 as notary-server). */
  readonly timestampExpiryDays?: number;
  /** Environment for the test kill switch (see layout.ts). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Publish under another GUN (`--gun`, the images moved registry). Root certificates name the GUN, so this
   * starts a new root chain at version 1: new certificates for the same root keys (same canonical IDs).
   */
  readonly newGun?: string;
}

/** The GUN at the destination. */
function destGun(options: MigrateOptions): string {
  return options.newGun ?? options.source.gun;
}

function renamed(options: MigrateOptions): boolean {
  return options.newGun !== undefined && options.newGun !== options.source.gun;
}

/** Canonical IDs of a root's root-role keys (the same for every certificate of a key). */
function rootKeyIds(root: RootSigned, crypto: CryptoBackend): string[] {
  return [...keysOf(root, 'root').values()].map((k) => canonicalKeyId(k, crypto));
}

export interface KeyNeed {
  readonly role: string;
  /** Canonical key IDs (what `key list` shows) that can sign for the role. */
  readonly candidates: readonly string[];
  /** Which of them the key store holds. */
  readonly held: readonly string[];
  readonly threshold: number;
  readonly why: string;
}

export interface MigrationPlan {
  readonly gun: string;
  /** The GUN at the destination (differs with `--gun`). */
  readonly destinationGun: string;
  readonly from: string;
  readonly to: string;
  readonly kind: Destination['kind'];
  /** What the destination holds now. */
  readonly state: 'empty' | 'partial' | 'complete';
  readonly destinationRootVersion: number;
  readonly source: { readonly root: number; readonly timestamp: number; readonly snapshot: number; readonly roles: readonly string[] };
  readonly newRootVersion: number;
  readonly timestampKey: 'new, generated and held by the destination server' | 'new, local (key store)';
  readonly snapshotKey: string;
  /** Keys that will be asked for (passphrases), before anything is signed. */
  readonly keysNeeded: readonly KeyNeed[];
  /** Delegations re-signed because they expired (keys held). */
  readonly resign: readonly string[];
  /** Delegations left out, and why. */
  readonly omitted: readonly { role: string; reason: string }[];
  /** Root versions copied byte for byte (directory) or re-issued (server). */
  readonly rootHistory: { readonly copied: readonly number[]; readonly reissued: readonly number[] };
  /** Directory: files written in order. Server: uploads in order. */
  readonly steps: readonly string[];
  readonly warnings: readonly string[];
}

export interface MigrationResult {
  readonly plan: MigrationPlan;
  readonly rootVersion: number;
  readonly timestampVersion: number;
  readonly snapshotVersion: number;
  readonly alreadyDone: boolean;
}

/** Signers for every key of `keys` the key store holds (a refused passphrase counts as not held). */
async function heldSigners(keyStore: KeyStore, keys: ReadonlyMap<string, KeyJson>, crypto: CryptoBackend): Promise<MetadataSigner[]> {
  const out: MetadataSigner[] = [];
  for (const [tufId, key] of keys) {
    try {
      const signer = await keyStore.getSigner(canonicalKeyId(key, crypto), key);
      if (signer.keyId === tufId) out.push(signer);
    } catch (err) {
      if (err instanceof KeyStoreError && err.code === 'KEY_NOT_FOUND') continue;
      throw err;
    }
  }
  return out;
}

function need(role: string, keys: ReadonlyMap<string, KeyJson>, threshold: number, heldIds: ReadonlySet<string>, why: string, crypto: CryptoBackend): KeyNeed {
  const candidates = [...keys.values()].map((k) => canonicalKeyId(k, crypto));
  return { role, candidates, held: candidates.filter((c) => heldIds.has(c)), threshold, why };
}

/** The root as the destination lists it: the source's, with the timestamp (and snapshot) keys replaced. */
export function migratedRoot(source: RootSigned, replace: ReadonlyMap<string, KeyJson>, version: number, now: Date, crypto: CryptoBackend): RootSigned {
  const signed = structuredClone(source);
  signed.keys ??= {};
  signed.roles ??= {};
  for (const [role, key] of replace) {
    const old = signed.roles[role]?.keyids ?? [];
    const id = tufKeyId(key, crypto);
    signed.roles[role] = { keyids: [id], threshold: 1 };
    const stillUsed = new Set(Object.values(signed.roles).flatMap((r) => r?.keyids ?? []));
    for (const o of old) if (!stillUsed.has(o)) delete signed.keys[o];
    signed.keys[id] = publicKeyJson(key.keytype, key.keyval.public);
  }
  signed.version = version;
  signed.expires = expiresAfterDays(now, DEFAULT_EXPIRY_DAYS.root);
  return signed;
}

interface DestinationState {
  readonly state: MigrationPlan['state'];
  readonly rootVersion: number;
  readonly rootBytes?: Uint8Array;
  readonly timestampVersion: number;
  readonly snapshotVersion: number;
}

/** Is `bytes` a root signed by the source's current root keys (this migration's doing, or a later step)? */
function signedBySource(bytes: Uint8Array, options: MigrateOptions, now: Date): boolean {
  const { source, crypto } = options;
  try {
    if (renamed(options)) {
      // A new chain: valid on its own under the new GUN, and certifying only the source's root keys.
      const set = TrustedMetadataSet.bootstrap(bytes, { gun: destGun(options), crypto, clock: () => now });
      const mine = new Set(rootKeyIds(source.root.signed, crypto));
      return rootKeyIds(set.root.signed, crypto).every((id) => mine.has(id));
    }
    TrustedMetadataSet.bootstrap(bytes, { gun: source.gun, crypto, clock: () => now, previousRoot: source.root });
    return true;
  } catch {
    return false;
  }
}

async function destinationState(options: MigrateOptions, now: Date): Promise<DestinationState> {
  const { source, destination } = options;
  const target = renamed(options) ? 1 : source.root.version + 1;
  const versionOf = (b: Uint8Array | undefined, role: string) => (b ? Metadata.fromBytes(b, role).version : 0);
  let rootBytes: Uint8Array | undefined;
  let timestamp: Uint8Array | undefined;
  let snapshot: Uint8Array | undefined;
  if (destination.kind === 'directory') {
    const base = tufDir(destination.dir, destGun(options));
    timestamp = await readLayoutFile(base, 'timestamp.json');
    // Without a timestamp nothing is published yet: whatever an interrupted run wrote is rewritten.
    if (!timestamp) return { state: 'empty', rootVersion: 0, timestampVersion: 0, snapshotVersion: 0 };
    rootBytes = await readLayoutFile(base, 'root.json');
    snapshot = await readLayoutFile(base, 'snapshot.json');
  } else {
    const remote = destination.remote;
    try {
      rootBytes = await remote.getRoot();
    } catch (err) {
      if (err instanceof NotaryError && err.code === 'NOT_FOUND') return { state: 'empty', rootVersion: 0, timestampVersion: 0, snapshotVersion: 0 };
      throw err;
    }
    timestamp = await remote.getTimestamp();
    const meta = Metadata.fromBytes(timestamp, 'timestamp').signed.meta?.['snapshot'];
    const sha = meta?.hashes?.['sha256'];
    const digest = sha === undefined ? undefined : fromBase64(sha);
    if (meta && digest) snapshot = await remote.getRoleByChecksum('snapshot', toHex(digest), meta.length);
  }
  if (!rootBytes || !signedBySource(rootBytes, options, now)) {
    throw new NotaryError('INVALID_ARGUMENT', `${destination.url} already holds trust data for ${destGun(options)} that this migration did not write (its root is not signed by the source's root keys); delete it there first`, {
      where: 'root',
    });
  }
  const rootVersion = versionOf(rootBytes, 'root');
  const timestampVersion = versionOf(timestamp, 'timestamp');
  const snapshotVersion = versionOf(snapshot, 'snapshot');
  // Under a new GUN nobody has pinned anything yet: no rollback floor to clear.
  const complete = rootVersion >= target && (renamed(options) ? timestampVersion >= 1 : timestampVersion > source.timestamp.version && snapshotVersion > source.snapshot.version);
  return { state: complete ? 'complete' : 'partial', rootVersion, rootBytes, timestampVersion, snapshotVersion };
}

/** What a migration will do; reads the destination and the key store's list, asks for no passphrase. */
export async function planMigration(options: MigrateOptions): Promise<MigrationPlan> {
  const { source, destination, keyStore, crypto } = options;
  const now = (options.clock ?? (() => new Date()))();
  const dest = await destinationState(options, now);
  const heldIds = new Set((await keyStore.list()).map((k) => k.keyId));
  const root = source.root.signed;
  const R = source.root.version;
  const isRenamed = renamed(options);
  const final = isRenamed ? 1 : R + 1;
  const snapshotKeys = keysOf(root, 'snapshot');
  const ownerSnapshot = [...snapshotKeys.values()].some((k) => heldIds.has(canonicalKeyId(k, crypto)));
  const keysNeeded: KeyNeed[] = [];
  const warnings: string[] = [];
  const rootWhy = isRenamed
    ? `certifies the same root key(s) for ${destGun(options)} (new certificates) and signs its root version 1`
    : `signs root version ${R + 1}, which lists the new keys`;
  const rootNeed = need('root', keysOf(root, 'root'), root.roles?.['root']?.threshold ?? 1, heldIds, rootWhy, crypto);
  if (isRenamed) {
    warnings.push(`root certificates name the GUN: under ${destGun(options)} this is a new root chain, and clients that pinned ${source.gun} must pin it anew (its root key IDs are the same: ${rootNeed.candidates.join(', ')})`);
  }
  keysNeeded.push(rootNeed);
  if (ownerSnapshot) keysNeeded.push(need('snapshot', snapshotKeys, root.roles?.['snapshot']?.threshold ?? 1, heldIds, 'signs the snapshots at the destination (kept: you hold it)', crypto));
  const resign: string[] = [];
  const omitted: { role: string; reason: string }[] = [];
  for (const s of source.skipped) {
    if (s.error.code === 'EXPIRED' && s.metadata) {
      const parent = source.roles.get(s.role.slice(0, s.role.lastIndexOf('/')));
      const entry = parent?.signed.delegations?.roles?.find((r) => r.name === s.role);
      const keys = new Map<string, KeyJson>();
      for (const id of entry?.keyids ?? []) {
        const k = parent?.signed.delegations?.keys?.[id];
        if (k) keys.set(id, k);
      }
      const n = need(s.role, keys, entry?.threshold ?? 1, heldIds, 're-signs it: it has expired', crypto);
      if (n.held.length >= n.threshold) {
        keysNeeded.push(n);
        resign.push(s.role);
        warnings.push(`${s.role} has expired at the source; it is re-signed, but delegations below it are not carried (they were never verified)`);
        continue;
      }
    }
    omitted.push({ role: s.role, reason: s.error.message });
  }
  if (destination.kind === 'server') {
    for (const s of source.skipped) if (!resign.includes(s.role)) warnings.push(`${s.role} is left out: clients skip it today (${s.error.message})`);
  }
  if (source.unverifiableRootVersions.length > 0) {
    warnings.push(`root versions ${source.unverifiableRootVersions.map((u) => u.version).join(', ')} cannot be verified today and are not carried; clients that pinned them could not update anyway`);
  }
  const copied = destination.kind === 'directory' && !isRenamed ? [...source.rootChain.keys()] : [];
  const reissued: number[] = [];
  const steps: string[] = [];
  if (destination.kind === 'server') {
    const from = dest.state === 'empty' ? 1 : dest.rootVersion + 1;
    for (let v = from; v <= final; v++) reissued.push(v);
    if (!isRenamed && (reissued.length > 1 || R > 1)) warnings.push(`a notary-server cannot store the source's root history; versions ${from}..${R + 1} are re-issued, signed by the current root key, so clients pinned to a root whose keys were rotated since must hold a signature from those keys (older root keys you still hold are used)`);
    const t = dest.state === 'empty' ? 1 : dest.timestampVersion;
    const bumps = isRenamed ? 0 : Math.max(0, source.timestamp.version + 1 - (t + (reissued.length - (dest.state === 'empty' ? 1 : 0))), ownerSnapshot ? 0 : source.snapshot.version + 1 - ((dest.state === 'empty' ? 1 : dest.snapshotVersion) + reissued.length - (dest.state === 'empty' ? 1 : 0)));
    if (dest.state === 'empty') steps.push(`upload root v1 (re-issued), ${[...source.roles.keys()].filter((r) => !omitted.some((o) => o.role === r)).join(', ')}${ownerSnapshot ? ', snapshot' : ''}`);
    if (bumps > 0 && dest.state !== 'complete') steps.push(`${bumps} empty publish(es) to carry the server's timestamp${ownerSnapshot ? '' : ' and snapshot'} versions above the source's`);
    for (const v of reissued.filter((v) => v > 1 || dest.state !== 'empty')) steps.push(`upload root v${v}${v === final ? ' (final; also signed with older root keys held)' : ' (re-issued)'}${ownerSnapshot ? ' + snapshot' : ''}`);
  } else {
    if (copied.length) steps.push(`write ${copied.map((v) => `${v}.root.json`).join(', ')} (verified history, byte for byte)`);
    steps.push(`write targets and delegations by checksum and name (${[...source.roles.keys()].filter((r) => !omitted.some((o) => o.role === r)).join(', ')})`);
    steps.push(`write ${final}.root.json, snapshot v${source.snapshot.version + 1}, root.json`);
    steps.push(`write timestamp v${source.timestamp.version + 1} (last: the directory serves the repository from then on)`);
  }
  return {
    gun: source.gun,
    destinationGun: destGun(options),
    from: '',
    to: destination.url,
    kind: destination.kind,
    state: dest.state,
    destinationRootVersion: dest.rootVersion,
    source: { root: R, timestamp: source.timestamp.version, snapshot: source.snapshot.version, roles: [...source.roles.keys()] },
    newRootVersion: final,
    timestampKey: destination.kind === 'server' ? 'new, generated and held by the destination server' : 'new, local (key store)',
    snapshotKey: ownerSnapshot ? 'kept (yours, local)' : destination.kind === 'server' ? 'new, generated and held by the destination server' : 'new, local (key store)',
    keysNeeded,
    resign,
    omitted,
    rootHistory: { copied, reissued },
    steps: dest.state === 'complete' ? ['nothing: the destination already serves the migrated repository'] : steps,
    warnings,
  };
}

export function describePlan(plan: MigrationPlan): string {
  const lines: string[] = [];
  lines.push(`Migration plan for ${plan.gun}${plan.from ? ` from ${plan.from}` : ''} to ${plan.to} (${plan.kind})${plan.destinationGun !== plan.gun ? ` as ${plan.destinationGun}` : ''}`);
  lines.push(`  source: root v${plan.source.root}, timestamp v${plan.source.timestamp}, snapshot v${plan.source.snapshot}; roles: ${plan.source.roles.join(', ')}`);
  lines.push(`  destination: ${plan.state}${plan.state !== 'empty' ? ` (root v${plan.destinationRootVersion})` : ''}`);
  lines.push(`  new root version: ${plan.newRootVersion}`);
  lines.push(`  timestamp key: ${plan.timestampKey}`);
  lines.push(`  snapshot key: ${plan.snapshotKey}`);
  lines.push('  keys needed (passphrases are asked for these only):');
  for (const k of plan.keysNeeded) {
    lines.push(`    ${k.role}: ${k.threshold} of ${k.candidates.join(', ')} — held: ${k.held.length ? k.held.join(', ') : 'none'} (${k.why})`);
  }
  if (plan.resign.length) lines.push(`  re-signed (expired): ${plan.resign.join(', ')}`);
  for (const o of plan.omitted) lines.push(`  left out: ${o.role} (${o.reason})`);
  if (plan.rootHistory.copied.length) lines.push(`  root history copied: ${plan.rootHistory.copied.join(', ')}`);
  if (plan.rootHistory.reissued.length) lines.push(`  root versions issued at the destination: ${plan.rootHistory.reissued.join(', ')}`);
  lines.push('  steps:');
  for (const s of plan.steps) lines.push(`    - ${s}`);
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n') + '\n';
}

/** Throws before any passphrase is asked when the key store cannot meet a threshold. */
export function assertKeysHeld(plan: MigrationPlan): void {
  for (const k of plan.keysNeeded) {
    if (k.held.length < k.threshold) {
      throw new KeyStoreError('KEY_NOT_FOUND', `migration needs ${k.threshold} ${k.role} key(s) of ${k.candidates.join(', ')}; the key store holds ${k.held.length ? k.held.join(', ') : 'none'}`, {
        where: k.role,
      });
    }
  }
}

/** Runs the plan: signs with the owner's keys, publishes, then verifies the destination as a pinned client would. */
export async function executeMigration(plan: MigrationPlan, options: MigrateOptions): Promise<MigrationResult> {
  const { source, destination, keyStore, crypto } = options;
  const clock = options.clock ?? (() => new Date());
  const now = clock();
  const progress = options.progress ?? (() => {});
  const warn = options.warn ?? (() => {});
  if (plan.state === 'complete') {
    const checked = await verifyAsPinnedClient(options);
    return { plan, ...checked, alreadyDone: true };
  }
  assertKeysHeld(plan);
  for (const w of plan.warnings) warn(w);
  const root = source.root.signed;
  const R = source.root.version;
  const gun = destGun(options);
  const isRenamed = renamed(options);
  const final = plan.newRootVersion;
  const ownerSnapshot = plan.snapshotKey.startsWith('kept');
  const step = killSwitch(options.env);

  // Roles carried: admitted ones byte for byte, expired ones re-signed.
  const roles = new Map<string, Uint8Array>();
  for (const [name, md] of source.roles) roles.set(name, md.bytes!);
  for (const role of plan.resign) {
    const s = source.skipped.find((x) => x.role === role)!;
    const parent = source.roles.get(role.slice(0, role.lastIndexOf('/')))!;
    const entry = parent.signed.delegations!.roles!.find((r) => r.name === role)!;
    const keys = new Map<string, KeyJson>();
    for (const id of entry.keyids ?? []) {
      const k = parent.signed.delegations?.keys?.[id];
      if (k) keys.set(id, k);
    }
    const signed = structuredClone(s.metadata!.signed);
    signed.version += 1;
    signed.expires = expiresAfterDays(now, DEFAULT_EXPIRY_DAYS.targets);
    progress(`re-signing ${role} (expired) as version ${signed.version}`);
    const md = await signMetadata('Targets', signed, role, await heldSigners(keyStore, keys, crypto));
    roles.set(role, md.bytes!);
  }

  // New keys at the destination.
  const replace = new Map<string, KeyJson>();
  let timestampSigner: MetadataSigner | undefined;
  let snapshotSigner: MetadataSigner[] = [];
  if (destination.kind === 'server') {
    replace.set('timestamp', normal(await destination.remote.getKey('timestamp')));
    if (!ownerSnapshot) replace.set('snapshot', normal(await destination.remote.getKey('snapshot')));
  } else {
    const dr = new DirectoryRemote({ dir: destination.dir, gun, keyStore, crypto });
    const ts = await dr.getKey('timestamp');
    replace.set('timestamp', ts);
    timestampSigner = await keyStore.getSigner(canonicalKeyId(ts, crypto), ts);
    if (!ownerSnapshot) {
      const sourceIds = new Set([...keysOf(root, 'snapshot').values()].map((k) => canonicalKeyId(k, crypto)));
      const existing = (await keyStore.list()).find((k) => k.role === 'snapshot' && k.gun === gun && !sourceIds.has(k.keyId));
      let pub: KeyJson;
      if (existing) {
        pub = publicKeyOf((await keyStore.getPrivateKey(existing.keyId)).privateKey); // an interrupted run made it
      } else {
        const key = generateSigningKey(crypto, 'ecdsa');
        await keyStore.add(key.privateKey, { role: 'snapshot', gun });
        pub = key.publicKey;
      }
      replace.set('snapshot', pub);
      snapshotSigner = [await keyStore.getSigner(canonicalKeyId(pub, crypto), pub)];
    }
  }
  if (ownerSnapshot) snapshotSigner = await heldSigners(keyStore, keysOf(root, 'snapshot'), crypto);

  // Root signers: the current root role's keys, and for the final version every older root key held.
  let rootSigners = await heldSigners(keyStore, keysOf(root, 'root'), crypto);
  let rootRole: Map<string, KeyJson> | undefined;
  if (isRenamed) {
    // The same keys, certified for the new GUN; the old certificates (another CN) are of no use there.
    rootRole = new Map();
    const signers: MetadataSigner[] = [];
    for (const key of keysOf(root, 'root').values()) {
      const id = canonicalKeyId(key, crypto);
      let privateKey;
      try {
        privateKey = (await keyStore.getPrivateKey(id)).privateKey;
      } catch (err) {
        if (err instanceof KeyStoreError && (err.code === 'KEY_NOT_FOUND' || err.code === 'BAD_PASSPHRASE')) continue;
        throw err;
      }
      const k = signingKey(rootCertificateKey(privateKey, gun, now, crypto), privateKey, crypto);
      rootRole.set(k.keyId, k.publicKey);
      signers.push(k.signer);
    }
    rootSigners = signers;
  }
  if (rootSigners.length < (root.roles?.['root']?.threshold ?? 1)) throw new KeyStoreError('KEY_NOT_FOUND', 'root keys could not be unlocked', { where: 'root' });
  const legacy = new Map<string, KeyJson>();
  for (const bytes of source.rootChain.values()) {
    const old = Metadata.fromBytes(bytes, 'root').signed;
    for (const [id, k] of keysOf(old, 'root')) if (!rootSigners.some((s) => s.keyId === id)) legacy.set(id, k);
  }
  const legacySigners = legacy.size && !isRenamed ? await heldSigners(keyStore, legacy, crypto) : [];
  const signRoot = async (version: number) => {
    const signed = migratedRoot(root, replace, version, now, crypto);
    if (rootRole) {
      signed.roles!['root'] = { keyids: [...rootRole.keys()], threshold: root.roles?.['root']?.threshold ?? 1 };
      const used = new Set(Object.values(signed.roles!).flatMap((r) => r?.keyids ?? []));
      for (const [id, k] of rootRole) signed.keys![id] = k;
      for (const id of Object.keys(signed.keys!)) if (!used.has(id)) delete signed.keys![id];
    }
    return (await signMetadata('Root', signed, 'root', version === final ? [...rootSigners, ...legacySigners] : rootSigners)).bytes!;
  };
  const signSnapshot = async (rootBytes: Uint8Array, version: number) =>
    (await signMetadata('Snapshot', newSnapshotSigned(new Map([['root', rootBytes], ...roles]), now, crypto, version), 'snapshot', snapshotSigner)).bytes!;

  if (destination.kind === 'directory') {
    const base = tufDir(destination.dir, gun);
    const rootBytes = await signRoot(final);
    // Above the source's versions (a pinned client's rollback floor) and above anything already served here.
    const state = await destinationState(options, now);
    const snapshotBytes = await signSnapshot(rootBytes, Math.max(source.snapshot.version, state.snapshotVersion) + 1);
    const ts = newTimestampSigned(snapshotBytes, now, crypto, Math.max(source.timestamp.version, state.timestampVersion) + 1);
    ts.expires = expiresAfterDays(now, options.timestampExpiryDays ?? DEFAULT_EXPIRY_DAYS.timestamp);
    const tsBytes = (await signMetadata('Timestamp', ts, 'timestamp', [timestampSigner!])).bytes!;
    const files = layoutFiles(new Map([...roles, ['snapshot', snapshotBytes], ['root', rootBytes]]), tsBytes, crypto, isRenamed ? new Map() : source.rootChain, final);
    await ensurePingable(destination.dir);
    let written = 0;
    await writeLayout(base, files, () => {
      written++;
      if (written % 10 === 0 || written === files.length) progress(`wrote ${written}/${files.length} files`);
      step();
    });
  } else {
    const remote = destination.remote;
    const state = await destinationState(options, now);
    let rootVersion = state.rootVersion;
    let rootBytes = state.rootBytes;
    let tsVersion = state.timestampVersion;
    let snapVersion = state.snapshotVersion;
    const post = async (files: Map<string, Uint8Array>, what: string) => {
      await remote.publish(files);
      tsVersion++;
      if (!ownerSnapshot) snapVersion++;
      progress(`published ${what} (timestamp v${tsVersion})`);
      step();
    };
    if (state.state === 'empty') {
      rootBytes = await signRoot(1);
      const files = new Map<string, Uint8Array>([['root', rootBytes], ...roles]);
      if (ownerSnapshot) {
        snapVersion = source.snapshot.version + 1;
        files.set('snapshot', await signSnapshot(rootBytes, snapVersion));
      }
      await post(files, 'root v1 and the targets roles');
      rootVersion = 1;
    }
    // Advance the server's timestamp (and snapshot) versions; each remaining root step adds one more.
    const rootSteps = final - rootVersion;
    const snapshotFiles = async (root: Uint8Array): Promise<Map<string, Uint8Array>> =>
      ownerSnapshot ? new Map([['snapshot', await signSnapshot(root, ++snapVersion)]]) : new Map();
    while (!isRenamed && tsVersion + rootSteps <= source.timestamp.version || (!ownerSnapshot && snapVersion + rootSteps <= source.snapshot.version)) {
      await post(await snapshotFiles(rootBytes!), 'an empty update');
    }
    for (let v = rootVersion + 1; v <= final; v++) {
      rootBytes = await signRoot(v);
      await post(new Map([['root', rootBytes], ...(await snapshotFiles(rootBytes))]), `root v${v}`);
    }
  }
  progress('verifying the destination as a client that pinned the source root');
  const checked = await verifyAsPinnedClient(options);
  return { plan, ...checked, alreadyDone: false };
}

function normal(key: KeyJson): KeyJson {
  return publicKeyJson(key.keytype, key.keyval.public);
}

/** A remote reading the destination (the directory through DirectoryRemote). */
export function destinationReader(destination: Destination, gun: string, crypto: CryptoBackend): MetadataRemote {
  return destination.kind === 'server' ? destination.remote : new DirectoryRemote({ dir: destination.dir, gun, crypto });
}

/**
 * Opens the destination as a client that cached the source (its root, timestamp and snapshot are the pin
 * and the rollback floors) and checks that every target of every role is unchanged.
 */
export async function verifyAsPinnedClient(options: MigrateOptions): Promise<{ rootVersion: number; timestampVersion: number; snapshotVersion: number }> {
  const { source, destination, crypto } = options;
  const cache = new MemoryMetadataCache();
  const gun = destGun(options);
  if (!renamed(options)) {
    await cache.set('root', source.root.bytes!);
    await cache.set('timestamp', source.timestamp.bytes!);
    await cache.set('snapshot', source.snapshot.bytes!);
  }
  const remote = destinationReader(destination, gun, crypto);
  const repo = await TrustedRepository.open({ gun, remote, cache, crypto, ...(options.clock ? { clock: options.clock } : {}) });
  await repo.loadAll();
  const set = repo.trusted;
  if (renamed(options)) {
    // No pin under a new GUN: what ties it to the source is that its root keys are the source's.
    const mine = new Set(rootKeyIds(source.root.signed, crypto));
    if (!rootKeyIds(set.root.signed, crypto).every((id) => mine.has(id))) {
      throw new NotaryError('ROOT_ROTATION_FAILED', `the root at ${destination.url} for ${gun} certifies keys that are not the source's root keys`, { where: 'root' });
    }
  }
  for (const [name, md] of source.roles) {
    const got = set.roles.get(name);
    if (!got) throw new NotaryError('ROLE_NOT_FOUND', `${name} is missing at ${destination.url} after the migration`, { where: name });
    const a = JSON.stringify(md.signed.targets ?? {});
    const b = JSON.stringify(got.metadata.signed.targets ?? {});
    if (a !== b) throw new NotaryError('HASH_MISMATCH', `${name} lists other targets at ${destination.url} than at the source`, { where: name });
  }
  if (isExpired(set.timestamp!.expires, new Date())) throw new NotaryError('EXPIRED', 'the destination timestamp has expired', { where: 'timestamp' });
  return { rootVersion: set.root.version, timestampVersion: set.timestamp!.version, snapshotVersion: set.snapshot!.version };
}
