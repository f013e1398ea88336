/**
 * Notary's canonical JSON (the bytes that are signed) and Go's file form (the bytes that are stored).
 *
 * Canonical form (docker/go canonical/json, OLPC-style): object members sorted by the UTF-8 bytes of their
 * keys, no whitespace, strings escape only `"` and `\` (everything else — control characters, `<>&`,
 * U+2028, non-ASCII — is raw), numbers are integers only. This is NOT RFC 8785: JCS sorts by UTF-16 code
 * units and escapes control characters, which changes the signed bytes of real Notary targets.
 *
 * Verification re-encodes the *parsed* `signed` value (numbers as doubles, exactly like Go's generic map
 * decode) and checks the signature over that, never over the file substring.
 */
import { utf8Encode, utf8EncodeFramed } from './bytes.js';
import { isCanonicalJsonBytes } from './canonical-scan.js';
import { FormatError } from './errors.js';

/**
 * Orders two strings by their UTF-8 bytes. UTF-16 code-unit order equals UTF-8 byte order except that
 * surrogates (U+D800–U+DFFF, i.e. characters above U+FFFF) must sort after U+E000–U+FFFF. Shifting the two
 * ranges at the first differing unit fixes that without encoding anything.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Keys in canonical (UTF-8 byte) order. One pass learns whether they are already in order (maps parsed
 * from canonical files are, apart from a key just added) and whether any key holds a code unit >= U+D800,
 * the only case where UTF-16 order (the native sort's) differs from UTF-8 order.
 */
export function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  let sorted = true;
  let surrogates = false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (sorted && i > 0 && !(keys[i - 1]! < k)) sorted = false;
    for (let j = 0; j < k.length; j++) {
      if (k.charCodeAt(j) >= 0xd800) {
        surrogates = true;
        break;
      }
    }
    if (surrogates) break;
  }
  if (surrogates) return keys.sort(compareUtf8);
  if (sorted) return keys;
  // Default sort compares UTF-16 code units and is several times faster than a comparator callback.
  return keys.sort();
}

const QUOTE_OR_BACKSLASH = /["\\]/;

function canonicalString(s: string): string {
  if (!QUOTE_OR_BACKSLASH.test(s)) return '"' + s + '"';
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

function canonicalNumber(n: number, path: string): string {
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    throw new FormatError('UNSUPPORTED_VALUE', `json: unsupported value: ${n} (canonical JSON allows integers only)`, {
      where: path || '/',
    });
  }
  if (Number.isSafeInteger(n)) return String(n === 0 ? 0 : n); // -0 prints as 0, as Go's int64 conversion does
  // Go prints integral floats through an int64 conversion; above 2^63 Go's result is undefined, so refuse.
  if (Math.abs(n) >= 2 ** 63) {
    throw new FormatError('UNSUPPORTED_VALUE', `json: unsupported value: ${n} (outside int64)`, { where: path || '/' });
  }
  return BigInt(n).toString();
}

/** The deepest JSON we encode; deeper input is refused (typed) long before the call stack runs out. */
export const MAX_JSON_DEPTH = 512;

/**
 * Whether JSON.stringify encodes `value` exactly as canonicalize would: plain objects, arrays, strings,
 * booleans, null and finite numbers only, at most MAX_JSON_DEPTH deep (JSON.stringify would turn NaN into
 * null, call toJSON, or overflow the stack on deep input).
 */
function isPlainJson(value: unknown, depth = 0): boolean {
  // Recursion is bounded by MAX_JSON_DEPTH, so hostile depth cannot exhaust the stack here.
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined && !isPlainJson(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Whether a JSON value nests deeper than MAX_JSON_DEPTH (iterative, so any depth can be asked about). */
export function exceedsJsonDepth(root: unknown): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return true;
    for (const v of Array.isArray(value) ? value : Object.values(value)) stack.push([v, depth + 1]);
  }
  return false;
}

function encodeInto(value: unknown, out: string[], path: string, depth: number): void {
  if (depth > MAX_JSON_DEPTH) throw new FormatError('NESTING_TOO_DEEP', `JSON nested more than ${MAX_JSON_DEPTH} levels deep`, { where: path || '/' });
  switch (typeof value) {
    case 'string':
      out.push(canonicalString(value));
      return;
    case 'number':
      out.push(canonicalNumber(value, path));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          encodeInto(value[i], out, path, depth + 1);
        }
        out.push(']');
        return;
      }
      out.push('{');
      let first = true;
      const obj = value as Record<string, unknown>;
      for (const key of sortedKeys(obj)) {
        const v = obj[key];
        if (v === undefined) continue; // absent, like Go's omitempty on the structs we build
        if (!first) out.push(',');
        first = false;
        out.push(canonicalString(key), ':');
        encodeInto(v, out, path, depth + 1);
      }
      out.push('}');
      return;
    }
    default:
      throw new FormatError('UNSUPPORTED_VALUE', `json: unsupported type: ${typeof value}`, { where: path || '/' });
  }
}

