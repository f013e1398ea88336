/**
 * How a command that failed on the network says so: one `* fatal:` line naming the server and the cause.
 * Go prints `client is offline` (the cause only in the ping's log line) and `unable to reach trust server
 * at this time: 503.` (no server); we print Go's words first, then what Go leaves out. Kept free of heavy
 * imports: the CLI frame loads it for every command.
 */
import { NotaryError } from '../core/errors.js';
import { offlineError } from '../repository/online.js';

const pingErrors = new WeakMap<object, unknown>();

/** Records why the command is offline (the ping's error), for the `client is offline` line. */
export function recordUnreachable(ctx: object, err: unknown): void {
  pingErrors.set(ctx, err);
}

/** The error as the CLI reports it: with the ping's cause and the server named, when it is a network failure. */
export function explainFailure(ctx: object, err: NotaryError, serverUrl: string | undefined): NotaryError {
  const pingError = pingErrors.get(ctx);
  if (err.code === 'OFFLINE' && err.message === 'client is offline' && pingError !== undefined) return offlineError(pingError);
  const network = err.code === 'OFFLINE' || err.code === 'NETWORK' || err.code === 'TIMEOUT' || err.message.startsWith('unable to reach trust server');
  if (!network || serverUrl === undefined || !/^https?:\/\//i.test(serverUrl)) return err;
  let host: string;
  try {
    host = new URL(serverUrl).host;
  } catch {
    return err;
  }
  if (err.message.includes(host)) return err;
  return new NotaryError(err.code, `${err.message} (trust server ${serverUrl})`, { ...(err.where !== undefined ? { where: err.where } : {}), cause: err });
}
