/**
 * A small, strict DER (ITU-T X.690 Distinguished Encoding Rules) reader and writer.
 *
 * Reader: lazy and non-recursive. `parseDer` decodes exactly one TLV; `derChildren` / `DerSequence` walk one level
 * of a constructed node. Nothing recurses on input structure, so hostile nesting cannot exhaust the stack, and
 * every byte is examined a bounded number of times per level that a caller walks (linear time). Anything DER
 * forbids is rejected: indefinite lengths, non-minimal lengths and tag numbers, non-minimal INTEGERs, BOOLEANs
 * other than 00/FF, bit strings with set padding bits, trailing bytes.
 *
 * Writer: functions that return the complete encoding of one element, composed by nesting calls.
 *
 * Runs in any JS runtime: no Node modules.
 */
import { concatBytes, utf8Encode } from './bytes.js';
import { KeyError, type ErrorCode } from './errors.js';

/** Raised for any DER that is malformed or outside what this reader accepts. */
export class DerError extends KeyError {
  constructor(message: string, code: ErrorCode = 'MALFORMED_KEY', options: { where?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

export const TagClass = { universal: 0, application: 1, context: 2, private: 3 } as const;
export type TagClassValue = (typeof TagClass)[keyof typeof TagClass];

/** Universal tag numbers used here. */
export const Tag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8String: 12,
  SEQUENCE: 16,
  SET: 17,
  NumericString: 18,
  PrintableString: 19,
  T61String: 20,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
  BMPString: 30,
} as const;

/** One decoded TLV. `content` and `raw` are views into the input (no copies). */
export interface DerNode {
  tagClass: TagClassValue;
  constructed: boolean;
  tag: number;
  /** Header (tag + length) size in bytes. */
  headerLength: number;
  /** Content octets. */
  content: Uint8Array;
  /** The whole TLV: header and content. */
  raw: Uint8Array;
}

/** Lengths above this are refused outright (no certificate or key comes close). */
const MAX_LENGTH = 0x7fffffff;

function fail(message: string): never {
  throw new DerError(message);
}

/** Decodes the TLV that starts at `offset`. Does not require it to end the input. */
export function readTlv(input: Uint8Array, offset = 0): DerNode {
  let p = offset;
  if (p >= input.length) fail('DER: unexpected end of data (expected a tag)');
  const first = input[p++]!;
  const tagClass = (first >> 6) as TagClassValue;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    // high-tag-number form: base-128, minimal, and only for tag numbers >= 31
    tag = 0;
    for (let i = 0; ; i++) {
      if (p >= input.length) fail('DER: truncated tag');
      const b = input[p++]!;
      if (i === 0 && b === 0x80) fail('DER: non-minimal tag number');
      if (i >= 4) fail('DER: tag number too large');
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tag < 0x1f) fail('DER: non-minimal tag number');
  }
  if (p >= input.length) fail('DER: truncated length');
  const lb = input[p++]!;
  let length: number;
  if (lb < 0x80) {
    length = lb;
  } else if (lb === 0x80) {
    fail('DER: indefinite length is not allowed');
  } else {
    const n = lb & 0x7f;
    if (n > 4) fail('DER: length too large');
    if (p + n > input.length) fail('DER: truncated length');
    if (input[p] === 0) fail('DER: non-minimal length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + input[p++]!;
    if (length < 0x80) fail('DER: non-minimal length');
    if (length > MAX_LENGTH) fail('DER: length too large');
  }
  const headerLength = p - offset;
  if (length > input.length - p) fail(`DER: length ${length} exceeds the ${input.length - p} remaining bytes`);
  return {
    tagClass,
    constructed,
    tag,
    headerLength,
    content: input.subarray(p, p + length),
    raw: input.subarray(offset, p + length),
  };
}

/** Decodes exactly one TLV spanning all of `input` (trailing bytes are an error). */
export function parseDer(input: Uint8Array): DerNode {
  const node = readTlv(input, 0);
  if (node.raw.length !== input.length) fail(`DER: ${input.length - node.raw.length} trailing bytes`);
  return node;
}

/** The direct children of a constructed node, in order. */
export function derChildren(node: DerNode): DerNode[] {
  if (!node.constructed) fail('DER: expected a constructed element');
  const out: DerNode[] = [];
  const c = node.content;
  let off = 0;
  while (off < c.length) {
    const child = readTlv(c, off);
    out.push(child);
    off += child.raw.length;
  }
  return out;
}

export function isUniversal(node: DerNode, tag: number): boolean {
  return node.tagClass === TagClass.universal && node.tag === tag;
}

export function isContext(node: DerNode, tag: number): boolean {
  return node.tagClass === TagClass.context && node.tag === tag;
}

const UNIVERSAL_NAMES: Record<number, string> = {
  1: 'BOOLEAN', 2: 'INTEGER', 3: 'BIT STRING', 4: 'OCTET STRING', 5: 'NULL', 6: 'OBJECT IDENTIFIER',
  12: 'UTF8String', 16: 'SEQUENCE', 17: 'SET', 18: 'NumericString', 19: 'PrintableString', 20: 'T61String',
  22: 'IA5String', 23: 'UTCTime', 24: 'GeneralizedTime', 30: 'BMPString',
};

export function describeTag(node: Pick<DerNode, 'tagClass' | 'tag'>): string {
  if (node.tagClass === TagClass.universal) return UNIVERSAL_NAMES[node.tag] ?? `universal ${node.tag}`;
  return `${['universal', 'application', 'context', 'private'][node.tagClass]} [${node.tag}]`;
}

/** Throws unless `node` is the universal element `tag` with the form DER requires for it. */
export function expectUniversal(node: DerNode, tag: number, what?: string): DerNode {
  if (!isUniversal(node, tag)) {
    fail(`DER: expected ${UNIVERSAL_NAMES[tag] ?? tag}${what ? ` (${what})` : ''}, found ${describeTag(node)}`);
  }
  const shouldBeConstructed = tag === Tag.SEQUENCE || tag === Tag.SET;
  if (node.constructed !== shouldBeConstructed) {
    fail(`DER: ${UNIVERSAL_NAMES[tag] ?? tag} must be ${shouldBeConstructed ? 'constructed' : 'primitive'}`);
  }
  return node;
}

/**
 * A cursor over the children of a SEQUENCE (or any constructed node), for reading fixed structures with
 * OPTIONAL and DEFAULT members.
 */
export class DerSequence {
  private readonly content: Uint8Array;
  private offset = 0;
  private peeked: DerNode | undefined;

  constructor(node: DerNode, what?: string) {
    if (!node.constructed) fail(`DER: expected a constructed element${what ? ` (${what})` : ''}`);
    this.content = node.content;
  }

  static of(input: Uint8Array, what?: string): DerSequence {
    return new DerSequence(expectUniversal(parseDer(input), Tag.SEQUENCE, what), what);
  }

  get done(): boolean {
    return this.peeked === undefined && this.offset >= this.content.length;
  }

  peek(): DerNode | undefined {
    if (this.peeked === undefined && this.offset < this.content.length) {
      this.peeked = readTlv(this.content, this.offset);
      this.offset += this.peeked.raw.length;
    }
    return this.peeked;
  }

  /** The next child of any type. */
  next(what = 'element'): DerNode {
    const n = this.peek();
    if (n === undefined) fail(`DER: missing ${what}`);
    this.peeked = undefined;
    return n;
  }

  /** The next child, which must be the universal `tag`. */
  nextUniversal(tag: number, what?: string): DerNode {
    return expectUniversal(this.next(what), tag, what);
  }

  /** Consumes and returns the next child if it has this class and tag number. */
  optional(tagClass: TagClassValue, tag: number): DerNode | undefined {
    const n = this.peek();
    if (n !== undefined && n.tagClass === tagClass && n.tag === tag) {
      this.peeked = undefined;
      return n;
    }
    return undefined;
  }

  /** Throws if children remain. */
  end(what = 'structure'): void {
    if (!this.done) fail(`DER: unexpected extra element in ${what}`);
  }
}

// ------------------------------------------------------------------------------------------------------------
// Primitive readers

/** BOOLEAN: exactly one byte, 0x00 or 0xFF. */
export function readBoolean(node: DerNode): boolean {
  expectUniversal(node, Tag.BOOLEAN);
  if (node.content.length !== 1) fail('DER: BOOLEAN must be one byte');
  const b = node.content[0]!;
  if (b === 0x00) return false;
  if (b === 0xff) return true;
  fail('DER: BOOLEAN must be 0x00 or 0xFF');
}

/** NULL: empty content. */
export function readNull(node: DerNode): null {
  expectUniversal(node, Tag.NULL);
  if (node.content.length !== 0) fail('DER: NULL must be empty');
  return null;
}

function checkIntegerContent(c: Uint8Array): void {
  if (c.length === 0) fail('DER: empty INTEGER');
  if (c.length > 1) {
    if (c[0] === 0x00 && (c[1]! & 0x80) === 0) fail('DER: non-minimal INTEGER');
    if (c[0] === 0xff && (c[1]! & 0x80) !== 0) fail('DER: non-minimal INTEGER');
  }
}

/** The content of a (minimal) INTEGER, two's complement. */
export function readIntegerContent(node: DerNode): Uint8Array {
  expectUniversal(node, Tag.INTEGER);
  checkIntegerContent(node.content);
  return node.content;
}

/** INTEGER as a signed bigint. */
export function readBigInt(node: DerNode): bigint {
  const c = readIntegerContent(node);
  let v = BigInt('0x' + hexOf(c));
  if ((c[0]! & 0x80) !== 0) v -= 1n << BigInt(c.length * 8);
  return v;
}

/** A non-negative INTEGER as unsigned big-endian bytes with no leading zero (0 is one zero byte). */
export function readUnsignedInteger(node: DerNode, what = 'INTEGER'): Uint8Array {
  const c = readIntegerContent(node);
  if ((c[0]! & 0x80) !== 0) fail(`DER: ${what} must not be negative`);
  return c.length > 1 && c[0] === 0 ? c.subarray(1) : c;
}

/** A small INTEGER as a JS number (throws outside ±2^47). */
export function readSmallInt(node: DerNode, what = 'INTEGER'): number {
  const c = readIntegerContent(node);
  if (c.length > 6) fail(`DER: ${what} out of range`);
  let v = 0;
  for (const b of c) v = v * 256 + b;
  if ((c[0]! & 0x80) !== 0) v -= 2 ** (8 * c.length);
  return v;
}

/** OBJECT IDENTIFIER as a dotted string. */
export function readOid(node: DerNode): string {
  expectUniversal(node, Tag.OID);
  return decodeOidContent(node.content);
}

export function decodeOidContent(c: Uint8Array): string {
  if (c.length === 0) fail('DER: empty OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let i = 0;
  let first = true;
  while (i < c.length) {
    if (c[i] === 0x80) fail('DER: non-minimal OBJECT IDENTIFIER arc');
    let small = 0;
    let big: bigint | undefined;
    for (;;) {
      if (i >= c.length) fail('DER: truncated OBJECT IDENTIFIER');
      const b = c[i++]!;
      if (big === undefined && small < 2 ** 45) small = small * 128 + (b & 0x7f);
      else {
        big = (big ?? BigInt(small)) * 128n + BigInt(b & 0x7f);
      }
      if ((b & 0x80) === 0) break;
    }
    if (first) {
      first = false;
      if (big !== undefined) {
        arcs.push('2', (big - 80n).toString());
      } else if (small < 40) arcs.push('0', String(small));
      else if (small < 80) arcs.push('1', String(small - 40));
      else arcs.push('2', String(small - 80));
    } else {
      arcs.push(big !== undefined ? big.toString() : String(small));
    }
  }
  return arcs.join('.');
}

/** BIT STRING: the bytes and the count of unused bits in the last byte (which DER requires to be zero). */
export function readBitString(node: DerNode): { bytes: Uint8Array; unusedBits: number } {
  expectUniversal(node, Tag.BIT_STRING);
  const c = node.content;
  if (c.length === 0) fail('DER: empty BIT STRING');
  const unusedBits = c[0]!;
  if (unusedBits > 7) fail('DER: BIT STRING unused-bit count above 7');
  if (c.length === 1 && unusedBits !== 0) fail('DER: empty BIT STRING with unused bits');
  if (unusedBits !== 0 && (c[c.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    fail('DER: BIT STRING padding bits must be zero');
  }
  return { bytes: c.subarray(1), unusedBits };
}

/** BIT STRING that must be a whole number of bytes (keys, signatures). */
export function readBitStringBytes(node: DerNode, what = 'BIT STRING'): Uint8Array {
  const bs = readBitString(node);
  if (bs.unusedBits !== 0) fail(`DER: ${what} must be a whole number of bytes`);
  return bs.bytes;
}

export function readOctetString(node: DerNode): Uint8Array {
  expectUniversal(node, Tag.OCTET_STRING);
  return node.content;
}

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) fail('DER: bad digit in time');
    v = v * 10 + d;
  }
  return v;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function buildTime(year: number, mo: number, d: number, h: number, mi: number, s: number, zone: string): Date {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(year, mo) || h > 23 || mi > 59 || s > 59) {
    fail('DER: time field out of range');
  }
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    // Go accepts numeric offsets (it re-serialises them identically); "+0000" is not its form of UTC.
    if (zone.length !== 5 || (zone[0] !== '+' && zone[0] !== '-')) fail('DER: bad time zone');
    const oh = digits(zone, 1, 2);
    const om = digits(zone, 3, 2);
    if (oh > 23 || om > 59 || (oh === 0 && om === 0)) fail('DER: bad time zone');
    offsetMinutes = (zone[0] === '+' ? 1 : -1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return new Date(date.getTime() - offsetMinutes * 60000);
}

function asciiOf(c: Uint8Array): string {
  let s = '';
  for (const b of c) {
    if (b >= 0x80) fail('DER: non-ASCII byte in time');
    s += String.fromCharCode(b);
  }
  return s;
}

/** UTCTime (YYMMDDHHMM[SS] then Z or ±hhmm, as Go accepts); years 50–99 are 1950–1999. */
export function readUtcTime(node: DerNode): Date {
  expectUniversal(node, Tag.UTCTime);
  const s = asciiOf(node.content);
  let secs = 0;
  let zone: string;
  if (s.length === 13 || s.length === 17) {
    secs = digits(s, 10, 2);
    zone = s.slice(12);
  } else if (s.length === 11 || s.length === 15) {
    zone = s.slice(10);
  } else fail('DER: bad UTCTime length');
  const yy = digits(s, 0, 2);
  return buildTime(yy >= 50 ? 1900 + yy : 2000 + yy, digits(s, 2, 2), digits(s, 4, 2), digits(s, 6, 2), digits(s, 8, 2), secs, zone);
}

/** GeneralizedTime (YYYYMMDDHHMMSS then Z or ±hhmm; no fractions, as Go accepts). */
export function readGeneralizedTime(node: DerNode): Date {
  expectUniversal(node, Tag.GeneralizedTime);
  const s = asciiOf(node.content);
  if (s.length !== 15 && s.length !== 19) fail('DER: bad GeneralizedTime');
  return buildTime(digits(s, 0, 4), digits(s, 4, 2), digits(s, 6, 2), digits(s, 8, 2), digits(s, 10, 2), digits(s, 12, 2), s.slice(14));
}

/** Either time type. */
export function readTime(node: DerNode): Date {
  if (isUniversal(node, Tag.UTCTime)) return readUtcTime(node);
  if (isUniversal(node, Tag.GeneralizedTime)) return readGeneralizedTime(node);
  fail(`DER: expected a time, found ${describeTag(node)}`);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8Strict(c: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(c);
  } catch {
    fail(`DER: ${what} is not valid UTF-8`);
  }
}

function latin1(c: Uint8Array): string {
  let s = '';
  for (let i = 0; i < c.length; i += 4096) s += String.fromCharCode(...c.subarray(i, i + 4096));
  return s;
}

/** PrintableString characters, plus '*' and '&' which Go tolerates when parsing certificates. */
function isPrintableByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
    (b >= 0x27 && b <= 0x29) || (b >= 0x2b && b <= 0x2f) ||
    b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f || b === 0x2a || b === 0x26
  );
}

/** True if Go's asn1 marshaller would write `s` as a PrintableString (it refuses '*' and '&' there). */
export function isPrintableString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b === 0x2a || b === 0x26 || b > 0x7f || !isPrintableByte(b)) return false;
  }
  return true;
}

