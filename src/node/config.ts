/**
 * The notary client configuration: the same file format and precedence as the Go CLI. Defaults: trust_dir
 * `~/.notary`, config file `~/.notary/config.json` (missing is fine unless `-c` names it), server
 * `https://notary-server:4443`. Flags override the file. `trust_dir`, `trust_pinning.ca` and flag paths
 * resolve against the current directory (as Notary does, whatever its docs say); `remote_server` TLS paths
 * from the file resolve against the config file's directory.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { FormatError, KeyStoreError } from '../core/errors.js';
import type { CaBundle, TrustPinning } from '../core/root.js';

export const DEFAULT_SERVER_URL = 'https://notary-server:4443';

export interface ClientConfig {
  readonly trustDir: string;
  readonly serverUrl: string;
  readonly tls: {
    readonly rootCa?: string;
    readonly clientCert?: string;
    readonly clientKey?: string;
    readonly skipVerify: boolean;
  };
  readonly trustPinning: {
    readonly certs: Record<string, string[]>;
    /** GUN prefix → CA bundle path (resolved against the current directory). */
    readonly ca: Record<string, string>;
    readonly disableTofu: boolean;
  };
  /** The config file that was read, if any. */
  readonly configFile?: string;
  /** The file's `pkcs11` section as written (resolved by src/tokens/pkcs11/config.ts). */
  readonly pkcs11?: unknown;
}

export interface ConfigOverrides {
  readonly configFile?: string;
  readonly trustDir?: string;
  readonly server?: string;
  readonly tlsCaCert?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

export interface ConfigEnvironment {
  readonly cwd?: string;
  readonly home?: string;
}

function homeExpand(home: string, path: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

function fromCwd(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const PATH_MAX = 4096;
const NAME_MAX = 255;

/**
 * Says what is wrong with a trust_dir before anything tries to use it (a NUL byte, a path or name the
 * file system cannot hold, a regular file), instead of an errno from deep inside the key store or cache.
 */
export async function checkTrustDir(trustDir: string): Promise<void> {
  const bad = (why: string, cause?: unknown) =>
    new KeyStoreError('BAD_TRUST_DIR', `invalid trust_dir ${JSON.stringify(trustDir.length > 80 ? trustDir.slice(0, 77) + '...' : trustDir)}: ${why}`, {
      where: 'trust_dir',
      ...(cause === undefined ? {} : { cause }),
    });
  if (trustDir.includes('\u0000')) throw bad('it contains a NUL character');
  // Leave room for what goes below it (tuf/<gun>/metadata/<role>.json, private/<64 hex>.key).
  if (Buffer.byteLength(trustDir) > PATH_MAX - 512) throw bad(`the path is longer than ${PATH_MAX - 512} bytes`);
  for (const part of trustDir.split('/')) {
    if (Buffer.byteLength(part) > NAME_MAX) throw bad(`a path component is longer than ${NAME_MAX} bytes`);
  }
  let info;
  try {
    info = await stat(trustDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // created on first write
    if (code === 'ENOTDIR') throw bad('a parent of it is not a directory', err);
    if (code === 'ENAMETOOLONG') throw bad('the path is too long', err);
    if (code === 'ELOOP') throw bad('too many symbolic links', err);
    return; // permission problems are reported where the access happens, with the file named
  }
  if (!info.isDirectory()) throw bad('it is not a directory');
}

export async function loadClientConfig(overrides: ConfigOverrides = {}, env: ConfigEnvironment = {}): Promise<ClientConfig> {
  const cwd = env.cwd ?? process.cwd();
  const home = env.home ?? process.env['HOME'] ?? homedir();
  const defaultTrustDir = join(home, '.notary');
  const file = overrides.configFile ? fromCwd(cwd, overrides.configFile) : join(defaultTrustDir, 'config.json');

  let raw: Record<string, unknown> = {};
  let configFile: string | undefined;
  try {
    const text = await readFile(file, 'utf8');
    if (!/\.json$/i.test(file)) {
      throw new FormatError('INVALID_ARGUMENT', `error opening config file: only JSON configuration files are supported (${file})`, { where: file });
    }
    try {
      raw = asRecord(JSON.parse(text));
    } catch (err) {
      throw new FormatError('MALFORMED_JSON', `error opening config file: While parsing config: ${(err as Error).message}`, { where: file });
    }
    configFile = file;
  } catch (err) {
    if (err instanceof FormatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (overrides.configFile || code !== 'ENOENT') {
      throw new FormatError('INVALID_ARGUMENT', `error opening config file: open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, {
        where: file,
      });
    }
  }

  const remote = asRecord(raw['remote_server']);
  const configDir = configFile ? dirname(configFile) : cwd;
  const fileRelative = (p: unknown) => (typeof p === 'string' && p !== '' ? fromCwd(configDir, homeExpand(home, p)) : undefined);

  let trustDir = typeof raw['trust_dir'] === 'string' && raw['trust_dir'] !== '' ? (raw['trust_dir'] as string) : defaultTrustDir;
  if (overrides.trustDir) trustDir = overrides.trustDir;
  trustDir = fromCwd(cwd, homeExpand(home, trustDir));
  await checkTrustDir(trustDir);

  const pinning = asRecord(raw['trust_pinning']);
  const certs: Record<string, string[]> = {};
  for (const [gun, ids] of Object.entries(asRecord(pinning['certs']))) {
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
      throw new FormatError('INVALID_ARGUMENT', 'invalid format for trust_pinning.certs', { where: 'trust_pinning.certs' });
    }
    certs[gun] = ids as string[];
  }
  const ca: Record<string, string> = {};
  for (const [prefix, path] of Object.entries(asRecord(pinning['ca']))) {
    if (typeof path === 'string') ca[prefix] = fromCwd(cwd, homeExpand(home, path));
  }

  const rootCa = overrides.tlsCaCert ? fromCwd(cwd, overrides.tlsCaCert) : fileRelative(remote['root_ca']);
  const clientCert = overrides.tlsCert ? fromCwd(cwd, overrides.tlsCert) : fileRelative(remote['tls_client_cert']);
  const clientKey = overrides.tlsKey ? fromCwd(cwd, overrides.tlsKey) : fileRelative(remote['tls_client_key']);
  return {
    trustDir,
    serverUrl: overrides.server || (typeof remote['url'] === 'string' && remote['url'] ? (remote['url'] as string) : DEFAULT_SERVER_URL),
    tls: {
      ...(rootCa ? { rootCa } : {}),
      ...(clientCert ? { clientCert } : {}),
      ...(clientKey ? { clientKey } : {}),
      skipVerify: remote['skipTLSVerify'] === true,
    },
    trustPinning: { certs, ca, disableTofu: pinning['disable_tofu'] === true },
    ...(configFile ? { configFile } : {}),
    ...(raw['pkcs11'] !== undefined ? { pkcs11: raw['pkcs11'] } : {}),
  };
}

/**
 * The core's TrustPinning from a config. Each `trust_pinning.ca` bundle file is read here (a file that
 * cannot be read becomes `null`: the core then fails with "could not load root cert from CA path", but
 * only if that prefix applies to a root being validated, as Notary reads it only then).
 */
export function trustPinningOf(config: ClientConfig): TrustPinning {
  const ca: Record<string, CaBundle> = {};
  for (const [prefix, path] of Object.entries(config.trustPinning.ca)) {
    try {
      ca[prefix] = new Uint8Array(readFileSync(path));
    } catch {
      ca[prefix] = null;
    }
  }
  return { certs: config.trustPinning.certs, ca, disableTofu: config.trustPinning.disableTofu };
}
