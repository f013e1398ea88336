/**
 * Keeping trust data on static hosting alive and auditable:
 *
 * * `refreshTimestamp`: a directory has no server to re-sign its timestamp every 14 days. This re-signs it
 *   (and the snapshot when it is due) with the local keys — after verifying what it signs over, so a
 *   tampered directory is never re-endorsed. Meant for a cron job or a CI schedule.
 * * `mirrorRepository`: a read-only consumer's verified copy of a repository (no keys): the files byte for
 *   byte, plus a record of when they were verified. Once the source is gone, `openMirror` verifies the copy
 *   "as of" that time (with a warning that this is not a statement about now).
 */
import { join } from 'node:path';
import { newSnapshotSigned, newTimestampSigned, signMetadata, type MetadataSigner } from '../core/build.js';
import { utf8Decode, utf8Encode } from '../core/bytes.js';
import type { CryptoBackend } from '../core/crypto.js';
import { KeyStoreError, NotaryError } from '../core/errors.js';
import { canonicalKeyId } from '../core/keys.js';
import { Metadata, type KeyJson, type RootSigned } from '../core/metadata.js';
import { DAY_MS, DEFAULT_EXPIRY_DAYS, expiresAfterDays, goTimeToDate } from '../core/time.js';
import { MemoryMetadataCache } from '../node/cache.js';
import { DirectoryRemote } from '../node/directory-remote.js';
import { keysOf } from '../repository/writer.js';
import { readFileIfExists, writeFileAtomic } from '../node/fs-atomic.js';
import type { KeyStore } from '../node/keystore.js';
import { TrustedRepository, type MetadataRemote } from '../repository/reader.js';
import { ensurePingable, layoutFiles, tufDir, writeLayout } from './layout.js';
import { loadVerifiedSource, type VerifiedSource } from './source.js';

async function signersFor(keyStore: KeyStore, root: RootSigned, role: string, crypto: CryptoBackend): Promise<MetadataSigner[]> {
  const out: MetadataSigner[] = [];
  for (const [id, key] of keysOf(root, role)) {
    try {
      const s = await keyStore.getSigner(canonicalKeyId(key, crypto), key);
      if (s.keyId === id) out.push(s);
    } catch (err) {
      if (!(err instanceof KeyStoreError && err.code === 'KEY_NOT_FOUND')) throw err;
    }
  }
  const threshold = root.roles?.[role]?.threshold ?? 1;
  if (out.length < threshold) {
    throw new KeyStoreError('KEY_NOT_FOUND', `no ${role} key for this repository in the key store (need ${threshold} of ${[...keysOf(root, role).values()].map((k) => canonicalKeyId(k, crypto)).join(', ')})`, {
      where: role,
    });
  }
  return out;
}

export interface RefreshOptions {
  readonly dir: string;
  readonly gun: string;
  readonly keyStore: KeyStore;
  readonly crypto: CryptoBackend;
  /** The root the owner trusts (from the trust_dir cache); without one the directory's root is taken as is. */
  readonly pinnedRoot?: Uint8Array;
  readonly clock?: () => Date;
  /** Re-sign the snapshot when it expires within this many days (default 30). */
  readonly snapshotMarginDays?: number;
  /** Timestamp lifetime in days (default 14, as notary-server). */
  readonly timestampExpiryDays?: number;
  readonly warn?: (message: string) => void;
}

export interface RefreshResult {
  readonly timestampVersion: number;
  readonly timestampExpires: string;
  readonly snapshotResigned: boolean;
  readonly snapshotVersion: number;
}

