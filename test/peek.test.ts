import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peekSignedVersion } from '../src/core/peek.js';
import { prng } from './support/prng.js';

const enc = new TextEncoder();

function vectorFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...vectorFiles(p));
    else if (e.endsWith('.json')) out.push(p);
  }
  return out;
}

/** What a full parse says `signed.version` is (undefined if absent or not an integer). */
function parsedVersion(text: string): number | undefined {
  const v = (JSON.parse(text) as { signed?: { version?: unknown } }).signed?.version;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

describe('peekSignedVersion', () => {
  it('agrees with a full parse on every committed metadata file', () => {
    const files = vectorFiles(join(__dirname, '..', 'test-vectors')).filter((f) => {
      try {
        return typeof (JSON.parse(readFileSync(f, 'utf8')) as { signed?: unknown }).signed === 'object';
      } catch {
        return false;
      }
    });
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      expect(peekSignedVersion(bytes), f).toBe(parsedVersion(new TextDecoder().decode(bytes)));
    }
  });

  it('agrees with JSON.parse or declines, on random documents with nasty strings and layouts', () => {
    const rand = prng(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const strings = ['version', 'signed', '"version":7', '\\', '\\"', '}', ']{', 'ﬁ😀', '\u2028', ''];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 2 || r < 0.3) return pick([1, -2, 0, 3.5, 'x', pick(strings), null, true]);
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 3) }, () => [pick(strings), value(depth + 1)]));
    };
    let answered = 0;
    for (let i = 0; i < 2000; i++) {
      const signed: Record<string, unknown> = { [pick(strings)]: value(0), targets: value(0) };
      if (rand() < 0.8) signed['version'] = pick([1, 42, 123456789012345, 0, -3, 2.5, 'nine', 1e21]);
      const doc: Record<string, unknown> = rand() < 0.5 ? { signatures: value(0), signed } : { signed, signatures: value(0) };
      const space = rand() < 0.3 ? 1 : undefined;
      const text = JSON.stringify(doc, null, space);
      const peeked = peekSignedVersion(enc.encode(text));
      if (peeked !== undefined) {
        answered++;
        expect(peeked, text).toBe(parsedVersion(text));
      }
    }
    expect(answered).toBeGreaterThan(500);
  });

  it('declines what it cannot read cheaply', () => {
    for (const text of [
      '{"signed":{"version":1}', // truncated
      '{"signed":{"vers\\u0069on":1}}', // escaped key
      '{"signed":{"version":1.5}}',
      '{"signed":{"version":1e3}}',
      '{"signed":{"version":1},"signed":{"version":2}}',
      '{"signed":{"version":1}} trailing',
      '[1]',
      '',
    ]) {
      expect(peekSignedVersion(enc.encode(text)), text).toBeUndefined();
    }
    expect(peekSignedVersion(enc.encode(' {"signatures":[{"sig":"a\\"}"}], "signed" : { "version" : 9 , "x":[{}]} } '))).toBe(9);
  });
});
