/**
 * A Notary repository for an image, opened as the docker CLI opens one (`trust.GetNotaryRepository`):
 * trust dir `$DOCKER_CONFIG/trust`, the trust server from `DOCKER_CONTENT_TRUST_SERVER` (https only) else
 * Docker Hub's notary or `https://<registry host>`, the notary CA and client certificates from
 * `$DOCKER_CONFIG/tls/<server host:port>/`, no certificate check when the *registry* is on loopback (docker
 * treats it as insecure), the registry's credentials from docker's config, and docker's passphrase
 * variables (`…_ROOT_PASSPHRASE` for root keys, `…_REPOSITORY_PASSPHRASE` for every other key).
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CryptoBackend } from '../../core/crypto.js';
import { NotaryError } from '../../core/errors.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { FileMetadataCache } from '../../node/cache.js';
import { resolveCredentials, type Credentials } from '../../node/credentials.js';
import { FileKeyStore } from '../../node/keystore.js';
import { envRetriever, noInputRetriever, promptRetriever, type PassphraseRetriever, type PromptOptions } from '../../node/passphrase.js';
import { proxyFromEnvironment } from '../../node/proxy.js';
import { NotaryRemote, type RemoteTlsOptions } from '../../node/remote.js';
import { TrustedRepository } from '../../repository/reader.js';
import { RepositoryWriter } from '../../repository/writer.js';
import { isDockerHub, isLoopbackLiteral, splitHostPort, type ImageReference } from '../reference.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Docker Hub's notary (being retired on 2026-12-08; self-hosted servers are what remains). */
export const DOCKER_HUB_NOTARY = 'https://notary.docker.io';

export interface TrustSessionOptions {
  /** Where DOCKER_CONFIG, HOME, DOCKER_CONTENT_TRUST_SERVER and the passphrase variables come from (default process.env). */
  readonly env?: Env;
  /** Key passphrases (default: docker's variables, else fail; the CLI adds a prompt on a terminal). */
  readonly retriever?: PassphraseRetriever;
  /** Registry credentials (default: docker's config for the registry, as `docker login` left it). */
  readonly credentials?: Credentials;
  /** Overrides `DOCKER_CONTENT_TRUST_SERVER` (must still be https). */
  readonly server?: string;
  /** Overrides `$DOCKER_CONFIG/trust`. */
  readonly trustDir?: string;
  readonly crypto?: CryptoBackend;
  readonly clock?: () => Date;
  /** Notary's warnings (skipped delegations, cached timestamp in use) and debug lines. */
  readonly log?: { warn(message: string): void; debug(message: string): void };
}

export function dockerConfigDir(env: Env): string {
  const dir = env['DOCKER_CONFIG'];
  if (dir) return dir;
  return join(env['HOME'] || homedir(), '.docker');
}

export function trustDirOf(options: TrustSessionOptions): string {
  return options.trustDir ?? join(dockerConfigDir(options.env ?? process.env), 'trust');
}

/** docker's trust.Server. */
export function trustServerFor(ref: ImageReference, options: TrustSessionOptions = {}): string {
  const env = options.env ?? process.env;
  const configured = options.server ?? env['DOCKER_CONTENT_TRUST_SERVER'];
  if (configured) {
    let ok = false;
    try {
      ok = new URL(configured).protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new NotaryError('INVALID_ARGUMENT', `valid https URL required for trust server, got ${configured}`);
    return configured;
  }
  if (isDockerHub(ref.domain)) return DOCKER_HUB_NOTARY;
  return `https://${ref.domain}`;
}

/** The key docker stores a registry's credentials under (`https://index.docker.io/v1/` for Docker Hub). */
export function registryAuthKey(ref: ImageReference): string {
  return isDockerHub(ref.domain) ? 'https://index.docker.io/v1/' : ref.domain;
}

/** Registry credentials as `docker login` stored them (never NOTARY_AUTH: docker does not read it). */
export async function registryCredentials(ref: ImageReference, env: Env): Promise<Credentials | undefined> {
  const key = registryAuthKey(ref);
  const plain = { ...env, NOTARY_AUTH: undefined } as NodeJS.ProcessEnv;
  return resolveCredentials(key.includes('://') ? key : `https://${key}`, { env: plain });
}

/** `$DOCKER_CONFIG/tls/<host:port>/`: `*.crt` CAs, `*.cert` + `*.key` client pairs (docker's ReadCertsDirectory). */
export async function dockerTlsFor(serverUrl: string, ref: ImageReference, env: Env): Promise<RemoteTlsOptions> {
  const url = new URL(serverUrl);
  const dir = join(dockerConfigDir(env), 'tls', url.host);
  const insecure = isLoopbackLiteral(ref.domain) || splitHostPort(ref.domain).host === 'localhost';
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch {
    names = [];
  }
  const ca: Uint8Array[] = [];
  let cert: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  for (const name of names) {
    if (name.endsWith('.crt')) ca.push(new Uint8Array(await fs.readFile(join(dir, name))));
    else if (name.endsWith('.cert')) {
      const keyName = name.slice(0, -'.cert'.length) + '.key';
      if (!names.includes(keyName)) throw new NotaryError('INVALID_ARGUMENT', `missing key ${keyName} for client certificate ${name}. CA certificates must use the extension .crt`);
      cert = new Uint8Array(await fs.readFile(join(dir, name)));
      key = new Uint8Array(await fs.readFile(join(dir, keyName)));
    } else if (name.endsWith('.key')) {
      const certName = name.slice(0, -'.key'.length) + '.cert';
      if (!names.includes(certName)) throw new NotaryError('INVALID_ARGUMENT', `missing client certificate ${certName} for key ${name}`);
    }
  }
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(insecure ? { insecureSkipVerify: true } : {}),
  };
}

/** docker's passphrase retriever: root keys from the root variable, every other key from the repository one. */
export function dockerRetriever(env: Env, prompt?: Omit<PromptOptions, 'aliasMap'>): PassphraseRetriever {
  const only = {
    DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: env['DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE'],
    DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: env['DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'],
  };
  const fallback = prompt ? promptRetriever({ ...prompt, aliasMap: { snapshot: 'repository', targets: 'repository', default: 'repository' } }) : noInputRetriever;
  return envRetriever(only, fallback);
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
    this.trustDir = trustDirOf(options);
    this.crypto = options.crypto ?? nodeCryptoBackend;
  }

  get env(): Env {
    return this.options.env ?? process.env;
  }

  get serverUrl(): string {
    return trustServerFor(this.ref, this.options);
  }

  async remote(): Promise<NotaryRemote> {
    if (this.remoteInstance) return this.remoteInstance;
    const serverUrl = this.serverUrl;
    const tls = await dockerTlsFor(serverUrl, this.ref, this.env);
    const proxy = proxyFromEnvironment(serverUrl, this.env as NodeJS.ProcessEnv);
    const explicit = this.options.credentials;
    this.remoteInstance = new NotaryRemote({
      serverUrl,
      gun: this.gun,
      credentials: explicit ?? (() => registryCredentials(this.ref, this.env)),
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
