/**
 * Passphrases for key files, the way the `notary` CLI gets them (notary-facts §6.4), plus a callback form for
 * library users.
 *
 * A retriever is asked `(keyName, alias, createNew, attempt)` — alias is the key's role — and answers a
 * passphrase, or `giveUp`, or throws. Callers (src/node/keystore.ts) loop as Notary does:
 * - decrypting: attempt 0, 1, …; a thrown error or `giveUp` ends with BAD_PASSPHRASE "password invalid,
 *   operation has failed."; more than 10 attempts end with "maximum number of passphrase attempts exceeded".
 * - creating: a thrown error is retried; `giveUp` or more than 10 attempts end with "maximum number of
 *   passphrase attempts exceeded".
 *
 * Environment (`envRetriever`), first non-empty variable wins (an empty variable counts as unset):
 *   1. `NOTARY_<ALIAS>_PASSPHRASE` for alias root / targets / snapshot, and NOTARY_DELEGATION_PASSPHRASE for the
 *      alias `delegation` itself (Notary);
 *   2. NOTARY_DELEGATION_PASSPHRASE for any alias that is not a base role (delegation names, `delegation`,
 *      the empty alias `key generate -o` uses, any other name) (Notary);
 *   3. DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE for root, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE for every other
 *      alias, timestamp included (Docker's names; notary-ts extension, after Notary's own so a `notary`
 *      script behaves the same);
 *   4. the fallback retriever (the terminal prompt).
 *   An environment passphrase is answered with `giveUp` from attempt 2 on, so a wrong one is tried twice.
 *
 * Prompt (`promptRetriever`): Notary's texts on the output stream (stdout in the CLI), the input read without
 * echo when it is a terminal; without a terminal every request fails with "Please either use environment
 * variables or STDIN with a terminal to provide key passphrases". New passphrases are trimmed, must be at
 * least 8 bytes and typed twice; the answer is cached per alias; after 3 wrong answers it gives up.
 *
 * Passphrases never appear in errors or logs.
 */
import { KeyStoreError } from '../core/errors.js';

export interface PassphraseRequest {
  /** What is being unlocked: usually the key ID (prompts show its first 7 characters). */
  readonly keyName: string;
  /** The key's role (`root`, `targets`, `targets/qa`, …) or `` for `key generate -o`. */
  readonly alias: string;
  /** A passphrase for a new key (or a re-encryption) rather than an existing one. */
  readonly createNew: boolean;
  /** 0 for the first request for this key, then 1, 2, … after each failure. */
  readonly attempt: number;
}

export interface PassphraseAnswer {
  readonly passphrase: string;
  /** Stop asking after this answer fails (Notary's `giveup`). */
  readonly giveUp?: boolean;
}

export type PassphraseRetriever = (request: PassphraseRequest) => PassphraseAnswer | Promise<PassphraseAnswer>;

export const NO_INPUT_MESSAGE = 'Please either use environment variables or STDIN with a terminal to provide key passphrases';
export const ROOT_KEY_GENERATION_WARNING = `You are about to create a new root signing key passphrase. This passphrase
will be used to protect the most sensitive key in your signing system. Please
choose a long, complex passphrase and be careful to keep the password and the
key file itself secure and backed up. It is highly recommended that you use a
password manager to generate the passphrase and keep it safe. There will be no
way to recover this key. You can find the key in your config directory.`;

const BASE_ROLES = new Set(['root', 'targets', 'snapshot', 'timestamp']);

/** Minimum length of a new passphrase typed at the prompt (bytes, as Go counts). */
export const MIN_PASSPHRASE_LENGTH = 8;

function passphraseError(message: string): KeyStoreError {
  return new KeyStoreError('BAD_PASSPHRASE', message);
}

