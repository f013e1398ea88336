/**
 * Where the token is: the `pkcs11` section of the client config, overridden by the environment, overridden
 * by flags. With nothing configured, the YubiKey module paths Go notary probes (trustmanager/yubikey,
 * pkcs11_linux.go / pkcs11_darwin.go), first existing file wins, as in Go.
 *
 * Config (JSON):  "pkcs11": { "module": "/usr/lib/softhsm/libsofthsm2.so", "token": "notary", "slot": 0,
 *                             "roles": ["root"], "layout": "token" | "yubikey", "touch_timeout": 30 }
 * Environment:    NOTARY_PKCS11_MODULE, NOTARY_PKCS11_TOKEN, NOTARY_PKCS11_SLOT, NOTARY_PKCS11_ROLES (comma
 *                 separated, `none` for no role), NOTARY_PKCS11_LAYOUT, NOTARY_PKCS11_TOUCH_TIMEOUT (seconds),
 *                 NOTARY_PKCS11_PIN (the user PIN; see pin.ts)
 * Flags:          --pkcs11-module, --pkcs11-token, --pkcs11-slot
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { FormatError } from '../../core/errors.js';

/** Go notary 0.7's YubiKey module paths (Linux, then macOS), in its order. */
export const GO_YUBIKEY_MODULE_PATHS: readonly string[] =
  process.platform === 'darwin'
    ? ['/usr/local/lib/libykcs11.dylib', '/usr/local/docker/lib/libykcs11.dylib', '/usr/local/docker_experimental/lib/libykcs11.dylib']
    : [
        '/usr/lib/libykcs11.so',
        '/usr/lib/libykcs11.so.1',
        '/usr/lib64/libykcs11.so',
        '/usr/lib64/libykcs11.so.1',
        '/usr/lib/x86_64-linux-gnu/libykcs11.so',
        '/usr/local/lib/libykcs11.so',
      ];

export type KeyLayout = 'token' | 'yubikey';

export interface Pkcs11Settings {
  /** The PKCS#11 module (shared library). */
  readonly module: string;
  /** Token label to use (default: the first slot with a token). */
  readonly token?: string;
  /** Slot ID to use. */
  readonly slot?: bigint;
  /** Roles whose new keys are made on the token (default: root, as Go does with a YubiKey). */
  readonly roles: ReadonlySet<string>;
  /**
   * `token`: keys generated on the token, non-extractable (default). `yubikey`: Go's layout — a key made in
   * software, imported into a YubiKey PIV slot with a CN=<role> certificate, and an encrypted backup in the
   * trust dir.
   */
  readonly layout: KeyLayout;
  /** How long one signature may take (a touch-required token waits for the touch). */
  readonly touchTimeoutMs: number;
  /** True when the module came from probing Go's YubiKey paths (then a missing pkcs11js is not an error). */
  readonly probed: boolean;
}

export interface Pkcs11Overrides {
  readonly module?: string;
  readonly token?: string;
  readonly slot?: string;
}

const DEFAULT_TOUCH_TIMEOUT_S = 30;

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function parseSlot(v: unknown, where: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) throw new FormatError('INVALID_ARGUMENT', `${where}: a PKCS#11 slot is a non-negative integer, not ${JSON.stringify(v)}`, { where });
  return BigInt(text);
}

/**
 * The token settings, or undefined when no token is configured and no YubiKey module is installed.
 * `section` is the config file's `pkcs11` object, `configDir` the directory its relative module path
 * resolves against.
 */
export function resolvePkcs11Settings(
  section: unknown,
  env: Readonly<Record<string, string | undefined>>,
  flags: Pkcs11Overrides,
  options: { cwd: string; configDir?: string; probePaths?: readonly string[] } = { cwd: process.cwd() },
): Pkcs11Settings | undefined {
  const file = asRecord(section);
  let module: string | undefined;
  let probed = false;
  if (nonEmpty(flags.module)) module = resolve(options.cwd, flags.module!);
  else if (nonEmpty(env['NOTARY_PKCS11_MODULE'])) module = resolve(options.cwd, env['NOTARY_PKCS11_MODULE']!);
  else if (nonEmpty(file['module'])) {
    const m = file['module'] as string;
    module = isAbsolute(m) ? m : resolve(options.configDir ?? options.cwd, m);
  } else {
    module = (options.probePaths ?? GO_YUBIKEY_MODULE_PATHS).find((p) => existsSync(p));
    probed = module !== undefined;
  }
  if (!module) return undefined;
  const token = nonEmpty(flags.token) ?? nonEmpty(env['NOTARY_PKCS11_TOKEN']) ?? nonEmpty(file['token']);
  const slot =
    parseSlot(flags.slot, '--pkcs11-slot') ?? parseSlot(env['NOTARY_PKCS11_SLOT'], 'NOTARY_PKCS11_SLOT') ?? parseSlot(file['slot'], 'pkcs11.slot');
  let roles: string[] = ['root'];
  const envRoles = nonEmpty(env['NOTARY_PKCS11_ROLES']);
  if (envRoles !== undefined) roles = envRoles === 'none' ? [] : envRoles.split(',').map((r) => r.trim()).filter((r) => r !== '');
  else if (Array.isArray(file['roles'])) {
    if (!file['roles'].every((r) => typeof r === 'string')) throw new FormatError('INVALID_ARGUMENT', 'pkcs11.roles must be a list of role names', { where: 'pkcs11.roles' });
    roles = file['roles'] as string[];
  }
  const layoutText = nonEmpty(env['NOTARY_PKCS11_LAYOUT']) ?? nonEmpty(file['layout']) ?? 'token';
  if (layoutText !== 'token' && layoutText !== 'yubikey') {
    throw new FormatError('INVALID_ARGUMENT', `pkcs11.layout must be "token" or "yubikey", not ${JSON.stringify(layoutText)}`, { where: 'pkcs11.layout' });
  }
  const timeoutText = nonEmpty(env['NOTARY_PKCS11_TOUCH_TIMEOUT']) ?? file['touch_timeout'];
  const timeoutS = timeoutText === undefined ? DEFAULT_TOUCH_TIMEOUT_S : Number(timeoutText);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    throw new FormatError('INVALID_ARGUMENT', `the PKCS#11 touch timeout must be a positive number of seconds, not ${JSON.stringify(timeoutText)}`, { where: 'pkcs11.touch_timeout' });
  }
  return {
    module,
    ...(token !== undefined ? { token } : {}),
    ...(slot !== undefined ? { slot } : {}),
    roles: new Set(roles),
    layout: layoutText,
    touchTimeoutMs: Math.round(timeoutS * 1000),
    probed,
  };
}
