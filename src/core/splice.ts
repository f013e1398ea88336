/**
 * Re-signing a large targets role after a few target changes without re-encoding all of it. A publish
 * that adds one target to a 50,000-target role would otherwise rebuild the map in canonical order,
 * stringify, encode and prove 10 MB (≈ 250 ms); here the previous canonical bytes of the map are kept
 * and only the changed entries are written, between the untouched byte ranges.
 *
 * The result must be exactly canonicalize(goNormalSigned(next)), or nothing: every condition below that
 * is not met returns undefined and the caller takes the full path. The caller guarantees that only the
 * entries named in `changed` can differ between `previous` and `next.targets` (target changes touch
 * nothing else), and the result is proven canonical by the byte scan before it is returned.
 */
import { utf8Encode } from './bytes.js';
import { canonicalize, type CanonicalBytes } from './canonical.js';
import { isCanonicalJsonBytes } from './canonical-scan.js';
import { goNormalSigned, isNormalFileMeta, normalFileMeta, type TargetsSigned } from './metadata.js';
import { stringEnd, valueEnd } from './peek.js';

const Q = 0x22;
const BS = 0x5c;

/** Byte ranges of one JSON object's members in canonical bytes (no whitespace), or undefined. */
interface Member {
  readonly keyStart: number; // after the opening quote
  readonly keyEnd: number; // at the closing quote
  readonly valueEnd: number; // after the value
}

/** The members of the object at `start` (on `{`); undefined if the bytes are not what we expect. */
function members(b: Uint8Array, start: number, onMember: (m: Member) => boolean): number | undefined {
  if (b[start] !== 0x7b) return undefined;
  let i = start + 1;
  if (b[i] === 0x7d) return i + 1;
  for (;;) {
    if (b[i] !== Q) return undefined;
    const keyEnd = stringEnd(b, i) - 1;
    if (keyEnd < 0 || b[keyEnd + 1] !== 0x3a) return undefined;
    const end = valueEnd(b, keyEnd + 2);
    if (end < 0) return undefined;
    if (!onMember({ keyStart: i + 1, keyEnd, valueEnd: end })) return undefined;
    i = end;
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return undefined;
    i++;
  }
}

function compareRange(b: Uint8Array, start: number, end: number, key: Uint8Array): number {
  const n = Math.min(end - start, key.length);
  for (let k = 0; k < n; k++) {
    const d = b[start + k]! - key[k]!;
    if (d !== 0) return d;
  }
  return end - start - key.length;
}

function hasHtmlUnsafe(b: Uint8Array): boolean {
  if (b.indexOf(0x3c) >= 0 || b.indexOf(0x3e) >= 0 || b.indexOf(0x26) >= 0) return true;
  // U+2028 / U+2029 are E2 80 A8 / E2 80 A9.
  for (let i = b.indexOf(0xe2); i >= 0; i = b.indexOf(0xe2, i + 1)) {
    if (b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) return true;
  }
  return false;
}

/**
 * canonicalize(goNormalSigned('Targets', next)) as bytes framed with `margins` (see canonicalizeToBytes),
 * built from `previous` — the canonical bytes of the same role before `changed` targets were created,
 * replaced or deleted in it — or undefined when that cannot be done safely.
 */
