/**
 * A fast path for the signed bytes of a Go-written file. Go writes `{"signed":<canonical JSON with five
 * HTML escapes>,"signatures":[...]}`. If the `signed` value in the file is *provably* canonical — compact,
 * object keys strictly increasing in UTF-8 byte order, strings escaping only `"` and `\` (plus Go's
 * `\u003c \u003e \u0026 \u2028 \u2029`, which we undo), integers of at most 15 digits, valid UTF-8 — then
 * those bytes with the escapes undone are exactly `canonicalize(JSON.parse(value))`, the bytes Notary
 * verifies. Proving that is one linear pass over bytes, several times faster than re-encoding a 100,000
 * entry object. Anything the scanner cannot prove returns undefined and the caller re-encodes.
 */

const Q = 0x22; // "
const BS = 0x5c; // \
const MAX_DEPTH = 512;

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Replacement bytes for the escapes Go's HTML-safe encoder writes, keyed by the 4 hex digits. */
const HTML_ESCAPES: Record<string, Uint8Array> = {
  '003c': Uint8Array.of(0x3c),
  '003e': Uint8Array.of(0x3e),
  '0026': Uint8Array.of(0x26),
  '2028': Uint8Array.of(0xe2, 0x80, 0xa8),
  '2029': Uint8Array.of(0xe2, 0x80, 0xa9),
};

class Scanner {
  pos: number;
  /** Output segments: ranges of the input, or replacement bytes. */
  readonly segments: (Uint8Array | [number, number])[] = [];
  private copyFrom: number;
  replaced = false;
  /** Whether the last string scanned contained an escape (so its raw bytes are not its canonical bytes). */
  lastHadEscape = false;

  constructor(
    readonly b: Uint8Array,
    readonly start: number,
  ) {
    this.pos = start;
    this.copyFrom = start;
  }

  private replace(at: number, skip: number, bytes: Uint8Array): void {
    if (at > this.copyFrom) this.segments.push([this.copyFrom, at]);
    this.segments.push(bytes);
    this.copyFrom = at + skip;
    this.replaced = true;
  }

  finish(end: number): Uint8Array {
    if (!this.replaced) return this.b.subarray(this.start, end);
    if (end > this.copyFrom) this.segments.push([this.copyFrom, end]);
    let length = 0;
    for (const s of this.segments) length += s instanceof Uint8Array ? s.length : s[1] - s[0];
    const out = new Uint8Array(length);
    let o = 0;
    for (const s of this.segments) {
      const part = s instanceof Uint8Array ? s : this.b.subarray(s[0], s[1]);
      out.set(part, o);
      o += part.length;
    }
    return out;
  }

  /** Scans a string at pos (on the opening quote). Returns false if not canonical. */
  string(): boolean {
    const b = this.b;
    let i = this.pos + 1;
    this.lastHadEscape = false;
    for (;;) {
      const c = b[i];
      if (c === undefined || c < 0x20) return false;
      if (c === Q) break;
      if (c === BS) {
        this.lastHadEscape = true;
        const n = b[i + 1];
        if (n === Q || n === BS) {
          i += 2;
          continue;
        }
        if (n !== 0x75 /* u */) return false;
        const hex = String.fromCharCode(b[i + 2] ?? 0, b[i + 3] ?? 0, b[i + 4] ?? 0, b[i + 5] ?? 0);
        const rep = HTML_ESCAPES[hex];
        if (!rep) return false;
        this.replace(i, 6, rep);
        i += 6;
        continue;
      }
      i++;
    }
    this.pos = i + 1;
    return true;
  }

