/**
 * Loading a whole collection from a source of files (a directory, a static mirror, test vectors): root
 * (with a rotation walk when a trusted root is given), timestamp, snapshot, targets and the delegation tree.
 * The full Notary update workflow with cache, fallbacks and a live server builds on the same pieces.
 */
import type { CryptoBackend } from './crypto.js';
import { NotaryError, RootTrustError } from './errors.js';
import { Metadata, type FileMetaJson } from './metadata.js';
import type { TrustPinning } from './root.js';
import { TrustedMetadataSet } from './trusted.js';
import { walkDelegations, type WalkReport } from './collection.js';
import { bytesEqual } from './bytes.js';

/** Returns a metadata file by name (`root`, `timestamp`, `targets/releases`, `3.root`), or undefined. */
export type FileSource = (name: string, meta?: FileMetaJson) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

export interface LoadOptions {
  readonly gun: string;
  readonly crypto: CryptoBackend;
  readonly clock?: () => Date;
  readonly trustPinning?: TrustPinning;
  /** A root trusted from before (a pin, or a cached copy); newer roots must chain to it. */
  readonly trustedRoot?: Uint8Array;
}

export interface LoadedCollection extends WalkReport {
  readonly set: TrustedMetadataSet;
}

async function required(source: FileSource, name: string, meta?: FileMetaJson): Promise<Uint8Array> {
  const bytes = await source(name, meta);
  if (bytes === undefined) {
    throw new NotaryError('NOT_FOUND', `${name} trust data unavailable.  Has a notary repository been initialized?`, { where: name });
  }
  return bytes;
}

/**
 * The most root versions a rotation walk fetches. The newest root's version is claimed by a file not yet
 * trusted, so without a bound a server holding no keys could keep a reader fetching forever.
 */
export const MAX_ROOT_WALK = 1000;

/**
 * Walks trust from the set's root to `latest` over `N.root.json` (each exactly version N), after `latest`
 * was refused as not co-signed by the trusted root. A walk longer than MAX_ROOT_WALK is refused before
 * anything is fetched.
 */
export async function walkRootVersions(set: TrustedMetadataSet, latest: Uint8Array, getVersion: (version: number) => Promise<Uint8Array>): Promise<void> {
  const target = Metadata.fromBytes(latest, 'root').version;
  const from = set.root.version;
  if (target - from > MAX_ROOT_WALK) {
    throw new RootTrustError('LIMIT_EXCEEDED', `could not rotate trust to a new trusted root: root version ${target} is more than ${MAX_ROOT_WALK} versions past the trusted version ${from}`, {
      where: 'root',
    });
  }
  for (let v = from + 1; v < target; v++) set.updateRoot(await getVersion(v), { final: false, version: v });
  set.updateRoot(latest, { final: true });
}

/** Moves trust from the set's root to `latest`, walking N.root versions when the jump is not co-signed. */
async function rotateTo(set: TrustedMetadataSet, latest: Uint8Array, source: FileSource): Promise<void> {
  try {
    set.updateRoot(latest, { final: true });
    return;
  } catch (err) {
    if (!(err instanceof NotaryError) || err.code !== 'ROOT_ROTATION_FAILED') throw err;
  }
  await walkRootVersions(set, latest, (v) => required(source, `${v}.root`));
}

export async function loadCollection(source: FileSource, options: LoadOptions): Promise<LoadedCollection> {
  const latestRoot = await required(source, 'root');
  const set = TrustedMetadataSet.bootstrap(options.trustedRoot ?? latestRoot, options);
  if (options.trustedRoot && !bytesEqual(options.trustedRoot, latestRoot)) await rotateTo(set, latestRoot, source);
  set.assertRootFresh();
  const timestamp = set.updateTimestamp(await required(source, 'timestamp'));
  const snapshotMeta = timestamp.signed.meta?.['snapshot'];
  set.updateSnapshot(await required(source, 'snapshot', snapshotMeta ?? undefined));
  set.updateTargets(await required(source, 'targets', set.snapshotMeta('targets')));
  const report = await walkDelegations(set, (role, meta) => source(role, meta));
  return { set, ...report };
}
