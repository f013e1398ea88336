/**
 * The layering rule as a test: the core and the pure crypto backend import no Node module (they must run
 * in any JS runtime), and no layer reaches up (core ← node/crypto ← repository ← cli).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/fixtures.js';

const src = join(REPO_ROOT, 'src');
const filesIn = (dir: string) => readdirSync(join(src, dir)).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
const importsOf = (file: string) => [...readFileSync(join(src, file), 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!);

describe('layering', () => {
  const portable = [...filesIn('core'), 'crypto/noble.ts', 'crypto/rsa-pure.ts'];
  it.each(portable)('%s imports no Node module and no Buffer', (file) => {
    const text = readFileSync(join(src, file), 'utf8');
    expect(importsOf(file).filter((m) => m.startsWith('node:') || ['fs', 'path', 'crypto', 'os', 'buffer'].includes(m))).toEqual([]);
    expect(text).not.toMatch(/\bBuffer\./);
    expect(text).not.toMatch(/\brequire\(/);
  });

  const upward: Record<string, string[]> = {
    core: ['../node/', '../repository/', '../cli/', '../crypto/'],
    crypto: ['../node/', '../repository/', '../cli/'],
    node: ['../repository/', '../cli/'],
    repository: ['../cli/'],
    registry: ['../repository/', '../images/', '../cli/'],
    images: ['../cli/'],
  };
  for (const [layer, forbidden] of Object.entries(upward)) {
    it.each(filesIn(layer))(`%s does not reach up`, (file) => {
      expect(importsOf(file).filter((m) => forbidden.some((f) => m.startsWith(f)))).toEqual([]);
    });
  }
});
