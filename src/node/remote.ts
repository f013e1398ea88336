/**
 * The remote store: one GUN on one notary-server, over undici.
 *
 * * One keep-alive `Agent` for every request (metadata, keys, token realm); `close()` releases it.
 * * Size caps are enforced while streaming: a `Content-Length` over the cap is refused before reading, and
 *   the body is aborted the moment it passes the cap (Go truncates silently and then fails the hash; we
 *   refuse earlier with `LENGTH_EXCEEDED`, with the same outcome: nothing is accepted).
 * * Slow-retrieval defences: connect, headers, body-idle and whole-request timeouts (`TIMEOUT`).
 * * Idempotent GETs are retried a bounded number of times, with backoff, on network errors and 5xx; 4xx
 *   and timeouts are never retried.
 * * Errors use the Go client's wording (storage/httpstore.go, client/errors.go); raw undici/Node errors
 *   never escape, and credentials and tokens never appear in messages.
 * * Auth: docker/distribution token auth (`WWW-Authenticate: Bearer realm=…,service=…`) and Basic, with
 *   the Go CLI's scopes: reads ask for `pull` anonymously first and retry with credentials on 401, writes
 *   ask for `push,pull`, key rotation and deletion for `*`.
 */
import { Readable } from 'node:stream';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { joinBytes } from '../core/bytes.js';
import { HashError, NotaryError, RemoteError, type ErrorCode } from '../core/errors.js';
import { keySchema, type KeyJson } from '../core/metadata.js';
import type { Credentials } from './credentials.js';
import { buildMultipart, chooseChallenge, parseWwwAuthenticate, type AuthChallenge, type ChosenChallenge } from './http.js';
import type { ReadLimit } from './read-limit.js';

export const MiB = 1 << 20;
/** Size caps from the Go client (notary.MaxTimestampSize, MaxDownloadSize, MaxKeySize, MaxErrorResponseSize). */
export const SIZE_LIMITS = {
  timestamp: 1 * MiB,
  root: 100 * MiB,
  key: 256 << 10,
  errorBody: 1 << 10,
  tokenBody: 1 * MiB,
  /** notary.MaxDownloadSize: the bound on a file whose length no parent has stated yet. */
  maxDownload: 100 * MiB,
} as const;

/** Token scope actions, as the Go CLI requests them per operation. */
export type Access = 'pull' | 'push,pull' | '*';

export interface RemoteTimeouts {
  /** TCP (and TLS) connect. Default 10 s. */
  readonly connectMs: number;
  /** From sending the request to the end of the response headers. Default 30 s. */
  readonly headersMs: number;
  /** Longest gap between two body chunks. Default 30 s. */
  readonly bodyIdleMs: number;
  /** Whole request including the body. Default 120 s (roots may be large). */
  readonly totalMs: number;
  /** Whole `GET /v2/` ping, as the Go CLI's 5 s. */
  readonly pingMs: number;
}

export const DEFAULT_TIMEOUTS: RemoteTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyIdleMs: 30_000, totalMs: 120_000, pingMs: 5_000 };

export interface RemoteTlsOptions {
  /** Trusted CA certificate(s), PEM. When given, replaces the system roots (as Go's ExclusiveRootPools). */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Client certificate chain (PEM); requires `key`. */
  readonly cert?: string | Uint8Array;
  /** Client private key (PEM); requires `cert`. */
  readonly key?: string | Uint8Array;
  /** Do not verify the server certificate (Go's `skipTLSVerify`). */
  readonly insecureSkipVerify?: boolean;
}

/** Credentials, or a function that finds them lazily (called at most once, only when a server asks). */
export type CredentialSource = Credentials | (() => Promise<Credentials | undefined>);

export interface NotaryRemoteOptions {
  /** `https://host[:port][/prefix]`; a path prefix is kept. */
  readonly serverUrl: string;
  /** Inserted into the path unescaped, as Go does. */
  readonly gun: string;
  readonly credentials?: CredentialSource;
  readonly tls?: RemoteTlsOptions;
  readonly timeouts?: Partial<RemoteTimeouts>;
  /** Retries after the first attempt for idempotent GETs (default 2). */
  readonly retries?: number;
  /** First backoff delay; doubles per retry, with jitter (default 250 ms). */
  readonly retryDelayMs?: number;
  /** Connections per origin (default 8). */
  readonly maxConnections?: number;
  readonly userAgent?: string;
  /**
   * An HTTP proxy (`http://host:port`) for every request: https through a CONNECT tunnel, http forwarded.
   * The CLI takes it from HTTPS_PROXY / HTTP_PROXY / NO_PROXY as the Go client does (src/node/proxy.ts).
   */
  readonly proxy?: string;
}

export interface RemoteStats {
  /** HTTP requests sent (including pings, token requests, auth retries and retries). */
  requests: number;
  /** Connections opened by the agent (undici `connect` events). */
  connections: number;
  /** Requests repeated after a network error or 5xx. */
  retries: number;
  /** Requests to the token realm. */
  tokenRequests: number;
}