export function spliceTargetsCanonical(
  previous: Uint8Array,
  next: TargetsSigned,
  role: string,
  changed: ReadonlySet<string>,
  margins: { before: number; after: number },
): CanonicalBytes | undefined {
  const files = next.targets;
  if (files === null || files === undefined) return undefined;
  // Unchanged entries are copied as they were: only right if each already is what Go would write.
  for (const name in files) if (!changed.has(name) && !isNormalFileMeta(files[name]!)) return undefined;

  // Everything but the map, in Go's form: `…,"targets":{},"version":N}`.
  const shell = utf8Encode(canonicalize(goNormalSigned('Targets', { ...next, targets: {} }, role)));
  const marker = utf8Encode('"targets":{},"version":');
  const at = lastIndexOfBytes(shell, marker);
  if (at < 0) return undefined;
  const mapAt = at + '"targets":'.length; // the `{}` to replace

  // The map in the previous bytes.
  let oldMap: [number, number] | undefined;
  const top = members(previous, 0, (m) => {
    if (m.keyEnd - m.keyStart === 7 && compareRange(previous, m.keyStart, m.keyEnd, TARGETS_KEY) === 0) oldMap = [m.keyEnd + 2, m.valueEnd];
    return true;
  });
  if (top !== previous.length || oldMap === undefined || previous[oldMap[0]] !== 0x7b) return undefined;

  // Changed names in canonical (UTF-8 byte) order; a quote or backslash would need escaping: full path.
  const pending: { name: string; key: Uint8Array }[] = [];
  for (const name of changed) {
    const key = utf8Encode(name);
    if (key.includes(Q) || key.includes(BS)) return undefined;
    pending.push({ name, key });
  }
  pending.sort((x, y) => compareRange(x.key, 0, x.key.length, y.key));

  // Pieces of the new map's inside: ranges of `previous` (runs of untouched members) or new entries.
  const pieces: (Uint8Array | [number, number])[] = [];
  const entry = (name: string): void => {
    // Own properties only: a deleted target named `__proto__` must not read Object.prototype.
    const meta = Object.prototype.hasOwnProperty.call(files, name) ? files[name] : undefined;
    if (meta === undefined) return; // deleted (or never there)
    pieces.push(utf8Encode(`"${name}":${canonicalize(normalFileMeta(meta))}`));
  };
  let p = 0;
  let runStart = -1;
  let runEnd = -1;
  const flushRun = (): void => {
    if (runStart >= 0) pieces.push([runStart, runEnd]);
    runStart = -1;
  };
  const inner = members(previous, oldMap[0], (m) => {
    for (let k = m.keyStart; k < m.keyEnd; k++) if (previous[k] === BS) return false;
    while (p < pending.length && compareRange(previous, m.keyStart, m.keyEnd, pending[p]!.key) > 0) {
      flushRun();
      entry(pending[p]!.name);
      p++;
    }
    if (p < pending.length && compareRange(previous, m.keyStart, m.keyEnd, pending[p]!.key) === 0) {
      flushRun();
      entry(pending[p]!.name);
      p++;
      return true;
    }
    if (runStart < 0) runStart = m.keyStart - 1;
    runEnd = m.valueEnd;
    return true;
  });
  if (inner !== oldMap[1]) return undefined;
  flushRun();
  for (; p < pending.length; p++) entry(pending[p]!.name);

  // Assemble into a frame: margins, shell head, `{`, pieces joined by commas, `}`, shell tail.
  let mapLength = 2 + Math.max(0, pieces.length - 1);
  for (const piece of pieces) mapLength += piece instanceof Uint8Array ? piece.length : piece[1] - piece[0];
  const length = mapAt + mapLength + (shell.length - mapAt - 2);
  const frame = new Uint8Array(margins.before + length + margins.after);
  let o = margins.before;
  frame.set(shell.subarray(0, mapAt), o);
  o += mapAt;
  frame[o++] = 0x7b;
  pieces.forEach((piece, i) => {
    if (i > 0) frame[o++] = 0x2c;
    const part = piece instanceof Uint8Array ? piece : previous.subarray(piece[0], piece[1]);
    frame.set(part, o);
    o += part.length;
  });
  frame[o++] = 0x7d;
  frame.set(shell.subarray(mapAt + 2), o);
  const bytes = frame.subarray(margins.before, margins.before + length);
  // The proof (and it refuses raw control characters); and nothing Go would HTML-escape, else full path.
  if (!isCanonicalJsonBytes(bytes) || hasHtmlUnsafe(bytes)) return undefined;
  return { bytes, proven: true, htmlSafe: true, frame: { buffer: frame, ...margins } };
}

const TARGETS_KEY = utf8Encode('targets');

function lastIndexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