/** The canonical JSON text of a JSON value (encode with utf8Encode to get the signed bytes). */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  encodeInto(value, out, '', 0);
  return out.join('');
}

/**
 * Canonical JSON text and its UTF-8 bytes, fast for large objects whose keys were inserted in canonical
 * order (as goNormalSigned builds them): V8's native JSON.stringify produces the candidate, and a linear
 * scan proves it canonical (sorted keys, no escapes but `\"` `\\`, small integers). Anything the proof
 * rejects — unsorted or integer-like keys, control characters, lone surrogates, floats, large integers — is
 * encoded by `canonicalize`, so the result never depends on the shortcut.
 */
export interface CanonicalBytes {
  /** The canonical text; absent when the bytes were built without it (then `htmlSafe` is true). */
  readonly text?: string;
  readonly bytes: Uint8Array;
  /** Known to hold nothing Go HTML-escapes (`<>&`, U+2028, U+2029). */
  readonly htmlSafe?: boolean;
  /** Proven by the byte scan (which also refuses raw control characters). */
  readonly proven: boolean;
  /** With `margins`: the buffer `bytes` sits in, with that much free room around it. */
  readonly frame?: { readonly buffer: Uint8Array; readonly before: number; readonly after: number };
}

export function canonicalizeToBytes(value: unknown, margins?: { before: number; after: number }): CanonicalBytes {
  const encode = (text: string): { bytes: Uint8Array; frame?: Uint8Array } => (margins ? utf8EncodeFramed(text, margins.before, margins.after) : { bytes: utf8Encode(text) });
  const result = (text: string, e: { bytes: Uint8Array; frame?: Uint8Array }, proven: boolean): CanonicalBytes => ({
    text,
    bytes: e.bytes,
    proven,
    ...(e.frame && margins ? { frame: { buffer: e.frame, ...margins } } : {}),
  });
  const candidate = isPlainJson(value) ? JSON.stringify(value) : undefined;
  if (candidate !== undefined) {
    const e = encode(candidate);
    if (isCanonicalJsonBytes(e.bytes)) return result(candidate, e, true);
  }
  const text = canonicalize(value);
  return result(text, encode(text), false);
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * Go's encoding/json compacts embedded raw JSON with HTML escaping. Applied to canonical text this only
 * touches string contents (these characters cannot appear outside strings in JSON).
 */
const HTML_UNSAFE_ANY = /[<>&\u2028\u2029]/;

/** Whether goHtmlEscape would change the text. */
export function needsGoHtmlEscape(text: string): boolean {
  return HTML_UNSAFE_ANY.test(text);
}

export function goHtmlEscape(text: string): string {
  return text.replace(HTML_UNSAFE, (c) => HTML_ESCAPES[c]!);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;

/** True if the canonical text has a raw control character, which Go's envelope encoder refuses. */
export function hasRawControlCharacter(canonicalText: string): boolean {
  return CONTROL.test(canonicalText);
}

/**
 * A string as Go's standard encoder writes it (not canonical): escapes `"`, `\`, control characters
 * (`\n`, `\r`, `\t`, else `\u00XX`), `<>&` and U+2028/U+2029. Used for envelopes and changelists.
 */
export function goJsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c < 0x20) {
      esc = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : '\\u00' + c.toString(16).padStart(2, '0');
    } else if (c === 0x3c) esc = '\\u003c';
    else if (c === 0x3e) esc = '\\u003e';
    else if (c === 0x26) esc = '\\u0026';
    else if (c === 0x2028) esc = '\\u2028';
    else if (c === 0x2029) esc = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 territory; Go writes U+FFFD for invalid input.
      const pair =
        c < 0xdc00 && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/**
 * Parses JSON text, turning the SyntaxError into a typed error naming the input. Numbers become doubles,
 * duplicate keys keep the last value, and invalid UTF-8 (already replaced by the byte decoder) is U+FFFD:
 * the same generic values Go's decoder produces for verification.
 */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError('MALFORMED_JSON', `${where}: invalid JSON: ${(err as Error).message}`, { where, cause: err });
  }
}

/**
 * Removes insignificant whitespace from JSON text without reinterpreting anything else (escapes, number
 * spellings and key order are kept), like Go's json.Compact.
 */
export function compactJson(text: string): string {
  let out = '';
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}
