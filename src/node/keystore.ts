/**
 * The private key store in `<trust_dir>/private/`, compatible with Notary 0.7 in both directions
 * (notary-facts §6.1–§6.3; Go: trustmanager/keystore.go, keys.go, storage/filestore.go).
 *
 * Layout: one PEM file per key, `private/<keyID>.key` (key ID = TUF ID of the bare public key = the canonical
 * ID). Keys are found by a recursive walk for `*.key` (symlinks and directories skipped); a key's ID is the
 * file's base name without `.key` (so `private/a/b/<id>.key` lists as `<id>`, as `notary key list` shows
 * it; the later file in walk order wins on duplicates).
 *
 * Role and gun live in the `role:` / `gun:` PEM headers. The gun is kept only for `targets`, `snapshot` and
 * `timestamp` keys; root, delegation and unknown roles are stored without one (Notary's AddKey).
 *
 * Legacy migration runs on every open (Notary's migrateTo0Dot4): each file under `private/root_keys/` and
 * `private/tuf_keys/` is rewritten as `private/<id>.key`, its first PEM block kept byte for byte (legacy
 * OpenSSL encryption included) with a `gun` header from the sub-directory and a `role` header from a
 * `<id>_<role>` file name; then both directories and `private/trusted_certificates` are deleted. Deviation:
 * if a legacy file cannot be decoded, Notary deletes it with its directory; we keep that directory (and
 * warn) so no key material is lost.
 *
 * Concurrency and crash safety: every write is atomic (src/node/fs-atomic.ts: temp file, fsync, rename; files
 * 0600, directories 0700) and every mutation runs under the lock file `private/.lock` (src/node/lock.ts), which
 * Notary ignores (not `*.key`). Passphrases are asked before the lock is taken; a re-encryption checks under
 * the lock that the file is still the one it decrypted. A failed decryption writes nothing.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { MetadataSigner } from '../core/build.js';
import { softwareSigner } from '../core/build.js';
import type { CryptoBackend, PrivateKeyMaterial, PublicKeyMaterial, SignatureMethod } from '../core/crypto.js';
import { KeyError, KeyStoreError, NotaryError } from '../core/errors.js';
import { publicKeyOf } from '../core/init.js';
import { canonicalKeyId, type PublicKeyLike } from '../core/keys.js';
import { decodePem, encodePem, type PemBlock } from '../core/pem.js';
import { nodeCryptoBackend } from '../crypto/node.js';
import { ensureDir, removeFileDurable, writeFileAtomic } from './fs-atomic.js';
import {
  decodeKeyFile,
  encodeKeyFile,
  firstPemBlock,
  privateKeyId,
  readKeyFileInfo,
  reencodeBlock,
} from './keyfile.js';
import { withFileLock } from './lock.js';
import { noInputRetriever, type PassphraseRetriever } from './passphrase.js';

export const PRIVATE_DIR = 'private';
export const KEY_EXTENSION = '.key';
/** The lock file serialising writers, relative to `<trust_dir>/private/`. */
export const KEYSTORE_LOCK_FILE = '.lock';
export const LEGACY_ROOT_KEYS_DIR = 'root_keys';
export const LEGACY_NON_ROOT_KEYS_DIR = 'tuf_keys';
/** The role `key import` gives keys without a `role` header and without `--role`. */
export const DEFAULT_IMPORT_ROLE = 'delegation';
/** Attempts beyond this end with "maximum number of passphrase attempts exceeded" (Notary: attempts > 10). */
const MAX_ATTEMPT = 10;

export const PASSWORD_INVALID_MESSAGE = 'password invalid, operation has failed.';
export const ATTEMPTS_EXCEEDED_MESSAGE = 'maximum number of passphrase attempts exceeded';

export interface KeyInfo {
  /** Canonical key ID (the file's base name). */
  readonly keyId: string;
  /** `role` header ('' if none). */
  readonly role: string;
  /** `gun` header ('' if none). */
  readonly gun: string;
  /** Where the store keeps it (for the file store: `<trust_dir>/private`). */
  readonly location: string;
}