export interface PingResult {
  readonly status: number;
  /** The challenges the server sent (on 401). */
  readonly challenges: readonly AuthChallenge[];
}

/** A public key as the key endpoints return it. */
export type RemoteKey = KeyJson;

/** An HTTP error status from the server (or the token realm), worded as the Go client words it. */
export class RemoteHttpError extends RemoteError {
  /** HTTP status code. */
  readonly status: number;
  /** The docker/distribution errcode codes in the body, e.g. `INVALID_UPDATE`, `VERSION` (when readable). */
  readonly serverCodes: readonly string[];

  constructor(code: ErrorCode, message: string, status: number, serverCodes: readonly string[], where: string) {
    super(code, message, { where });
    this.status = status;
    this.serverCodes = serverCodes;
  }
}

const RETRYABLE = new WeakSet<object>();
const RETRYABLE_NET = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

const VALIDATION_WORDING: Record<string, string> = {
  ErrValidation: 'An error occurred during validation: ',
  ErrBadHierarchy: 'Metadata hierarchy is incomplete: ',
  ErrBadRoot: 'The root metadata is invalid: ',
  ErrBadTargets: 'The targets metadata is invalid: ',
  ErrBadSnapshot: 'The snapshot metadata is invalid: ',
};

/** Go's encoding/json matches field names case-insensitively. */
function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

/**
 * The Go client's reading of a 400 body (tryUnmarshalError): exactly one error whose `detail` is a
 * validation SerializableError gives that error's text; anything else gives `undefined`.
 */
export function validationMessage(body: Uint8Array): { message: string | undefined; codes: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { message: undefined, codes: [] };
  }
  const errors = field(parsed, 'errors');
  if (!Array.isArray(errors)) return { message: undefined, codes: [] };
  const codes = errors.map((e) => field(e, 'code')).filter((c): c is string => typeof c === 'string');
  if (errors.length !== 1) return { message: undefined, codes };
  const detail = field(errors[0], 'detail');
  const name = field(detail, 'Name');
  if (typeof name !== 'string' || !(name in VALIDATION_WORDING)) return { message: undefined, codes };
  const inner = field(detail, 'Error');
  const msg = inner === undefined || inner === null ? '' : field(inner, 'Msg');
  if (inner !== undefined && inner !== null && typeof inner !== 'object') return { message: undefined, codes };
  if (msg !== undefined && typeof msg !== 'string') return { message: undefined, codes };
  return { message: VALIDATION_WORDING[name] + (msg ?? ''), codes };
}

// Not unref'd: a retry wait guards a pending operation, and an unref'd timer lets Node empty the event loop
// and exit (code 13) with the caller's promise never settled.
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Certificate verification failures (OpenSSL / Node codes), in the Go client's x509 wording. */
const CERT_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  CERT_UNTRUSTED: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'x509: certificate is not valid for this host',
  CERT_REVOKED: 'x509: certificate revoked',
};

/**
 * One line saying what went wrong on the network, in the Go client's words where it has them (Node's own
 * messages can span lines: OpenSSL's end in a newline).
 */