/** Verifies the directory's repository and signs a new timestamp (and snapshot when due). */
export async function refreshTimestamp(options: RefreshOptions): Promise<RefreshResult> {
  const { dir, gun, keyStore, crypto } = options;
  const now = (options.clock ?? (() => new Date()))();
  const base = tufDir(dir, gun);
  const current = await readFileIfExists(join(base, 'timestamp.json'));
  if (!current) throw new NotaryError('NOT_FOUND', `${dir} has no trust data for ${gun}`, { where: 'timestamp' });
  // Verify what we are about to endorse. An expired timestamp is what this command exists to replace: judge
  // the rest as of just before it lapsed, then require root and targets to be valid now.
  const tsExpiry = goTimeToDate(Metadata.fromBytes(current, 'timestamp').expires);
  const at = tsExpiry.getTime() > now.getTime() ? now : new Date(tsExpiry.getTime() - 1000);
  const cache = new MemoryMetadataCache();
  if (options.pinnedRoot) await cache.set('root', options.pinnedRoot);
  const repo = await TrustedRepository.open({ gun, remote: new DirectoryRemote({ dir, gun, crypto }), cache, crypto, clock: () => at });
  const report = await repo.loadAll();
  for (const s of report.skipped) options.warn?.(`${s.role} is skipped by clients: ${s.error.message}`);
  const set = repo.trusted;
  for (const md of [set.root, set.targets!.metadata]) {
    if (goTimeToDate(md.expires).getTime() <= now.getTime()) {
      throw new NotaryError('EXPIRED', `${md === set.root ? 'root' : 'targets'} has expired: re-sign it with the owner's key (notary-ts publish), a timestamp cannot help`, { where: md === set.root ? 'root' : 'targets' });
    }
  }
  const root = set.root.signed;
  const timestampSigners = await signersFor(keyStore, root, 'timestamp', crypto);
  let snapshotBytes = set.snapshot!.bytes!;
  let snapshotVersion = set.snapshot!.version;
  const margin = (options.snapshotMarginDays ?? 30) * DAY_MS;
  const snapshotResigned = goTimeToDate(set.snapshot!.expires).getTime() - now.getTime() < margin;
  if (snapshotResigned) {
    const files = new Map<string, Uint8Array>([['root', set.root.bytes!]]);
    for (const [name, trusted] of set.roles) files.set(name, trusted.metadata.bytes!);
    snapshotVersion += 1;
    const md = await signMetadata('Snapshot', newSnapshotSigned(files, now, crypto, snapshotVersion), 'snapshot', await signersFor(keyStore, root, 'snapshot', crypto));
    snapshotBytes = md.bytes!;
  }
  const ts = newTimestampSigned(snapshotBytes, now, crypto, set.timestamp!.version + 1);
  ts.expires = expiresAfterDays(now, options.timestampExpiryDays ?? DEFAULT_EXPIRY_DAYS.timestamp);
  const tsBytes = (await signMetadata('Timestamp', ts, 'timestamp', timestampSigners)).bytes!;
  await writeLayout(base, layoutFiles(snapshotResigned ? new Map([['snapshot', snapshotBytes]]) : new Map(), tsBytes, crypto));
  return { timestampVersion: ts.version, timestampExpires: ts.expires, snapshotResigned, snapshotVersion };
}

/** What a mirror records next to the trust data (`v2/<gun>/_trust/notary-ts-mirror.json`). */
export interface MirrorRecord {
  readonly gun: string;
  readonly from: string;
  /** When everything was verified (RFC 3339). */
  readonly verifiedAt: string;
  readonly rootVersion: number;
  readonly timestampVersion: number;
  readonly timestampExpires: string;
}

function recordPath(dir: string, gun: string): string {
  return join(tufDir(dir, gun), '..', 'notary-ts-mirror.json');
}

export async function readMirrorRecord(dir: string, gun: string): Promise<MirrorRecord | undefined> {
  const bytes = await readFileIfExists(recordPath(dir, gun));
  if (!bytes) return undefined;
  try {
    return JSON.parse(utf8Decode(bytes)) as MirrorRecord;
  } catch (err) {
    throw new NotaryError('MALFORMED_JSON', `${recordPath(dir, gun)} is not valid JSON`, { where: recordPath(dir, gun), cause: err });
  }
}

