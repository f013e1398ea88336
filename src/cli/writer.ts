/**
 * CLI glue for the signing side: the key store, changelist and RepositoryWriter a command needs, opened
 * from flags and config the way the Go CLI's ConfigureRepo / NewFileCachedRepository do, plus the shared
 * publish step (`publish`, and `-p` on every staging command).
 *
 * * Staging commands never touch the network: they only write the changelist.
 * * `publish` / `-p` ping the server first; an unreachable server means "client is offline" (Go logs the
 *   ping error and goes on offline, then fails when it needs the server).
 * * `-s file://DIR` publishes into (and reads from) a directory in the Notary URL layout (DirectoryRemote),
 *   which signs its own timestamps with a `timestamp` key kept in the key store.
 * * The changelist is cleared only after a successful upload, and only of the changes that were applied.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { compactJson, canonicalize, exceedsJsonDepth, MAX_JSON_DEPTH, parseJson } from '../core/canonical.js';
import { FormatError, KeyStoreError, NotaryError } from '../core/errors.js';
import type { PublicKeyLike } from '../core/keys.js';
import { nodeCryptoBackend } from '../crypto/node.js';
import { FileMetadataCache } from '../node/cache.js';
import { trustPinningOf, type ClientConfig } from '../node/config.js';
import { DirectoryRemote, directoryOfServerUrl } from '../node/directory-remote.js';
import { FileKeyStore, PASSWORD_INVALID_MESSAGE, type KeyStore } from '../node/keystore.js';
import type { PassphraseRetriever } from '../node/passphrase.js';
import { cliRetriever } from './passphrase.js';
import { FileChangelist, type Change } from '../repository/changelist.js';
import { RepositoryWriter, type PublishingRemote } from '../repository/writer.js';
import type { CommandContext } from './program.js';
import { reachableRemote } from './repo.js';

export function passphraseRetriever(ctx: CommandContext): PassphraseRetriever {
  return cliRetriever(ctx);
}

export async function openKeyStore(ctx: CommandContext, config: ClientConfig, retriever: PassphraseRetriever = passphraseRetriever(ctx)): Promise<FileKeyStore> {
  return keyStoreOpened(config.trustDir, () =>
    FileKeyStore.open(config.trustDir, {
      retriever,
      crypto: nodeCryptoBackend,
      log: (level, message) => (level === 'error' ? ctx.log.error(message) : ctx.log.warn(message)),
    }),
  );
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EEXIST: 'file exists',
};

/**
 * Opens the key store; a trust directory that cannot be created or written is one KEY_STORE line in Go's
 * words (`mkdir /path: permission denied`), not an internal error.
 */
export async function keyStoreOpened<T>(trustDir: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    if (err instanceof NotaryError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== 'string' || !e.syscall) throw err;
    const reason = ERRNO_TEXT[e.code] ?? e.message;
    throw new KeyStoreError('KEY_STORE', `cannot use the trust directory ${trustDir} for the key store: ${e.syscall} ${e.path ?? trustDir}: ${reason}`, { where: e.path ?? trustDir, cause: err });
  }
}

/**
 * The key store as the writer sees it: a key whose passphrase is refused counts as missing when signing, as
 * in Notary (whose signer then reports "could not find necessary signing keys, at least one of these keys
 * must be available: …" and changes nothing).
 */
export function signingKeyStore(store: KeyStore, log: (message: string) => void): KeyStore {
  return {
    location: store.location,
    list: () => store.list(),
    getPrivateKey: (keyId) => store.getPrivateKey(keyId),
    add: (privateKey, info) => store.add(privateKey, info),
    remove: (keyId) => store.remove(keyId),
    ...(store.keyHandle ? { keyHandle: store.keyHandle.bind(store) } : {}),
    ...(store.generateKey ? { generateKey: store.generateKey.bind(store) } : {}),
    async getSigner(keyId: string, publicKey?: PublicKeyLike) {
      try {
        return await store.getSigner(keyId, publicKey);
      } catch (err) {
        if (err instanceof KeyStoreError && err.code === 'BAD_PASSPHRASE') {
          log(`${PASSWORD_INVALID_MESSAGE} (key ${keyId})`);
          throw new KeyStoreError('KEY_NOT_FOUND', `signing key not usable: ${keyId}`, { where: keyId, cause: err });
        }
        throw err;
      }
    },
  };
}

/**
 * The publish target for this config: a DirectoryRemote for `file://DIR`, a pinged NotaryRemote otherwise,
 * or undefined when the server cannot be reached (offline).
 */
export async function publishingRemote(ctx: CommandContext, config: ClientConfig, gun: string, keyStore: KeyStore): Promise<(PublishingRemote & { close(): Promise<void>; deleteRepository(): Promise<void> }) | undefined> {
  const directory = directoryOfServerUrl(config.serverUrl, ctx.io.cwd);
  if (directory) return new DirectoryRemote({ dir: directory, gun, keyStore, crypto: nodeCryptoBackend });
  return reachableRemote(ctx, config, gun); // the remote asks for push,pull itself on writes
}

export interface OpenedWriter {
  readonly writer: RepositoryWriter;
  readonly keyStore: FileKeyStore;
  /** What the writer signs with: the files, with a PKCS#11 token in front when one is configured. */
  readonly store: KeyStore;
  readonly remote: (PublishingRemote & { close(): Promise<void> }) | undefined;
  close(): Promise<void>;
}