  /** The canonical bytes of a key string [start, end) (quotes excluded), undoing escapes only if needed. */
  keyBytes(start: number, end: number): Uint8Array {
    const raw = this.b.subarray(start, end);
    if (raw.indexOf(BS) < 0) return raw;
    const out: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (c !== BS) {
        out.push(c);
        continue;
      }
      const n = raw[i + 1]!;
      if (n === Q || n === BS) {
        out.push(n);
        i++;
      } else {
        const hex = String.fromCharCode(raw[i + 2]!, raw[i + 3]!, raw[i + 4]!, raw[i + 5]!);
        for (const x of HTML_ESCAPES[hex]!) out.push(x);
        i += 5;
      }
    }
    return Uint8Array.from(out);
  }

  number(): boolean {
    const b = this.b;
    let i = this.pos;
    if (b[i] === 0x2d /* - */) i++;
    const first = i;
    if (b[i] === 0x30 /* 0 */) {
      i++;
      if (first !== this.pos) return false; // -0 canonicalises to 0
    } else {
      while (b[i] !== undefined && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      if (i === first) return false;
    }
    // Beyond 15 digits a double may not round-trip; let the slow path decide.
    if (i - first > 15) return false;
    const next = b[i];
    if (next === 0x2e || next === 0x65 || next === 0x45) return false;
    this.pos = i;
    return true;
  }

  literal(text: string): boolean {
    for (let k = 0; k < text.length; k++) if (this.b[this.pos + k] !== text.charCodeAt(k)) return false;
    this.pos += text.length;
    return true;
  }

  value(depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    const c = this.b[this.pos];
    switch (c) {
      case 0x7b: // {
        return this.object(depth);
      case 0x5b: // [
        return this.array(depth);
      case Q:
        return this.string();
      case 0x74:
        return this.literal('true');
      case 0x66:
        return this.literal('false');
      case 0x6e:
        return this.literal('null');
      default:
        return c !== undefined && (c === 0x2d || (c >= 0x30 && c <= 0x39)) && this.number();
    }
  }

  array(depth: number): boolean {
    const b = this.b;
    this.pos++;
    if (b[this.pos] === 0x5d) {
      this.pos++;
      return true;
    }
    for (;;) {
      if (!this.value(depth + 1)) return false;
      const c = b[this.pos];
      this.pos++;
      if (c === 0x5d) return true;
      if (c !== 0x2c) return false;
    }
  }

  object(depth: number): boolean {
    const b = this.b;
    this.pos++;
    if (b[this.pos] === 0x7d) {
      this.pos++;
      return true;
    }
    let prevStart = -1;
    let prevEnd = -1;
    let prevKey: Uint8Array | undefined;
    for (;;) {
      if (b[this.pos] !== Q) return false;
      const keyStart = this.pos + 1;
      if (!this.string()) return false;
      const keyEnd = this.pos - 1;
      // Keys must be strictly increasing by canonical bytes (this also excludes duplicates).
      const hasEscape = this.lastHadEscape;
      if (prevStart >= 0 || prevKey) {
        const cmp =
          !hasEscape && !prevKey
            ? compareRanges(b, prevStart, prevEnd, keyStart, keyEnd)
            : compareBytes(prevKey ?? b.subarray(prevStart, prevEnd), this.keyBytes(keyStart, keyEnd));
        if (cmp >= 0) return false;
      }
      if (hasEscape) {
        prevKey = this.keyBytes(keyStart, keyEnd);
        prevStart = -1;
      } else {
        prevKey = undefined;
        prevStart = keyStart;
        prevEnd = keyEnd;
      }
      if (b[this.pos] !== 0x3a) return false;
      this.pos++;
      if (!this.value(depth + 1)) return false;
      const c = b[this.pos];
      this.pos++;
      if (c === 0x7d) return true;
      if (c !== 0x2c) return false;
    }
  }
}

function compareRanges(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = b[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i]! - y[i]!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const PREFIX = '{"signed":';
const MIDDLE = ',"signatures":';

/**
 * The canonical signed bytes of a file in Go's exact envelope layout, or undefined when that cannot be
 * proved (the caller then re-encodes the parsed value). The envelope must be exactly
 * `{"signed":V,"signatures":A}` so that V is the value JSON.parse gives for "signed" (no duplicate keys).
 */
export function canonicalSignedFromFile(file: Uint8Array, mayHaveInvalidUtf8 = true): Uint8Array | undefined {
  for (let k = 0; k < PREFIX.length; k++) if (file[k] !== PREFIX.charCodeAt(k)) return undefined;
  if (mayHaveInvalidUtf8) {
    try {
      utf8Strict.decode(file);
    } catch {
      return undefined; // Go would replace invalid UTF-8 with U+FFFD; the slow path does the same.
    }
  }
  const signed = new Scanner(file, PREFIX.length);
  if (signed.b[signed.pos] !== 0x7b || !signed.value(0)) return undefined;
  const end = signed.pos;
  for (let k = 0; k < MIDDLE.length; k++) if (file[end + k] !== MIDDLE.charCodeAt(k)) return undefined;
  // The rest must be exactly one JSON value (the signatures, small) and the closing brace: then "signed"
  // occurs once and V is what JSON.parse gave for it.
  if (file[file.length - 1] !== 0x7d) return undefined;
  try {
    JSON.parse(utf8Strict.decode(file.subarray(end + MIDDLE.length, file.length - 1)));
  } catch {
    return undefined;
  }
  return signed.finish(end);
}

/**
 * True when `text` (UTF-8 bytes) is exactly canonical JSON as Notary writes it: compact, keys strictly
 * increasing by UTF-8 bytes, only `\"` and `\\` escaped, integers of at most 15 digits. Then it equals
 * `canonicalize(JSON.parse(text))` byte for byte.
 */
export function isCanonicalJsonBytes(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  const scanner = new Scanner(bytes, 0);
  return scanner.value(0) && scanner.pos === bytes.length && !scanner.replaced;
}
