/**
 * A minimal OCI distribution client: what Docker Content Trust needs from a registry — the digest, size and
 * media type of the manifest a tag points to — fetched over undici without a daemon.
 *
 * * `GET /v2/<name>/manifests/<ref>` accepting Docker schema 2 manifests and manifest lists, OCI image
 *   manifests and OCI indexes (a multi-platform tag resolves to its index, which is what gets signed).
 *   The body is hashed; a `Docker-Content-Digest` that disagrees, or a digest reference whose body hashes to
 *   something else, is refused with HashError HASH_MISMATCH. `HEAD` is available (`verify: false`) and says
 *   so in the answer (`verified: false`); it falls back to GET when the registry sends no digest.
 * * A manifest is small: a declared Content-Length over the cap (4 MiB) is refused before reading, a body is
 *   aborted the moment it passes the cap (LENGTH_EXCEEDED).
 * * Auth as docker does it: `GET /v2/` first; a Bearer challenge gets a token from its realm with
 *   `service` and `scope=repository:<name>:<actions>` (Basic credentials to the realm, or an OAuth refresh
 *   token as a POST form with client_id=docker); a Basic challenge gets Basic credentials. Tokens are cached
 *   per scope until `expires_in` (at least 60 s).
 * * Insecure registries (the caller decides, see images/trust-settings `isInsecureRegistry`): HTTPS without
 *   certificate verification first, then plain HTTP if TLS cannot be spoken at all — docker's order.
 * * Every call settles with a NotaryError under every fault: refused, reset, TLS failures (NETWORK); connect,
 *   header, body-idle and whole-request deadlines (TIMEOUT), all ref'd timers cleared when the call settles;
 *   HTTP errors (RegistryError with the status and the registry's error codes). Credentials and tokens
 *   never appear in messages.
 */
import { createHash } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { HashError, NotaryError, RemoteError, type ErrorCode } from '../core/errors.js';
import type { Credentials } from '../node/credentials.js';
import { chooseChallenge, parseWwwAuthenticate, type AuthChallenge, type ChosenChallenge } from '../node/http.js';
import type { CredentialSource, RemoteTlsOptions } from '../node/remote.js';

export const MANIFEST_MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

export type ManifestMediaType = (typeof MANIFEST_MEDIA_TYPES)[keyof typeof MANIFEST_MEDIA_TYPES];

const ACCEPTED: ReadonlySet<string> = new Set(Object.values(MANIFEST_MEDIA_TYPES));
/** Indexes first: a multi-platform tag must resolve to its index, never to one platform's manifest. */
const ACCEPT_HEADER = [MANIFEST_MEDIA_TYPES.ociIndex, MANIFEST_MEDIA_TYPES.dockerManifestList, MANIFEST_MEDIA_TYPES.ociManifest, MANIFEST_MEDIA_TYPES.dockerManifest].join(', ');

/** Manifests are small; this is what the client reads at most. */
export const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_TOKEN_BYTES = 1 << 20;
const MAX_ERROR_BYTES = 8 << 10;

/** Docker Hub's registry API host (the `docker.io` index). */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

export interface RegistryTimeouts {
  /** TCP (and TLS) connect. Default 10 s. */
  readonly connectMs: number;
  /** From sending the request to the end of the response headers. Default 30 s. */
  readonly headersMs: number;
  /** Longest gap between two body chunks. Default 30 s. */
  readonly bodyIdleMs: number;
  /** Whole request including the body. Default 60 s. */
  readonly totalMs: number;
}

export const DEFAULT_REGISTRY_TIMEOUTS: RegistryTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyIdleMs: 30_000, totalMs: 60_000 };

