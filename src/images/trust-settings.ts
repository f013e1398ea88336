/**
 * Where Docker Content Trust talks to and keeps things, as the docker CLI 28.x decides (cli/trust/trust.go,
 * cli/config, the CLI's registry package). The decisions are pure functions of the reference and an
 * environment passed in; reading the TLS directory and resolving a registry name are the only IO.
 *
 * - Config dir: `--config` (option), else `$DOCKER_CONFIG`, else `$HOME/.docker`. Trust dir: `<config>/trust`.
 * - Trust server: `DOCKER_CONTENT_TRUST_SERVER` if set (must parse as an `https` URL: `valid https URL required
 *   for trust server, got <s>`; used as given for every registry); else `https://notary.docker.io` for Docker
 *   Hub; else `https://<registry host[:port]>`.
 * - Insecure (TLS verification to the trust server skipped): registries on loopback only — `localhost`,
 *   `127.0.0.0/8`, `::1`, or a name that resolves to a loopback address (docker's `isInsecure`).
 * - TLS material: `<config>/tls/<host[:port] of the trust server URL, as written>/`: every `*.crt` is an extra
 *   CA (added to the system roots, as Go's cert pool), `*.cert` + `*.key` pairs are client certificates (a
 *   missing partner is docker's error). Node takes one client pair: the first by name is used.
 * - Passphrases: `DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE` for root keys, `DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE`
 *   for every other key (targets, snapshot, delegations/signers), else the prompt (which reads a line from a
 *   non-terminal stdin, as docker's does, and shows targets/snapshot as "repository").
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { promises as fs } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KeyStoreError, NotaryError } from '../core/errors.js';
import { promptRetriever, type PassphraseRetriever, type PromptOptions } from '../node/passphrase.js';
import type { RemoteTlsOptions } from '../node/remote.js';
import { isDockerHub, isLoopbackLiteral, type ImageReference } from './reference.js';

/** An environment: `process.env` or a plain object (tests, library callers). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Docker Hub's notary (cli/trust.NotaryServer). */
export const DOCKER_HUB_NOTARY = 'https://notary.docker.io';

/** Printed by docker 28.x to stderr whenever the resolved trust server is Docker Hub's. */
export const DOI_DEPRECATION_WARNING =
  'WARNING: Docker is retiring DCT for Docker Official Images (DOI). For details, refer to https://docs.docker.com/go/dct-deprecation/';

export interface DockerDirOptions {
  /** docker's `--config DIR`; wins over DOCKER_CONFIG. */
  readonly configDir?: string;
}

/** docker's `config.Dir()`: `--config`, else `$DOCKER_CONFIG`, else `$HOME/.docker`. */
export function dockerConfigDir(env: Env, options: DockerDirOptions = {}): string {
  if (options.configDir !== undefined && options.configDir !== '') return options.configDir;
  const d = env.DOCKER_CONFIG;
  if (d !== undefined && d !== '') return d;
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return join(home, '.docker');
}

/** The trust directory (`<config dir>/trust`): private keys, cached TUF metadata, changelists. */
export function trustDirectory(env: Env, options: DockerDirOptions = {}): string {
  return join(dockerConfigDir(env, options), 'trust');
}

/**
 * Whether Go's `url.Parse(s)` succeeds with scheme `https` — docker's whole test of DOCKER_CONTENT_TRUST_SERVER.
 * Go is more lenient than WHATWG URL in places (`https://` and `https:host` pass) and stricter in others (a
 * bad `%` escape, a space in the host, a leading space), so its rules are followed rather than `new URL`.
 */