export interface MirrorOptions {
  readonly gun: string;
  readonly remote: MetadataRemote;
  readonly dir: string;
  readonly crypto: CryptoBackend;
  /** The consumer's pinned root (trust_dir cache), used when the mirror is new. */
  readonly pinnedRoot?: Uint8Array;
  readonly clock?: () => Date;
  readonly progress?: (message: string) => void;
  readonly log?: { warn(m: string): void; debug(m: string): void };
}

/**
 * Verifies the source (the mirror's own previous copy, else the consumer's pinned root, is the pin and the
 * rollback floor) and writes it byte for byte: a Notary client pointed at the mirror sees the source.
 */
export async function mirrorRepository(options: MirrorOptions): Promise<{ source: VerifiedSource; record: MirrorRecord }> {
  const { gun, dir, crypto } = options;
  const base = tufDir(dir, gun);
  const cache = new MemoryMetadataCache();
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
    const bytes = await readFileIfExists(join(base, `${role}.json`));
    if (bytes) await cache.set(role, bytes);
  }
  if (!(await cache.get('root')) && options.pinnedRoot) await cache.set('root', options.pinnedRoot);
  const source = await loadVerifiedSource({
    gun,
    remote: options.remote,
    cache,
    crypto,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const roles = new Map<string, Uint8Array>();
  for (const [name, md] of source.roles) roles.set(name, md.bytes!);
  roles.set('snapshot', source.snapshot.bytes!);
  roles.set('root', source.root.bytes!);
  const files = layoutFiles(roles, source.timestamp.bytes!, crypto, source.rootChain);
  await ensurePingable(dir);
  await writeLayout(base, files);
  const record: MirrorRecord = {
    gun,
    from: options.remote.host,
    verifiedAt: source.verifiedAt.toISOString(),
    rootVersion: source.root.version,
    timestampVersion: source.timestamp.version,
    timestampExpires: source.timestamp.signed.expires,
  };
  await writeFileAtomic(recordPath(dir, gun), utf8Encode(JSON.stringify(record, null, 2) + '\n'));
  options.progress?.(`mirrored ${files.length} files (${source.roles.size} targets roles) to ${dir}`);
  return { source, record };
}

/**
 * Opens a mirror for an audit: verified as of `asOf` (default: when the mirror was taken). The caller must
 * say so to its user — this is what the repository said then, not a statement about now.
 */
export async function openMirror(options: {
  dir: string;
  gun: string;
  crypto: CryptoBackend;
  asOf?: Date;
  pinnedRoot?: Uint8Array;
}): Promise<{ repo: TrustedRepository; asOf: Date; record: MirrorRecord | undefined; pinUsed: boolean }> {
  const record = await readMirrorRecord(options.dir, options.gun);
  const asOf = options.asOf ?? (record ? new Date(record.verifiedAt) : undefined);
  if (!asOf || Number.isNaN(asOf.getTime())) {
    throw new NotaryError('INVALID_ARGUMENT', `${options.dir} holds no mirror record for ${options.gun}; give the time to verify at (--as-of)`, { where: options.dir });
  }
  const cache = new MemoryMetadataCache();
  const remote = new DirectoryRemote({ dir: options.dir, gun: options.gun, crypto: options.crypto });
  // A pin newer than the mirror (the auditor has followed the repository since) cannot vouch for an older
  // copy: the mirror is then judged on its own root, and the caller says so.
  let pinUsed = false;
  if (options.pinnedRoot) {
    const mirrored = await remote.getRoot().then((b) => Metadata.fromBytes(b, 'root').version, () => undefined);
    const pinned = Metadata.fromBytes(options.pinnedRoot, 'root').version;
    if (mirrored === undefined || pinned <= mirrored) {
      await cache.set('root', options.pinnedRoot);
      pinUsed = true;
    }
  }
  const repo = await TrustedRepository.open({ gun: options.gun, remote, cache, crypto: options.crypto, clock: () => asOf });
  return { repo, asOf, record, pinUsed };
}
