/**
 * An advisory lock file so two processes using one trust_dir do not interleave their writes (a publish
 * reading the changelist while another process appends to it, two key imports, ...). The lock holds the
 * owner's pid; a lock whose owner no longer runs is stale and taken over.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { KeyStoreError } from '../core/errors.js';
import { ensureDir } from './fs-atomic.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  /** How long to wait for another holder, in ms (default 30 s). */
  readonly timeoutMs?: number;
}

// Holders inside this process queue here first: the lock file only arbitrates between processes.
const inProcess = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock file at `path` (serialised within this process too). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const previous = inProcess.get(path) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => lockFile(path, fn, options));
  inProcess.set(path, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(path) === run) inProcess.delete(path);
  }
}

async function lockFile<T>(path: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  await ensureDir(dirname(path));
  let delay = 10;
  for (;;) {
    try {
      const handle = await fs.open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await fs.readFile(path, 'utf8').catch(() => '')).trim());
      if (owner > 0 && owner !== process.pid && !processAlive(owner)) {
        await fs.rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new KeyStoreError('KEY_STORE', `trust_dir is locked by process ${owner || 'unknown'} (${path})`, { where: path });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 250);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(path, { force: true });
  }
}
