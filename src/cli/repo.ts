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
import { openOnline } from '../repository/online.js';
import { TrustedRepository, type MetadataRemote, type ReaderLogger } from '../repository/reader.js';
import { recordUnreachable } from './offline.js';
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

/**
 * Pings the server; undefined (offline) when it cannot be reached, as the Go CLI does (it logs the ping's
 * error and goes on offline); a command that then needs the server fails with `client is offline`, which
 * the CLI frame completes with the ping's cause (src/cli/offline.ts).
 */
export async function reachableRemote(ctx: CommandContext, config: ClientConfig, gun: string): Promise<NotaryRemote | undefined> {
  const remote = await remoteFor(ctx, config, gun);
  try {
    await remote.ping();
    return remote;
  } catch (err) {
    ctx.log.error((err as Error).message);
    recordUnreachable(ctx, err);
    await remote.abort();
    return undefined;
  }
}

export async function openForReading(ctx: CommandContext, gun: string): Promise<{ repo: TrustedRepository; close: () => Promise<void> }> {
  const config = await ctx.config();
  const log: ReaderLogger = { warn: (m) => ctx.log.warn(m), debug: (m) => ctx.log.debug(m) };
  const open = (remote: MetadataRemote | undefined, logger: ReaderLogger = log) =>
    TrustedRepository.open({
      gun,
      remote,
      cache: new FileMetadataCache(config.trustDir, gun),
      crypto: nodeCryptoBackend,
      trustPinning: trustPinningOf(config),
      log: logger,
      deferCacheWrites: true,
    });
  // `-s file://DIR`: a directory in the Notary URL layout (DirectoryRemote) instead of a server.
  const directory = directoryOfServerUrl(config.serverUrl, ctx.io.cwd);
  if (directory) {
    const repo = await open(new DirectoryRemote({ dir: directory, gun, crypto: nodeCryptoBackend }));
    return { repo, close: () => repo.cacheWritten() };
  }
  // As the Go CLI: the ping decides whether we are online (src/repository/online.ts).
  const cachedBefore = new FileMetadataCache(config.trustDir, gun).get('root').then((b) => b !== undefined);
  const repo = await openOnline({ remote: await remoteFor(ctx, config, gun), open, log, cachedBefore, unreachable: (err) => ctx.log.error(err.message) });
  return {
    repo,
    close: async () => {
      await repo.cacheWritten();
      await repo.close();
    },
  };
}
