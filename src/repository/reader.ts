/**
 * The verification side: Notary's update workflow against a remote (or offline, from the cache), and the
 * questions deploy tooling asks — which digest is target T, which role signed it, what is delegated.
 *
 * Workflow (as Notary's client): the cached root is the pin (else trust on first use or trust pinning);
 * the timestamp is always downloaded, falling back to the cached one when the server cannot be reached;
 * snapshot, targets and delegations are used from the cache when their bytes match what the parent
 * pins, else downloaded by checksum; any failure triggers one root refresh (with a walk over N.root.json
 * when the new root is not signed by the old keys) and one retry. Only verified files reach the cache, and
 * only once the whole top-level update has succeeded (a downloaded root included).
 *
 * Beyond Go notary, without changing what is accepted: delegations are fetched concurrently (admitted in
 * Notary's order), and a lookup fetches only the roles whose paths can contain the target.
 */
import { toHex, fromBase64, bytesEqual, toBase64 } from '../core/bytes.js';
import { listTargets, lookupTarget, walkDelegations, type TargetRecord, type WalkReport } from '../core/collection.js';
import type { CryptoBackend } from '../core/crypto.js';
import { NotaryError, RemoteError, TargetNotFoundError } from '../core/errors.js';
import { Metadata, ownEntry, type FileMetaJson } from '../core/metadata.js';
import { peekSignedVersion } from '../core/peek.js';
import type { TrustPinning } from '../core/root.js';
import type { DelegatedRole } from '../core/targets.js';
import { TrustedMetadataSet } from '../core/trusted.js';
import { walkRootVersions } from '../core/load.js';
import { newVerifyContext, pathAllowed, verifyFileMeta } from '../core/verify.js';
import type { MetadataCache } from '../node/cache.js';
import { ReadLimit } from '../node/read-limit.js';