/** What any key store offers (the file store here; a PKCS#11 token store later). */
export interface KeyStore {
  /** Human-readable location, shown in `key list`. */
  readonly location: string;
  list(): Promise<KeyInfo[]>;
  /** The private key and its role; KEY_NOT_FOUND, BAD_PASSPHRASE, MALFORMED_KEY… */
  getPrivateKey(keyId: string): Promise<{ privateKey: PrivateKeyMaterial; role: string }>;
  /**
   * A signer for the key with this canonical ID. `publicKey` is the key as metadata lists it (for root keys
   * the `ecdsa-x509` certificate key), whose TUF ID goes into signatures; default: the bare public key.
   */
  getSigner(keyId: string, publicKey?: PublicKeyLike): Promise<MetadataSigner>;
  /** Stores a key for a role (and gun for targets/snapshot/timestamp); returns its key ID. */
  add(privateKey: PrivateKeyMaterial, info: { role: string; gun?: string }): Promise<string>;
  /** Removes a key; false if it was not there. */
  remove(keyId: string): Promise<boolean>;
  /**
   * Optional (key stores whose private keys cannot leave them, e.g. a PKCS#11 token): the public key and a
   * raw signing function, so callers can certify and sign without the private key. Callers fall back to
   * getPrivateKey when a store lacks it.
   */
  keyHandle?(keyId: string): Promise<KeyHandle>;
  /** Optional: makes a new key inside the store (default: generated in software, then `add`). */
  generateKey?(info: { role: string; gun?: string }): Promise<string>;
}

/** A key a store can sign with, without handing out its private half. */
export interface KeyHandle {
  readonly keyId: string;
  readonly role: string;
  readonly publicKey: PublicKeyMaterial;
  /** Signs with Notary's method (ecdsa: SHA-256 of the message, raw r‖s). */
  sign(method: SignatureMethod, message: Uint8Array): Promise<Uint8Array>;
}

/** A decrypted key with the file it came from (see FileKeyStore.unlock). */
export interface UnlockedKey {
  readonly keyId: string;
  readonly path: string;
  readonly text: string;
  readonly role: string;
  readonly gun: string;
  readonly privateKey: PrivateKeyMaterial;
}

export interface FileKeyStoreOptions {
  /** Asked for passphrases (default: always fails, as Notary without env vars and terminal). */
  readonly retriever?: PassphraseRetriever;
  readonly crypto?: CryptoBackend;
  /** Warnings and errors Notary logs (unreadable key files skipped, import problems). */
  readonly log?: (level: 'warning' | 'error', message: string) => void;
  /** How long to wait for another process holding the lock (default 30 s). */
  readonly lockTimeoutMs?: number;
}

/** Base roles that keep their gun. */
const GUN_ROLES = new Set(['targets', 'snapshot', 'timestamp']);

/** The gun Notary stores with a key of this role ('' for root, delegations and unknown roles). */
export function storedGun(role: string, gun: string | undefined): string {
  return GUN_ROLES.has(role) ? (gun ?? '') : '';
}

/** Notary's `key list` order: root first, then by gun, role, key ID, location (byte order). */
export function compareKeyInfo(a: KeyInfo, b: KeyInfo): number {
  if (a.role !== b.role) {
    if (a.role === 'root') return -1;
    if (b.role === 'root') return 1;
  }
  for (const k of ['gun', 'role', 'keyId', 'location'] as const) {
    if (a[k] < b[k]) return -1;
    if (a[k] > b[k]) return 1;
  }
  return 0;
}

interface KeyFileEntry {
  /** Path relative to private/, without `.key`, `/`-separated (Notary's ListFiles names; export `path:`). */
  readonly name: string;
  readonly path: string;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Recursive walk in Go's filepath.Walk order (names sorted bytewise), regular `*.key` files only. */
async function walkKeyFiles(base: string): Promise<KeyFileEntry[]> {
  const out: KeyFileEntry[] = [];
  const walk = async (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable directories are skipped, as Go's walk callback does
    }
    entries.sort((x, y) => Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith(KEY_EXTENSION)) {
        out.push({ name: relative(base, p).split(sep).join('/').slice(0, -KEY_EXTENSION.length), path: p });
      }
    }
  };
  await walk(base);
  return out;
}

export class FileKeyStore implements KeyStore {
  readonly trustDir: string;
  /** `<trust_dir>/private` — also the `location` Notary prints. */
  readonly privateDir: string;
  readonly lockFile: string;
  readonly location: string;
  private readonly retriever: PassphraseRetriever;
  private readonly crypto: CryptoBackend;
  private readonly log: (level: 'warning' | 'error', message: string) => void;
  private readonly lockTimeoutMs: number | undefined;

