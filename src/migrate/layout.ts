/**
 * The Notary URL layout in a directory (`v2/<gun>/_trust/tuf/…`), as DirectoryRemote serves it, written in
 * an order that never lets a reader see a name pointing nowhere: content-addressed and versioned names
 * first, current names after, `timestamp.json` last (until it exists, the directory serves no repository).
 */
import { join } from 'node:path';
import { toHex } from '../core/bytes.js';
import type { CryptoBackend } from '../core/crypto.js';
import { repositoryDir } from '../node/cache.js';
import { readFileIfExists, writeFileAtomic } from '../node/fs-atomic.js';
import { withFileLock } from '../node/lock.js';

export function tufDir(dir: string, gun: string): string {
  repositoryDir('/', gun); // the same GUN checks as the cache: no `..`, no empty segments
  return join(dir, 'v2', ...gun.split('/'), '_trust', 'tuf');
}

/** One write step: a file name under the tuf directory and its bytes. */
export interface LayoutFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/**
 * The files that publish `roles` (role → bytes; `root` included when it changes), with `timestamp` last.
 * `history` adds `<N>.root.json` for older root versions.
 */
export function layoutFiles(
  roles: ReadonlyMap<string, Uint8Array>,
  timestamp: Uint8Array | undefined,
  crypto: CryptoBackend,
  history: ReadonlyMap<number, Uint8Array> = new Map(),
  rootVersion?: number,
): LayoutFile[] {
  const out: LayoutFile[] = [];
  const hex = (b: Uint8Array) => toHex(crypto.sha256(b));
  for (const [v, bytes] of history) {
    out.push({ name: `${v}.root.json`, bytes }, { name: `root.${hex(bytes)}.json`, bytes });
  }
  for (const [role, bytes] of roles) {
    out.push({ name: `${role}.${hex(bytes)}.json`, bytes });
    if (role === 'root' && rootVersion !== undefined) out.push({ name: `${rootVersion}.root.json`, bytes });
  }
  // Current names: root last but one, so a client that reads root.json first finds everything it names.
  for (const [role, bytes] of roles) if (role !== 'root') out.push({ name: `${role}.json`, bytes });
  const root = roles.get('root');
  if (root) out.push({ name: 'root.json', bytes: root });
  if (timestamp) out.push({ name: `timestamp.${hex(timestamp)}.json`, bytes: timestamp }, { name: 'timestamp.json', bytes: timestamp });
  return out;
}

/** Test hook: `NOTARY_TS_TEST_KILL_AFTER_STEPS=N` SIGKILLs this process after N write steps (interrupted-migration tests). */
export function killSwitch(env: Readonly<Record<string, string | undefined>> = process.env): () => void {
  const limit = Number(env['NOTARY_TS_TEST_KILL_AFTER_STEPS'] ?? 'NaN');
  let steps = 0;
  return () => {
    steps++;
    if (Number.isInteger(limit) && steps >= limit) process.kill(process.pid, 'SIGKILL');
  };
}

/** Writes the files in order under the directory's publish lock (the one DirectoryRemote takes). */
export async function writeLayout(base: string, files: readonly LayoutFile[], step: () => void = () => {}): Promise<void> {
  await withFileLock(join(base, '.publish.lock'), async () => {
    for (const f of files) {
      await writeFileAtomic(join(base, f.name), f.bytes);
      step();
    }
  });
}

/**
 * The Go CLI pings `GET <server>/v2/` and silently goes offline unless it answers 2xx or 401; a static
 * server without directory listings answers 403. An index file makes every static server answer 200.
 */
export async function ensurePingable(dir: string): Promise<void> {
  const index = join(dir, 'v2', 'index.html');
  if (!(await readFileIfExists(index))) await writeFileAtomic(index, '{}');
}

export function readLayoutFile(base: string, name: string): Promise<Uint8Array | undefined> {
  return readFileIfExists(join(base, name));
}