export interface RegistryClientOptions {
  /** The registry domain as in an image reference: `docker.io`, `registry.example.com:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Credentials, or a function that finds them lazily (called at most once, only when the registry asks). */
  readonly credentials?: CredentialSource;
  readonly tls?: RemoteTlsOptions;
  /**
   * Docker's "insecure registry": HTTPS without verification, falling back to plain HTTP. Docker treats
   * loopback registries this way (images/trust-settings `isInsecureRegistry`). Default false.
   */
  readonly insecure?: boolean;
  /** Force a scheme (tests, registries behind plain-HTTP proxies). Default: https (and http when insecure). */
  readonly scheme?: 'https' | 'http';
  readonly timeouts?: Partial<RegistryTimeouts>;
  /** Default 4 MiB. */
  readonly maxManifestBytes?: number;
  readonly userAgent?: string;
}

export interface ManifestDescriptor {
  /** `sha256:<hex>` of the manifest bytes. */
  readonly digest: string;
  /** The manifest's length in bytes (what a Notary target's `length` is). */
  readonly size: number;
  readonly mediaType: ManifestMediaType;
  /** The bytes were read and hashed (GET); false when only HEAD headers were seen. */
  readonly verified: boolean;
  /** The manifest bytes (GET only). */
  readonly bytes?: Uint8Array;
}

export interface ResolveOptions {
  /**
   * true (default): GET and hash the body. false: HEAD and take `Docker-Content-Digest` and
   * `Content-Length` as the registry states them (unverified), falling back to GET without a digest header.
   */
  readonly verify?: boolean;
  /** Token scope actions (default `pull`; `push` for callers about to write). */
  readonly actions?: readonly ('pull' | 'push')[];
  readonly signal?: AbortSignal;
}

/** An HTTP error from the registry or its token realm. */
export class RegistryError extends RemoteError {
  readonly status: number;
  /** The registry's error codes from the body (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DENIED`, …). */
  readonly registryCodes: readonly string[];
  constructor(code: ErrorCode, message: string, status: number, registryCodes: readonly string[], where: string) {
    super(code, message, { where });
    this.status = status;
    this.registryCodes = registryCodes;
  }
}

