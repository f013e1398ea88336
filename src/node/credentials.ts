/**
 * Where the credentials for a trust server come from, in order:
 *
 * 1. an explicit option;
 * 2. `NOTARY_AUTH`: base64 of `user:password` (password whitespace-trimmed, empty user refused), as the Go
 *    CLI reads it;
 * 3. Docker's client config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
 *    `credHelpers[<host>]`, then `credsStore`, then `auths[<host>]` (`auth` = base64 `user:pass`, or
 *    `identitytoken`). Hosts are matched as docker does: the exact key first, then any key whose hostname
 *    (scheme and path stripped) equals the server's host.
 *
 * Credential helpers speak docker's `docker-credential-<name> get` protocol: the server address on stdin,
 * `{"ServerURL","Username","Secret"}` on stdout; a `<token>` username means `Secret` is an identity token.
 *
 * Secrets never appear in error messages.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NotaryError } from '../core/errors.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /**
   * An OAuth2 refresh ("identity") token from docker's config or a credential helper. When present the
   * token flow uses `grant_type=refresh_token` instead of Basic credentials.
   */
  readonly identityToken?: string;
}

export interface CredentialOptions {
  /** Used before anything else when given. */
  readonly explicit?: Credentials;
  /** Environment to read NOTARY_AUTH, DOCKER_CONFIG, HOME and PATH from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Skip docker's config entirely. */
  readonly ignoreDockerConfig?: boolean;
  /** Timeout for a credential helper (default 10 s). */
  readonly helperTimeoutMs?: number;
}

function invalid(message: string): NotaryError {
  return new NotaryError('INVALID_ARGUMENT', message);
}

function decodeBase64Strict(text: string, what: string): string {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) throw invalid(`${what} is not valid base64`);
  return Buffer.from(t, 'base64').toString('utf8');
}

/** Parses NOTARY_AUTH the way the Go CLI does (but refuses bad values instead of silently prompting). */
export function parseNotaryAuth(value: string): Credentials {
  const plain = decodeBase64Strict(value, 'NOTARY_AUTH');
  const i = plain.indexOf(':');
  if (i === 0) throw invalid('NOTARY_AUTH has a zero-length username');
  if (i < 0) throw invalid('NOTARY_AUTH is malformed; format must be base64 of <username>:<password>');
  return { username: plain.slice(0, i), password: plain.slice(i + 1).trim() };
}

/** The host (with port when given) of a server URL or docker config key, as docker's ConvertToHostname. */
export function hostnameOf(address: string): string {
  let s = address;
  if (s.startsWith('http://')) s = s.slice('http://'.length);
  else if (s.startsWith('https://')) s = s.slice('https://'.length);
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  return s;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

async function readDockerConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig | undefined> {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalid(`cannot read docker config ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as DockerConfig) : undefined;
  } catch {
    throw invalid(`docker config ${file} is not valid JSON`);
  }
}

/** Finds the value for a host in a docker map: exact keys first, then keys whose hostname matches. */
function lookupHost<T>(map: Record<string, T> | undefined, serverUrl: string, host: string): T | undefined {
  if (!map || typeof map !== 'object') return undefined;
  for (const key of [serverUrl, host, `https://${host}`, `http://${host}`]) {
    if (Object.prototype.hasOwnProperty.call(map, key)) return map[key];
  }
  for (const [key, value] of Object.entries(map)) if (hostnameOf(key) === host) return value;
  return undefined;
}

function fromDockerAuth(entry: NonNullable<DockerConfig['auths']>[string], host: string): Credentials | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  let username = '';
  let password = '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const plain = decodeBase64Strict(entry.auth, `docker config auth for ${host}`);
    const i = plain.indexOf(':');
    if (i < 0) throw invalid(`docker config auth for ${host} is malformed`);
    username = plain.slice(0, i);
    password = plain.slice(i + 1).replace(/^\0+|\0+$/g, '');
  } else if (typeof entry.username === 'string') {
    username = entry.username;
    password = typeof entry.password === 'string' ? entry.password : '';
  }
  const identityToken = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  if (identityToken !== undefined) return { username, password, identityToken };
  if (username === '' && password === '') return undefined;
  if (username === '') throw invalid(`docker config auth for ${host} has a zero-length username`);
  return { username, password };
}

function runHelper(name: string, input: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string }> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return Promise.reject(invalid(`invalid docker credential helper name "${name}"`));
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        if (e.code === 'ENOENT') return reject(invalid(`docker credential helper ${program} not found on PATH`));
        if (e.killed) return reject(invalid(`docker credential helper ${program} timed out after ${timeoutMs} ms`));
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout });
        return reject(invalid(`docker credential helper ${program} failed: ${String(e.code ?? 'error')}`));
      }
      resolve({ code: 0, stdout });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

