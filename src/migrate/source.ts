/**
 * Reading a repository for migration or mirroring: Notary's full update (root pin, timestamp, snapshot,
 * targets, the whole delegation tree) plus the root history, `1.root.json` … `N.root.json`, verified as a
 * chain (each version signed by its predecessor's threshold and its own), so a destination can serve every
 * version a pinned client may need to walk.
 */
import { bytesEqual } from '../core/bytes.js';
import type { CryptoBackend } from '../core/crypto.js';
import { NotaryError } from '../core/errors.js';
import { Metadata } from '../core/metadata.js';
import type { TrustPinning } from '../core/root.js';
import { TrustedMetadataSet } from '../core/trusted.js';
import type { MetadataCache } from '../node/cache.js';
import { TrustedRepository, type MetadataRemote, type ReaderLogger } from '../repository/reader.js';

export interface VerifiedSource {
  readonly gun: string;
  readonly root: Metadata<'Root'>;
  /** Root versions whose chain verified, by version (the current one included), exact bytes. */
  readonly rootChain: ReadonlyMap<number, Uint8Array>;
  /** Versions below the chain that could not be checked now (missing, or an expired certificate). */
  readonly unverifiableRootVersions: readonly { version: number; reason: string }[];
  readonly timestamp: Metadata<'Timestamp'>;
  readonly snapshot: Metadata<'Snapshot'>;
  /** Admitted targets roles in Notary's admission order (`targets` first). */
  readonly roles: ReadonlyMap<string, Metadata<'Targets'>>;
  /** Delegations the walk skipped (expired, below threshold), with their metadata when it parsed. */
  readonly skipped: readonly { role: string; error: NotaryError; metadata?: Metadata<'Targets'> }[];
  /** The time everything was judged at. */
  readonly verifiedAt: Date;
}

export interface LoadSourceOptions {
  readonly gun: string;
  readonly remote: MetadataRemote;
  /** The pin: a cache holding the root a client trusts (else trust on first use / trust pinning). */
  readonly cache: MetadataCache;
  readonly crypto: CryptoBackend;
  readonly clock?: () => Date;
  readonly trustPinning?: TrustPinning;
  readonly log?: ReaderLogger;
  readonly progress?: (message: string) => void;
}

export async function loadVerifiedSource(options: LoadSourceOptions): Promise<VerifiedSource> {
  const { gun, remote, cache, crypto } = options;
  const clock = options.clock ?? (() => new Date());
  const progress = options.progress ?? (() => {});
  progress(`verifying ${gun} at ${remote.host}`);
  const repo = await TrustedRepository.open({
    gun,
    remote,
    cache,
    crypto,
    clock,
    ...(options.trustPinning ? { trustPinning: options.trustPinning } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const report = await repo.loadAll();
  const set = repo.trusted;
  const roles = new Map<string, Metadata<'Targets'>>();
  for (const [name, trusted] of set.roles) roles.set(name, trusted.metadata);
  progress(`verified root v${set.root.version}, timestamp v${set.timestamp!.version}, snapshot v${set.snapshot!.version}, ${roles.size} targets role(s)`);
  const chain = await loadRootChain(remote, set.root, { gun, crypto, clock }, progress);
  return {
    gun,
    root: set.root,
    rootChain: chain.verified,
    unverifiableRootVersions: chain.unverifiable,
    timestamp: set.timestamp!,
    snapshot: set.snapshot!,
    roles,
    skipped: report.skipped.map((s) => ({ role: s.role, error: s.error, ...(s.metadata ? { metadata: s.metadata } : {}) })),
    verifiedAt: clock(),
  };
}

/**
 * `1.root.json` … `current.root.json`, checked as a client's rotation walk checks them. The walk starts at
 * the first version that validates on its own today (earlier ones, e.g. with an expired certificate, can
 * no longer be trusted by any client and are reported); every later version must chain, and the last must
 * be byte-identical to the trusted current root.
 */
export async function loadRootChain(
  remote: MetadataRemote,
  current: Metadata<'Root'>,
  options: { gun: string; crypto: CryptoBackend; clock: () => Date },
  progress: (message: string) => void = () => {},
): Promise<{ verified: Map<number, Uint8Array>; unverifiable: { version: number; reason: string }[] }> {
  const verified = new Map<number, Uint8Array>();
  const unverifiable: { version: number; reason: string }[] = [];
  let set: TrustedMetadataSet | undefined;
  for (let v = 1; v <= current.version; v++) {
    let bytes: Uint8Array;
    if (v === current.version) {
      bytes = current.bytes!;
    } else {
      try {
        bytes = await remote.getRootVersion(v);
      } catch (err) {
        if (set) throw new NotaryError('ROOT_ROTATION_FAILED', `root version ${v} is missing at ${remote.host}: the root chain is broken`, { where: `${v}.root`, cause: err });
        unverifiable.push({ version: v, reason: (err as Error).message });
        continue;
      }
    }
    const version = Metadata.fromBytes(bytes, 'root').version;
    if (version !== v) throw new NotaryError('BAD_VERSION', `${v}.root.json at ${remote.host} holds root version ${version}`, { where: `${v}.root` });
    if (!set) {
      try {
        set = TrustedMetadataSet.bootstrap(bytes, { gun: options.gun, crypto: options.crypto, clock: options.clock });
      } catch (err) {
        unverifiable.push({ version: v, reason: (err as Error).message });
        continue;
      }
    } else {
      set.updateRoot(bytes, { final: false });
    }
    verified.set(v, bytes);
  }
  if (!set || !bytesEqual(set.root.bytes!, current.bytes!)) {
    throw new NotaryError('ROOT_ROTATION_FAILED', `the root history at ${remote.host} does not lead to the trusted root version ${current.version}`, { where: 'root' });
  }
  progress(`root chain: versions ${[...verified.keys()].join(', ')} verified${unverifiable.length ? `; ${unverifiable.map((u) => u.version).join(', ')} unverifiable` : ''}`);
  return { verified, unverifiable };
}
