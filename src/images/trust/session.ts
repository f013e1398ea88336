/**
 * A Notary repository for an image, opened as the docker CLI opens one (`trust.GetNotaryRepository`):
 * trust dir `$DOCKER_CONFIG/trust`, the trust server from `DOCKER_CONTENT_TRUST_SERVER` (https only) else
 * Docker Hub's notary or `https://<registry host>`, the notary CA and client certificates from
 * `$DOCKER_CONFIG/tls/<server host:port>/`, no certificate check when the *registry* is on loopback (docker
 * treats it as insecure), the registry's credentials from docker's config, and docker's passphrase
 * variables (`…_ROOT_PASSPHRASE` for root keys, `…_REPOSITORY_PASSPHRASE` for every other key).
 */
import type { CryptoBackend } from '../../core/crypto.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { FileMetadataCache } from '../../node/cache.js';
import { resolveRegistryCredentials, type Credentials } from '../../node/credentials.js';
import { FileKeyStore } from '../../node/keystore.js';
import type { PassphraseRetriever, PromptOptions } from '../../node/passphrase.js';
import { proxyFromEnvironment } from '../../node/proxy.js';
import { NotaryRemote } from '../../node/remote.js';
import { TrustedRepository } from '../../repository/reader.js';
import { RepositoryWriter } from '../../repository/writer.js';
import type { ImageReference } from '../reference.js';
import { dockerPassphraseRetriever, resolveTrustTarget, trustDirectory, trustServer, type Env } from '../trust-settings.js';

export type { Env };

export interface TrustSessionOptions {
  /** Where DOCKER_CONFIG, HOME, DOCKER_CONTENT_TRUST_SERVER and the passphrase variables come from (default process.env). */
  readonly env?: Env;
  /** Key passphrases (default: docker's variables, else fail; the CLI adds docker's prompt). */
  readonly retriever?: PassphraseRetriever;
  /** Registry credentials (default: docker's config for the registry, as `docker login` left them). */
  readonly credentials?: Credentials;
  /** docker's `--config` directory (default `$DOCKER_CONFIG`, else `~/.docker`). */
  readonly configDir?: string;
  readonly crypto?: CryptoBackend;
  readonly clock?: () => Date;
  /** Notary's warnings (skipped delegations, cached timestamp in use; the Docker Hub DOI notice) and debug lines. */
  readonly log?: { warn(message: string): void; debug(message: string): void };
  /** Notices docker prints as they are on stderr (the Docker Hub DOI retirement warning); default: log.warn. */
  readonly notice?: (message: string) => void;
}

/** docker's passphrase retriever: root keys from the root variable, every other key from the repository one. */
export function dockerRetriever(env: Env, prompt?: Omit<PromptOptions, 'aliasMap' | 'isTTY'>): PassphraseRetriever {
  return dockerPassphraseRetriever({ env, ...(prompt ? { prompt } : {}) });
}

/** Registry credentials as docker finds them for the image's registry. */
export function registryCredentials(ref: ImageReference, env: Env, configDir?: string): Promise<Credentials | undefined> {
  return resolveRegistryCredentials(ref.domain, { env: env as NodeJS.ProcessEnv, ...(configDir !== undefined ? { configDir } : {}) });
}

/** The pieces a trust operation on one image repository needs. */
export class TrustSession {
  readonly gun: string;
  readonly trustDir: string;
  readonly crypto: CryptoBackend;
  private remoteInstance: NotaryRemote | undefined;
  private keyStoreInstance: FileKeyStore | undefined;

  constructor(
    readonly ref: ImageReference,
    readonly options: TrustSessionOptions = {},
  ) {
    this.gun = ref.name;
    this.trustDir = trustDirectory(this.env, options.configDir !== undefined ? { configDir: options.configDir } : {});
    this.crypto = options.crypto ?? nodeCryptoBackend;
  }

  get env(): Env {
    return this.options.env ?? process.env;
  }

  /** The trust server (throws docker's error for a DOCKER_CONTENT_TRUST_SERVER that is not https). */
  get serverUrl(): string {
    return trustServer(this.ref, this.env);
  }

  async remote(): Promise<NotaryRemote> {
    if (this.remoteInstance) return this.remoteInstance;
    const target = await resolveTrustTarget(this.ref, this.env, this.options.configDir !== undefined ? { configDir: this.options.configDir } : {});
    for (const w of target.warnings) (this.options.notice ?? this.options.log?.warn)?.(w);
    const serverUrl = target.serverUrl;
    const tls = target.tls;
    const proxy = proxyFromEnvironment(serverUrl, this.env as NodeJS.ProcessEnv);
    const explicit = this.options.credentials;
    this.remoteInstance = new NotaryRemote({
      serverUrl,
      gun: this.gun,
      credentials: explicit ?? (() => registryCredentials(this.ref, this.env, this.options.configDir)),
      tls,
      ...(proxy ? { proxy } : {}),
    });
    return this.remoteInstance;
  }

  cache(): FileMetadataCache {
    return new FileMetadataCache(this.trustDir, this.gun);
  }

  async keyStore(): Promise<FileKeyStore> {
    this.keyStoreInstance ??= await FileKeyStore.open(this.trustDir, {
      retriever: this.options.retriever ?? dockerRetriever(this.env),
      crypto: this.crypto,
      log: (_level, message) => this.options.log?.warn(message),
    });
    return this.keyStoreInstance;
  }

  /** Runs Notary's update (falling back to the cache when the server cannot be reached) and loads every delegation. */
  async open(): Promise<TrustedRepository> {
    const repo = await TrustedRepository.open({
      gun: this.gun,
      remote: await this.remote(),
      cache: this.cache(),
      crypto: this.crypto,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    await repo.loadAll();
    return repo;
  }

  async writer(): Promise<RepositoryWriter> {
    return new RepositoryWriter({
      gun: this.gun,
      remote: await this.remote(),
      cache: this.cache(),
      keyStore: await this.keyStore(),
      crypto: this.crypto,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
  }

  async close(): Promise<void> {
    await this.remoteInstance?.close();
    this.remoteInstance = undefined;
  }
}