function goParsesAsHttps(s: string): boolean {
  if (/[\x00-\x1f\x7f]/.test(s)) return false; // "invalid control character in URL"
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):([\s\S]*)$/.exec(s);
  if (!m || m[1]!.toLowerCase() !== 'https') return false;
  const rest = m[2]!;
  const beforeQuery = rest.split(/[?#]/, 1)[0]!;
  if (/%(?![0-9A-Fa-f]{2})/.test(beforeQuery)) return false; // invalid URL escape
  if (!rest.startsWith('//')) return true; // opaque (`https:host`): Go accepts it
  const authority = rest.slice(2).split(/[/?#]/, 1)[0]!;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  let port = '';
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return false; // missing ']' in host
    port = host.slice(end + 1);
    if (port !== '' && !port.startsWith(':')) return false;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) port = host.slice(colon);
    if (!/^(?:[A-Za-z0-9\-._~!$&'()*+,;=<>"]|%[0-9A-Fa-f]{2}|[^\x00-\x7f])*$/.test(colon >= 0 ? host.slice(0, colon) : host)) return false;
  }
  return port === '' || /^:[0-9]*$/.test(port);
}

/**
 * docker's `trust.Server(index)`: the notary server URL for a registry domain (or reference). Throws
 * NotaryError INVALID_ARGUMENT with docker's wording when DOCKER_CONTENT_TRUST_SERVER is not https.
 */
export function trustServer(registry: string | Pick<ImageReference, 'domain'>, env: Env): string {
  const domain = typeof registry === 'string' ? registry : registry.domain;
  const s = env.DOCKER_CONTENT_TRUST_SERVER;
  if (s !== undefined && s !== '') {
    if (!goParsesAsHttps(s)) throw new NotaryError('INVALID_ARGUMENT', `valid https URL required for trust server, got ${s}`);
    return s;
  }
  if (isDockerHub(domain)) return DOCKER_HUB_NOTARY;
  return `https://${domain}`;
}

/** The `host[:port]` of a trust server URL as Go's `url.URL.Host` gives it (the port only when written). */
export function urlHost(serverUrl: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(serverUrl);
  const authority = m?.[1] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/** Where docker reads the trust server's CA and client certificates: `<config>/tls/<host[:port]>`. */
export function trustCertDirectory(serverUrl: string, env: Env, options: DockerDirOptions = {}): string {
  return join(dockerConfigDir(env, options), 'tls', urlHost(serverUrl));
}

export type HostLookup = (host: string) => Promise<readonly string[]>;

const defaultLookup: HostLookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * docker's `isInsecure` (the CLI's registry package): loopback literals without DNS; any other name is
 * resolved and is insecure when one of its addresses is loopback. A failed or slow lookup (over
 * `timeoutMs`, default 5 s) means secure — the safe answer.
 */
export async function isInsecureRegistry(domain: string, options: { lookup?: HostLookup; timeoutMs?: number } = {}): Promise<boolean> {
  if (isLoopbackLiteral(domain)) return true;
  const host = goHost(domain);
  if (host === '' || /^[0-9.]+$/.test(host) || host.includes(':') || host.startsWith('[')) return false; // an IP literal (or junk): decided above
  const lookup = options.lookup ?? defaultLookup;
  let timer: NodeJS.Timeout | undefined;
  try {
    const addresses = await Promise.race([
      lookup(host),
      new Promise<readonly string[]>((resolve) => {
        timer = setTimeout(() => resolve([]), options.timeoutMs ?? 5000);
      }),
    ]);
    return addresses.some((a) => isLoopbackLiteral(a.includes(':') ? `[${a}]:0` : a));
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function goHost(domain: string): string {
  if (domain.startsWith('[')) return domain;
  const i = domain.indexOf(':');
  if (i >= 0 && domain.lastIndexOf(':') === i) return domain.slice(0, i);
  return domain;
}

export interface TrustTlsOptions extends DockerDirOptions {
  /** Skip verification of the server certificate (docker: the registry is insecure). */
  readonly insecure?: boolean;
}

/**
 * docker's `registry.ReadCertsDirectory` for a directory: `*.crt` CAs are added to the system roots,
 * `*.cert`/`*.key` pairs are client certificates. A missing directory gives no extra material. Errors are
 * NotaryError INVALID_ARGUMENT with docker's wording for an unpaired file.
 */
export async function readCertsDirectory(dir: string): Promise<{ cas: string[]; clientPairs: { cert: string; key: string; certFile: string }[] }> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { cas: [], clientPairs: [] };
    throw new NotaryError('INVALID_ARGUMENT', `cannot read certificate directory ${dir}: ${code ?? 'error'}`, { where: dir });
  }
  const set = new Set(names);
  const cas: string[] = [];
  const clientPairs: { cert: string; key: string; certFile: string }[] = [];
  const read = async (name: string): Promise<string> => {
    try {
      return await fs.readFile(join(dir, name), 'utf8');
    } catch (err) {
      throw new NotaryError('INVALID_ARGUMENT', `cannot read ${join(dir, name)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { where: join(dir, name) });
    }
  };
  for (const name of names) {
    if (name.endsWith('.crt')) cas.push(await read(name));
    if (name.endsWith('.cert')) {
      const keyName = `${name.slice(0, -'.cert'.length)}.key`;
      if (!set.has(keyName)) {
        throw new NotaryError('INVALID_ARGUMENT', `missing key ${keyName} for client certificate ${name}. CA certificates must use the extension .crt`, { where: join(dir, name) });
      }
      clientPairs.push({ cert: await read(name), key: await read(keyName), certFile: join(dir, name) });
    }
    if (name.endsWith('.key')) {
      const certName = `${name.slice(0, -'.key'.length)}.cert`;
      if (!set.has(certName)) throw new NotaryError('INVALID_ARGUMENT', `missing client certificate ${certName} for key ${name}`, { where: join(dir, name) });
    }
  }
  return { cas, clientPairs };
}

/**
 * The TLS options for talking to a trust server as docker does: extra CAs and a client pair from
 * `<config>/tls/<host[:port]>/`, verification skipped when `insecure`.
 */
export async function trustServerTls(serverUrl: string, env: Env, options: TrustTlsOptions = {}): Promise<RemoteTlsOptions> {
  const { cas, clientPairs } = await readCertsDirectory(trustCertDirectory(serverUrl, env, options));
  const pair = clientPairs[0];
  return {
    ...(cas.length > 0 ? { ca: [...rootCertificates, ...cas] } : {}),
    ...(pair ? { cert: pair.cert, key: pair.key } : {}),
    ...(options.insecure ? { insecureSkipVerify: true } : {}),
  };
}

/** Everything `docker trust` needs to reach the trust server for one image. */
export interface TrustTarget {
  /** The normalised repository name: the GUN. */
  readonly gun: string;
  /** The registry domain as written in the reference (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  readonly serverUrl: string;
  readonly tls: RemoteTlsOptions;
  /** The registry is on loopback: TLS verification to the trust server is skipped, as docker does. */
  readonly insecure: boolean;
  readonly trustDir: string;
  /** Warnings docker prints to stderr for this server (the DOI retirement notice for Docker Hub). */
  readonly warnings: readonly string[];
}

/** Resolves server, TLS, insecurity and trust dir for a reference, as `docker trust` does. */
export async function resolveTrustTarget(
  ref: Pick<ImageReference, 'domain' | 'name'>,
  env: Env,
  options: DockerDirOptions & { lookup?: HostLookup } = {},
): Promise<TrustTarget> {
  const serverUrl = trustServer(ref, env);
  const insecure = await isInsecureRegistry(ref.domain, options.lookup ? { lookup: options.lookup } : {});
  const tls = await trustServerTls(serverUrl, env, { ...options, insecure });
  return {
    gun: ref.name,
    registry: ref.domain,
    serverUrl,
    tls,
    insecure,
    trustDir: trustDirectory(env, options),
    warnings: serverUrl === DOCKER_HUB_NOTARY ? [DOI_DEPRECATION_WARNING] : [],
  };
}

// ---- passphrases ------------------------------------------------------------------------------------------

/** docker's display names in prompts. */
export const DOCKER_ALIAS_MAP: Readonly<Record<string, string>> = { root: 'root', snapshot: 'repository', targets: 'repository', default: 'repository' };

/** docker's environment passphrase for a key alias (role): root has its own, everything else the repository one. */
export function dockerEnvPassphrase(alias: string, env: Env): string | undefined {
  const v = alias === 'root' ? env.DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE : env.DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE;
  return v === undefined || v === '' ? undefined : v;
}

export interface DockerPassphraseOptions {
  readonly env: Env;
  /**
   * The prompt's streams. Docker prompts on its stdout and reads stdin — without echo on a terminal, else
   * one line. Omit to fail (NotaryError BAD_PASSPHRASE) when the environment has no passphrase.
   */
  readonly prompt?: Omit<PromptOptions, 'aliasMap' | 'isTTY'>;
  /** Used instead of the prompt when given (a library caller's own source). */
  readonly fallback?: PassphraseRetriever;
}

/**
 * docker's `trust.GetPassphraseRetriever`: DOCKER_CONTENT_TRUST_* (an environment passphrase is given up
 * after it failed twice, like docker's `numAttempts > 1`), then the prompt. The NOTARY_* variables are the
 * notary CLI's and are not read here.
 */
export function dockerPassphraseRetriever(options: DockerPassphraseOptions): PassphraseRetriever {
  // isTTY: true because docker's retriever reads a line from a non-terminal stdin rather than refusing;
  // LineReader itself only turns echo off when the stream really is a terminal.
  const fallback =
    options.fallback ??
    (options.prompt ? promptRetriever({ ...options.prompt, isTTY: true, aliasMap: DOCKER_ALIAS_MAP }) : undefined);
  return (req) => {
    const v = dockerEnvPassphrase(req.alias, options.env);
    if (v !== undefined) return { passphrase: v, giveUp: req.attempt > 1 };
    if (!fallback) {
      throw new KeyStoreError('BAD_PASSPHRASE', `no passphrase for the ${DOCKER_ALIAS_MAP[req.alias] ?? req.alias} key: set ${req.alias === 'root' ? 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE' : 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'}`);
    }
    return fallback(req);
  };
}
