/**
 * Notary's words for errors it names differently, put before our detail so a reader who knows `notary`
 * recognises them: metadata larger than its parent states (or than the cap for its role) is what Go calls
 * "trust server returned a bad response." (notary-facts §4.2, size caps).
 */
import { NotaryError } from '../core/errors.js';

export const BAD_RESPONSE = 'trust server returned a bad response.';

export function notaryWords(err: NotaryError): string {
  if (err.code === 'LENGTH_EXCEEDED' && !err.message.startsWith(BAD_RESPONSE)) return `${BAD_RESPONSE} ${err.message}`;
  return err.message;
}
