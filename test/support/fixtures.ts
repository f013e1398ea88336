/**
 * Locates test inputs: Notary's own fixtures/compatibility (fetched from the Debian source package by
 * scripts/notary-fixtures.sh, never committed) and our committed vector sets in test-vectors/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VECTORS_DIR = join(REPO_ROOT, 'test-vectors');

let fixturesDir: string | undefined;

export function notaryFixturesDir(): string {
  fixturesDir ??= execFileSync('bash', [join(REPO_ROOT, 'scripts', 'notary-fixtures.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  return fixturesDir;
}

export interface FixtureRepo {
  readonly name: string;
  readonly gun: string;
  /** Directory holding root.json, targets.json, ... */
  readonly metadataDir: string;
  /** Files by role name (`targets/releases`), exact bytes. */
  readonly files: Map<string, Uint8Array>;
}

export function readMetadataDir(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.json')) files.set(relative(dir, p).slice(0, -'.json'.length), new Uint8Array(readFileSync(p)));
    }
  };
  walk(dir);
  return files;
}

export function notaryFixtureRepos(): FixtureRepo[] {
  const base = notaryFixturesDir();
  const repos = [
    { name: 'notary0.1', gun: 'docker.com/notary0.1/samplerepo' },
    { name: 'notary0.3', gun: 'docker.com/notary0.3/tst' },
  ];
  return repos.map((r) => {
    const metadataDir = join(base, r.name, 'tuf', r.gun, 'metadata');
    return { ...r, metadataDir, files: readMetadataDir(metadataDir) };
  });
}

export interface VectorSet {
  readonly name: string;
  readonly dir: string;
  readonly manifest: any;
  /** Current metadata by role name, exact bytes as the server served them. */
  readonly files: Map<string, Uint8Array>;
}

export function vectorSets(): VectorSet[] {
  if (!existsSync(VECTORS_DIR)) return [];
  return readdirSync(VECTORS_DIR)
    .filter((n) => existsSync(join(VECTORS_DIR, n, 'manifest.json')))
    .sort()
    .map((name) => {
      const dir = join(VECTORS_DIR, name);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      return { name, dir, manifest, files: readMetadataDir(join(dir, 'metadata')) };
    });
}