async function fromHelper(name: string, addresses: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  for (const address of addresses) {
    const { code, stdout } = await runHelper(name, address, env, timeoutMs);
    if (code !== 0) {
      if (/credentials not found/i.test(stdout)) continue;
      throw invalid(`docker credential helper ${program} failed for ${address} (exit code ${code})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw invalid(`docker credential helper ${program} returned invalid JSON for ${address}`);
    }
    const o = (parsed ?? {}) as { Username?: unknown; Secret?: unknown };
    const username = typeof o.Username === 'string' ? o.Username : '';
    const secret = typeof o.Secret === 'string' ? o.Secret : '';
    if (username === '' && secret === '') continue;
    if (username === '<token>') return { username: '', password: '', identityToken: secret };
    if (username === '') throw invalid(`docker credential helper ${program} returned a zero-length username for ${address}`);
    return { username, password: secret };
  }
  return undefined;
}

/**
 * The credentials to use for `serverUrl`, or undefined when none are configured. Throws a NotaryError
 * (`INVALID_ARGUMENT`) for malformed configuration; never includes secrets in messages.
 */
export async function resolveCredentials(serverUrl: string, options: CredentialOptions = {}): Promise<Credentials | undefined> {
  if (options.explicit) return options.explicit;
  const env = options.env ?? process.env;
  const notaryAuth = env.NOTARY_AUTH;
  if (notaryAuth !== undefined && notaryAuth !== '') return parseNotaryAuth(notaryAuth);
  if (options.ignoreDockerConfig) return undefined;

  const config = await readDockerConfig(env);
  if (!config) return undefined;
  const host = hostnameOf(serverUrl);
  const timeoutMs = options.helperTimeoutMs ?? 10_000;
  const origin = serverUrl.replace(/\/+$/, '');
  const addresses = [...new Set([host, origin])];

  const helper = lookupHost(config.credHelpers, serverUrl, host);
  if (typeof helper === 'string' && helper !== '') return fromHelper(helper, addresses, env, timeoutMs);
  if (typeof config.credsStore === 'string' && config.credsStore !== '') {
    const found = await fromHelper(config.credsStore, addresses, env, timeoutMs);
    if (found) return found;
    // docker's native store falls back to nothing else; but a plain `auths` entry is still honoured below
  }
  const entry = lookupHost(config.auths, serverUrl, host);
  return entry ? fromDockerAuth(entry, host) : undefined;
}

// ------------------------------------------------------------------------------------------------------------
// Registry credentials, as the docker CLI finds them for an image (`command.ResolveAuthConfig`)

/** docker's `registry.IndexServer`: the config.json key (and helper address) for Docker Hub. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/**
 * The key docker looks credentials up under for a registry domain: `https://index.docker.io/v1/` for Docker
 * Hub (`docker.io`, `index.docker.io`), else the domain itself (`host[:port]`).
 */
export function registryAuthKey(registryDomain: string): string {
  return registryDomain === 'docker.io' || registryDomain === 'index.docker.io' ? DOCKER_HUB_AUTH_KEY : registryDomain;
}

export interface RegistryCredentialOptions {
  /** Environment to read DOCKER_CONFIG, DOCKER_AUTH_CONFIG, HOME and PATH from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** docker's `--config` directory; default `$DOCKER_CONFIG`, else `~/.docker`. */
  readonly configDir?: string;
  /** Timeout for a credential helper (default 10 s). */
  readonly helperTimeoutMs?: number;
}

/**
 * The credentials docker would use for a registry (not NOTARY_AUTH: that is the notary CLI's): in order
 * `DOCKER_AUTH_CONFIG` (JSON like config.json's `auths`, as docker 28 reads it), then config.json's
 * `credHelpers[<key>]`, else `credsStore`, else `auths[<key>]` (exact, then a legacy key whose hostname is
 * the key). A helper is asked for the key exactly (`https://index.docker.io/v1/` for Docker Hub). With a
 * helper configured, docker does not fall back to `auths`: neither does this.
 * Undefined when nothing is configured; NotaryError `INVALID_ARGUMENT` for broken configuration.
 */
export async function resolveRegistryCredentials(registryDomain: string, options: RegistryCredentialOptions = {}): Promise<Credentials | undefined> {
  const env = options.env ?? process.env;
  const key = registryAuthKey(registryDomain);
  const inline = env.DOCKER_AUTH_CONFIG;
  if (inline !== undefined && inline !== '') {
    let parsed: DockerConfig;
    try {
      parsed = JSON.parse(inline) as DockerConfig;
    } catch {
      throw invalid('DOCKER_AUTH_CONFIG is not valid JSON');
    }
    const entry = lookupAuthKey(parsed?.auths, key);
    const found = entry ? fromDockerAuth(entry, key) : undefined;
    if (found) return found;
  }
  const config = await readDockerConfig(options.configDir !== undefined ? { ...env, DOCKER_CONFIG: options.configDir } : env);
  if (!config) return undefined;
  const timeoutMs = options.helperTimeoutMs ?? 10_000;
  const helpers = config.credHelpers && typeof config.credHelpers === 'object' ? config.credHelpers : undefined;
  const helper = helpers && Object.prototype.hasOwnProperty.call(helpers, key) ? helpers[key] : undefined;
  const store = typeof helper === 'string' && helper !== '' ? helper : typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
  if (store !== undefined) return fromHelper(store, [key], env, timeoutMs);
  const entry = lookupAuthKey(config.auths, key);
  return entry ? fromDockerAuth(entry, key) : undefined;
}

/** docker's fileStore.Get: the exact key, else the first key whose ConvertToHostname is the key. */
function lookupAuthKey<T>(map: Record<string, T> | undefined, key: string): T | undefined {
  if (!map || typeof map !== 'object') return undefined;
  if (Object.prototype.hasOwnProperty.call(map, key)) return map[key];
  for (const [k, v] of Object.entries(map)) if (hostnameOf(k) === key) return v;
  return undefined;
}
