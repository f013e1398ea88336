/**
 * Opening a repository from CLI flags and config, as the Go CLI does: the remote is pinged first and, if
 * it cannot be reached, the command goes on offline from the cache (warning on stderr).
 */
import { readFile } from 'node:fs/promises';
import { nodeCryptoBackend } from '../crypto/node.js';
import { FileMetadataCache } from '../node/cache.js';
import { trustPinningOf, type ClientConfig } from '../node/config.js';
import { resolveCredentials } from '../node/credentials.js';
import { DirectoryRemote, directoryOfServerUrl } from '../node/directory-remote.js';
import { proxyFromEnvironment } from '../node/proxy.js';
import { NotaryRemote } from '../node/remote.js';
import { TrustedRepository, type MetadataRemote } from '../repository/reader.js';
import type { CommandContext } from './program.js';

export async function remoteFor(ctx: CommandContext, config: ClientConfig, gun: string): Promise<NotaryRemote> {
  const readOptional = async (p: string | undefined) => (p ? await readFile(p) : undefined);
  const ca = await readOptional(config.tls.rootCa);
  const cert = await readOptional(config.tls.clientCert);
  const key = await readOptional(config.tls.clientKey);
  const proxy = proxyFromEnvironment(config.serverUrl, ctx.io.env as NodeJS.ProcessEnv);
  return new NotaryRemote({
    serverUrl: config.serverUrl,
    gun,
    credentials: () => resolveCredentials(config.serverUrl, { env: ctx.io.env as NodeJS.ProcessEnv }),
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(config.tls.skipVerify ? { insecureSkipVerify: true } : {}),
    },
    ...(proxy ? { proxy } : {}),
  });
}

/** Pings the server; undefined (offline) when it cannot be reached, as the Go CLI silently does. */
export async function reachableRemote(ctx: CommandContext, config: ClientConfig, gun: string): Promise<NotaryRemote | undefined> {
  const remote = await remoteFor(ctx, config, gun);
  try {
    await remote.ping();
    return remote;
  } catch (err) {
    ctx.log.error((err as Error).message);
    await remote.close();
    return undefined;
  }
}

export async function openForReading(ctx: CommandContext, gun: string): Promise<{ repo: TrustedRepository; close: () => Promise<void> }> {
  const config = await ctx.config();
  const open = (remote: MetadataRemote | undefined) =>
    TrustedRepository.open({
      gun,
      remote,
      cache: new FileMetadataCache(config.trustDir, gun),
      crypto: nodeCryptoBackend,
      trustPinning: trustPinningOf(config),
      log: { warn: (m) => ctx.log.warn(m), debug: (m) => ctx.log.debug(m) },
      deferCacheWrites: true,
    });
  // `-s file://DIR`: a directory in the Notary URL layout (DirectoryRemote) instead of a server.
  const directory = directoryOfServerUrl(config.serverUrl, ctx.io.cwd);
  if (directory) {
    const repo = await open(new DirectoryRemote({ dir: directory, gun, crypto: nodeCryptoBackend }));
    return { repo, close: () => repo.cacheWritten() };
  }

  // As the Go CLI, the ping decides whether we are online; unlike it, the update starts at the same time
  // instead of one round trip later. If the ping fails, whatever the update did is discarded and the
  // command runs offline from the cache.
  const remote = await remoteFor(ctx, config, gun);
  const pinged = remote.ping().then(
    () => true,
    (err: unknown) => {
      ctx.log.error((err as Error).message);
      return false;
    },
  );
  const online = open(remote).then(
    (repo) => ({ repo }),
    (error: unknown) => ({ error }),
  );
  if (!(await pinged)) {
    const discarded = await online;
    if ('repo' in discarded) await discarded.repo.cacheWritten();
    await remote.close();
    const repo = await open(undefined);
    return { repo, close: () => repo.cacheWritten() };
  }
  const result = await online;
  if ('error' in result) {
    await remote.close();
    throw result.error;
  }
  return {
    repo: result.repo,
    close: async () => {
      await result.repo.cacheWritten();
      await remote.close();
    },
  };
}
