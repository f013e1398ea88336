/**
 * A "server" that is a directory: publishing writes the Notary URL layout
 * (`v2/<gun>/_trust/tuf/<role>.json`, `<role>.<sha256>.json`, `<N>.root.json`, `timestamp.json`), and
 * signs the timestamp itself with a key from the key store. Any static file server over that directory
 * then serves trust data read-only to any Notary client, the Go client included. Reading goes through the
 * same files, so the reader treats it like a notary-server.
 *
 * Nothing here is trusted more than a server would be: the reader verifies everything it reads.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { signMetadata, newTimestampSigned, type MetadataSigner } from '../core/build.js';
import { toHex } from '../core/bytes.js';
import type { CryptoBackend } from '../core/crypto.js';
import { HashError, KeyStoreError, RemoteError } from '../core/errors.js';
import { generateSigningKey, publicKeyOf } from '../core/init.js';
import { canonicalKeyId } from '../core/keys.js';
import { Metadata, type KeyJson } from '../core/metadata.js';
import { expiresAfterDays } from '../core/time.js';
import { repositoryDir } from './cache.js';
import { readFileIfExists, writeFileAtomic } from './fs-atomic.js';
import type { KeyStore } from './keystore.js';
import { withFileLock } from './lock.js';

export interface DirectoryRemoteOptions {
  /** The directory to publish into (the web root of a static server). */
  readonly dir: string;
  readonly gun: string;
  /** Holds (and receives, on first use) the timestamp key; only publishing and `getKey` need it. */
  readonly keyStore?: KeyStore;
  readonly crypto: CryptoBackend;
  readonly clock?: () => Date;
  /** Timestamp lifetime in days (Notary's server uses 14): re-publish before it lapses. */
  readonly timestampExpiryDays?: number;
}

/**
 * The directory a `file://` server URL names (`-s file:///srv/trust`, or `file://relative/dir` resolved against
 * `cwd`), or undefined for any other URL: such a "server" is a DirectoryRemote.
 */
