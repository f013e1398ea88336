/**
 * The one-call entry point for deploy tooling: open a repository by GUN, server and trust_dir, with the
 * same defaults and files as the notary CLI (and Docker Content Trust's ~/.docker/trust).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CryptoBackend } from '../core/crypto.js';
import type { TrustPinning } from '../core/root.js';
import { nodeCryptoBackend } from '../crypto/node.js';
import { FileMetadataCache, MemoryMetadataCache, type MetadataCache } from '../node/cache.js';
import type { Credentials } from '../node/credentials.js';
import { resolveCredentials } from '../node/credentials.js';
import { DirectoryRemote, directoryOfServerUrl } from '../node/directory-remote.js';
import { proxyFromEnvironment } from '../node/proxy.js';
import { NotaryRemote, type RemoteTimeouts, type RemoteTlsOptions } from '../node/remote.js';
import { openOnline } from './online.js';
import { TrustedRepository, type MetadataRemote, type ReaderLogger } from './reader.js';

export interface OpenRepositoryOptions {
  /** The repository's Globally Unique Name, e.g. `registry.example.com/team/app`. */
  readonly gun: string;
  /** Notary server URL (`file:///dir` reads a directory in the Notary URL layout: DirectoryRemote); omit to work offline from the cache. */
  readonly server?: string;
  /** Where trusted metadata is cached (and pinned): default `~/.notary`; Docker uses `~/.docker/trust`. Set `false` for memory only. */
  readonly trustDir?: string | false;
  readonly trustPinning?: TrustPinning;
  readonly tls?: RemoteTlsOptions;
  /** Explicit credentials; otherwise NOTARY_AUTH and ~/.docker/config.json are consulted when the server asks. */
  readonly credentials?: Credentials;
  /** Judge expiry as of this time (audits); default now. */
  readonly clock?: () => Date;
  readonly crypto?: CryptoBackend;
  readonly log?: ReaderLogger;
  /** An HTTP proxy URL, or false for none; default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY as the Go client reads them. */
  readonly proxy?: string | false;
  /** Network time limits (see NotaryRemote); `GET /v2/` is bounded at 5 s as in the Go client. */
  readonly timeouts?: Partial<RemoteTimeouts>;
}

function proxyOption(server: string, proxy: string | false | undefined): { proxy?: string } {
  const chosen = proxy === undefined ? proxyFromEnvironment(server, process.env) : proxy || undefined;
  return chosen ? { proxy: chosen } : {};
}

/**
 * Opens (and updates) a repository. With a Notary server, as the Go client: `GET /v2/` decides whether the
 * server can be reached; if not (or if the timestamp cannot be downloaded), a cached, verified repository is
 * used with Go's warning ("… using cached timestamp …", to `log.warn`), else the promise rejects with a
 * `NotaryError` (`OFFLINE`, naming the server and the cause). It always settles.
 */
export async function openRepository(options: OpenRepositoryOptions): Promise<TrustedRepository> {
  const trustDir = options.trustDir === undefined ? join(homedir(), '.notary') : options.trustDir;
  const cache: MetadataCache = trustDir === false ? new MemoryMetadataCache() : new FileMetadataCache(trustDir, options.gun);
  const server = options.server;
  const directory = server ? directoryOfServerUrl(server) : undefined;
  const remote = directory
    ? new DirectoryRemote({ dir: directory, gun: options.gun, crypto: options.crypto ?? nodeCryptoBackend })
    : server
    ? new NotaryRemote({
        serverUrl: server,
        gun: options.gun,
        credentials: options.credentials ?? (() => resolveCredentials(server)),
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.timeouts ? { timeouts: options.timeouts } : {}),
        ...proxyOption(server, options.proxy),
      })
    : undefined;
  const open = (r: MetadataRemote | undefined, log: ReaderLogger | undefined) =>
    TrustedRepository.open({
      gun: options.gun,
      remote: r,
      cache,
      crypto: options.crypto ?? nodeCryptoBackend,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.trustPinning ? { trustPinning: options.trustPinning } : {}),
      ...(log ? { log } : {}),
    });
  try {
    if (remote instanceof NotaryRemote) {
      const cachedBefore = cache.get('root').then((b) => b !== undefined);
      return await openOnline({ remote, open, cachedBefore, log: options.log ?? { warn: () => {}, debug: () => {} } });
    }
    return await open(remote, options.log);
  } catch (err) {
    await remote?.close();
    throw err;
  }
}
