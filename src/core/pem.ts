/**
 * PEM (RFC 7468 textual encoding with RFC 1421 style headers), read leniently about surrounding text and line
 * endings and strictly about the base64, and written exactly as Go's `encoding/pem` writes it.
 *
 * Runs in any JS runtime: no Node modules.
 */
import { fromBase64, toBase64 } from './bytes.js';
import { FormatError } from './errors.js';

export interface PemBlock {
  /** The word(s) between `BEGIN ` and `-----`, e.g. `CERTIFICATE`, `ENCRYPTED PRIVATE KEY`. */
  type: string;
  /** `Key: value` header lines in file order (keys and values trimmed as Go trims them). */
  headers: Array<[string, string]>;
  bytes: Uint8Array;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** Go's getLine: a line without its terminator, trailing spaces, tabs and CRs removed. */
function trimLineEnd(line: string): string {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c === 0x20 || c === 0x09 || c === 0x0d) end--;
    else break;
  }
  return line.slice(0, end);
}

/**
 * Every PEM block in `text`, in order. Text outside blocks is ignored (as Go does). A `-----BEGIN` must start a
 * line. Header lines (`Key: value`) may follow the BEGIN line; then base64 (spaces and tabs ignored) up to the
 * matching `-----END <type>-----` line. A block without its END line, with a mismatched END line, or with
 * invalid base64 raises a FormatError (MALFORMED_KEY) naming the block, where Go would silently skip it.
 */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = trimLineEnd(lines[i]!);
    i++;
    if (!line.startsWith(BEGIN) || !line.endsWith(DASHES) || line.length < BEGIN.length + DASHES.length) continue;
    const type = line.slice(BEGIN.length, line.length - DASHES.length);
    const startLine = i;
    const headers: Array<[string, string]> = [];
    while (i < lines.length) {
      const h = lines[i]!;
      const colon = h.indexOf(':');
      if (colon < 0) break;
      headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
      i++;
    }
    let body = '';
    let ended = false;
    while (i < lines.length) {
      const l = trimLineEnd(lines[i]!);
      i++;
      if (l.startsWith(END)) {
        if (l !== `${END}${type}${DASHES}`) {
          throw new FormatError('MALFORMED_KEY', `PEM block "${type}" (line ${startLine}) ends with a mismatched line ${JSON.stringify(l.slice(0, 80))}`);
        }
        ended = true;
        break;
      }
      body += l.replace(/[ \t]/g, '');
    }
    if (!ended) throw new FormatError('MALFORMED_KEY', `PEM block "${type}" (line ${startLine}) has no END line`);
    const bytes = fromBase64(body);
    if (bytes === undefined) throw new FormatError('MALFORMED_KEY', `PEM block "${type}" (line ${startLine}) holds invalid base64`);
    blocks.push({ type, headers, bytes });
  }
  return blocks;
}

/** The value of a header as Go's map would hold it (the last occurrence wins). */
export function pemHeader(block: PemBlock, key: string): string | undefined {
  let value: string | undefined;
  for (const [k, v] of block.headers) if (k === key) value = v;
  return value;
}

/**
 * One PEM block exactly as Go's `pem.Encode` writes it: `Proc-Type` first, the other headers sorted by key (byte
 * order), a blank line after any headers, base64 in 64-character lines, LF line endings, a final newline.
 */
export function encodePem(type: string, bytes: Uint8Array, headers: Iterable<[string, string]> | Record<string, string> = []): string {
  if (type.includes('\n') || type.includes('\r')) throw new FormatError('INVALID_ARGUMENT', 'PEM type must be one line');
  const entries: Array<[string, string]> = Symbol.iterator in headers
    ? [...(headers as Iterable<[string, string]>)]
    : Object.entries(headers);
  const map = new Map<string, string>();
  for (const [k, v] of entries) {
    if (k.includes(':')) throw new FormatError('INVALID_ARGUMENT', `PEM header key ${JSON.stringify(k)} contains a colon`);
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new FormatError('INVALID_ARGUMENT', 'PEM header must be one line');
    if (map.has(k)) throw new FormatError('INVALID_ARGUMENT', `duplicate PEM header ${JSON.stringify(k)}`);
    map.set(k, v);
  }
  let out = `${BEGIN}${type}${DASHES}\n`;
  if (map.size > 0) {
    const proc = map.get('Proc-Type');
    if (proc !== undefined) out += `Proc-Type: ${proc}\n`;
    const keys = [...map.keys()].filter((k) => k !== 'Proc-Type').sort(compareUtf8);
    for (const k of keys) out += `${k}: ${map.get(k)}\n`;
    out += '\n';
  }
  const b64 = toBase64(bytes);
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  out += `${END}${type}${DASHES}\n`;
  return out;
}

/** Go's sort.Strings order: bytewise over UTF-8 (differs from UTF-16 order only above U+FFFF). */
function compareUtf8(a: string, b: string): number {
  const ca = [...a].map((c) => c.codePointAt(0)!);
  const cb = [...b].map((c) => c.codePointAt(0)!);
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
  return ca.length - cb.length;
}

/**
 * The first PEM block of `text`, or undefined when there is none or it is malformed: Go's `pem.Decode`
 * answers nil in both cases, and callers give their own Notary-worded error.
 */
export function firstPemBlockIfAny(text: string): PemBlock | undefined {
  try {
    return decodePem(text)[0];
  } catch {
    return undefined;
  }
}
