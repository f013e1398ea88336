import { describe, expect, it } from 'vitest';
import { prng } from './support/prng.js';
import { canonicalize, canonicalizeToBytes, compactJson, compareUtf8, goHtmlEscape, goJsonString } from '../src/core/canonical.js';
import { NotaryError } from '../src/core/errors.js';


const ALPHABET = ['a', 'B', '0', '~', '\u007f', 'é', '€', '\uFB01', '\uFFFD', '\uE000', '😀', '𝄞', '"', '\\', '<', '&', '\u2028', '\t'];

function randomString(rand: () => number, max = 6): string {
  let s = '';
  const n = Math.floor(rand() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

describe('compareUtf8', () => {
  it('orders like a byte comparison of UTF-8 (property, 20k pairs)', () => {
    const rand = prng(42);
    for (let i = 0; i < 20_000; i++) {
      const a = randomString(rand);
      const b = randomString(rand);
      const expected = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      expect(Math.sign(compareUtf8(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(expected);
    }
  });
});

describe('canonicalize', () => {
  it('sorts keys by UTF-8 bytes, not UTF-16 code units (RFC 8785 differs here)', () => {
    expect(canonicalize({ '😀': 2, 'ﬁ': 1 })).toBe('{"ﬁ":1,"😀":2}');
    // JS's default sort would put the emoji (surrogate D83D) first.
    expect(['ﬁ', '😀'].sort()).toEqual(['😀', 'ﬁ']);
  });

  it('sorts random objects in UTF-8 byte order at every level', () => {
    const rand = prng(7);
    for (let i = 0; i < 500; i++) {
      const obj: Record<string, unknown> = {};
      for (let k = 0; k < 8; k++) obj[randomString(rand, 4)] = { [randomString(rand, 3)]: k, z: [k] };
      const keys = Object.keys(obj);
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const members = expected.map((k) => canonicalize(k) + ':' + canonicalize(obj[k]));
      expect(canonicalize(obj)).toBe('{' + members.join(',') + '}');
    }
  });

  it('escapes only quote and backslash; control characters, <>&, U+2028 and non-ASCII stay raw', () => {
    expect(canonicalize({ s: 'a"b\\c\td\ne\u0000<>&\u2028é😀/' })).toBe('{"s":"a\\"b\\\\c\td\ne\u0000<>&\u2028é😀/"}');
  });

  it('allows integers only', () => {
    expect(canonicalize([0, -0, 1, -5, 2 ** 53 + 2, 2 ** 62])).toBe('[0,0,1,-5,9007199254740994,4611686018427387904]');
    // Go converts through int64: at or above 2^63 its output is undefined (min int64 on amd64), so refuse.
    for (const bad of [1.5, 1e-7, 2 ** 64, 1e21]) {
      try {
        canonicalize({ a: bad });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(NotaryError);
        expect((err as NotaryError).code).toBe('UNSUPPORTED_VALUE');
      }
    }
  });

  it('writes null, booleans, nested arrays, and drops undefined members', () => {
    expect(canonicalize({ b: [true, false, null, []], a: {}, c: undefined })).toBe('{"a":{},"b":[true,false,null,[]]}');
  });
});

describe('Go envelope helpers', () => {
  it('goHtmlEscape rewrites the five characters Go escapes inside embedded JSON', () => {
    expect(goHtmlEscape('{"dir/A<b>&c\u2028\u2029":1}')).toBe('{"dir/A\\u003cb\\u003e\\u0026c\\u2028\\u2029":1}');
  });

  it('goJsonString agrees with JSON.stringify except for Go\'s HTML escapes', () => {
    const rand = prng(3);
    for (let i = 0; i < 2000; i++) {
      const s = randomString(rand, 10) + '\u0001\b\f\r\n';
      const ours = goJsonString(s);
      expect(JSON.parse(ours)).toBe(s);
      expect(ours).not.toMatch(/[<>&\u2028\u2029]/);
    }
    expect(goJsonString('\b')).toBe('"\\u0008"');
  });

  it('compactJson removes whitespace outside strings only', () => {
    expect(compactJson(' { "a" : [ 1 , "x y\\" z" ] } ')).toBe('{"a":[1,"x y\\" z"]}');
  });
});

describe('canonicalizeToBytes (JSON.stringify + proof, else re-encode)', () => {
  it('always equals canonicalize, whatever the key order (property, 3000 values)', () => {
    const rand = prng(99);
    const keyChars = ['a', 'b', '0', '1', '9', '10', 'é', '😀', 'ﬁ', '"', '\\', '<'];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return [Math.floor(rand() * 1e6), 'x<&>\u2028"\\', true, null, 2 ** 40][Math.floor(rand() * 5)];
      if (r < 0.5) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--) o[keyChars[Math.floor(rand() * keyChars.length)]! + keyChars[Math.floor(rand() * keyChars.length)]!] = value(depth + 1);
      return o;
    };
    for (let i = 0; i < 3000; i++) {
      const v = value(0);
      const fast = canonicalizeToBytes(v);
      expect(fast.text).toBe(canonicalize(v));
      expect(Buffer.from(fast.bytes).toString('utf8')).toBe(fast.text);
    }
  });

  it('refuses what canonicalize refuses (floats) instead of trusting JSON.stringify', () => {
    expect(() => canonicalizeToBytes({ a: 1.5 })).toThrowError(expect.objectContaining({ code: 'UNSUPPORTED_VALUE' }));
    expect(canonicalizeToBytes({ '10': 1, '9': 2 }).text).toBe('{"10":1,"9":2}');
  });
});
