import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/core/bytes.js';
import {
  DerError,
  DerSequence,
  Tag,
  TagClass,
  derBitString,
  derBoolean,
  derChildren,
  derExplicit,
  derGeneralizedTime,
  derImplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derUtcTime,
  derUtf8String,
  parseDer,
  readBigInt,
  readBitString,
  readBoolean,
  readNull,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readTlv,
  readUnsignedInteger,
} from '../src/core/der.js';
import { KeyError } from '../src/core/errors.js';

const h = (hex: string) => fromHex(hex.replace(/\s+/g, ''));

function malformed(hex: string): void {
  expect(() => parseDer(h(hex))).toThrow(DerError);
}

/** openssl asn1parse as an independent decoder. */
function asn1parse(bytes: Uint8Array): string {
  return execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: bytes, encoding: 'utf8' });
}

describe('DER reader', () => {
  it('parses tag class, constructed flag, tag number, content and lengths', () => {
    const n = parseDer(h('a0 03 02 01 05'));
    expect(n).toMatchObject({ tagClass: TagClass.context, constructed: true, tag: 0, headerLength: 2 });
    expect(n.raw.length).toBe(5);
    const [child] = derChildren(n);
    expect(readSmallInt(child!)).toBe(5);
    const high = parseDer(h('9f 81 00 00'));
    expect(high).toMatchObject({ tagClass: TagClass.context, constructed: false, tag: 128, headerLength: 4 });
    const long = parseDer(new Uint8Array([0x04, 0x82, 0x01, 0x00, ...new Uint8Array(256)]));
    expect(long.content.length).toBe(256);
    expect(long.headerLength).toBe(4);
  });

  it('rejects what DER forbids', () => {
    malformed('30 80 00 00'); // indefinite length
    malformed('04 81 05 0102030405'); // long form for a short length
    malformed('04 82 00 81' + '00'.repeat(0x81)); // leading zero length byte
    malformed('04 05 0102'); // length past the end
    malformed('04 01 00 00'); // trailing byte
    malformed('04 85 0000000001 00'); // length of length > 4
    malformed('04 84 ffffffff'); // far past the end
    malformed('1f 1e 00'); // high-tag form for a low tag
    malformed('1f 80 01 00'); // non-minimal high tag
    malformed(''); // empty
    malformed('30'); // missing length
    malformed('04 81'); // truncated length
    malformed('30 03 02 01'); // child truncated: only detected when walked
    expect(() => derChildren(parseDer(h('30 03 02 02 00')))).toThrow(DerError);
    expect(() => derChildren(parseDer(h('04 00')))).toThrow(/constructed/);
    // every DerError is a KeyError with a stable code
    try {
      parseDer(h('30 80'));
    } catch (e) {
      expect(e).toBeInstanceOf(KeyError);
      expect((e as KeyError).code).toBe('MALFORMED_KEY');
    }
  });

  it('INTEGER: minimal two\'s complement only', () => {
    expect(readBigInt(parseDer(h('02 01 00')))).toBe(0n);
    expect(readBigInt(parseDer(h('02 01 7f')))).toBe(127n);
    expect(readBigInt(parseDer(h('02 02 00 80')))).toBe(128n);
    expect(readBigInt(parseDer(h('02 01 80')))).toBe(-128n);
    expect(readBigInt(parseDer(h('02 02 ff 7f')))).toBe(-129n);
    expect(toHex(readUnsignedInteger(parseDer(h('02 03 00 ff 01'))))).toBe('ff01');
    expect(toHex(readUnsignedInteger(parseDer(h('02 01 00'))))).toBe('00');
    expect(() => readUnsignedInteger(parseDer(h('02 01 ff')))).toThrow(/negative/);
    expect(() => readBigInt(parseDer(h('02 00')))).toThrow(DerError);
    expect(() => readBigInt(parseDer(h('02 02 00 7f')))).toThrow(/non-minimal/);
    expect(() => readBigInt(parseDer(h('02 02 ff 80')))).toThrow(/non-minimal/);
    expect(() => readBigInt(parseDer(h('22 01 00')))).toThrow(/primitive/);
    expect(() => readSmallInt(parseDer(h('02 07 01 00 00 00 00 00 00')))).toThrow(/range/);
  });

  it('OID, BOOLEAN, NULL, BIT STRING, OCTET STRING', () => {
    expect(readOid(parseDer(h('06 09 2a864886f70d010101')))).toBe('1.2.840.113549.1.1.1');
    expect(readOid(parseDer(h('06 03 2b6570')))).toBe('1.3.101.112');
    expect(readOid(parseDer(h('06 02 88 37')))).toBe('2.999');
    expect(() => readOid(parseDer(h('06 02 80 01')))).toThrow(/non-minimal/);
    expect(() => readOid(parseDer(h('06 01 81')))).toThrow(/truncated/);
    expect(() => readOid(parseDer(h('06 00')))).toThrow(DerError);
    expect(readBoolean(parseDer(h('01 01 ff')))).toBe(true);
    expect(readBoolean(parseDer(h('01 01 00')))).toBe(false);
    expect(() => readBoolean(parseDer(h('01 01 01')))).toThrow(DerError);
    expect(readNull(parseDer(h('05 00')))).toBeNull();
    expect(() => readNull(parseDer(h('05 01 00')))).toThrow(DerError);
    expect(readBitString(parseDer(h('03 02 05 a0')))).toMatchObject({ unusedBits: 5 });
    expect(() => readBitString(parseDer(h('03 02 05 a1')))).toThrow(/padding/);
    expect(() => readBitString(parseDer(h('03 01 01')))).toThrow(DerError);
    expect(() => readBitString(parseDer(h('03 02 08 00')))).toThrow(DerError);
    expect(toHex(readOctetString(parseDer(h('04 02 abcd'))))).toBe('abcd');
  });

  it('times: UTCTime pivot, GeneralizedTime, Go-accepted forms only', () => {
    const t = (hex: string) => readTime(parseDer(h(hex))).toISOString();
    const utc = (s: string) => toHex(new Uint8Array([0x17, s.length, ...new TextEncoder().encode(s)]));
    const gen = (s: string) => toHex(new Uint8Array([0x18, s.length, ...new TextEncoder().encode(s)]));
    expect(t(utc('491231235959Z'))).toBe('2049-12-31T23:59:59.000Z');
    expect(t(utc('500101000000Z'))).toBe('1950-01-01T00:00:00.000Z');
    expect(t(utc('0001010000Z'))).toBe('2000-01-01T00:00:00.000Z'); // Go accepts minute precision
    expect(t(utc('000101000000+0100'))).toBe('1999-12-31T23:00:00.000Z');
    expect(t(gen('21160205005857Z'))).toBe('2116-02-05T00:58:57.000Z');
    expect(t(gen('00010101000000Z'))).toBe('0001-01-01T00:00:00.000Z');
    expect(t(utc('000229000000Z'))).toBe('2000-02-29T00:00:00.000Z');
    for (const bad of ['010229000000Z', '001301000000Z', '000101240000Z', '000101006000Z', '000101000060Z', '000101000000', '000101000000+0000', '0001010000000Z']) {
      expect(() => t(utc(bad)), bad).toThrow(DerError);
    }
    for (const bad of ['21160205005857.5Z', '211602050058Z', '2116020500585Z']) {
      expect(() => t(gen(bad)), bad).toThrow(DerError);
    }
    expect(() => t('0400')).toThrow(/expected a time/);
  });

  it('strings with Go\'s rules', () => {
    const s = (tag: number, bytes: number[]) => readString(parseDer(new Uint8Array([tag, bytes.length, ...bytes])));
    const ascii = (x: string) => [...x].map((c) => c.charCodeAt(0));
    expect(s(Tag.UTF8String, [0xc3, 0xa9])).toBe('é');
    expect(() => s(Tag.UTF8String, [0xc3])).toThrow(/UTF-8/);
    expect(s(Tag.PrintableString, ascii("Ab9 '()+,-./:=?*&"))).toBe("Ab9 '()+,-./:=?*&");
    expect(() => s(Tag.PrintableString, ascii('a_b'))).toThrow(/PrintableString/);
    expect(s(Tag.IA5String, ascii('a_b@c'))).toBe('a_b@c');
    expect(() => s(Tag.IA5String, [0x80])).toThrow(/IA5String/);
    expect(s(Tag.T61String, [0x61, 0xe9])).toBe('aé'); // not UTF-8 → Latin-1
    expect(s(Tag.T61String, [0xc3, 0xa9])).toBe('é'); // valid UTF-8 stays as Go's string would compare
    expect(s(Tag.BMPString, [0x00, 0x41, 0x00, 0xe9, 0x00, 0x00])).toBe('Aé');
    expect(s(Tag.NumericString, ascii('12 3'))).toBe('12 3');
    expect(() => s(Tag.OCTET_STRING, [1])).toThrow(/unsupported string/);
  });

  it('DerSequence handles OPTIONAL members and refuses leftovers', () => {
    const seq = DerSequence.of(h('30 08 a0 03 02 01 02 02 01 07'));
    expect(seq.optional(TagClass.context, 1)).toBeUndefined();
    expect(seq.optional(TagClass.context, 0)).toBeDefined();
    expect(readSmallInt(seq.nextUniversal(Tag.INTEGER))).toBe(7);
    seq.end();
    const extra = DerSequence.of(h('30 06 02 01 01 02 01 02'));
    extra.next();
    expect(() => extra.end('x')).toThrow(/extra element in x/);
    expect(() => DerSequence.of(h('31 00'))).toThrow(/expected SEQUENCE/);
    expect(() => DerSequence.of(h('30 00')).next('thing')).toThrow(/missing thing/);
  });

  it('hostile input: linear time, no recursion', () => {
    // 5 MB claimed inside a short buffer, and a long chain of nested constructed nodes walked iteratively
    expect(() => parseDer(h('30 83 50 00 00 00'))).toThrow(/exceeds/);
    // a flat worst case: 500k empty children (deep nesting is covered in x509.test.ts)
    const flat = new Uint8Array([0x30, 0x83, 0x0f, 0x42, 0x40, ...new Uint8Array(1_000_000).fill(0).map((_, i) => (i % 2 === 0 ? 0x05 : 0x00))]);
    // Completing at all shows there is no recursion; how fast is a benchmark's question, not a test's.
    expect(derChildren(parseDer(flat)).length).toBe(500_000);
  });
});

