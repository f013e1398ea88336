/**
 * A SoftHSM2 token in a temporary SOFTHSM2_CONF, and the fault-injecting shim module
 * (test/support/pkcs11-shim.c) compiled next to it. The user PIN and SO PIN are the YubiKey defaults Go
 * notary logs in with, so the Go client can use the same token through its YubiKey code path.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '123456';
/** Go notary's YubiKey SO PIN (the PIV management key), trustmanager/yubikey/yubikeystore.go. */
export const GO_SO_PIN = '010203040506070801020304050607080102030405060708';

export interface SoftHsm {
  readonly dir: string;
  readonly conf: string;
  readonly label: string;
  /** The shim module: SoftHSM with C_Sign faults on demand (PKCS11_SHIM_FAIL_AFTER, PKCS11_SHIM_SIGN_DELAY_MS). */
  readonly shim: string;
  /** Environment for our CLI: SOFTHSM2_CONF, the module, the token label and the PIN. */
  readonly env: Record<string, string>;
  remove(): void;
}

export function createSoftHsm(label = 'notary-test'): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'notary-ts-softhsm-'));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', GO_SO_PIN], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: 'pipe',
  });
  const shim = join(dir, 'shim.so');
  const include = resolve('node_modules/pkcs11js/includes/pkcs11');
  execFileSync('gcc', ['-shared', '-fPIC', '-o', shim, `-I${include}`, resolve('test/support/pkcs11-shim.c'), '-ldl'], { stdio: 'pipe' });
  return {
    dir,
    conf,
    label,
    shim,
    env: { SOFTHSM2_CONF: conf, NOTARY_PKCS11_MODULE: SOFTHSM_MODULE, NOTARY_PKCS11_TOKEN: label, NOTARY_PKCS11_PIN: USER_PIN },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
