/**
 * The client's metadata cache, in Notary's layout: `<trust_dir>/tuf/<gun>/metadata/<role>.json`. Only
 * verified files are written (the reader's job); every write is atomic.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { HashError, NotaryError } from '../core/errors.js';
import { MAX_SIZES } from '../core/trusted.js';
import { readFileIfExists, writeFileAtomic } from './fs-atomic.js';

/** Where a repository's metadata lives; also guards against GUNs that would escape the trust_dir. */
export function repositoryDir(trustDir: string, gun: string): string {
  const parts = gun.split('/');
  if (gun === '' || gun.includes('\u0000') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new NotaryError('INVALID_ARGUMENT', `invalid GUN ${JSON.stringify(gun)}`, { where: gun });
  }
  return join(trustDir, 'tuf', ...parts);
}

export interface MetadataCache {
  get(role: string): Promise<Uint8Array | undefined>;
  /** Optional: a cached file's size without reading it (undefined when absent). */
  size?(role: string): Promise<number | undefined>;
  set(role: string, bytes: Uint8Array): Promise<void>;
  remove(role: string): Promise<void>;
}

export class FileMetadataCache implements MetadataCache {
  readonly dir: string;

  constructor(trustDir: string, gun: string) {
    this.dir = join(repositoryDir(trustDir, gun), 'metadata');
  }

  private path(role: string): string {
    if (role.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new NotaryError('INVALID_ARGUMENT', `invalid role name ${JSON.stringify(role)}`, { where: role });
    }
    return join(this.dir, `${role}.json`);
  }

  async get(role: string): Promise<Uint8Array | undefined> {
    // Notary's caps before reading: a cached file is no more trusted than a download (and a huge one
    // would be read whole into memory before the state machine could refuse it).
    const max = role === 'timestamp' ? MAX_SIZES.timestamp : MAX_SIZES.other;
    const size = await this.size(role);
    if (size !== undefined && size > max) {
      throw new HashError('LENGTH_EXCEEDED', `cached ${role} is ${size} bytes, more than the ${max} Notary allows`, { where: role });
    }
    return readFileIfExists(this.path(role));
  }

  async size(role: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.path(role))).size;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  set(role: string, bytes: Uint8Array): Promise<void> {
    return writeFileAtomic(this.path(role), bytes);
  }

  async remove(role: string): Promise<void> {
    await fs.rm(this.path(role), { force: true });
  }
}

/** An in-memory cache, for one-shot verification that must not touch disk. */
export class MemoryMetadataCache implements MetadataCache {
  readonly files = new Map<string, Uint8Array>();
  async get(role: string) {
    return this.files.get(role);
  }
  async set(role: string, bytes: Uint8Array) {
    this.files.set(role, bytes);
  }
  async remove(role: string) {
    this.files.delete(role);
  }
}