  private constructor(trustDir: string, options: FileKeyStoreOptions) {
    this.trustDir = trustDir;
    this.privateDir = join(trustDir, PRIVATE_DIR);
    this.location = this.privateDir;
    this.lockFile = join(this.privateDir, KEYSTORE_LOCK_FILE);
    this.retriever = options.retriever ?? noInputRetriever;
    this.crypto = options.crypto ?? nodeCryptoBackend;
    this.log = options.log ?? (() => undefined);
    this.lockTimeoutMs = options.lockTimeoutMs;
  }

  /** Opens (creating `private/` 0700 if needed) and migrates legacy layouts, as every Notary command does. */
  static async open(trustDir: string, options: FileKeyStoreOptions = {}): Promise<FileKeyStore> {
    const store = new FileKeyStore(trustDir, options);
    await ensureDir(store.privateDir);
    if (await store.needsMigration()) await store.locked(() => store.migrate());
    return store;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.lockFile, fn, this.lockTimeoutMs === undefined ? {} : { timeoutMs: this.lockTimeoutMs });
  }

  // ----------------------------------------------------------------------------------------------------------
  // Migration

  private async needsMigration(): Promise<boolean> {
    for (const d of [LEGACY_ROOT_KEYS_DIR, LEGACY_NON_ROOT_KEYS_DIR, 'trusted_certificates']) {
      try {
        await fs.lstat(join(this.privateDir, d));
        return true;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') return true;
      }
    }
    return false;
  }

  private async migrate(): Promise<void> {
    // Legacy stores were often created 0755; we are about to write keys here, so tighten it (Notary does not).
    await fs.chmod(this.privateDir, 0o700);
    for (const sub of [LEGACY_ROOT_KEYS_DIR, LEGACY_NON_ROOT_KEYS_DIR]) {
      const dir = join(this.privateDir, sub);
      try {
        await fs.lstat(dir);
      } catch {
        continue;
      }
      let failed = false;
      for (const entry of await walkKeyFiles(dir)) {
        const text = await fs.readFile(entry.path, 'latin1');
        let block: PemBlock;
        try {
          block = firstPemBlock(text, entry.path);
        } catch {
          this.log('warning', `Key data for ${join(sub, entry.name)} could not be decoded as a valid PEM block. The key has not been migrated; ${dir} is kept.`);
          failed = true;
          continue;
        }
        let keyId = basename(entry.name);
        const subDir = dirname(entry.name);
        const set: Record<string, string> = {};
        if (subDir !== '.') set['gun'] = subDir;
        if (keyId.includes('_')) {
          // Notary: role = the second `_`-separated field; the ID loses `_<role>` only if it ends with it.
          const role = keyId.split('_')[1]!;
          if (keyId.endsWith('_' + role)) keyId = keyId.slice(0, keyId.length - role.length - 1);
          set['role'] = role;
        }
        await writeFileAtomic(join(this.privateDir, keyId + KEY_EXTENSION), reencodeBlock(block, set));
      }
      if (!failed) await fs.rm(dir, { recursive: true, force: true });
    }
    await fs.rm(join(this.privateDir, 'trusted_certificates'), { recursive: true, force: true });
  }

  // ----------------------------------------------------------------------------------------------------------
  // Reading

  /** Every key file with its ID and headers; unreadable files are logged and skipped (as Notary does). */
  async list(): Promise<KeyInfo[]> {
    const byId = new Map<string, KeyInfo>();
    for (const entry of await walkKeyFiles(this.privateDir)) {
      let text: string;
      try {
        text = await fs.readFile(entry.path, 'latin1');
      } catch (err) {
        this.log('error', `${entry.path}: ${(err as Error).message}`);
        continue;
      }
      try {
        const info = readKeyFileInfo(text, entry.path);
        const keyId = basename(entry.name);
        byId.set(keyId, { keyId, role: info.role, gun: info.gun, location: this.location });
      } catch (err) {
        this.log('error', (err as Error).message);
      }
    }
    return [...byId.values()].sort(compareKeyInfo);
  }

  /** The file holding a key: `private/<id>.key`, else the last `*.key` with that base name in walk order. */
  async keyFilePath(keyId: string): Promise<string | undefined> {
    if (keyId === '' || keyId.includes('/') || keyId.includes('\\') || keyId.includes('\0')) return undefined;
    const direct = join(this.privateDir, keyId + KEY_EXTENSION);
    try {
      if ((await fs.lstat(direct)).isFile()) return direct;
    } catch {
      /* not at the top level */
    }
    let found: string | undefined;
    for (const e of await walkKeyFiles(this.privateDir)) if (basename(e.name) === keyId) found = e.path;
    return found;
  }

  private async readKeyFile(keyId: string): Promise<{ path: string; text: string }> {
    const path = await this.keyFilePath(keyId);
    if (path === undefined) throw new KeyStoreError('KEY_NOT_FOUND', `signing key not found: ${keyId}`, { where: keyId });
    try {
      return { path, text: await fs.readFile(path, 'latin1') };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new KeyStoreError('KEY_NOT_FOUND', `signing key not found: ${keyId}`, { where: keyId });
      throw new KeyStoreError('KEY_STORE', `cannot read ${path}: ${(err as Error).message}`, { where: path, cause: err });
    }
  }

  /** Decrypts with the retriever, looping as Notary's GetPasswdDecryptBytes does. */
  private async decrypt(text: string, path: string, keyId: string, role: string): Promise<PrivateKeyMaterial> {
    const info = readKeyFileInfo(text, path);
    if (!info.encrypted) return decodeKeyFile(text, '', path);
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      if (attempt > MAX_ATTEMPT) throw new KeyStoreError('BAD_PASSPHRASE', `${ATTEMPTS_EXCEEDED_MESSAGE} (${path})`, { where: path, cause: lastError });
      let answer;
      try {
        answer = await this.retriever({ keyName: keyId, alias: role, createNew: false, attempt });
      } catch (err) {
        throw new KeyStoreError('BAD_PASSPHRASE', `${PASSWORD_INVALID_MESSAGE} (${path})`, { where: path, cause: err });
      }
      if (answer.giveUp) throw new KeyStoreError('BAD_PASSPHRASE', `${PASSWORD_INVALID_MESSAGE} (${path})`, { where: path, cause: lastError });
      try {
        return decodeKeyFile(text, answer.passphrase, path);
      } catch (err) {
        if (err instanceof NotaryError && err.code === 'BAD_PASSPHRASE') {
          lastError = err;
          continue;
        }
        throw err;
      }
    }
  }

  async getPrivateKey(keyId: string): Promise<{ privateKey: PrivateKeyMaterial; role: string; gun: string; path: string }> {
    const { path, text } = await this.readKeyFile(keyId);
    const info = readKeyFileInfo(text, path);
    return { privateKey: await this.decrypt(text, path, keyId, info.role), role: info.role, gun: info.gun, path };
  }

  async getSigner(keyId: string, publicKey?: PublicKeyLike): Promise<MetadataSigner> {
    const { privateKey } = await this.getPrivateKey(keyId);
    const pub = publicKey ?? publicKeyOf(privateKey);
    if (publicKey && canonicalKeyId(publicKey, this.crypto) !== privateKeyId(privateKey, this.crypto)) {
      throw new KeyError('KEY_ID_MISMATCH', `key ${keyId} does not belong to the given public key`);
    }
    return softwareSigner(pub, privateKey, this.crypto);
  }

  // ----------------------------------------------------------------------------------------------------------
  // Writing

  /** Asks for a new passphrase as Notary's AddKey does (createNew, up to 11 attempts). */
  private async newPassphrase(retriever: PassphraseRetriever, keyName: string, alias: string): Promise<string> {
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await retriever({ keyName, alias, createNew: true, attempt });
        return answer.passphrase;
      } catch (err) {
        lastError = err;
        // Notary retries on any error; `giveUp` comes with an error in Notary's prompt, never alone.
      }
      if (attempt >= MAX_ATTEMPT) break;
    }
    throw new KeyStoreError('BAD_PASSPHRASE', ATTEMPTS_EXCEEDED_MESSAGE, { cause: lastError });
  }

  /** The key file text Notary would write for this key (asks the retriever for the passphrase). */
  async encodeForRole(privateKey: PrivateKeyMaterial, role: string, gun: string | undefined, retriever: PassphraseRetriever = this.retriever, keyName?: string): Promise<string> {
    const keyId = privateKeyId(privateKey, this.crypto);
    const passphrase = await this.newPassphrase(retriever, keyName ?? keyId, role);
    return encodeKeyFile(privateKey, { role, gun: storedGun(role, gun), passphrase });
  }

  async add(privateKey: PrivateKeyMaterial, info: { role: string; gun?: string }, retriever: PassphraseRetriever = this.retriever): Promise<string> {
    const keyId = privateKeyId(privateKey, this.crypto);
    const text = await this.encodeForRole(privateKey, info.role, info.gun, retriever);
    await this.locked(() => writeFileAtomic(join(this.privateDir, keyId + KEY_EXTENSION), text));
    return keyId;
  }

  async remove(keyId: string): Promise<boolean> {
    return this.locked(async () => {
      const path = await this.keyFilePath(keyId);
      if (path === undefined) return false;
      return removeFileDurable(path);
    });
  }

  /** Reads and decrypts a key, keeping the file text so a later rewrite can check it did not change. */
  async unlock(keyId: string): Promise<UnlockedKey> {
    const { path, text } = await this.readKeyFile(keyId);
    const info = readKeyFileInfo(text, path);
    const privateKey = await this.decrypt(text, path, keyId, info.role);
    return { keyId, path, text, role: info.role, gun: info.gun, privateKey };
  }

  /**
   * Writes an unlocked key again with a new passphrase from `newRetriever` (alias = its role), in PKCS#8
   * (legacy keys are converted), keeping role and gun, at `private/<id>.key`. Refuses (writing nothing) if
   * the file changed since it was unlocked.
   */
  async reencrypt(key: UnlockedKey, newRetriever: PassphraseRetriever): Promise<void> {
    const newText = await this.encodeForRole(key.privateKey, key.role, key.gun, newRetriever);
    const target = join(this.privateDir, key.keyId + KEY_EXTENSION);
    await this.locked(async () => {
      const now = await fs.readFile(key.path, 'latin1').catch(() => undefined);
      if (now !== key.text) throw new KeyStoreError('KEY_STORE', `${key.path} changed while its passphrase was being changed; nothing was written`, { where: key.path });
      await writeFileAtomic(target, newText);
      if (key.path !== target) await removeFileDurable(key.path);
    });
  }

  /** Notary's `key passwd`: unlock with this store's retriever, re-encrypt with `newRetriever`. */
  async changePassphrase(keyId: string, newRetriever: PassphraseRetriever): Promise<void> {
    await this.reencrypt(await this.unlock(keyId), newRetriever);
  }

  // ----------------------------------------------------------------------------------------------------------
  // Import and export (Notary's trustmanager ImportKeys / ExportKeys*)

  /** The PEM blocks of one key file with a `path: <name>` header added, as `key export` writes them. */
  private async exportFile(entry: KeyFileEntry): Promise<string> {
    let blocks: PemBlock[];
    try {
      blocks = decodePem(await fs.readFile(entry.path, 'latin1'));
    } catch (err) {
      this.log('warning', `Could not parse key file at ${entry.name}: ${(err as Error).message}`);
      return '';
    }
    return blocks.map((b) => reencodeBlock(b, { path: entry.name })).join('');
  }

  /**
   * `key export`: every key file (walk order), or those whose first block's `gun` header equals `gun` (name
   * order), or those whose ID is in `keyIds`.
   */
  async exportKeys(filter: { gun?: string; keyIds?: readonly string[] } = {}): Promise<string> {
    let entries = await walkKeyFiles(this.privateDir);
    if (filter.gun !== undefined) {
      entries = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
      const keep: KeyFileEntry[] = [];
      for (const e of entries) {
        try {
          const block = decodePem(await fs.readFile(e.path, 'latin1'))[0];
          if (block && (block.headers.filter(([k]) => k === 'gun').pop()?.[1] ?? '') === filter.gun) keep.push(e);
        } catch {
          this.log('warning', `Could not parse key file at ${e.name}`);
        }
      }
      entries = keep;
    } else if (filter.keyIds !== undefined) {
      const want = new Set(filter.keyIds);
      entries = entries.filter((e) => want.has(basename(e.name)));
    }
    let out = '';
    for (const e of entries) out += await this.exportFile(e);
    return out;
  }

  /**
   * `key import`: each PEM block is stored under its `path` header (a legacy `tuf_keys/<gun>/<id>` path sets
   * the gun), or, if it is unencrypted and has none, under its key ID. `fallbackRole` / `fallbackGun` fill
   * missing headers (role default `delegation`); targets/snapshot/timestamp keys need a gun, other roles lose
   * theirs. Unencrypted keys are encrypted with a new passphrase for their role. Consecutive blocks with the
   * same path go to one file. As in Notary, invalid blocks are skipped with a warning, and only if nothing at
   * all was imported is it an error ("failed to import all keys: …"). Returns the names written.
   */
  async importKeys(
    text: string,
    options: { fallbackRole?: string; fallbackGun?: string; source?: string; retriever?: PassphraseRetriever } = {},
  ): Promise<string[]> {
    const retriever = options.retriever ?? this.retriever;
    let blocks: PemBlock[];
    try {
      blocks = decodePem(text);
    } catch (err) {
      throw new KeyError('MALFORMED_KEY', `${options.source ?? 'input'}: ${(err as Error).message}`, { ...(options.source ? { where: options.source } : {}), cause: err });
    }
    const errors: string[] = [];
    const files: Array<{ name: string; text: string }> = [];
    for (const original of blocks) {
      const h = new Map<string, string>();
      for (const [k, v] of original.headers) h.set(k, v);
      // handleLegacyPath
      const rawPath = h.get('path') ?? '';
      if (rawPath !== '' && rawPath !== posixBase(rawPath)) {
        const dir = posixDir(rawPath);
        if (dir.startsWith(LEGACY_NON_ROOT_KEYS_DIR)) {
          const gun = dir.slice(LEGACY_NON_ROOT_KEYS_DIR.length).replace(/^\/+|\/+$/g, '');
          if (gun !== '') h.set('gun', gun);
        }
        h.set('path', posixBase(rawPath));
      }
      // setFallbacks
      if ((h.get('gun') ?? '') === '' && options.fallbackGun) h.set('gun', options.fallbackGun);
      if ((h.get('role') ?? '') === '') h.set('role', options.fallbackRole || DEFAULT_IMPORT_ROLE);
      const role = h.get('role')!;
      // checkValidity
      if (GUN_ROLES.has(role)) {
        if ((h.get('gun') ?? '') === '') {
          this.log('warning', `failed to import key (${h.get('path') ?? ''}) to store: Cannot have canonical role key without a gun, don't know what gun it belongs to`);
          errors.push('invalid key pem block');
          continue;
        }
      } else {
        h.delete('gun');
      }
      const withHeaders = encodePem(original.type, original.bytes, h);
      let plain: PrivateKeyMaterial | undefined;
      try {
        plain = decodeKeyFile(withHeaders, '');
      } catch {
        plain = undefined; // encrypted, or not a key Notary can read without a passphrase
      }
      let loc = h.get('path') ?? '';
      if (loc === '') {
        if (!plain) {
          this.log('warning', 'failed to import key to store: Invalid key generated, key may be encrypted and does not contain path header');
          errors.push('invalid key pem block');
          continue;
        }
        loc = privateKeyId(plain, this.crypto);
      }
      h.delete('path');
      let out = encodePem(original.type, original.bytes, h);
      if (plain) {
        const gun = h.get('gun') ?? '';
        const passphrase = await this.newPassphrase(retriever, loc, role);
        out = encodeKeyFile(plain, { role, gun, passphrase });
      }
      const last = files[files.length - 1];
      if (last && last.name === loc) last.text += out;
      else files.push({ name: loc, text: out });
    }
    if (files.length === 0) {
      if (errors.length > 0) throw new KeyStoreError('KEY_STORE', `failed to import all keys: ${errors.join(', ')}`, options.source ? { where: options.source } : {});
      return [];
    }
    await this.locked(async () => {
      for (const f of files) {
        if (f.name === '' || f.name === '.' || f.name === '..' || f.name.includes('\0')) {
          throw new KeyStoreError('KEY_STORE', `invalid key file name ${JSON.stringify(f.name)}`);
        }
        await writeFileAtomic(join(this.privateDir, f.name + KEY_EXTENSION), f.text);
      }
    });
    return files.map((f) => f.name);
  }
}

function posixBase(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return p === '' ? '.' : '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function posixDir(p: string): string {
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  return p.slice(0, i).replace(/\/+$/, '') || '/';
}