describe('DER writer', () => {
  it('INTEGER: minimal two\'s complement from bigint, number and unsigned bytes', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '020100'], [1n, '020101'], [127n, '02017f'], [128n, '02020080'], [255n, '020200ff'], [256n, '02020100'],
      [-1n, '0201ff'], [-128n, '020180'], [-129n, '0202ff7f'], [-256n, '0202ff00'], [-257n, '0202feff'],
    ];
    for (const [v, hex] of cases) {
      expect(toHex(derInteger(v))).toBe(hex);
      expect(readBigInt(parseDer(derInteger(v)))).toBe(v);
    }
    expect(toHex(derInteger(2))).toBe('020102');
    expect(toHex(derInteger(h('0000ff')))).toBe('020200ff');
    expect(toHex(derInteger(h('')))).toBe('020100');
    expect(toHex(derInteger(h('0000')))).toBe('020100');
    for (let i = 0; i < 200; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 70)));
      let v = BigInt('0x' + toHex(bytes));
      if (i % 2) v = -v;
      expect(readBigInt(parseDer(derInteger(v)))).toBe(v);
    }
  });

  it('OIDs round-trip, including large arcs, and match openssl', () => {
    for (const oid of ['1.2.840.113549.1.1.11', '1.3.6.1.4.1.11591.15.1', '2.5.29.37.0', '0.9.2342.19200300.100.1.1', '2.999.3', '1.2.18446744073709551617']) {
      expect(readOid(parseDer(derOid(oid)))).toBe(oid);
    }
    expect(toHex(derOid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(asn1parse(derOid('1.3.6.1.5.5.7.3.3'))).toContain('Code Signing');
    expect(() => derOid('3.1')).toThrow();
    expect(() => derOid('1.40')).toThrow();
    expect(() => derOid('1')).toThrow();
  });

  it('times: Go\'s UTCTime/GeneralizedTime split, fractions dropped', () => {
    expect(toHex(derTime(new Date('2049-12-31T23:59:59.999Z')))).toBe(toHex(derUtcTime(new Date('2049-12-31T23:59:59Z'))));
    expect(parseDer(derTime(new Date('2050-01-01T00:00:00Z'))).tag).toBe(Tag.GeneralizedTime);
    expect(parseDer(derTime(new Date('1949-12-31T23:59:59Z'))).tag).toBe(Tag.GeneralizedTime);
    expect(parseDer(derTime(new Date('1950-01-01T00:00:00Z'))).tag).toBe(Tag.UTCTime);
    expect(new TextDecoder().decode(parseDer(derTime(new Date('2026-11-23T20:44:43.5Z'))).content)).toBe('261123204443Z');
    expect(new TextDecoder().decode(parseDer(derGeneralizedTime(new Date('2116-02-05T00:58:57Z'))).content)).toBe('21160205005857Z');
    for (const d of ['1950-01-01T00:00:00Z', '1999-06-15T12:34:56Z', '2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0001-02-03T04:05:06Z']) {
      expect(readTime(parseDer(derTime(new Date(d)))).toISOString()).toBe(new Date(d).toISOString());
    }
    expect(() => derUtcTime(new Date('2050-01-01T00:00:00Z'))).toThrow();
    expect(() => derTime(new Date(NaN))).toThrow();
  });

  it('composes structures openssl decodes identically', () => {
    const bytes = derSequence(
      derExplicit(0, derInteger(2)),
      derBoolean(true),
      derNull(),
      derBitString(Uint8Array.of(0xa0), 5),
      derOctetString(Uint8Array.of(1, 2)),
      derUtf8String('héllo'),
      derPrintableString('example.com/app'),
      derSet(derInteger(3), derInteger(1)),
      derImplicit(1, derOctetString(Uint8Array.of(9))),
      derImplicit(2, derSequence(derNull())),
      derTime(new Date('2030-01-01T00:00:00Z')),
    );
    const out = asn1parse(bytes);
    for (const want of ['cont [ 0 ]', 'BOOLEAN', 'NULL', 'BIT STRING', 'OCTET STRING', 'UTF8STRING', 'PRINTABLESTRING', 'SET', 'cont [ 1 ]', 'cont [ 2 ]', 'UTCTIME']) {
      expect(out).toContain(want);
    }
    const kids = derChildren(parseDer(bytes));
    expect(kids.map((k) => [k.tagClass, k.constructed, k.tag])).toEqual([
      [2, true, 0], [0, false, 1], [0, false, 5], [0, false, 3], [0, false, 4], [0, false, 12], [0, false, 19],
      [0, true, 17], [2, false, 1], [2, true, 2], [0, false, 23],
    ]);
    expect(readString(kids[5]!)).toBe('héllo');
    // SET OF members sorted by encoding
    expect(derChildren(kids[7]!).map((k) => readSmallInt(k))).toEqual([1, 3]);
    expect(() => derPrintableString('a_b')).toThrow();
    expect(() => derPrintableString('a&b')).toThrow();
    expect(readString(parseDer(derPrintableString('a*b')))).toBe('a*b'); // Go allows * in an explicit PrintableString
    // long lengths
    const big = derOctetString(new Uint8Array(70_000));
    expect(toHex(big.subarray(0, 5))).toBe('0483011170');
    expect(parseDer(big).content.length).toBe(70_000);
  });
});
