import { describe, expect, it } from 'vitest';
import { isAscii, utf8Decode, utf8Encode } from '../src/core/bytes.js';
import { isBase64 } from '../src/core/metadata.js';
import { prng } from './support/prng.js';

const reference = new TextDecoder('utf-8', { fatal: false });

describe('utf8Decode', () => {
  it('matches TextDecoder for ASCII and non-ASCII input of every size and alignment', () => {
    const rand = prng(7);
    const backing = new Uint8Array(8192 + 8);
    for (let round = 0; round < 400; round++) {
      const offset = Math.floor(rand() * 8);
      const length = Math.floor(rand() * 8192);
      const view = backing.subarray(offset, offset + length);
      const ascii = rand() < 0.5;
      for (let i = 0; i < view.length; i++) view[i] = Math.floor(rand() * (ascii ? 0x80 : 0x100));
      // One high byte at a random place: the ASCII test must see it wherever it sits (head, words, tail).
      if (!ascii && view.length > 0) {
        view.fill(0x41);
        view[Math.floor(rand() * view.length)] = 0x80 + Math.floor(rand() * 0x80);
      }
      expect(isAscii(view)).toBe(view.every((b) => b < 0x80));
      expect(utf8Decode(view)).toBe(reference.decode(view));
    }
  });

  it('decodes a large multi-byte document exactly', () => {
    const text = '{"a":"' + 'x'.repeat(5000) + 'ﬁ😀\u2028' + '"}';
    expect(utf8Decode(new TextEncoder().encode(text))).toBe(text);
  });
});

describe('utf8Encode', () => {
  it('matches TextEncoder for strings of every size, lone surrogates included', () => {
    const rand = prng(9);
    const alphabet = ['a', '"', '\\', 'é', 'ﬁ', '😀', '\ud800', '\udfff', '\u2028', '\u0000'];
    const reference = new TextEncoder();
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(rand() * 3000);
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      const got = utf8Encode(s);
      expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
      expect(Array.from(got)).toEqual(Array.from(reference.encode(s)));
    }
  });
});

describe('isBase64', () => {
  it('accepts padded standard base64 and refuses anything else', () => {
    for (const ok of ['', 'QQ==', 'QUI=', 'QUJD', 'ab+/']) expect(isBase64(ok)).toBe(true);
    for (const bad of ['Q', 'QQ=', 'QQ-_', 'Q===', '\u0100AAA', 'AA\u00c1A', 'AA A', 'A=AA']) expect(isBase64(bad)).toBe(false);
  });
});