/** What the reader needs from a Notary server (src/node/remote.ts implements it over HTTP). */
export interface MetadataRemote {
  /** The server's host, as Notary names it in messages. */
  readonly host: string;
  getTimestamp(): Promise<Uint8Array>;
  getRoot(): Promise<Uint8Array>;
  getRootVersion(version: number): Promise<Uint8Array>;
  getRoleByChecksum(role: string, sha256Hex: string, maxLength: number): Promise<Uint8Array>;
  getRole(role: string, maxLength: number): Promise<Uint8Array>;
  /** Optional: `<role>.json` before its length is known, pausing at a provisional limit (see NotaryRemote). */
  getRoleSpeculatively?(role: string, limit: ReadLimit, signal: AbortSignal): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** A download started before its parent pinned it: used only if it turns out to match the parent's hashes. */
interface EarlyFetch {
  /** Settled to the parent's stated length once that is known. */
  readonly limit: ReadLimit;
  readonly bytes: Promise<Uint8Array>;
}

/** What an early download may hold before its parent states its length: a small snapshot or targets. */
const EARLY_PROVISIONAL_BYTES = 1 << 20;

export interface ReaderLogger {
  warn(message: string): void;
  debug(message: string): void;
}

export interface OpenOptions {
  readonly gun: string;
  /** Undefined means offline: only the cache is used. */
  readonly remote: MetadataRemote | undefined;
  readonly cache: MetadataCache;
  readonly crypto: CryptoBackend;
  readonly clock?: () => Date;
  readonly trustPinning?: TrustPinning;
  readonly log?: ReaderLogger;
  /** Downloads in flight at once while walking delegations (default 8). */
  readonly concurrency?: number;
  /**
   * Write verified metadata to the cache in the background instead of before returning (a CLI prints a
   * 50k-target listing while its 10 MB targets.json is written and fsynced). `cacheWritten()` resolves when
   * every write so far has finished; a failed write is then a warning, as in the Go client, where a cache
   * write error never fails a read. Default false: writes finish, or fail the call, before it returns.
   */
  readonly deferCacheWrites?: boolean;
}

/** Notary's words when the cached timestamp stands in for one the server could not give. */
const CACHED_TIMESTAMP_WARNING = 'Error while downloading remote metadata, using cached timestamp - this might not be the latest version available remotely';

const FALLBACK_CODES = new Set(['NOT_FOUND', 'NETWORK', 'TIMEOUT', 'SERVER_ERROR', 'OFFLINE']);
const silent: ReaderLogger = { warn: () => {}, debug: () => {} };

function offline(): NotaryError {
  return new RemoteError('OFFLINE', 'client is offline');
}

/** The version of a cached copy, which a download must not go below (rollback protection). */
function cachedVersion(bytes: Uint8Array | undefined, role: string): number {
  if (!bytes) return 1;
  // Only the number is needed: skip over the bytes (10 ms for 10 MB) instead of parsing them (250 ms).
  const peeked = peekSignedVersion(bytes);
  if (peeked !== undefined) return peeked;
  try {
    return Metadata.fromBytes(bytes, role).version;
  } catch {
    return 1;
  }
}

function sha256Hex(meta: FileMetaJson): string | undefined {
  const b64 = meta.hashes?.['sha256'];
  const bytes = b64 === undefined ? undefined : fromBase64(b64);
  return bytes ? toHex(bytes) : undefined;
}

/** A simple counting semaphore: at most `limit` downloads at once. */
function limiter(limit: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

export class TrustedRepository {
  private constructor(
    private set: TrustedMetadataSet,
    private readonly options: OpenOptions,
    private readonly log: ReaderLogger,
  ) {}

  get gun(): string {
    return this.options.gun;
  }
  /** The trusted metadata (root, timestamp, snapshot, targets and admitted delegations). */
  get trusted(): TrustedMetadataSet {
    return this.set;
  }

  /** Runs Notary's update workflow and returns a repository whose top-level roles are trusted. */
  static async open(options: OpenOptions): Promise<TrustedRepository> {
    const log = options.log ?? silent;
    const remote = options.remote;
    // The timestamp is always downloaded first after the root: ask for it while the root is fetched.
    const prefetched = remote?.getTimestamp();
    prefetched?.catch(() => {}); // handled where it is awaited; bootstrap may fail first
    const cachedRoot = await options.cache.get('root');
    // Nothing cached (first use, or an ephemeral CI runner): snapshot and targets will be needed too, so
    // ask for them by their current names now — one round trip instead of three. They are used only if
    // their hashes match what the timestamp and snapshot then pin; otherwise Notary's by-checksum download
    // follows as usual. With a cache, nothing is fetched early (the cached copies are usually current).
    const abandon = new AbortController();
    const early = new Map<string, EarlyFetch>();
    if (!cachedRoot && remote?.getRoleSpeculatively) {
      for (const role of ['snapshot', 'targets']) {
        const limit = new ReadLimit(EARLY_PROVISIONAL_BYTES);
        const bytes = remote.getRoleSpeculatively(role, limit, abandon.signal);
        bytes.catch(() => {}); // judged where it is used
        early.set(role, { limit, bytes });
      }
    }
    try {
      const { set, downloaded } = await bootstrap(options, log, cachedRoot);
      const repo = new TrustedRepository(set, options, log);
      repo.early = early;
      // A downloaded root is cached with the rest, once the whole update has succeeded: a root whose
      // timestamp, snapshot or targets are then refused must not become the pin (issue 9, defect 5).
      if (downloaded) repo.pendingCache.set('root', downloaded);
      try {
        await repo.updateTopLevel(prefetched);
      } catch (err) {
        log.debug(`update failed (${(err as Error).message}); refreshing root and retrying once`);
        if (!remote) throw err;
        const refreshed = await refreshRoot(repo.set, options, log);
        repo.set = refreshed.set;
        repo.pendingCache.set('root', refreshed.downloaded);
        await repo.updateTopLevel();
      }
      await repo.flushCache();
      return repo;
    } finally {
      abandon.abort(); // whatever was fetched early and not used
    }
  }

  /** Downloads started before their parent pinned them (see open). */
  private early = new Map<string, EarlyFetch>();

  private async updateTopLevel(prefetchedTimestamp?: Promise<Uint8Array>): Promise<void> {
    const { cache, remote } = this.options;
    const set = this.set;
    // Timestamp: always downloaded; the cached copy stands in only when the server cannot answer.
    const cachedTimestamp = await cache.get('timestamp');
    let remoteError: unknown;
    if (remote) {
      try {
        const bytes = await (prefetchedTimestamp ?? remote.getTimestamp());
        set.updateTimestamp(bytes, { minVersion: cachedVersion(cachedTimestamp, 'timestamp') });
        // cached with the rest once the whole top-level update succeeds (see flushCache)
        this.pendingCache.set('timestamp', bytes);
      } catch (err) {
        if (!(err instanceof NotaryError && FALLBACK_CODES.has(err.code))) throw err;
        remoteError = err;
      }
    } else {
      remoteError = offline();
    }
    if (!set.timestamp) {
      if (!cachedTimestamp) throw remoteError;
      // once per open, though the update may run twice (after a root refresh)
      if (!this.warnedCachedTimestamp) {
        this.warnedCachedTimestamp = true;
        this.log.warn(CACHED_TIMESTAMP_WARNING);
      }
      set.updateTimestamp(cachedTimestamp);
    }
    const snapshot = await this.fetchPinned('snapshot', set.timestamp!.signed.meta?.['snapshot'] ?? undefined);
    set.updateSnapshot(snapshot, { minVersion: this.minVersion('snapshot') });
    const targets = await this.fetchPinned('targets', set.snapshotMeta('targets'));
    set.updateTargets(targets, { minVersion: this.minVersion('targets') });
  }

  /**
   * The bytes of a role its parent pins: the cached copy when its hashes match (it is then byte-identical
   * to what the server holds), else a download by checksum, cached once verified by the caller's admission.
   */
  private async fetchPinned(role: string, meta: FileMetaJson | undefined): Promise<Uint8Array> {
    const { cache, remote } = this.options;
    const ctx = newVerifyContext(this.options.crypto);
    // Only a cached copy of the length the parent states can match its hashes: where the cache can tell a
    // size, a stale 10 MB targets.json is not read before the download starts (only its version is needed).
    const size = cache.size ? await cache.size(role) : undefined;
    const mayMatch = !cache.size || (size !== undefined && (!meta || meta.length <= 0 || size === meta.length));
    const cached = mayMatch ? await cache.get(role) : undefined;
    if (cached && meta && (meta.length <= 0 || cached.length === meta.length)) {
      try {
        verifyFileMeta(cached, role, meta, ctx);
        return cached;
      } catch {
        this.log.debug(`cached ${role} is stale, must download`);
      }
    }
    if (!remote) throw offline();
    if (!meta) {
      throw new NotaryError('NO_CHECKSUMS', `no checksums for supported algorithms were provided for ${role}`, { where: role });
    }
    // A download must not go below the version of the cached copy (rollback protection, as Go's oldBuilder);
    // an unread stale copy is read while the download runs.
    const floor: Promise<number | undefined> = cached
      ? Promise.resolve(cachedVersion(cached, role))
      : size !== undefined
        ? cache.get(role).then((b) => (b ? cachedVersion(b, role) : undefined))
        : Promise.resolve(undefined);
    floor.catch(() => {}); // awaited below
    const bytes = await this.download(role, meta, ctx);
    const version = await floor;
    if (version !== undefined) this.minVersions.set(role, version);
    // Cache only after admission succeeds; admission happens right after this returns, so write then.
    this.pendingCache.set(role, bytes);
    return bytes;
  }

  /** The pinned file from the server: fetched early by current name if that matches, else by checksum. */
  private async download(role: string, meta: FileMetaJson, ctx: ReturnType<typeof newVerifyContext>): Promise<Uint8Array> {
    const remote = this.options.remote!;
    const early = this.early.get(role);
    this.early.delete(role);
    if (early) {
      early.limit.settle(meta.length > 0 ? meta.length : Number.POSITIVE_INFINITY);
      try {
        const bytes = await early.bytes;
        // Enough to tell whether this is the pinned file; admission then checks every hash.
        const sha256 = meta.hashes?.['sha256'];
        if (sha256 !== undefined && (meta.length <= 0 || bytes.length <= meta.length)) {
          if (toBase64(this.options.crypto.sha256(bytes)) !== sha256) throw new Error('sha256 differs');
        } else {
          verifyFileMeta(bytes, role, meta, ctx);
        }
        return bytes;
      } catch (err) {
        this.log.debug(`${role}.json fetched early is not the one pinned (${(err as Error).message}); downloading by checksum`);
      }
    }
    const hex = sha256Hex(meta);
    return hex ? remote.getRoleByChecksum(role, hex, meta.length) : remote.getRole(role, meta.length);
  }

  private warnedCachedTimestamp = false;
  private readonly pendingCache = new Map<string, Uint8Array>();
  /** Per role, the version of the cached copy a download replaced: the lowest version admissible. */
  private readonly minVersions = new Map<string, number>();

  private minVersion(role: string): number {
    return this.minVersions.get(role) ?? 1;
  }

  private async flushCache(): Promise<void> {
    const verified: [string, Uint8Array][] = [];
    for (const [role, bytes] of this.pendingCache) {
      const trusted =
        role === 'root' ? this.set.root : role === 'timestamp' ? this.set.timestamp : role === 'snapshot' ? this.set.snapshot : this.set.roles.get(role)?.metadata;
      if (trusted?.bytes && bytesEqual(trusted.bytes, bytes)) verified.push([role, bytes]);
    }
    verified.sort(([a], [b]) => Number(b === 'root') - Number(a === 'root')); // the root first
    this.pendingCache.clear();
    const write = async (): Promise<void> => {
      for (const [role, bytes] of verified) await this.options.cache.set(role, bytes);
    };
    if (!this.options.deferCacheWrites) return write();
    // In order after earlier writes; a failure is reported, not thrown (see OpenOptions.deferCacheWrites).
    this.writes = this.writes.then(write).catch((err: unknown) => this.log.warn(`could not write metadata to the cache: ${(err as Error).message}`));
  }

  private writes: Promise<void> = Promise.resolve();

  /** Resolves when every cache write started so far has finished (see OpenOptions.deferCacheWrites). */
  cacheWritten(): Promise<void> {
    return this.writes;
  }

  /** Delegations skipped (expired or below threshold) in the last full walk. */
  lastSkipped: WalkReport['skipped'] = [];

  /** Walks delegations (optionally pruned), prefetching children concurrently. */
  private async walk(shouldVisit?: (role: DelegatedRole) => boolean): Promise<WalkReport> {
    const run = limiter(this.options.concurrency ?? 8);
    const inflight = new Map<string, Promise<Uint8Array>>();
    const fetchRole = (role: string, meta: FileMetaJson) => {
      let p = inflight.get(role);
      if (!p) {
        p = run(() => this.fetchPinned(role, meta));
        p.catch(() => {}); // observed when awaited; avoid unhandled rejections for pruned prefetches
        inflight.set(role, p);
      }
      return p;
    };
    const report = await walkDelegations(this.set, (role, meta) => fetchRole(role, meta), {
      ...(shouldVisit ? { shouldVisit } : {}),
      minVersion: (role) => this.minVersion(role),
      onAdmitted: (children) => {
        for (const child of children) {
          const meta = this.set.snapshotMeta(child.name);
          if (meta && !this.set.roles.has(child.name)) fetchRole(child.name, meta);
        }
      },
    });
    await this.flushCache();
    for (const s of report.skipped) this.log.warn(`Error getting ${s.role}: ${s.error.message}`);
    if (!shouldVisit) this.lastSkipped = report.skipped;
    return report;
  }

  /**
   * Brings a long-lived repository up to date (a webhook, a deploy daemon). Asks only for timestamp.json:
   * when it is byte for byte the one already trusted and nothing trusted has expired since, that is all —
   * one request, no signature to check again. Otherwise Notary's whole update workflow runs again (from the
   * cache, so only what changed is downloaded) and replaces the trusted state. A server that cannot be
   * reached keeps the current state while it is unexpired, with Notary's warning; past expiry the full
   * update decides (and fails closed). Resolves true when the trusted state changed.
   */
  async refresh(): Promise<boolean> {
    const remote = this.options.remote;
    const current = this.set.timestamp;
    if (remote && current?.bytes) {
      let latest: Uint8Array | undefined;
      try {
        latest = await remote.getTimestamp();
      } catch (err) {
        if (!(err instanceof NotaryError && FALLBACK_CODES.has(err.code))) throw err;
        if (this.unexpired()) {
          this.log.warn(CACHED_TIMESTAMP_WARNING);
          return false;
        }
      }
      if (latest !== undefined && bytesEqual(latest, current.bytes) && this.unexpired()) return false;
    }
    const next = await TrustedRepository.open(this.options);
    this.set = next.set;
    this.lastSkipped = [];
    return true;
  }

  /** Whether every trusted file is still unexpired by the repository's clock. */
  private unexpired(): boolean {
    const now = this.set.now.getTime() / 1000;
    return this.set.files().every(([, md]) => md.expires.unixSeconds > now);
  }

  /** Releases the remote's connections. */
  async close(): Promise<void> {
    await this.options.remote?.close?.();
  }

  /** Admits the whole delegation tree (as Notary's update does) and reports what was skipped. */
  async loadAll(): Promise<WalkReport> {
    return this.walk();
  }

  /** Every target, as `notary list` shows them (optionally starting from the given roles). */
  async listTargets(roles: readonly string[] = ['targets']): Promise<TargetRecord[]> {
    await this.walk();
    return listTargets(this.set, roles);
  }

  /**
   * The target `name` as Notary's GetTargetByName answers: each role of `roles` in turn, breadth-first below
   * it, the first entry within its paths wins — so the role list's order decides, never what an earlier call
   * happened to fetch. Only roles whose paths can contain the name are fetched, and the walk is skipped only
   * when the answer cannot depend on it (the top-level role comes first and holds the name).
   */
  async lookup(name: string, roles: readonly string[] = ['targets']): Promise<TargetRecord> {
    await this.flushCache();
    const top = this.set.targets!;
    const answeredByTop = roles[0] === 'targets' && ownEntry(top.metadata.signed.targets, name) !== undefined;
    if (!answeredByTop) await this.walk((role) => pathAllowed(role.paths, name));
    return lookupTarget(this.set, name, roles);
  }

  /** All delegation roles reachable from targets, after walking the tree. */
  async delegations(): Promise<DelegatedRole[]> {
    await this.walk();
    const out: DelegatedRole[] = [];
    const visit = (parent: string) => {
      const trusted = this.set.roles.get(parent);
      for (const r of trusted?.metadata.signed.delegations?.roles ?? []) {
        const child = this.set.roles.get(r.name)?.role;
        const entry = child ?? { name: r.name, keys: new Map(), threshold: r.threshold, paths: r.paths ?? [] };
        out.push(entry);
        visit(r.name);
      }
    };
    visit('targets');
    return out;
  }

  /**
   * Checks a digest (e.g. an image manifest's sha256, as a registry reports it) against the trusted target:
   * the target must list that sha256 (and that length, when given). Returns the target with its signers.
   */
  async verifyDigest(name: string, digest: { sha256: string; length?: number }, roles?: readonly string[]): Promise<TargetRecord> {
    const target = await this.lookup(name, roles);
    const expected = target.hashes['sha256'];
    const got = digest.sha256.replace(/^sha256:/, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(got)) throw new NotaryError('INVALID_ARGUMENT', `invalid sha256 digest ${JSON.stringify(digest.sha256)}`, { where: name });
    const listed = expected === undefined ? undefined : fromBase64(expected);
    if (!listed || toHex(listed) !== got) {
      throw new TargetNotFoundError('HASH_MISMATCH', `data not present in the trusted collection, sha256 checksum for ${name} did not match: expected ${listed ? toHex(listed) : '(none listed)'}`, {
        where: name,
      });
    }
    if (digest.length !== undefined && digest.length !== target.length) {
      throw new TargetNotFoundError('HASH_MISMATCH', `data not present in the trusted collection, length of ${name} is ${target.length}, not ${digest.length}`, { where: name });
    }
    return target;
  }

  /** Checks content against the trusted target: every known hash it lists must match. */
  async verifyContent(name: string, content: Uint8Array, roles?: readonly string[]): Promise<TargetRecord> {
    const target = await this.lookup(name, roles);
    const ctx = newVerifyContext(this.options.crypto);
    try {
      verifyFileMeta(content, name, { hashes: target.hashes, length: target.length }, ctx);
    } catch (err) {
      if (err instanceof NotaryError) {
        throw new TargetNotFoundError('HASH_MISMATCH', `data not present in the trusted collection, ${err.message}`, { where: name, cause: err });
      }
      throw err;
    }
    return target;
  }
}

/** The trusted root to start from, and the bytes of a downloaded one (to cache once the update succeeds). */
async function bootstrap(options: OpenOptions, log: ReaderLogger, cachedRoot: Uint8Array | undefined): Promise<{ set: TrustedMetadataSet; downloaded?: Uint8Array }> {
  const { gun, remote, crypto } = options;
  const clock = options.clock ?? (() => new Date());
  let previous: Metadata<'Root'> | undefined;
  if (cachedRoot) {
    // The cached root is the pin: validated on its own (no trust pinning), failing hard if invalid.
    const cachedSet = TrustedMetadataSet.bootstrap(cachedRoot, { gun, crypto, clock });
    try {
      cachedSet.assertRootFresh();
      return { set: cachedSet };
    } catch (err) {
      log.debug(`cached root is expired (${(err as Error).message}); downloading a new one`);
      previous = cachedSet.root;
    }
  }
  if (!remote) throw offline();
  let rootBytes: Uint8Array;
  try {
    rootBytes = await remote.getRoot();
  } catch (err) {
    if (err instanceof NotaryError && err.code === 'NOT_FOUND') {
      throw new RemoteError('NOT_FOUND', `${remote.host} does not have trust data for ${gun}`, { where: 'root', cause: err });
    }
    throw err;
  }
  const set = TrustedMetadataSet.bootstrap(rootBytes, {
    gun,
    crypto,
    clock,
    ...(options.trustPinning ? { trustPinning: options.trustPinning } : {}),
    ...(previous ? { previousRoot: previous, minVersion: previous.version } : {}),
  });
  set.assertRootFresh();
  return { set, downloaded: rootBytes };
}

/**
 * After a failed update: download the current root (by the checksum the last snapshot gave, if any),
 * accept it against the trusted root, walking N.root.json when the new root is not co-signed by the old
 * keys, cache it, and return a fresh state machine on it.
 */
async function refreshRoot(current: TrustedMetadataSet, options: OpenOptions, log: ReaderLogger): Promise<{ set: TrustedMetadataSet; downloaded: Uint8Array }> {
  const { gun, remote, crypto } = options;
  const clock = options.clock ?? (() => new Date());
  if (!remote) throw offline();
  const expected = current.snapshotMeta('root');
  const hex = expected ? sha256Hex(expected) : undefined;
  let latest: Uint8Array;
  try {
    latest = hex && expected ? await remote.getRoleByChecksum('root', hex, expected.length) : await remote.getRoot();
  } catch (err) {
    if (err instanceof NotaryError && err.code === 'NOT_FOUND') {
      throw new RemoteError('NOT_FOUND', `${remote.host} does not have trust data for ${gun}`, { where: 'root', cause: err });
    }
    throw err;
  }
  const base = { gun, crypto, clock, ...(options.trustPinning ? { trustPinning: options.trustPinning } : {}) };
  const trustedRoot = current.root;
  let next: TrustedMetadataSet;
  try {
    next = TrustedMetadataSet.bootstrap(latest, { ...base, previousRoot: trustedRoot, minVersion: trustedRoot.version });
  } catch (err) {
    if (!(err instanceof NotaryError && err.code === 'ROOT_ROTATION_FAILED')) throw err;
    const newest = Metadata.fromBytes(latest, 'root').version;
    log.debug(`root ${newest} is not signed by the trusted root ${trustedRoot.version}; walking the versions between`);
    next = TrustedMetadataSet.bootstrap(trustedRoot.bytes!, { ...base, previousRoot: trustedRoot, minVersion: trustedRoot.version });
    await walkRootVersions(next, latest, (v) => remote.getRootVersion(v));
  }
  next.assertRootFresh();
  return { set: next, downloaded: latest };
}