/** True if `node` is one of the string types `readString` accepts. */
export function isStringNode(node: DerNode): boolean {
  if (node.tagClass !== TagClass.universal) return false;
  switch (node.tag) {
    case Tag.UTF8String: case Tag.PrintableString: case Tag.IA5String: case Tag.T61String:
    case Tag.BMPString: case Tag.NumericString:
      return true;
    default:
      return false;
  }
}

/**
 * A character string, with Go's x509 rules: UTF8String must be valid UTF-8; PrintableString limited to its set
 * (plus '*' and '&'); IA5String ASCII; NumericString digits and space; BMPString UTF-16BE (a trailing NUL
 * dropped). T61String: Go keeps the raw bytes, so valid UTF-8 is read as UTF-8, anything else as Latin-1.
 */
export function readString(node: DerNode): string {
  if (node.constructed || node.tagClass !== TagClass.universal) fail(`DER: expected a string, found ${describeTag(node)}`);
  const c = node.content;
  switch (node.tag) {
    case Tag.UTF8String:
      return decodeUtf8Strict(c, 'UTF8String');
    case Tag.PrintableString:
      for (const b of c) if (!isPrintableByte(b)) fail('DER: invalid PrintableString');
      return latin1(c);
    case Tag.IA5String:
      for (const b of c) if (b >= 0x80) fail('DER: invalid IA5String');
      return latin1(c);
    case Tag.NumericString:
      for (const b of c) if (b !== 0x20 && (b < 0x30 || b > 0x39)) fail('DER: invalid NumericString');
      return latin1(c);
    case Tag.T61String:
      try {
        return strictUtf8.decode(c);
      } catch {
        return latin1(c);
      }
    case Tag.BMPString: {
      if (c.length % 2 !== 0) fail('DER: invalid BMPString');
      let end = c.length;
      if (end >= 2 && c[end - 1] === 0 && c[end - 2] === 0) end -= 2;
      let s = '';
      for (let i = 0; i < end; i += 2) s += String.fromCharCode((c[i]! << 8) | c[i + 1]!);
      return s;
    }
    default:
      fail(`DER: unsupported string type ${describeTag(node)}`);
  }
}