/** The environment passphrase for an alias, with the precedence documented at the top of this file. */
export function envPassphrase(alias: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const own: Record<string, string> = {
    root: 'NOTARY_ROOT_PASSPHRASE',
    targets: 'NOTARY_TARGETS_PASSPHRASE',
    snapshot: 'NOTARY_SNAPSHOT_PASSPHRASE',
    delegation: 'NOTARY_DELEGATION_PASSPHRASE',
  };
  const direct = own[alias];
  if (direct !== undefined) {
    const v = get(direct);
    if (v !== undefined) return v;
  }
  if (!BASE_ROLES.has(alias)) {
    const v = get('NOTARY_DELEGATION_PASSPHRASE');
    if (v !== undefined) return v;
  }
  return get(alias === 'root' ? 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE' : 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
}

/** Environment variables first, then `fallback` (default: fail with NO_INPUT_MESSAGE). */
export function envRetriever(env: Readonly<Record<string, string | undefined>>, fallback: PassphraseRetriever = noInputRetriever): PassphraseRetriever {
  return (req) => {
    const v = envPassphrase(req.alias, env);
    if (v !== undefined) return { passphrase: v, giveUp: req.attempt > 1 };
    return fallback(req);
  };
}

/** Always fails: what Notary does without environment variables and without a terminal. */
export const noInputRetriever: PassphraseRetriever = () => {
  throw passphraseError(NO_INPUT_MESSAGE);
};

/** The same passphrase for every key (tests, scripts). */
export function constantRetriever(passphrase: string): PassphraseRetriever {
  return () => ({ passphrase });
}

/**
 * For library users: `ask` returns the passphrase, or undefined to give up (no more attempts). It sees the
 * whole request, so it can answer per role or per key and tell a retry (attempt > 0) from a first ask.
 */
export function callbackRetriever(ask: (request: PassphraseRequest) => string | undefined | Promise<string | undefined>): PassphraseRetriever {
  return async (req) => {
    const v = await ask(req);
    if (v === undefined) throw passphraseError('no passphrase provided');
    return { passphrase: v };
  };
}

// ------------------------------------------------------------------------------------------------------------
// Reading lines from stdin (shared by the prompt and the CLI's yes/no questions)

interface RawCapable {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/**
 * Reads lines from a stream, keeping what it read past a line for the next call. In raw (no-echo) mode it
 * handles backspace, Ctrl-C (throws) and Ctrl-D (end of input).
 */
export class LineReader {
  private buffer = '';
  private ended = false;

  constructor(private readonly stream: NodeJS.ReadableStream) {}

  /** The next line without its terminator, or null at end of input. */
  readLine(options: { noEcho?: boolean } = {}): Promise<string | null> {
    const tty = this.stream as unknown as RawCapable;
    const raw = options.noEcho === true && tty.isTTY === true && typeof tty.setRawMode === 'function';
    return new Promise<string | null>((resolve, reject) => {
      let line = '';
      let done = false;
      const finish = (err: Error | undefined, value: string | null) => {
        if (done) return;
        done = true;
        this.stream.removeListener('data', onData);
        this.stream.removeListener('end', onEnd);
        this.stream.removeListener('error', onError);
        this.stream.pause();
        if (raw) tty.setRawMode!(false);
        if (err) reject(err);
        else resolve(value);
      };
      const consume = (): boolean => {
        while (this.buffer.length > 0) {
          const c = this.buffer[0]!;
          this.buffer = this.buffer.slice(1);
          if (c === '\n' || (raw && c === '\r')) {
            finish(undefined, line);
            return true;
          }
          if (raw && (c === '\x7f' || c === '\b')) {
            line = [...line].slice(0, -1).join('');
            continue;
          }
          if (raw && c === '\x03') {
            finish(new KeyStoreError('BAD_PASSPHRASE', 'interrupted'), null);
            return true;
          }
          if (raw && c === '\x04') {
            finish(undefined, line === '' ? null : line);
            return true;
          }
          line += c;
        }
        return false;
      };
      const onData = (chunk: string | Buffer) => {
        this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        consume();
      };
      const onEnd = () => {
        this.ended = true;
        finish(undefined, line === '' ? null : line.replace(/\r$/, ''));
      };
      const onError = (err: Error) => finish(err, null);
      if (consume()) return;
      if (this.ended) {
        finish(undefined, line === '' ? null : line.replace(/\r$/, ''));
        return;
      }
      if (raw) tty.setRawMode!(true);
      this.stream.on('data', onData);
      this.stream.on('end', onEnd);
      this.stream.on('error', onError);
      this.stream.resume();
    }).then((v) => (v === null || raw ? v : v.replace(/\r$/, '')));
  }
}

const readers = new WeakMap<object, LineReader>();

/** One LineReader per stream, so prompts and confirmations share buffered input. */
export function lineReaderFor(stream: NodeJS.ReadableStream): LineReader {
  let r = readers.get(stream);
  if (!r) {
    r = new LineReader(stream);
    readers.set(stream, r);
  }
  return r;
}

/**
 * Notary's yes/no confirmation (Go's `fmt.Fscanln` + `askConfirm`): exactly one word on the line, `y` or
 * `yes` in any case; anything else, an empty line or end of input is "no".
 */
export async function askConfirm(stream: NodeJS.ReadableStream): Promise<boolean> {
  const line = await lineReaderFor(stream).readLine();
  if (line === null) return false;
  const words = line.trim().split(/[ \t\r]+/).filter((w) => w !== '');
  if (words.length !== 1) return false;
  const w = words[0]!.toLowerCase();
  return w === 'y' || w === 'yes';
}

// ------------------------------------------------------------------------------------------------------------
// The interactive prompt

export interface PromptOptions {
  readonly input: NodeJS.ReadableStream;
  /** Where prompts go (Notary: stdout). */
  readonly output: (text: string) => void;
  /** Whether input is a terminal; without one every request fails with NO_INPUT_MESSAGE. */
  readonly isTTY: boolean;
  /** Display names for aliases. */
  readonly aliasMap?: Readonly<Record<string, string>>;
}

/** `abcdefg` for a key ID, `abcdefg (dir)` for a path-like key name, '' for short names (Notary's rule). */
function shortKeyName(keyName: string): string {
  let sep = keyName.lastIndexOf('/');
  if (sep === -1) sep = 0;
  if (keyName.length <= sep + 7) return '';
  if (sep > 0) return `${keyName.slice(sep + 1, sep + 8)} (${keyName.slice(0, sep)})`;
  return keyName.slice(0, 7);
}

export function promptRetriever(options: PromptOptions): PassphraseRetriever {
  if (!options.isTTY) return noInputRetriever;
  const cache = new Map<string, string>();
  const out = options.output;
  const reader = lineReaderFor(options.input);
  const read = async (): Promise<string> => {
    const line = await reader.readLine({ noEcho: true });
    out('\n');
    if (line === null) throw passphraseError('no passphrase entered (end of input)');
    return line.trim();
  };
  return async ({ keyName, alias, createNew, attempt }) => {
    if (attempt === 0) {
      if (alias === 'root' && createNew) out(ROOT_KEY_GENERATION_WARNING + '\n');
      const cached = cache.get(alias);
      if (cached !== undefined) return { passphrase: cached };
    } else if (!createNew) {
      if (attempt > 3) throw passphraseError('Too many attempts');
      out('Passphrase incorrect. Please retry.\n');
    }
    const display = options.aliasMap?.[alias] ?? alias;
    const short = shortKeyName(keyName);
    const withId = short === '' ? '' : ` with ID ${short}`;
    out(createNew ? `Enter passphrase for new ${display} key${withId}: ` : `Enter passphrase for ${display} key${withId}: `);
    const passphrase = await read();
    if (createNew) {
      if (Buffer.byteLength(passphrase, 'utf8') < MIN_PASSPHRASE_LENGTH) {
        out('Passphrase is too short. Please use a password manager to generate and store a good random passphrase.\n');
        throw passphraseError('Passphrase too short');
      }
      out(`Repeat passphrase for new ${display} key${withId}: `);
      const again = await read();
      if (again !== passphrase) {
        out('Passphrases do not match. Please retry.\n');
        throw passphraseError('The entered passphrases do not match');
      }
    }
    cache.set(alias, passphrase);
    return { passphrase };
  };
}

/** What the `notary` CLI uses: environment variables, then the terminal prompt. */
export function notaryRetriever(options: PromptOptions & { readonly env: Readonly<Record<string, string | undefined>> }): PassphraseRetriever {
  return envRetriever(options.env, promptRetriever(options));
}
