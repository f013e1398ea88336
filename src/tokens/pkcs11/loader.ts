/**
 * The optional native binding (`pkcs11js`, built by node-gyp at install). It is required only when a token
 * is configured or a YubiKey module is found, so everything else works without it; when it is missing,
 * asking for a token fails with one line saying what to install.
 */
import { createRequire } from 'node:module';
import { TokenError } from '../../core/errors.js';

export type Pkcs11Binding = typeof import('pkcs11js');

export const PKCS11JS_MISSING_MESSAGE =
  'PKCS#11 tokens need the optional package pkcs11js: run `npm install pkcs11js` (it builds with python3, make and a C++ compiler)';

let cached: Pkcs11Binding | undefined;

/** Loads pkcs11js, or throws TOKEN_UNAVAILABLE with PKCS11JS_MISSING_MESSAGE. */
export function loadPkcs11js(): Pkcs11Binding {
  if (cached) return cached;
  if (process.env['NOTARY_TS_NO_PKCS11JS'] === '1') throw new TokenError('TOKEN_UNAVAILABLE', PKCS11JS_MISSING_MESSAGE); // tests: as if not installed
  try {
    cached = createRequire(import.meta.url)('pkcs11js') as Pkcs11Binding;
  } catch (err) {
    throw new TokenError('TOKEN_UNAVAILABLE', PKCS11JS_MISSING_MESSAGE, { cause: err });
  }
  return cached;
}