export function directoryOfServerUrl(url: string, cwd: string = process.cwd()): string | undefined {
  if (!/^file:\/\//i.test(url)) return undefined;
  const rest = url.slice('file://'.length);
  if (rest.startsWith('/')) return decodeURIComponent(rest);
  return resolve(cwd, decodeURIComponent(rest));
}

export class DirectoryRemote {
  readonly host: string;
  private readonly base: string;

  constructor(private readonly options: DirectoryRemoteOptions) {
    // The same GUN checks as the cache: no `..`, no empty segments.
    repositoryDir('/', options.gun);
    this.base = join(options.dir, 'v2', ...options.gun.split('/'), '_trust', 'tuf');
    this.host = `file://${options.dir}`;
  }

  private async read(name: string, maxLength: number): Promise<Uint8Array> {
    const bytes = await readFileIfExists(join(this.base, name));
    if (!bytes) {
      throw new RemoteError('NOT_FOUND', `${name.replace(/\.json$/, '')} trust data unavailable.  Has a notary repository been initialized?`, { where: name });
    }
    if (bytes.length > maxLength) {
      throw new HashError('LENGTH_EXCEEDED', `${name} is larger than the ${maxLength} bytes allowed`, { where: name });
    }
    return bytes;
  }

  getTimestamp(): Promise<Uint8Array> {
    return this.read('timestamp.json', 1 << 20);
  }
  getRoot(): Promise<Uint8Array> {
    return this.read('root.json', 100 << 20);
  }
  getRootVersion(version: number): Promise<Uint8Array> {
    return this.read(`${version}.root.json`, 100 << 20);
  }
  getRoleByChecksum(role: string, sha256Hex: string, maxLength: number): Promise<Uint8Array> {
    return this.read(`${role}.${sha256Hex}.json`, maxLength);
  }
  getRole(role: string, maxLength: number): Promise<Uint8Array> {
    return this.read(`${role}.json`, maxLength);
  }
  async close(): Promise<void> {}

  /** `notary delete --remote`: removes this GUN's trust data from the directory. */
  async deleteRepository(): Promise<void> {
    await rm(join(this.base, '..'), { recursive: true, force: true });
  }

  /** The timestamp key, created in the key store on first use (as a server creates it on first request). */
  private get keyStore(): KeyStore {
    if (!this.options.keyStore) throw new KeyStoreError('KEY_NOT_FOUND', 'a directory remote needs a key store to hold its timestamp key', { where: 'timestamp' });
    return this.options.keyStore;
  }

  async getKey(role: string): Promise<KeyJson> {
    if (role !== 'timestamp') {
      throw new RemoteError('NOT_FOUND', `a directory remote holds only the timestamp key, not ${role}`, { where: role });
    }
    const existing = (await this.keyStore.list()).find((k) => k.role === 'timestamp' && k.gun === this.options.gun);
    if (existing) return publicKeyOf((await this.keyStore.getPrivateKey(existing.keyId)).privateKey);
    const key = generateSigningKey(this.options.crypto, 'ecdsa');
    await this.keyStore.add(key.privateKey, { role: 'timestamp', gun: this.options.gun });
    return key.publicKey;
  }

  private async timestampSigner(root: Metadata<'Root'>): Promise<MetadataSigner> {
    const crypto = this.options.crypto;
    for (const id of root.signed.roles?.['timestamp']?.keyids ?? []) {
      const key = root.signed.keys?.[id];
      if (!key) continue;
      try {
        return await this.keyStore.getSigner(canonicalKeyId(key, crypto), key);
      } catch (err) {
        if (err instanceof KeyStoreError && err.code === 'KEY_NOT_FOUND') continue;
        throw err;
      }
    }
    throw new KeyStoreError('KEY_NOT_FOUND', 'no timestamp key for this repository in the key store: a directory remote signs its own timestamps', {
      where: 'timestamp',
    });
  }

  /** Writes the uploaded roles under their current and checksum names, then a new timestamp. */
  async publish(files: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const { crypto } = this.options;
    const now = (this.options.clock ?? (() => new Date()))();
    await withFileLock(join(this.base, '.publish.lock'), async () => {
      const write = async (name: string, bytes: Uint8Array) => writeFileAtomic(join(this.base, name), bytes);
      const rootBytes = files.get('root') ?? (await readFileIfExists(join(this.base, 'root.json')));
      if (!rootBytes) throw new RemoteError('SERVER_ERROR', 'no pre-existing root and no root provided in update.', { where: 'root' });
      const root = Metadata.fromBytes(rootBytes, 'root');
      // Content-addressed names first, current names last, so a reader never sees a name pointing nowhere.
      for (const [role, bytes] of files) {
        await write(`${role}.${toHex(crypto.sha256(bytes))}.json`, bytes);
        if (role === 'root') await write(`${Metadata.fromBytes(bytes, 'root').version}.root.json`, bytes);
      }
      for (const [role, bytes] of files) await write(`${role}.json`, bytes);
      const snapshotBytes = files.get('snapshot') ?? (await readFileIfExists(join(this.base, 'snapshot.json')));
      if (!snapshotBytes) throw new RemoteError('SERVER_ERROR', 'no snapshot was included in update and a directory remote cannot sign one', { where: 'snapshot' });
      const previous = await readFileIfExists(join(this.base, 'timestamp.json'));
      const version = previous ? Metadata.fromBytes(previous, 'timestamp').version + 1 : 1;
      const ts = newTimestampSigned(snapshotBytes, now, crypto, version);
      ts.expires = expiresAfterDays(now, this.options.timestampExpiryDays ?? 14);
      const md = await signMetadata('Timestamp', ts, 'timestamp', [await this.timestampSigner(root)]);
      await write(`timestamp.${toHex(crypto.sha256(md.bytes!))}.json`, md.bytes!);
      await write('timestamp.json', md.bytes!);
    });
  }
}