export function networkCause(code: string, message: string, host: string): string {
  const firstLine = message.split('\n')[0]!.trim();
  if (code === 'ECONNREFUSED') return `connection refused (${firstLine})`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset by peer (${firstLine})`;
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED' || firstLine === 'response body closed before its end') return `unexpected EOF (${firstLine})`;
  if (code === 'ENOTFOUND') return `lookup ${host}: no such host`;
  if (code === 'EAI_AGAIN') return `lookup ${host}: temporary failure in name resolution`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/.test(firstLine)) return 'http: server gave HTTP response to HTTPS client';
  const cert = CERT_ERRORS[code];
  if (cert) return `tls: ${cert} (${code})`;
  if (/^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(code)) return `tls: ${firstLine}`;
  const proxy = /^Proxy response \((\d+)\)/.exec(firstLine);
  if (proxy) return `the proxy refused the tunnel: ${proxy[1]}`;
  return `${code && !firstLine.includes(code) ? `${code} ` : ''}${firstLine}`;
}

function headerValue(h: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Host as Go's url.URL.Host: what the URL says, port included even when it is the default. */
function rawHost(serverUrl: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(serverUrl);
  const authority = m?.[1] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1);
}

function toBuffer(v: string | Uint8Array): string | Buffer {
  return typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

type Method = 'GET' | 'POST' | 'DELETE';

interface Exchange {
  readonly method: Method;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | readonly Uint8Array[];
  readonly totalMs: number;
  readonly signal?: AbortSignal;
}


interface CachedToken {
  promise: Promise<string>;
  expiresAt: number;
}

interface Op {
  readonly method: Method;
  /** Path under `/v2/<gun>/_trust/tuf/` ('' for the collection itself). */
  readonly name: string;
  /** The resource name the Go client puts in its messages (`snapshot.<hex>`, `timestamp key`, …). */
  readonly resource: string;
  /** The role, for `where` and for the root wording. */
  readonly role: string;
  readonly access: Access;
  readonly cap: number;
  /** A provisional limit under `cap` (see ReadLimit). */
  readonly limit?: ReadLimit;
  /** The body's length as a parent states it, when known: the body is read into one buffer of that size. */
  readonly expectedLength?: number;
  /** Abandons the request (the caller no longer wants it). */
  readonly signal?: AbortSignal;
  readonly body?: Uint8Array | readonly Uint8Array[];
  /** The body's length when it comes in pieces (sent as Content-Length). */
  readonly bodyLength?: number;
  readonly contentType?: string;
}

export class NotaryRemote {
  readonly serverUrl: string;
  readonly gun: string;
  /** The host as the Go client names it in "<host> does not have trust data for <gun>". */
  readonly host: string;
  readonly timeouts: RemoteTimeouts;
  private readonly base: URL;
  private readonly pingUrl: URL;
  private readonly agent: Agent | ProxyAgent;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly userAgent: string;
  private readonly credentialSource: CredentialSource | undefined;
  private credentialsPromise: Promise<Credentials | undefined> | undefined;
  private challenge: ChosenChallenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  /** Accesses for which an anonymous attempt already failed: go straight to credentials next time. */
  private readonly anonymousRefused = new Set<Access>();
  private readonly counters: RemoteStats = { requests: 0, connections: 0, retries: 0, tokenRequests: 0 };

  constructor(options: NotaryRemoteOptions) {
    let url: URL;
    try {
      url = new URL(options.serverUrl);
    } catch {
      throw new NotaryError('INVALID_ARGUMENT', `Trust server url has to be in the form of http(s)://URL:PORT. Got: ${options.serverUrl}`, { where: options.serverUrl });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new NotaryError('INVALID_ARGUMENT', `trust server url must use http or https, not ${url.protocol}`);
    }
    const gun = options.gun;
    if (gun === '' || /[*?#%\s\0-\x1f\x7f]/.test(gun)) {
      throw new NotaryError('INVALID_ARGUMENT', `invalid GUN ${JSON.stringify(gun)}`);
    }
    let credentialSource = options.credentials;
    if (credentialSource === undefined && (url.username !== '' || url.password !== '')) {
      credentialSource = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    }
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    const prefix = url.pathname.replace(/\/+$/, '');
    this.serverUrl = `${url.origin}${prefix}`;
    this.host = rawHost(options.serverUrl);
    this.gun = gun;
    this.base = new URL(`${url.origin}${prefix}/v2/${encodeURI(gun)}/_trust/tuf/`);
    this.pingUrl = new URL(`${url.origin}${prefix}/v2/`);
    this.credentialSource = credentialSource;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.retries = Math.max(0, options.retries ?? 2);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 250);
    this.userAgent = options.userAgent ?? 'notary-ts';

    const tls = options.tls ?? {};
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new NotaryError('INVALID_ARGUMENT', 'either pass both client key and cert, or neither');
    }
    const ca = tls.ca === undefined ? undefined : (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c: string | Uint8Array) => toBuffer(c));
    const connect = {
      timeout: this.timeouts.connectMs,
      ...(ca ? { ca } : {}),
      ...(tls.cert !== undefined ? { cert: toBuffer(tls.cert) } : {}),
      ...(tls.key !== undefined ? { key: toBuffer(tls.key) } : {}),
      ...(tls.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
    };
    const pool = { connections: options.maxConnections ?? 8, keepAliveTimeout: 10_000, headersTimeout: this.timeouts.headersMs, bodyTimeout: this.timeouts.bodyIdleMs };
    this.proxy = options.proxy ? redactProxy(options.proxy) : undefined;
    this.agent = options.proxy
      ? // As Go's transport: https through a CONNECT tunnel (TLS to the server inside it), http forwarded.
        new ProxyAgent({ ...pool, uri: options.proxy, requestTls: connect, proxyTunnel: false })
      : new Agent({ ...pool, connect });
    this.agent.on('connect', () => {
      this.counters.connections++;
    });
  }

  /** A snapshot of the request counters. */
  get stats(): RemoteStats {
    return { ...this.counters };
  }

  resetStats(): void {
    this.counters.requests = this.counters.connections = this.counters.retries = this.counters.tokenRequests = 0;
  }

  /** Releases the connection pool (after the requests in flight finish). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
  }

  /**
   * Abandons every request in flight and any retry (they reject with `NETWORK`), then releases the pool:
   * for a caller that no longer wants the answers (the ping said the server cannot be reached).
   */
  async abort(): Promise<void> {
    this.aborter.abort();
    this.closed = true;
    await this.agent.destroy().catch(() => {});
  }

  private closed = false;
  private readonly aborter = new AbortController();
  /** The proxy every request goes through, if any (named in network errors). */
  private readonly proxy: string | undefined;

  // ------------------------------------------------------------------------------------------------
  // Public operations

  /**
   * `GET /v2/`: records an auth challenge when the server answers 401. Like the Go CLI, any network error
   * or a status that is neither 2xx nor 401 means "not a usable notary server": `RemoteError('OFFLINE')`.
   */
  async ping(): Promise<PingResult> {
    const ex: Exchange = { method: 'GET', url: this.pingUrl, headers: {}, totalMs: this.timeouts.pingMs };
    let result: PingResult;
    try {
      result = await this.exchange(ex, async (res) => {
        await this.discard(res.body);
        const challenges = res.statusCode === 401 ? parseWwwAuthenticate(res.headers['www-authenticate']) : [];
        return { status: res.statusCode, challenges };
      });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new RemoteError('OFFLINE', `could not reach ${this.serverUrl}: ${msg}`, { where: this.pingUrl.pathname, cause: err });
    }
    if ((result.status < 200 || result.status >= 300) && result.status !== 401) {
      const via = this.proxy ? ` (through proxy ${this.proxy})` : '';
      throw new RemoteError('OFFLINE', `could not reach ${this.serverUrl}: ${result.status}${via}`, { where: this.pingUrl.pathname });
    }
    this.learn(result.challenges);
    return result;
  }

  /** `timestamp.json`, at most 1 MiB. */
  getTimestamp(): Promise<Uint8Array> {
    return this.getMeta('timestamp', 'timestamp', SIZE_LIMITS.timestamp);
  }

  /** `root.json` (no known hash), at most 100 MiB. */
  getRoot(maxLength: number = SIZE_LIMITS.root): Promise<Uint8Array> {
    return this.getMeta('root', 'root', maxLength);
  }

  /** `<n>.root.json`, at most 100 MiB. */
  getRootVersion(version: number, maxLength: number = SIZE_LIMITS.root): Promise<Uint8Array> {
    if (!Number.isSafeInteger(version) || version < 1) throw new NotaryError('INVALID_ARGUMENT', `invalid root version ${version}`);
    return this.getMeta(`${version}.root`, 'root', maxLength);
  }

  /** `<role>.<sha256hex>.json` (`targets/releases.<hex>.json`), at most `maxLength` bytes. */
  getRoleByChecksum(role: string, sha256Hex: string, maxLength: number): Promise<Uint8Array> {
    if (!/^[0-9a-fA-F]{64}$/.test(sha256Hex)) throw new NotaryError('INVALID_ARGUMENT', `invalid sha256 checksum for ${role}`);
    checkRole(role);
    const name = `${role}.${sha256Hex.toLowerCase()}`;
    // maxLength is the length the parent states: notary-server sends big files chunked, without a length.
    return this.run({ method: 'GET', name: `${name}.json`, resource: name, role, access: 'pull', cap: maxLength, ...(maxLength > 0 ? { expectedLength: maxLength } : {}) });
  }

  /** `<role>.json` by its current name, at most `maxLength` bytes. */
  getRole(role: string, maxLength: number): Promise<Uint8Array> {
    checkRole(role);
    return this.getMeta(role, role, maxLength);
  }

  /**
   * `<role>.json` asked for before its parent has stated its length (a cold update asks for snapshot and
   * targets alongside the timestamp): reading pauses at the provisional `limit` until the caller settles
   * it to the parent's length, and never goes past notary.MaxDownloadSize. The caller must check the
   * bytes against the parent's hashes before using them.
   */
  getRoleSpeculatively(role: string, limit: ReadLimit, signal: AbortSignal): Promise<Uint8Array> {
    checkRole(role);
    return this.run({ method: 'GET', name: `${role}.json`, resource: role, role, access: 'pull', cap: SIZE_LIMITS.maxDownload, limit, signal });
  }

  /** The server-held public key for `timestamp` or `snapshot` (created by the server if needed). */
  async getKey(role: string): Promise<RemoteKey> {
    checkRole(role);
    const bytes = await this.run({ method: 'GET', name: `${role}.key`, resource: `${role} key`, role, access: 'push,pull', cap: SIZE_LIMITS.key });
    return parseKey(bytes, role);
  }

  /** Asks the server for a new (pending) key for `timestamp` or `snapshot`. */
  async rotateKey(role: string): Promise<RemoteKey> {
    checkRole(role);
    const bytes = await this.run({ method: 'POST', name: `${role}.key`, resource: `${role} key`, role, access: '*', cap: SIZE_LIMITS.key });
    return parseKey(bytes, role);
  }

  /**
   * Atomic publish: one multipart part per role, field `files`, filename = role name (slashes kept),
   * exact bytes. Any `timestamp` part is ignored by the server.
   */
  async publish(files: ReadonlyMap<string, Uint8Array>): Promise<void> {
    for (const role of files.keys()) checkRole(role);
    const mp = buildMultipart(files);
    await this.run({
      method: 'POST',
      name: '',
      resource: 'POST metadata endpoint',
      role: 'publish',
      access: 'push,pull',
      cap: SIZE_LIMITS.errorBody,
      // In pieces, with its length: a 10 MB targets.json is sent from its own buffer, not copied first.
      body: mp.parts,
      bodyLength: mp.length,
      contentType: mp.contentType,
    });
  }

  /** Deletes all of the GUN's metadata on the server. */
  async deleteRepository(): Promise<void> {
    await this.run({ method: 'DELETE', name: '', resource: 'DELETE metadata for GUN endpoint', role: 'delete', access: '*', cap: SIZE_LIMITS.errorBody });
  }

  // ------------------------------------------------------------------------------------------------
  // Internals

  private getMeta(name: string, role: string, cap: number): Promise<Uint8Array> {
    return this.run({ method: 'GET', name: `${name}.json`, resource: name, role, access: 'pull', cap });
  }

  private credentials(): Promise<Credentials | undefined> {
    if (!this.credentialsPromise) {
      const src = this.credentialSource;
      this.credentialsPromise = typeof src === 'function' ? src() : Promise.resolve(src);
    }
    return this.credentialsPromise;
  }

  /** Retries around one authorised attempt: GETs only, network errors and 5xx only. */
  private async run(op: Op): Promise<Uint8Array> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.authorised(op);
      } catch (err) {
        if (op.method !== 'GET' || attempt >= this.retries || !(err instanceof Error) || !RETRYABLE.has(err) || this.aborter.signal.aborted) throw err;
        this.counters.retries++;
        const delay = this.retryDelayMs * 2 ** attempt;
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  /** One request, with whatever auth the server asks for (at most a few auth round trips). */
  private async authorised(op: Op): Promise<Uint8Array> {
    const url = new URL(`./${encodeURI(op.name)}`, this.base); // './': a ':' in a name must not read as a scheme
    // reads try anonymously first (as the Go CLI), unless that already failed for this access
    let withCreds = op.access !== 'pull' || this.anonymousRefused.has(op.access);
    for (let round = 0; round < 4; round++) {
      let auth: { header: string | undefined; cachedKey?: string };
      try {
        auth = await this.authHeader(op.access, withCreds);
      } catch (err) {
        if (!withCreds && err instanceof RemoteHttpError && err.code === 'UNAUTHORIZED' && (await this.credentials())) {
          this.anonymousRefused.add(op.access);
          withCreds = true;
          continue;
        }
        throw err;
      }
      const headers: Record<string, string> = {};
      if (auth.header) headers.authorization = auth.header;
      if (op.contentType) headers['content-type'] = op.contentType;
      if (op.bodyLength !== undefined) headers['content-length'] = String(op.bodyLength);
      const ex: Exchange = {
        method: op.method,
        url,
        headers,
        totalMs: this.timeouts.totalMs,
        ...(op.body ? { body: op.body } : {}),
        ...(op.signal ? { signal: op.signal } : {}),
      };
      const outcome = await this.exchange(ex, async (res) => {
        if (res.statusCode === 401) {
          await this.discard(res.body);
          return { retryAuth: parseWwwAuthenticate(res.headers['www-authenticate']) } as const;
        }
        if (res.statusCode !== 200) throw await this.statusError(res, op);
        if (op.method !== 'GET' && op.cap <= SIZE_LIMITS.errorBody) {
          await this.discard(res.body);
          return { bytes: new Uint8Array(0) } as const;
        }
        return { bytes: await this.readCapped(res, op, url) } as const;
      });
      if (outcome.bytes !== undefined) return outcome.bytes;
      // 401
      const learned = this.learn(outcome.retryAuth);
      if (auth.cachedKey) this.tokens.delete(auth.cachedKey);
      // now we know how to authenticate (Basic needs credentials: go straight to them)
      if (auth.header === undefined && learned && (withCreds || this.challenge?.scheme !== 'basic')) continue;
      if (auth.cachedKey && round === 0) continue; // a cached token may have been revoked: fetch a fresh one
      if (!withCreds && (await this.credentials())) {
        this.anonymousRefused.add(op.access);
        withCreds = true;
        continue;
      }
      break;
    }
    throw new RemoteHttpError('UNAUTHORIZED', 'you are not authorized to perform this operation: server returned 401.', 401, [], op.role);
  }

  /** Records the strongest usable challenge; returns whether our auth state changed. */
  private learn(challenges: readonly AuthChallenge[]): boolean {
    const chosen = chooseChallenge(this.challenge, challenges);
    if (!chosen) return false;
    this.challenge = chosen.next;
    return chosen.changed;
  }

  private async authHeader(access: Access, withCreds: boolean): Promise<{ header: string | undefined; cachedKey?: string }> {
    const ch = this.challenge;
    if (!ch) return { header: undefined };
    const creds = withCreds ? await this.credentials() : undefined;
    if (ch.scheme === 'basic') {
      if (!creds || creds.identityToken !== undefined) return { header: undefined };
      return { header: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
    }
    const scope = `repository:${this.gun}:${access}`;
    const key = `${ch.realm}\n${ch.service ?? ''}\n${scope}\n${creds ? 'creds' : 'anonymous'}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return { header: `Bearer ${await cached.promise}`, cachedKey: key };
    const entry: CachedToken = { promise: Promise.resolve(''), expiresAt: Number.POSITIVE_INFINITY };
    entry.promise = this.fetchToken(ch, scope, creds, entry);
    this.tokens.set(key, entry);
    try {
      return { header: `Bearer ${await entry.promise}` };
    } catch (err) {
      if (this.tokens.get(key) === entry) this.tokens.delete(key);
      throw err;
    }
  }

  /** docker/distribution's token fetch: GET realm?account&scope&service (Basic auth), or OAuth refresh. */
  private async fetchToken(ch: ChosenChallenge, scope: string, creds: Credentials | undefined, entry: CachedToken): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(ch.realm ?? '');
      if (realm.protocol !== 'http:' && realm.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new RemoteHttpError('UNAUTHORIZED', 'the trust server sent an invalid token realm', 401, [], 'auth');
    }
    const headers: Record<string, string> = {};
    let method: Method = 'GET';
    let body: Uint8Array | undefined;
    if (creds?.identityToken !== undefined) {
      method = 'POST';
      const form = new URLSearchParams();
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', creds.identityToken);
      form.set('client_id', this.userAgent);
      if (ch.service !== undefined) form.set('service', ch.service);
      form.set('scope', scope);
      body = new TextEncoder().encode(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (creds && creds.username !== '') {
        realm.searchParams.set('account', creds.username);
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
      realm.searchParams.append('scope', scope);
      if (ch.service !== undefined) realm.searchParams.set('service', ch.service);
    }
    const where = `${realm.origin}${realm.pathname}`;
    for (let attempt = 0; ; attempt++) {
      this.counters.tokenRequests++;
      try {
        const parsed = await this.exchange({ method, url: realm, headers, totalMs: this.timeouts.totalMs, ...(body ? { body } : {}) }, async (res) => {
          if (res.statusCode !== 200) {
            await this.discard(res.body);
            const code: ErrorCode = res.statusCode === 401 || res.statusCode === 403 ? 'UNAUTHORIZED' : 'SERVER_ERROR';
            const err = new RemoteHttpError(code, `token request to ${where} failed: server returned ${res.statusCode}.`, res.statusCode, [], 'auth');
            if (res.statusCode >= 500) RETRYABLE.add(err);
            throw err;
          }
          const bytes = await readBody(res.body, SIZE_LIMITS.tokenBody, headerValue(res.headers, 'content-length'), () =>
            new RemoteError('SERVER_ERROR', `token response from ${where} is larger than ${SIZE_LIMITS.tokenBody} bytes`, { where: 'auth' }),
          );
          try {
            return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
          } catch {
            throw new RemoteError('SERVER_ERROR', `token response from ${where} is not JSON`, { where: 'auth' });
          }
        });
        const tokenField = field(parsed, 'token');
        const accessToken = field(parsed, 'access_token');
        const token = typeof tokenField === 'string' && tokenField !== '' ? tokenField : accessToken;
        if (typeof token !== 'string' || token === '') {
          throw new RemoteError('SERVER_ERROR', `token response from ${where} has no token`, { where: 'auth' });
        }
        const expiresIn = field(parsed, 'expires_in');
        const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 60 ? expiresIn : 60;
        entry.expiresAt = Date.now() + seconds * 1000;
        return token;
      } catch (err) {
        if (method !== 'GET' || attempt >= this.retries || !(err instanceof Error) || !RETRYABLE.has(err)) throw err;
        this.counters.retries++;
        await sleep(this.retryDelayMs * 2 ** attempt);
      }
    }
  }

  /**
   * One HTTP exchange within the whole-request deadline; `consume` runs with the response and must
   * finish reading (or discard) the body. undici/Node errors are mapped to typed errors.
   */
  private async exchange<T>(ex: Exchange, consume: (res: Dispatcher.ResponseData) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    // Not unref'd: it guards the request (see sleep).
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, ex.totalMs);
    const abandon = (): void => controller.abort();
    if (ex.signal?.aborted) abandon();
    ex.signal?.addEventListener('abort', abandon, { once: true });
    this.aborter.signal.addEventListener('abort', abandon, { once: true });
    const path = ex.url.pathname;
    this.counters.requests++;
    try {
      if (this.aborter.signal.aborted) throw new RemoteError('NETWORK', `${ex.method} ${path}: the remote was closed`, { where: path });
      const res = await this.agent.request({
        origin: ex.url.origin,
        path: `${ex.url.pathname}${ex.url.search}`,
        method: ex.method,
        headers: { 'user-agent': this.userAgent, ...ex.headers },
        // Pieces go out as a stream made afresh for each attempt (an auth round trip sends the body again).
        body: ex.body === undefined ? null : ex.body instanceof Uint8Array ? toBuffer(ex.body) : Readable.from(ex.body.map(toBuffer), { objectMode: false }),
        signal: controller.signal,
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyIdleMs,
      });
      let result: T;
      try {
        result = await consume(res);
      } finally {
        if (!res.body.destroyed && !res.body.readableEnded) destroyQuietly(res.body);
      }
      // A consumer that swallowed the abort (a discarded body) must not turn a timeout into an answer.
      if (controller.signal.aborted) throw new Error('aborted while reading the response');
      // let undici mark the connection idle before the caller's next request, so a sequence of requests
      // reuses one keep-alive connection instead of opening a second one
      await new Promise<void>((resolve) => setImmediate(resolve));
      return result;
    } catch (err) {
      if (err instanceof NotaryError) throw err;
      if (this.aborter.signal.aborted && !timedOut) throw new RemoteError('NETWORK', `${ex.method} ${path}: abandoned (the remote was closed)`, { where: path, cause: err });
      throw this.transportError(err, ex.method, ex.url, timedOut, ex.totalMs);
    } finally {
      clearTimeout(timer);
      ex.signal?.removeEventListener('abort', abandon);
      this.aborter.signal.removeEventListener('abort', abandon);
    }
  }

  private transportError(err: unknown, method: Method, url: URL, timedOut: boolean, totalMs: number): RemoteError {
    const e = err as { code?: unknown; message?: unknown; name?: unknown; cause?: { code?: unknown } };
    const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
    const t = this.timeouts;
    const path = url.pathname;
    const what = `${method} ${path}`;
    if (timedOut) return new RemoteError('TIMEOUT', `${what}: request did not complete within ${totalMs} ms`, { where: path, cause: err });
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return new RemoteError('TIMEOUT', `${what}: connect timed out after ${t.connectMs} ms`, { where: path, cause: err });
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return new RemoteError('TIMEOUT', `${what}: no response headers within ${t.headersMs} ms`, { where: path, cause: err });
    if (code === 'UND_ERR_BODY_TIMEOUT') return new RemoteError('TIMEOUT', `${what}: no response data for ${t.bodyIdleMs} ms`, { where: path, cause: err });
    const detail = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
    // With a proxy, a refused or failed connection is the proxy's (Go: "proxyconnect tcp: …").
    const via = this.proxy && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_ABORTED)$/.test(code) ? ` (proxy ${this.proxy})` : '';
    const out = new RemoteError('NETWORK', `${what}: network error: ${networkCause(code, detail, url.hostname)}${via}`, { where: path, cause: err });
    if (RETRYABLE_NET.has(code)) RETRYABLE.add(out);
    return out;
  }

  private async readCapped(res: Dispatcher.ResponseData, op: Op, url: URL): Promise<Uint8Array> {
    const cap = (): number => (op.limit ? Math.min(op.cap, op.limit.bytes) : op.cap);
    return readBody(
      res.body,
      op.cap,
      headerValue(res.headers, 'content-length'),
      (declared) =>
      new HashError(
        'LENGTH_EXCEEDED',
        `${op.role} from ${op.method} ${url.pathname} exceeds its size limit of ${cap()} bytes` +
          (declared !== undefined ? ` (Content-Length ${declared})` : ''),
        { where: op.role },
      ),
      op.limit,
      op.expectedLength,
    );
  }

  /** Reads and drops a (small) body so the connection can be reused; destroys it past 64 KiB. */
  private async discard(body: Dispatcher.ResponseData['body']): Promise<void> {
    try {
      await body.dump({ limit: 64 << 10 });
    } catch {
      /* the connection is closed instead */
    }
  }

  /** The Go client's translateStatusToError, for any status but 200 and the 401s handled by auth. */
  private async statusError(res: Dispatcher.ResponseData, op: Op): Promise<RemoteError> {
    const status = res.statusCode;
    let prefix: Uint8Array = new Uint8Array(0);
    try {
      prefix = await readPrefix(res.body, SIZE_LIMITS.errorBody);
    } catch {
      /* an unreadable error body: use the default wording */
    }
    const { message, codes } = validationMessage(prefix);
    let err: RemoteHttpError;
    if (status === 404) {
      const text = op.role === 'root' ? `${this.host} does not have trust data for ${this.gun}` : `${op.resource} trust data unavailable.  Has a notary repository been initialized?`;
      err = new RemoteHttpError('NOT_FOUND', text, status, codes, op.role);
    } else if (status === 400) {
      err = new RemoteHttpError('SERVER_ERROR', message ?? 'trust server rejected operation.', status, codes, op.role);
    } else if (status === 401) {
      err = new RemoteHttpError('UNAUTHORIZED', 'you are not authorized to perform this operation: server returned 401.', status, codes, op.role);
    } else {
      err = new RemoteHttpError('SERVER_ERROR', `unable to reach trust server at this time: ${status}.`, status, codes, op.role);
      if (status >= 500) RETRYABLE.add(err);
    }
    return err;
  }
}

/** A proxy URL without its credentials (for messages). */
function redactProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    u.username = '';
    u.password = '';
    return u.origin;
  } catch {
    return 'configured proxy';
  }
}

/** Aborts a response body (and its connection) without an unhandled 'error' event. */
function destroyQuietly(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function checkRole(role: string): void {
  if (role === '' || /[?#%*\s\0-\x1f\x7f\\"]/.test(role) || role.startsWith('/') || role.split('/').some((p) => p === '..' || p === '.')) {
    throw new NotaryError('INVALID_ARGUMENT', `invalid role name ${JSON.stringify(role)}`);
  }
}

function parseKey(bytes: Uint8Array, role: string): RemoteKey {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new NotaryError('MALFORMED_KEY', `the ${role} key returned by the server is not JSON`, { where: role });
  }
  const parsed = keySchema.safeParse(json);
  if (!parsed.success) throw new NotaryError('MALFORMED_KEY', `the ${role} key returned by the server is malformed`, { where: role });
  return parsed.data;
}

/**
 * Reads a body into memory, refusing a declared Content-Length over `cap` without reading, and aborting
 * the moment more than `cap` bytes have arrived.
 */
function readBody(
  body: Dispatcher.ResponseData['body'],
  cap: number,
  contentLength: string | undefined,
  exceeded: (declared: number | undefined) => Error,
  limit?: ReadLimit,
  expectedLength?: number,
): Promise<Uint8Array> {
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength.trim()) ? Number(contentLength) : undefined;
  const capNow = (): number => (limit ? Math.min(cap, limit.bytes) : cap);
  if (declared !== undefined && declared > (limit && !limit.final ? cap : capNow())) {
    destroyQuietly(body);
    return Promise.reject(exceeded(declared));
  }
  // 'data' events rather than async iteration: iteration reads the stream's buffer, which concatenates
  // whatever chunks are queued (one more copy of a 10 MB targets.json). With a declared length the
  // chunks are copied straight into one buffer of that size.
  return new Promise<Uint8Array>((resolve, reject) => {
    let whole: Uint8Array | undefined = declared !== undefined ? new Uint8Array(declared) : undefined;
    const chunks: Uint8Array[] = [];
    let total = 0;
    let settled = false;
    let waiting = false; // paused at a provisional limit
    let endedWhileWaiting = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      destroyQuietly(body);
      reject(err);
    };
    // Without a Content-Length, the length a parent states (a settled limit, or expectedLength) sizes one
    // buffer as soon as it is known, instead of collecting chunks and copying them at the end.
    let sized = whole !== undefined;
    const expected = (): number | undefined => (limit ? (limit.final ? Math.min(cap, limit.bytes) : undefined) : expectedLength);
    const store = (chunk: Uint8Array, start: number): void => {
      if (!sized) {
        const n = expected();
        if (n !== undefined && Number.isFinite(n)) {
          sized = true;
          if (n >= start + chunk.length) {
            whole = new Uint8Array(n);
            let off = 0;
            for (const c of chunks) {
              whole.set(c, off);
              off += c.length;
            }
            chunks.length = 0;
          }
        }
      }
      if (whole !== undefined && start + chunk.length <= whole.length) {
        whole.set(chunk, start);
        return;
      }
      if (whole !== undefined) {
        // More than declared (undici normally refuses this itself): fall back to collecting chunks.
        chunks.push(whole.subarray(0, start));
        whole = undefined;
      }
      chunks.push(chunk);
    };
    const finish = (): void => {
      if (settled) return;
      settled = true;
      if (whole !== undefined) {
        resolve(total === whole.length ? whole : whole.subarray(0, total));
        return;
      }
      if (chunks.length === 1) {
        const c = chunks[0]!;
        resolve(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
        return;
      }
      resolve(joinBytes(chunks));
    };
    body.on('data', (chunk: Uint8Array) => {
      if (settled) return;
      const start = total;
      total += chunk.length;
      if (total <= capNow()) {
        store(chunk, start);
        return;
      }
      if (!limit || limit.final) {
        fail(exceeded(undefined));
        return;
      }
      // At a provisional limit: stop reading (TCP pushes back on the server) until the real one is known.
      waiting = true;
      body.pause();
      void limit.settled().then(() => {
        waiting = false;
        if (settled) return;
        if (total > capNow()) {
          fail(exceeded(undefined));
          return;
        }
        store(chunk, start);
        if (endedWhileWaiting) finish();
        else body.resume();
      });
    });
    body.on('error', fail);
    body.on('close', () => {
      if (!waiting) fail(new Error('response body closed before its end'));
    });
    body.on('end', () => {
      if (waiting) endedWhileWaiting = true;
      else finish();
    });
  });
}

/** The first `limit` bytes of a body (the rest is dropped with the connection). */
async function readPrefix(body: Dispatcher.ResponseData['body'], limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    const take = Math.min(chunk.length, limit - total);
    chunks.push(chunk.subarray(0, take));
    total += take;
    if (total >= limit) {
      destroyQuietly(body);
      break;
    }
  }
  return joinBytes(chunks);
}
