/**
 * The fast canonical path must never disagree with re-encoding: for any file it either declines
 * (undefined) or returns exactly canonicalize(JSON.parse(file).signed).
 */
import { describe, expect, it } from 'vitest';
import { prng } from './support/prng.js';
import { utf8Decode, utf8Encode } from '../src/core/bytes.js';
import { canonicalize, goHtmlEscape } from '../src/core/canonical.js';
import { canonicalSignedFromFile } from '../src/core/canonical-scan.js';


const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '/', '<', '>', '&', '\u2028', '\u2029', 'é', '😀', 'ﬁ', '\u007f', '\uE000', '\uFFFD'];

function randomValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.3) {
    const k = Math.floor(rand() * 6);
    if (k === 0) return Math.floor((rand() - 0.5) * 1e6);
    if (k === 1) return rand() < 0.5;
    if (k === 2) return null;
    if (k === 3) return [2 ** 53 - 1, -(2 ** 40), 0, 10 ** 15][Math.floor(rand() * 4)];
    let s = '';
    for (let i = Math.floor(rand() * 6); i > 0; i--) s += CHARS[Math.floor(rand() * CHARS.length)];
    return s;
  }
  if (r < 0.55) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    let key = '';
    for (let j = Math.floor(rand() * 4); j > 0; j--) key += CHARS[Math.floor(rand() * CHARS.length)];
    obj[key] = randomValue(rand, depth + 1);
  }
  return obj;
}

function goFile(signed: unknown): Uint8Array {
  return utf8Encode(`{"signed":${goHtmlEscape(canonicalize(signed))},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AA=="}]}`);
}

function slow(file: Uint8Array): string {
  return canonicalize((JSON.parse(utf8Decode(file)) as { signed: unknown }).signed);
}

describe('canonicalSignedFromFile', () => {
  it('agrees with re-encoding on Go-written files (property, 3000 random values)', () => {
    const rand = prng(11);
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      const signed = { _type: 'Targets', v: randomValue(rand) };
      const file = goFile(signed);
      const got = canonicalSignedFromFile(file);
      if (got) {
        fast++;
        expect(utf8Decode(got)).toBe(slow(file));
      }
    }
    // Most of what Go writes takes the fast path (integers over 15 digits decline).
    expect(fast).toBeGreaterThan(2000);
  });

  it('declines or agrees on arbitrary single-byte edits of a Go file (property)', () => {
    const rand = prng(5);
    const base = goFile({ _type: 'Targets', targets: { 'a<b': { hashes: { sha256: 'AA==' }, length: 1 }, b: { length: 2 } }, version: 1 });
    const alphabet = utf8Encode(' {}[]":,\\0123456789-.eE+tfnul<u');
    for (let i = 0; i < 20_000; i++) {
      const file = base.slice();
      file[Math.floor(rand() * file.length)] = alphabet[Math.floor(rand() * alphabet.length)]!;
      let parsed: string | undefined;
      try {
        parsed = slow(file);
      } catch {
        continue; // not JSON, or not canonicalisable: Metadata.fromBytes refuses it before we get here
      }
      const got = canonicalSignedFromFile(file);
      if (got) expect(utf8Decode(got)).toBe(parsed);
    }
  });

  it.each([
    ['whitespace', '{"signed":{"a": 1},"signatures":[]}'],
    ['unsorted keys', '{"signed":{"b":1,"a":2},"signatures":[]}'],
    ['duplicate keys', '{"signed":{"a":1,"a":2},"signatures":[]}'],
    ['other escapes', '{"signed":{"a":"\\u00e9"},"signatures":[]}'],
    ['escaped slash', '{"signed":{"a":"\\/"},"signatures":[]}'],
    ['float', '{"signed":{"a":1.0},"signatures":[]}'],
    ['exponent', '{"signed":{"a":1e2},"signatures":[]}'],
    ['minus zero', '{"signed":{"a":-0},"signatures":[]}'],
    ['big integer', '{"signed":{"a":9007199254740993},"signatures":[]}'],
    ['second signed key', '{"signed":{"a":1},"signatures":[],"signed":{"a":2}}'],
    ['signatures first', '{"signatures":[],"signed":{"a":1}}'],
    ['trailing newline', '{"signed":{"a":1},"signatures":[]}\n'],
  ])('declines %s', (_label, text) => {
    expect(canonicalSignedFromFile(utf8Encode(text))).toBeUndefined();
  });

  it('declines invalid UTF-8 (Go replaces it; the slow path does the same)', () => {
    const file = utf8Encode('{"signed":{"a":"xx"},"signatures":[]}');
    file[16] = 0xff;
    expect(canonicalSignedFromFile(file)).toBeUndefined();
  });

  it('undoes exactly the five HTML escapes, in keys and values', () => {
    const file = utf8Encode('{"signed":{"\\u003ck":"\\u0026\\u003e\\u2028\\u2029"},"signatures":[]}');
    expect(utf8Decode(canonicalSignedFromFile(file)!)).toBe('{"<k":"&>\u2028\u2029"}');
  });
});
