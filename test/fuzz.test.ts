/**
 * The fuzz harness (scripts/fuzz, `npm run fuzz`) stays working, and every case it ever found untyped stays
 * fixed: each vector in test/fuzz-regressions/ is replayed through the same runner and must now end in an
 * accepted answer its signed bytes give, or a typed refusal. The big campaign is not part of `npm test`
 * (figures in docs/security.md); here a few hundred seeded cases, on the built code (test.sh builds first).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/fixtures.js';

const REGRESSIONS = join(REPO_ROOT, 'test', 'fuzz-regressions');
const vectors = readdirSync(REGRESSIONS).filter((f) => f.endsWith('.json')).sort();

interface Cases {
  runInput(input: unknown): Promise<{ outcome: string; code: string; message?: string }>;
  cleanup(): void;
}
const cases = (await import(join(REPO_ROOT, 'scripts', 'fuzz', 'cases.mjs'))) as Cases;
afterAll(() => cases.cleanup());

describe('fuzz regressions', () => {
  it('there are committed regression vectors (found by the campaign on the code before issue 9)', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });
  for (const file of vectors) {
    it(`${file}: typed or correctly accepted now`, async () => {
      const vector = JSON.parse(readFileSync(join(REGRESSIONS, file), 'utf8')) as { input: unknown; found: { outcome: string } };
      expect(['untyped', 'violation']).toContain(vector.found.outcome);
      const result = await cases.runInput(vector.input);
      expect(result.outcome, `${result.code}: ${result.message ?? ''}`).not.toBe('untyped');
      expect(result.outcome, `${result.code}: ${result.message ?? ''}`).not.toBe('violation');
    }, 120_000);
  }
});

describe('fuzz harness smoke run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'notary-ts-fuzz-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('300 seeded cases over every kind (two through the CLI): classified, none untyped, none changing signed content', () => {
    const report = join(dir, 'report.json');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'fuzz', 'main.mjs'), '--cases', '300', '--seed', '20261204', '--workers', '1', '--cli-every', '150', '--out', join(dir, 'found'), '--report', report], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const figures = JSON.parse(readFileSync(report, 'utf8')) as {
      cases: number;
      untyped: number;
      violations: number;
      accepted: number;
      refused: number;
      counts: Record<string, Record<string, Record<string, number>>>;
    };
    expect(figures.cases).toBe(300);
    expect(figures.untyped).toBe(0);
    expect(figures.violations).toBe(0);
    expect(figures.accepted + figures.refused).toBe(300);
    expect(Object.keys(figures.counts).sort()).toEqual(expect.arrayContaining(['cli', 'config', 'keyfile', 'meta-raw', 'meta-resigned', 'x509']));
    // Re-signed mutants reach checks behind the signature check, and some are accepted (the oracle runs).
    expect(Object.keys(figures.counts['meta-resigned']!['refused'] ?? {}).length).toBeGreaterThan(3);
    expect(figures.counts['meta-resigned']!['accepted']?.['SIGNED'] ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
