/**
 * The user PIN, the way the CLI gets it (and library users may): NOTARY_PKCS11_PIN, else the passphrase
 * retriever asked as Go asks it for a YubiKey (key name "User Pin", alias "yubikey" — for which Go's
 * environment retriever reads NOTARY_DELEGATION_PASSPHRASE, yubikey not being a base role), else whatever the
 * retriever falls back to (the CLI: a prompt without echo). With the token's last attempt left, only an
 * interactive answer is used. Nothing here retries: Pkcs11KeyStore tries the PIN once.
 */
import { TokenError } from '../../core/errors.js';
import type { PassphraseRetriever } from '../../node/passphrase.js';
import type { PinSource } from './token-store.js';

export function pinFromRetriever(
  retriever: PassphraseRetriever,
  env: Readonly<Record<string, string | undefined>>,
  options: { interactive: boolean } = { interactive: false },
): PinSource {
  return async ({ label, finalTry }) => {
    if (finalTry && !options.interactive) {
      throw new TokenError('TOKEN_PIN_LOCKED', `token ${label} has one PIN attempt left: enter the PIN at a terminal (no PIN was tried)`, { where: label });
    }
    const fromEnv = env['NOTARY_PKCS11_PIN'];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    try {
      return (await retriever({ keyName: 'User Pin', alias: 'yubikey', createNew: false, attempt: 0 })).passphrase;
    } catch {
      throw new TokenError('TOKEN_PIN_INCORRECT', `no PIN for token ${label}: set NOTARY_PKCS11_PIN or run at a terminal (no PIN was tried)`, { where: label });
    }
  };
}