/** A writer for `gun`; `online` pings the server (init, publish), otherwise it works offline. */
export async function openWriter(ctx: CommandContext, gun: string, options: { online: boolean; keyStore?: FileKeyStore }): Promise<OpenedWriter> {
  const config = await ctx.config();
  const keyStore = options.keyStore ?? (await openKeyStore(ctx, config));
  const { withToken } = await import('./pkcs11.js');
  const token = withToken(ctx, config, keyStore);
  const signing = signingKeyStore(token.store, (m) => ctx.log.debug(m));
  let remote;
  try {
    remote = options.online ? await publishingRemote(ctx, config, gun, signing) : undefined;
  } catch (err) {
    token.close();
    throw err;
  }
  const writer = new RepositoryWriter({
    gun,
    remote,
    cache: new FileMetadataCache(config.trustDir, gun),
    keyStore: signing,
    crypto: nodeCryptoBackend,
    trustPinning: trustPinningOf(config),
    log: { warn: (m) => ctx.log.warn(m), debug: (m) => ctx.log.debug(m), info: (m) => ctx.log.info(m) },
  });
  return {
    writer,
    keyStore,
    store: token.store,
    remote,
    close: async () => {
      token.close();
      await remote?.close();
    },
  };
}

export async function changelistFor(ctx: CommandContext, gun: string): Promise<FileChangelist> {
  const config = await ctx.config();
  return new FileChangelist(config.trustDir, gun);
}

/**
 * Publishes every staged change of `gun` (Notary's Publish): refresh, apply, sign, upload; then removes the
 * applied change files. Holds the changelist lock throughout, so concurrent stagers wait.
 */
export async function publishStaged(ctx: CommandContext, gun: string): Promise<void> {
  const { writer, close } = await openWriter(ctx, gun, { online: true });
  try {
    const changelist = await changelistFor(ctx, gun);
    await changelist.withLock(async () => {
      const staged = await changelist.list();
      await writer.publish(staged.map((s) => s.change));
      try {
        await changelist.clear(staged.map((s) => s.file));
      } catch {
        ctx.log.warn(`Unable to clear changelist. You may want to manually delete the folder ${changelist.location}`);
      }
    });
  } finally {
    await close();
  }
}

/** `-p`: "Auto-publishing changes to <gun>", publish, "Successfully published changes for repository <gun>". */
export async function maybeAutoPublish(ctx: CommandContext, gun: string): Promise<boolean> {
  if (!ctx.flags['publish']) return false;
  ctx.print(`Auto-publishing changes to ${gun}\n`);
  await publishStaged(ctx, gun);
  ctx.print(`Successfully published changes for repository ${gun}\n`);
  return true;
}

/** Stages nothing more: records `result` (with `published`) after the optional `-p` publish. */
export async function finishStaging(ctx: CommandContext, gun: string, result: Record<string, unknown>): Promise<void> {
  const published = await maybeAutoPublish(ctx, gun);
  ctx.result({ ...result, published });
}

/** Stages changes in order (all are built, and so validated, before the first is written). */
export async function stage(ctx: CommandContext, gun: string, changes: readonly Change[]): Promise<void> {
  if (changes.length === 0) return;
  const changelist = await changelistFor(ctx, gun);
  await changelist.withLock(async () => {
    for (const change of changes) await changelist.add(change);
  });
}

// ---------------------------------------------------------------------------------------------------
// File input with Go's error texts

/** Go's `open <name>: <reason>` for a failed read. */
export function openErrorText(name: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
  return code === 'EISDIR' ? `read ${name}: ${reason}` : `open ${name}: ${reason}`;
}

export async function readInputFile(ctx: CommandContext, name: string): Promise<Uint8Array> {
  return new Uint8Array(await fs.readFile(resolve(ctx.io.cwd, name)));
}

// ---------------------------------------------------------------------------------------------------
// --custom

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_CUSTOM = /[<>&\u2028\u2029\u0000-\u001f\u007f]/;

function unsafeNumber(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.some(unsafeNumber);
  if (value !== null && typeof value === 'object') return Object.values(value).some(unsafeNumber);
  return false;
}

/**
 * The `--custom` file's JSON text, accepted only if it is already Notary-canonical (facts §2.5): Notary signs
 * custom data as given but verifies it re-canonicalised, so anything else (unsorted keys, escapes, `<>&`,
 * U+2028/9, control characters, non-integers or integers beyond 2^53) would be published and then fail
 * verification for every client, the notary-server included. Whitespace is allowed and removed.
 */
export function checkCustomJson(text: string, file: string): string {
  const compact = compactJson(text.trim());
  let value: unknown;
  try {
    value = parseJson(compact, file);
  } catch (err) {
    throw new FormatError('MALFORMED_JSON', `custom data in ${file} is not valid JSON: ${(err as Error).message.replace(`${file}: `, '')}`, { where: file, cause: err });
  }
  const reject = (why: string): never => {
    throw new FormatError('NON_CANONICAL', `custom data in ${file} is not in Notary's canonical JSON form (${why}): Notary would sign it but no client could verify it`, {
      where: file,
    });
  };
  if (UNSAFE_IN_CUSTOM.test(compact)) reject('it contains <, >, &, U+2028, U+2029 or a control character');
  if (exceedsJsonDepth(value)) reject(`JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
  if (unsafeNumber(value)) reject('numbers must be integers between -(2^53-1) and 2^53-1');
  let canonical: string;
  try {
    canonical = canonicalize(value);
  } catch (err) {
    return reject((err as NotaryError).message);
  }
  if (canonical !== compact) reject('keys must be sorted and unique, strings unescaped and numbers written as plain integers');
  return compact;
}

/** Reads and checks `--custom FILE` (Go reads it before anything else). */
export async function readCustom(ctx: CommandContext): Promise<string | undefined> {
  const file = ctx.flags['custom'] as string | undefined;
  if (!file) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(ctx, file);
  } catch (err) {
    throw new NotaryError('INVALID_ARGUMENT', openErrorText(file, err), { where: file });
  }
  return checkCustomJson(new TextDecoder('utf-8', { fatal: false }).decode(bytes), file);
}