const DIGEST_RE = /^(sha256|sha384|sha512):([a-f0-9]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** A manifest reference: a tag or a digest. */
function checkReference(ref: string): { digest?: string } {
  if (/^[\w][\w.-]{0,127}$/.test(ref)) return {};
  const m = DIGEST_RE.exec(ref);
  if (m && m[2]!.length === HEX_LENGTH[m[1]!]) return { digest: ref };
  throw new NotaryError('INVALID_ARGUMENT', `invalid tag or digest ${JSON.stringify(ref)}`);
}

function checkRepository(name: string): void {
  if (!/^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$/.test(name) || name.length > 255) {
    throw new NotaryError('INVALID_ARGUMENT', `invalid repository name ${JSON.stringify(name)}`);
  }
}

function digestOf(algorithm: string, bytes: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function header(h: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function bareMediaType(v: string | undefined): string | undefined {
  return v?.split(';')[0]?.trim().toLowerCase();
}


interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

interface Exchange {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

export class RegistryClient {
  readonly registry: string;
  readonly timeouts: RegistryTimeouts;
  private readonly host: string;
  private readonly secureAgent: Agent;
  private insecureAgent: Agent | undefined;
  private readonly insecure: boolean;
  private scheme: 'https' | 'http' | undefined;
  private readonly maxManifestBytes: number;
  private readonly userAgent: string;
  private readonly credentialSource: CredentialSource | undefined;
  private credentialsPromise: Promise<Credentials | undefined> | undefined;
  private challenge: ChosenChallenge | undefined;
  private pinged: Promise<void> | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private closed = false;

  constructor(options: RegistryClientOptions) {
    const registry = options.registry;
    if (registry === '' || /[/\s@?#]/.test(registry)) throw new NotaryError('INVALID_ARGUMENT', `invalid registry ${JSON.stringify(registry)}`);
    this.registry = registry;
    this.host = registry === 'docker.io' || registry === 'index.docker.io' ? DOCKER_HUB_REGISTRY : registry;
    this.timeouts = { ...DEFAULT_REGISTRY_TIMEOUTS, ...options.timeouts };
    this.insecure = options.insecure === true;
    this.scheme = options.scheme;
    this.maxManifestBytes = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
    this.userAgent = options.userAgent ?? 'notary-ts';
    this.credentialSource = options.credentials;
    const tls = options.tls ?? {};
    if ((tls.cert === undefined) !== (tls.key === undefined)) throw new NotaryError('INVALID_ARGUMENT', 'either pass both client key and cert, or neither');
    const ca = tls.ca === undefined ? undefined : (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c: string | Uint8Array) => (typeof c === 'string' ? c : Buffer.from(c)));
    const connect = {
      timeout: this.timeouts.connectMs,
      ...(ca ? { ca } : {}),
      ...(tls.cert !== undefined ? { cert: typeof tls.cert === 'string' ? tls.cert : Buffer.from(tls.cert) } : {}),
      ...(tls.key !== undefined ? { key: typeof tls.key === 'string' ? tls.key : Buffer.from(tls.key) } : {}),
      ...(tls.insecureSkipVerify || this.insecure ? { rejectUnauthorized: false } : {}),
    };
    this.secureAgent = new Agent({ connections: 4, keepAliveTimeout: 10_000, headersTimeout: this.timeouts.headersMs, bodyTimeout: this.timeouts.bodyIdleMs, connect });
  }

  /** Releases connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.secureAgent.close(), this.insecureAgent?.close()]);
  }

  /** The base URL in use (`https://host` or, for an insecure registry that does not speak TLS, `http://host`). */
  get baseUrl(): string | undefined {
    return this.scheme ? `${this.scheme}://${this.host}` : undefined;
  }

  /**
   * The manifest `reference` (tag or digest) of `repository` (the path, `library/alpine`) points to:
   * digest, size and media type. Throws RegistryError NOT_FOUND for an unknown tag or repository.
   */
  async resolve(repository: string, reference: string, options: ResolveOptions = {}): Promise<ManifestDescriptor> {
    checkRepository(repository);
    const { digest: requested } = checkReference(reference);
    if (options.verify === false) {
      const head = await this.manifestRequest('HEAD', repository, reference, options);
      if (head && requested !== undefined && head.digest !== requested) {
        throw new HashError('HASH_MISMATCH', `registry ${this.registry} answers ${head.digest} for ${repository}@${requested}`, { where: `${repository}@${requested}` });
      }
      if (head) return head;
    }
    const got = await this.manifestRequest('GET', repository, reference, options);
    if (!got) throw new RemoteError('SERVER_ERROR', `registry ${this.registry} sent no manifest for ${repository}:${reference}`, { where: repository });
    if (requested !== undefined && got.digest !== requested) {
      const algorithm = requested.slice(0, requested.indexOf(':'));
      const actual = digestOf(algorithm, got.bytes!);
      if (actual !== requested) {
        throw new HashError('HASH_MISMATCH', `manifest ${repository}@${requested} from ${this.registry} hashes to ${actual}`, { where: `${repository}@${requested}` });
      }
    }
    return got;
  }

  /** GET the manifest bytes (verified as `resolve` does). */
  async getManifest(repository: string, reference: string, options: Omit<ResolveOptions, 'verify'> = {}): Promise<ManifestDescriptor & { bytes: Uint8Array }> {
    const d = await this.resolve(repository, reference, { ...options, verify: true });
    return d as ManifestDescriptor & { bytes: Uint8Array };
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private credentials(): Promise<Credentials | undefined> {
    if (!this.credentialsPromise) {
      const src = this.credentialSource;
      this.credentialsPromise = (typeof src === 'function' ? src() : Promise.resolve(src)).catch((err: unknown) => {
        this.credentialsPromise = undefined;
        throw err;
      });
    }
    return this.credentialsPromise;
  }

  /** `GET /v2/`: picks the scheme (https, then http for insecure registries) and learns the challenge. */
  private ping(signal: AbortSignal | undefined): Promise<void> {
    if (!this.pinged) {
      // shared by concurrent calls, so no one caller's signal may cancel it; each caller can stop waiting
      this.pinged = this.doPing().catch((err: unknown) => {
        this.pinged = undefined;
        throw err;
      });
    }
    const pinged = this.pinged;
    if (!signal) return pinged;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new RemoteError('NETWORK', `GET ${this.host}/v2/: cancelled`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      pinged.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  private async doPing(): Promise<void> {
    const schemes: ('https' | 'http')[] = this.scheme ? [this.scheme] : this.insecure ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${this.host}/v2/`);
      try {
        const status = await this.exchange({ method: 'GET', url, headers: {} }, async (res) => {
          if (res.statusCode === 401) this.learn(parseWwwAuthenticate(res.headers['www-authenticate']));
          await discard(res.body);
          return res.statusCode;
        });
        // docker accepts any answer from /v2/ as "a registry is here"; errors come with the real request
        void status;
        this.scheme = scheme;
        return;
      } catch (err) {
        lastError = err;
        // Only a transport failure tries plain HTTP; a deadline does not (docker would wait twice).
        if (!(err instanceof RemoteError) || err.code !== 'NETWORK') throw err;
      }
    }
    throw lastError;
  }

  private learn(challenges: readonly AuthChallenge[]): boolean {
    const chosen = chooseChallenge(this.challenge, challenges);
    if (!chosen) return false;
    this.challenge = chosen.next;
    return chosen.changed;
  }

  private async authorization(scope: string, fresh: boolean, signal: AbortSignal | undefined): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = await this.credentials();
    if (ch.scheme === 'basic') {
      if (!creds || creds.identityToken !== undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const key = `${ch.realm}\n${ch.service ?? ''}\n${scope}`;
    const cached = this.tokens.get(key);
    if (!fresh && cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(ch, scope, creds, signal);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  /** docker/distribution's token fetch: GET realm?account&scope&service (Basic auth), or OAuth refresh. */
  private async fetchToken(ch: ChosenChallenge, scope: string, creds: Credentials | undefined, signal: AbortSignal | undefined): Promise<CachedToken> {
    let realm: URL;
    try {
      realm = new URL(ch.realm ?? '');
      if (realm.protocol !== 'http:' && realm.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new RegistryError('UNAUTHORIZED', `registry ${this.registry} sent an invalid token realm`, 401, [], 'auth');
    }
    const headers: Record<string, string> = {};
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (creds?.identityToken !== undefined) {
      method = 'POST';
      const form = new URLSearchParams();
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', creds.identityToken);
      form.set('client_id', 'docker');
      if (ch.service !== undefined) form.set('service', ch.service);
      form.set('scope', scope);
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (creds && creds.username !== '') {
        realm.searchParams.set('account', creds.username);
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
      if (ch.service !== undefined) realm.searchParams.set('service', ch.service);
      realm.searchParams.set('scope', scope);
    }
    const where = `${realm.origin}${realm.pathname}`;
    const parsed = await this.exchange({ method, url: realm, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) }, async (res) => {
      if (res.statusCode !== 200) {
        await discard(res.body);
        const code: ErrorCode = res.statusCode === 401 || res.statusCode === 403 ? 'UNAUTHORIZED' : 'SERVER_ERROR';
        throw new RegistryError(code, `token request to ${where} failed: server returned ${res.statusCode}`, res.statusCode, [], 'auth');
      }
      const bytes = await readCapped(res, MAX_TOKEN_BYTES, () => new RemoteError('SERVER_ERROR', `token response from ${where} is larger than ${MAX_TOKEN_BYTES} bytes`, { where: 'auth' }));
      try {
        return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
      } catch {
        throw new RemoteError('SERVER_ERROR', `token response from ${where} is not JSON`, { where: 'auth' });
      }
    });
    const t = typeof parsed?.token === 'string' && parsed.token !== '' ? parsed.token : parsed?.access_token;
    if (typeof t !== 'string' || t === '') throw new RemoteError('SERVER_ERROR', `token response from ${where} has no token`, { where: 'auth' });
    const expiresIn = typeof parsed.expires_in === 'number' && Number.isFinite(parsed.expires_in) && parsed.expires_in >= 60 ? parsed.expires_in : 60;
    return { token: t, expiresAt: Date.now() + expiresIn * 1000 };
  }

  /** One manifest request with auth; undefined for a HEAD without a usable digest header. */
  private async manifestRequest(method: 'GET' | 'HEAD', repository: string, reference: string, options: ResolveOptions): Promise<ManifestDescriptor | undefined> {
    if (this.closed) throw new NotaryError('INVALID_ARGUMENT', 'the registry client is closed');
    const signal = options.signal;
    await this.ping(signal);
    const actions = options.actions && options.actions.length > 0 ? [...new Set(options.actions)].join(',') : 'pull';
    const scope = `repository:${repository}:${actions}`;
    const start = new URL(`${this.scheme}://${this.host}/v2/${repository}/manifests/${reference}`);
    const where = `${repository}:${reference}`;
    let url = start;
    let redirects = 0;
    for (let round = 0; round < 3; ) {
      const auth = await this.authorization(scope, round > 0, signal);
      const headers: Record<string, string> = { accept: ACCEPT_HEADER };
      // as Go's http.Client: credentials go only to the registry's own origin, never to a redirect target
      if (auth && url.origin === start.origin) headers.authorization = auth;
      const outcome = await this.exchange({ method, url, headers, ...(signal ? { signal } : {}) }, async (res) => {
        if (res.statusCode === 401) {
          await discard(res.body);
          return { retry: this.learn(parseWwwAuthenticate(res.headers['www-authenticate'])) || round === 0 } as const;
        }
        if ([301, 302, 303, 307, 308].includes(res.statusCode)) {
          await discard(res.body);
          const location = header(res.headers, 'location');
          let next: URL | undefined;
          try {
            next = location ? new URL(location, url) : undefined;
          } catch {
            next = undefined;
          }
          if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
            throw new RegistryError('SERVER_ERROR', `${this.registry}/${where}: redirect without a usable Location`, res.statusCode, [], where);
          }
          if (next.protocol === 'http:' && url.protocol === 'https:') {
            throw new RegistryError('SERVER_ERROR', `${this.registry}/${where}: refusing a redirect from https to http`, res.statusCode, [], where);
          }
          return { redirect: next } as const;
        }
        if (res.statusCode !== 200) throw await this.statusError(res, method, where);
        return { value: method === 'HEAD' ? await this.fromHead(res, where) : await this.fromBody(res, where) } as const;
      });
      if ('value' in outcome) return outcome.value;
      if ('redirect' in outcome) {
        if (++redirects > 5) throw new RegistryError('SERVER_ERROR', `${this.registry}/${where}: too many redirects`, 310, [], where);
        url = outcome.redirect!;
        continue;
      }
      if (!outcome.retry) break;
      round++;
    }
    throw new RegistryError('UNAUTHORIZED', `unauthorized: access to ${repository} on ${this.registry} was denied (${actions})`, 401, [], where);
  }

  private async fromHead(res: Dispatcher.ResponseData, where: string): Promise<ManifestDescriptor | undefined> {
    await discard(res.body);
    const digest = header(res.headers, 'docker-content-digest');
    const length = header(res.headers, 'content-length');
    const mediaType = bareMediaType(header(res.headers, 'content-type'));
    if (digest === undefined || !DIGEST_RE.test(digest) || length === undefined || !/^\d+$/.test(length) || !mediaType || !ACCEPTED.has(mediaType)) return undefined;
    const size = Number(length);
    if (size > this.maxManifestBytes) throw new HashError('LENGTH_EXCEEDED', `manifest ${where} is ${size} bytes, over the limit of ${this.maxManifestBytes}`, { where });
    return { digest, size, mediaType: mediaType as ManifestMediaType, verified: false };
  }

  private async fromBody(res: Dispatcher.ResponseData, where: string): Promise<ManifestDescriptor> {
    const bytes = await readCapped(res, this.maxManifestBytes, (declared) =>
      new HashError('LENGTH_EXCEEDED', `manifest ${where} exceeds the limit of ${this.maxManifestBytes} bytes${declared !== undefined ? ` (Content-Length ${declared})` : ''}`, { where }),
    );
    const stated = header(res.headers, 'docker-content-digest');
    let digest = digestOf('sha256', bytes);
    if (stated !== undefined && stated !== '') {
      const m = DIGEST_RE.exec(stated);
      if (!m) throw new HashError('HASH_MISMATCH', `registry ${this.registry} sent a malformed Docker-Content-Digest for ${where}`, { where });
      const own = digestOf(m[1]!, bytes);
      if (own !== stated) throw new HashError('HASH_MISMATCH', `manifest ${where} from ${this.registry} hashes to ${own}, but the registry says ${stated}`, { where });
      digest = m[1] === 'sha256' ? digest : own;
    }
    const mediaType = this.mediaTypeOf(res, bytes, where);
    return { digest, size: bytes.length, mediaType, verified: true, bytes };
  }

  /** The Content-Type when it is a manifest type; else the body's own `mediaType` (servers that send json). */
  private mediaTypeOf(res: Dispatcher.ResponseData, bytes: Uint8Array, where: string): ManifestMediaType {
    const fromHeader = bareMediaType(header(res.headers, 'content-type'));
    if (fromHeader && ACCEPTED.has(fromHeader)) return fromHeader as ManifestMediaType;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new NotaryError('UNSUPPORTED_VALUE', `manifest ${where} is not JSON (Content-Type ${fromHeader ?? 'none'})`, { where });
    }
    const o = parsed as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; config?: unknown };
    if (typeof o?.mediaType === 'string' && ACCEPTED.has(o.mediaType)) return o.mediaType as ManifestMediaType;
    if (o?.schemaVersion === 2 && o.mediaType === undefined) {
      // OCI allows mediaType to be absent: an index has `manifests`, an image manifest has `config`
      if (Array.isArray(o.manifests)) return MANIFEST_MEDIA_TYPES.ociIndex;
      if (o.config && typeof o.config === 'object') return MANIFEST_MEDIA_TYPES.ociManifest;
    }
    throw new NotaryError('UNSUPPORTED_VALUE', `manifest ${where} has unsupported media type ${fromHeader ?? (typeof o?.mediaType === 'string' ? o.mediaType : 'none')}`, { where });
  }

  private async statusError(res: Dispatcher.ResponseData, method: string, where: string): Promise<RegistryError> {
    const status = res.statusCode;
    let codes: string[] = [];
    let detail = '';
    if (method !== 'HEAD') {
      try {
        const body = await readCapped(res, MAX_ERROR_BYTES, () => new Error('big'));
        const parsed = JSON.parse(new TextDecoder().decode(body)) as { errors?: { code?: unknown; message?: unknown }[] };
        if (Array.isArray(parsed?.errors)) {
          codes = parsed.errors.map((e) => e?.code).filter((c): c is string => typeof c === 'string');
          const first = parsed.errors[0];
          if (first && typeof first.code === 'string' && typeof first.message === 'string') detail = `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message}`;
        }
      } catch {
        /* no readable error body */
      }
    } else {
      await discard(res.body);
    }
    if (status === 404) return new RegistryError('NOT_FOUND', `${this.registry}/${where}: not found${detail ? ` (${detail})` : ''}`, status, codes.length ? codes : ['MANIFEST_UNKNOWN'], where);
    if (status === 403) return new RegistryError('UNAUTHORIZED', `${this.registry}/${where}: access denied${detail ? ` (${detail})` : ''}`, status, codes, where);
    return new RegistryError('SERVER_ERROR', `${this.registry}/${where}: registry returned HTTP ${status}${detail ? ` (${detail})` : ''}`, status, codes, where);
  }

  private agentFor(url: URL): Agent {
    if (url.protocol === 'https:' || !this.insecure) return this.secureAgent;
    this.insecureAgent ??= new Agent({ connections: 4, keepAliveTimeout: 10_000, headersTimeout: this.timeouts.headersMs, bodyTimeout: this.timeouts.bodyIdleMs, connect: { timeout: this.timeouts.connectMs } });
    return this.insecureAgent;
  }

  /** One exchange within the whole-request deadline (a ref'd timer, always cleared); errors typed. */
  private async exchange<T>(ex: Exchange, consume: (res: Dispatcher.ResponseData) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeouts.totalMs);
    const abandon = (): void => controller.abort();
    if (ex.signal?.aborted) abandon();
    ex.signal?.addEventListener('abort', abandon, { once: true });
    const what = `${ex.method} ${ex.url.origin}${ex.url.pathname}`;
    try {
      const res = await this.agentFor(ex.url).request({
        origin: ex.url.origin,
        path: `${ex.url.pathname}${ex.url.search}`,
        method: ex.method,
        headers: { 'user-agent': this.userAgent, ...ex.headers },
        body: ex.body ?? null,
        signal: controller.signal,
      });
      try {
        return await consume(res);
      } finally {
        if (!res.body.destroyed && !res.body.readableEnded) destroyQuietly(res.body);
      }
    } catch (err) {
      if (err instanceof NotaryError) throw err;
      throw transportError(err, what, timedOut, ex.signal?.aborted === true, this.timeouts);
    } finally {
      clearTimeout(timer);
      ex.signal?.removeEventListener('abort', abandon);
    }
  }
}

function transportError(err: unknown, what: string, timedOut: boolean, cancelled: boolean, t: RegistryTimeouts): RemoteError {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  if (timedOut) return new RemoteError('TIMEOUT', `${what}: request did not complete within ${t.totalMs} ms`, { cause: err });
  if (cancelled) return new RemoteError('NETWORK', `${what}: cancelled`, { cause: err });
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new RemoteError('TIMEOUT', `${what}: connect timed out after ${t.connectMs} ms`, { cause: err });
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new RemoteError('TIMEOUT', `${what}: no response headers within ${t.headersMs} ms`, { cause: err });
  if (code === 'UND_ERR_BODY_TIMEOUT') return new RemoteError('TIMEOUT', `${what}: no response data for ${t.bodyIdleMs} ms`, { cause: err });
  const inner = typeof e?.cause?.message === 'string' ? e.cause.message : '';
  const detail = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  return new RemoteError('NETWORK', `${what}: network error: ${code && !detail.includes(code) ? `${code} ` : ''}${detail}${inner && !detail.includes(inner) ? ` (${inner})` : ''}`, { cause: err });
}

function destroyQuietly(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 << 10 });
  } catch {
    /* the connection is closed instead */
  }
}

/** Reads a body, refusing a declared length over `cap` before reading and aborting once past `cap`. */
function readCapped(res: Dispatcher.ResponseData, cap: number, exceeded: (declared?: number) => Error): Promise<Uint8Array> {
  const body = res.body;
  const cl = header(res.headers, 'content-length');
  const declared = cl !== undefined && /^\d+$/.test(cl.trim()) ? Number(cl) : undefined;
  if (declared !== undefined && declared > cap) {
    destroyQuietly(body);
    return Promise.reject(exceeded(declared));
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      destroyQuietly(body);
      reject(err);
    };
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total > cap) return fail(exceeded());
      chunks.push(chunk);
    });
    body.on('error', fail);
    body.on('close', () => fail(new Error('response body closed before its end')));
    body.on('end', () => {
      if (settled) return;
      settled = true;
      const all = Buffer.concat(chunks, total);
      resolve(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
    });
  });
}
