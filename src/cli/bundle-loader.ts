/**
 * Loads the CLI bundle (built by scripts/bundle.mjs) through `vm.Script`, so that V8 starts from a code cache
 * trained at build time instead of parsing and compiling the CLI's JavaScript on every run. Shared by the bin
 * (src/cli/main.ts) and the build's trainer: a code cache is only valid for the exact source text it was made
 * from, so both must wrap the bundle the same way, and this module is the one place that does.
 *
 * The bundle is split in chunks, each a CommonJS file with its own cache (`<chunk>.cache`):
 * * notary-ts.cjs — our code (dist/cli/bundle-entry.js and everything it imports);
 * * notary-ts.<dependency>.cjs — one per entry of VENDOR_CHUNKS, loaded the first time our code requires that
 *   dependency. Commands that never touch zod or undici (version, help, usage errors) then neither read nor
 *   deserialize their ≈1 MB of code and cache: that is what made them slower as a single bundle.
 *
 * V8 checks a cache against its own version and flags but identifies the source only by its length, and in
 * release builds does not checksum the cache either: a cache made for another build of a chunk with the
 * same length would be "accepted" and run the wrong code (or crash). So every chunk ends with a line naming
 * its build (a hash of its content) and its cache file starts with that line; a cache made for another
 * build is never given to V8.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import type { Program } from './program.js';

export const BUNDLE_FILE = 'notary-ts.cjs';
export const CACHE_SUFFIX = '.cache';
/** Every chunk's last line is this prefix and its build id (scripts/bundle.mjs appends it). */
export const BUILD_ID_PREFIX = '//notary-ts-build:';
/** The dependencies bundled in chunks of their own; scripts/bundle.mjs makes them external to the main chunk. */
export const VENDOR_CHUNKS: readonly string[] = ['zod', 'undici'];

/** The file of a chunk: `undefined` names the main one. */
export function chunkFile(dir: string, vendor?: string): string {
  return join(dir, vendor === undefined ? BUNDLE_FILE : `notary-ts.${vendor}.cjs`);
}

/** What the main chunk (src/cli/bundle-entry.ts) exports. */
export interface BundleExports {
  buildProgram(): Program;
}

/**
 * 'accepted': V8 used the cache. 'rejected': V8 refused it (another Node/V8 version, other V8 flags).
 * 'other-build': the cache file was made for another build of the chunk. 'missing': no cache file read.
 */
export type CacheOutcome = 'accepted' | 'rejected' | 'other-build' | 'missing';

export interface LoadedChunk {
  /** 'main' or the dependency's name. */
  readonly name: string;
  readonly file: string;
  readonly source: string;
  /** The compiled script: `script.createCachedData()` after a run is what the trainer saves. */
  readonly script: Script;
  readonly cache: CacheOutcome;
}

/**
 * V8 settings for the short-lived CLI process, set before any chunk is compiled. The trainer sets the
 * same ones: V8 accepts a code cache only under the flags it was made with.
 * `--liftoff-only`: undici parses HTTP with llhttp compiled to WebAssembly, and V8's optimising tier
 * recompiles that module on first use — ≈ 170 ms and ≈ 35 MB of peak RSS here, for a parser that handles
 * a few headers per request in a CLI run. The baseline compiler's code is plenty.
 */
export function applyCliV8Flags(): void {
  setFlagsFromString('--liftoff-only');
}

/** The CommonJS module wrapper, as one expression. */
export function wrapChunk(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/** The header of the cache file for this chunk source: its last line (the build id line) and a newline. */
export function cacheHeader(source: string): string {
  const body = source.endsWith('\n') ? source.slice(0, -1) : source;
  const last = body.slice(body.lastIndexOf('\n') + 1);
  return last.startsWith(BUILD_ID_PREFIX) ? `${last}\n` : '';
}

/** The cache file's content for a loaded chunk: the header, then V8's cached data for the script as it is now. */
export function serializeCache(chunk: LoadedChunk): Buffer {
  const header = cacheHeader(chunk.source);
  if (header === '') throw new Error(`${chunk.file} does not end with a ${BUILD_ID_PREFIX} line`);
  return Buffer.concat([Buffer.from(header, 'latin1'), chunk.script.createCachedData()]);
}

/**
 * Whether the bundle in `dir` can be used: 'missing' if a chunk file is; 'stale' if `builtFile` (the bin
 * passes itself: tsc rewrites it on every build) is newer than a chunk by more than two seconds — a plain
 * `tsc` ran after the last `npm run build`, and the bundle holds older code. (The margin: copying dist/
 * without keeping times, `cp -r`, may give its files slightly different times in any order; tsc takes
 * longer than that to run.)
 */
export function bundleState(dir: string, builtFile: string): 'ok' | 'missing' | 'stale' {
  let oldest = Infinity;
  for (const file of [chunkFile(dir), ...VENDOR_CHUNKS.map((v) => chunkFile(dir, v))]) {
    const mtime = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime === undefined) return 'missing';
    oldest = Math.min(oldest, mtime);
  }
  return statSync(builtFile).mtimeMs > oldest + 2000 ? 'stale' : 'ok';
}

/** Loads the chunks of the bundle in `dir` as they are needed, each from its cache when `useCache`. */
export class BundleLoader {
  /** Chunks loaded so far, in load order. */
  readonly chunks: LoadedChunk[] = [];
  private readonly vendors = new Map<string, unknown>();
  /** The `require` the chunks get: the vendor chunks by name, Node's require for everything else (builtins). */
  private readonly require: NodeJS.Require;

  constructor(
    readonly dir: string,
    private readonly useCache: boolean,
  ) {
    const nodeRequire = createRequire(chunkFile(dir));
    const require = (id: string): unknown => {
      if (!VENDOR_CHUNKS.includes(id)) return nodeRequire(id);
      if (!this.vendors.has(id)) this.vendors.set(id, this.run(id, chunkFile(this.dir, id)));
      return this.vendors.get(id);
    };
    this.require = Object.assign(require, { resolve: nodeRequire.resolve, cache: nodeRequire.cache, main: nodeRequire.main, extensions: nodeRequire.extensions });
  }

  /** Runs the main chunk and returns its exports. */
  load(): BundleExports {
    return this.run('main', chunkFile(this.dir)) as BundleExports;
  }

  private run(name: string, file: string): unknown {
    const source = readFileSync(file, 'utf8');
    let cachedData: Buffer | undefined;
    let cache: CacheOutcome = 'missing';
    if (this.useCache) {
      let bytes: Buffer | undefined;
      try {
        bytes = readFileSync(file + CACHE_SUFFIX);
      } catch {
        // no cache: V8 compiles from source (slower, same behaviour)
      }
      const header = cacheHeader(source);
      if (bytes !== undefined && header !== '' && bytes.length > header.length && bytes.toString('latin1', 0, header.length) === header) {
        cachedData = bytes.subarray(header.length);
      } else if (bytes !== undefined) {
        cache = 'other-build';
      }
    }
    const script = new Script(wrapChunk(source), { filename: file, cachedData });
    if (cachedData !== undefined) cache = script.cachedDataRejected ? 'rejected' : 'accepted';
    this.chunks.push({ name, file, source, script, cache });
    const module = { exports: {} as unknown };
    const fn = script.runInThisContext() as (e: unknown, r: unknown, m: unknown, f: string, d: string) => void;
    fn.call(module.exports, module.exports, this.require, module, file, this.dir);
    return module.exports;
  }
}