function hexOf(c: Uint8Array): string {
  let s = '';
  for (const b of c) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

// ------------------------------------------------------------------------------------------------------------
// Writer

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function encodeTag(tagClass: TagClassValue, constructed: boolean, tag: number): Uint8Array {
  const lead = (tagClass << 6) | (constructed ? 0x20 : 0);
  if (tag < 0x1f) return Uint8Array.of(lead | tag);
  const bytes: number[] = [tag & 0x7f];
  for (let v = Math.floor(tag / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift(0x80 | (v & 0x7f));
  return Uint8Array.of(lead | 0x1f, ...bytes);
}

/** A complete TLV from its parts. */
export function derTlv(tagClass: TagClassValue, constructed: boolean, tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(encodeTag(tagClass, constructed, tag), encodeLength(content.length), content);
}

function universal(tag: number, content: Uint8Array, constructed = false): Uint8Array {
  return derTlv(TagClass.universal, constructed, tag, content);
}

export function derSequence(...children: Uint8Array[]): Uint8Array {
  return universal(Tag.SEQUENCE, concatBytes(...children), true);
}

/** SET OF: DER orders the elements by their encodings. */
export function derSet(...children: Uint8Array[]): Uint8Array {
  const sorted = [...children].sort(compareBytes);
  return universal(Tag.SET, concatBytes(...sorted), true);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * INTEGER. A bigint/number is encoded as minimal two's complement; a Uint8Array is taken as an unsigned
 * big-endian magnitude (leading zeros stripped, a 0x00 added when the top bit is set).
 */
export function derInteger(value: bigint | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return universal(Tag.INTEGER, minimalUnsigned(value));
  let v = typeof value === 'number' ? BigInt(value) : value;
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new TypeError('derInteger: not a safe integer');
  const bytes: number[] = [];
  if (v >= 0n) {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if (bytes[0]! & 0x80) bytes.unshift(0);
  } else {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v < -1n);
    if (!(bytes[0]! & 0x80)) bytes.unshift(0xff);
  }
  return universal(Tag.INTEGER, Uint8Array.from(bytes));
}

/** Unsigned big-endian magnitude → minimal positive two's-complement content. */
export function minimalUnsigned(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  if (trimmed.length === 0) return Uint8Array.of(0);
  if (trimmed[0]! & 0x80) return concatBytes(Uint8Array.of(0), trimmed);
  return trimmed;
}

/** OBJECT IDENTIFIER from a dotted string. */
export function derOid(dotted: string): Uint8Array {
  return universal(Tag.OID, encodeOidContent(dotted));
}

export function encodeOidContent(dotted: string): Uint8Array {
  if (!/^[0-9]+(\.[0-9]+)+$/.test(dotted)) throw new TypeError(`invalid OID ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const a0 = arcs[0]!;
  const a1 = arcs[1]!;
  if (a0 > 2n || (a0 < 2n && a1 >= 40n)) throw new TypeError(`invalid OID ${dotted}`);
  const values = [a0 * 40n + a1, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const group: number[] = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) group.unshift(0x80 | Number(x & 0x7fn));
    out.push(...group);
  }
  return Uint8Array.from(out);
}

export function derNull(): Uint8Array {
  return Uint8Array.of(0x05, 0x00);
}

export function derBoolean(value: boolean): Uint8Array {
  return Uint8Array.of(0x01, 0x01, value ? 0xff : 0x00);
}

/** BIT STRING with `unusedBits` padding bits (which must already be zero) in the last byte. */
export function derBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new TypeError('derBitString: bad unused-bit count');
  }
  return universal(Tag.BIT_STRING, concatBytes(Uint8Array.of(unusedBits), bytes));
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return universal(Tag.OCTET_STRING, bytes);
}

export function derUtf8String(s: string): Uint8Array {
  return universal(Tag.UTF8String, utf8Encode(s));
}

/** PrintableString; like Go's marshaller it lets '*' through (wildcards) but not '&'. */
export function derPrintableString(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b === 0x26 || !isPrintableByte(b)) throw new TypeError('not a PrintableString');
  }
  return universal(Tag.PrintableString, utf8Encode(s));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function timeBody(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new TypeError('invalid Date');
  return (
    pad(date.getUTCMonth() + 1, 2) + pad(date.getUTCDate(), 2) + pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) + pad(date.getUTCSeconds(), 2) + 'Z'
  );
}

/** UTCTime YYMMDDHHMMSSZ (UTC, fractions dropped); only for years 1950–2049. */
export function derUtcTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  if (!(y >= 1950 && y <= 2049)) throw new TypeError('UTCTime covers only 1950-2049');
  return universal(Tag.UTCTime, utf8Encode(pad(y % 100, 2) + timeBody(date)));
}

/** GeneralizedTime YYYYMMDDHHMMSSZ (UTC, no fractions). */
export function derGeneralizedTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  if (!(y >= 0 && y <= 9999)) throw new TypeError('GeneralizedTime covers only years 0-9999');
  return universal(Tag.GeneralizedTime, utf8Encode(pad(y, 4) + timeBody(date)));
}

/** The time type Go's x509 writes: UTCTime for 1950–2049, GeneralizedTime otherwise. */
export function derTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? derUtcTime(date) : derGeneralizedTime(date);
}

/** [tag] EXPLICIT: a constructed context-specific wrapper around one complete element. */
export function derExplicit(tag: number, inner: Uint8Array): Uint8Array {
  return derTlv(TagClass.context, true, tag, inner);
}

/**
 * [tag] IMPLICIT: replaces the tag of a complete element `inner`, keeping its constructed bit and content.
 */
export function derImplicit(tag: number, inner: Uint8Array): Uint8Array {
  const node = parseDer(inner);
  return derTlv(TagClass.context, node.constructed, tag, node.content);
}
