/**
 * Opening a repository against a server that may not answer, as the Go CLI does: `GET /v2/` decides whether
 * the client is online (bounded at 5 s); if it is not, the command goes on offline from the cache — Go's
 * warning, the cached, verified repository — or fails with `OFFLINE`, naming the server and the cause.
 *
 * Unlike Go, the update starts at the same time as the ping instead of one round trip later; when the ping
 * fails, every request of that update is abandoned at once (no file is asked for once `/v2/` failed), its
 * warnings are dropped (the offline open warns once), and nothing it fetched is used.
 */
import { RemoteError } from '../core/errors.js';
import type { MetadataRemote, ReaderLogger, TrustedRepository } from './reader.js';

/** A remote that can be pinged and abandoned (NotaryRemote). */
export interface PingableRemote extends MetadataRemote {
  readonly serverUrl: string;
  ping(): Promise<unknown>;
  /** Abandons the requests in flight (they reject) and releases the connections. */
  abort(): Promise<void>;
  close(): Promise<void>;
}

export interface OnlineOpenOptions {
  readonly remote: PingableRemote;
  /** Opens the repository with this remote (undefined: offline, from the cache) and logger. */
  open(remote: MetadataRemote | undefined, log: ReaderLogger): Promise<TrustedRepository>;
  readonly log: ReaderLogger;
  /**
   * Whether trust data for the repository was cached before this open began. Only such a cache may stand in
   * for an unreachable server: the update racing the ping may have completed (and cached) before the ping
   * failed, and Go, which pings first, would then have failed — so must we. Default: assume it was.
   */
  readonly cachedBefore?: Promise<boolean>;
  /** How the ping's failure is reported (Go: one error-level line); default `log.warn`. */
  readonly unreachable?: (err: RemoteError) => void;
}

/** The error for a command that needs the server when the ping failed: Go's words, then the cause. */
export function offlineError(pingError: unknown): RemoteError {
  const cause = pingError instanceof Error ? pingError.message : String(pingError);
  return new RemoteError('OFFLINE', `client is offline: ${cause}`, { where: 'ping', cause: pingError });
}

function asRemoteError(err: unknown, serverUrl: string): RemoteError {
  if (err instanceof RemoteError) return err;
  return new RemoteError('OFFLINE', `could not reach ${serverUrl}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export async function openOnline(options: OnlineOpenOptions): Promise<TrustedRepository> {
  const { remote, log } = options;
  const cachedBefore = options.cachedBefore ?? Promise.resolve(true);
  cachedBefore.catch(() => {});
  // Warnings of the online update wait for the ping: shown if it succeeds, dropped if it fails.
  let verdict: boolean | undefined;
  const held: string[] = [];
  const gated: ReaderLogger = {
    warn: (m) => (verdict === undefined ? held.push(m) : verdict ? log.warn(m) : undefined),
    debug: (m) => log.debug(m),
  };
  const pinged = remote.ping().then(
    () => undefined,
    (err: unknown) => asRemoteError(err, remote.serverUrl),
  );
  const online = options.open(remote, gated).then(
    (repo) => ({ repo }) as const,
    (error: unknown) => ({ error }) as const,
  );
  const pingError = await pinged;
  verdict = pingError === undefined;
  if (pingError === undefined) {
    for (const m of held.splice(0)) log.warn(m);
    const result = await online;
    if ('error' in result) {
      await remote.close();
      throw result.error;
    }
    return result.repo;
  }
  held.length = 0;
  (options.unreachable ?? ((e) => log.warn(e.message)))(pingError);
  await remote.abort();
  const discarded = await online;
  if ('repo' in discarded) await discarded.repo.cacheWritten();
  if (!(await cachedBefore.catch(() => false))) throw offlineError(pingError);
  try {
    return await options.open(undefined, log);
  } catch (err) {
    if (err instanceof RemoteError && err.code === 'OFFLINE') throw offlineError(pingError);
    throw err;
  }
}
