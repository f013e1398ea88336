/**
 * Go's text/tabwriter as notary configures it (minwidth 4, padding 4, space padding, no flags): every
 * column but the last is padded to max(4, widest cell + 4), cell widths counted in code points (runes),
 * and a separator row of dashes as long as each header in bytes.
 */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Code points in a string: its length less one per surrogate pair (no per-character iteration). */
function runeCount(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const chunks: string[] = [];
  writeTable(headers, rows.length, (r, c) => rows[r]![c] ?? '', (chunk) => chunks.push(chunk));
  return chunks.join('');
}

const CHUNK_CHARS = 1 << 16;

/**
 * The same table for `count` rows whose cells come from `cell(row, column)`, handed to `emit` in chunks of
 * about 64 KiB. Cells are asked for when needed (once for the widths, once for the text) and not kept, so a
 * 50k-target listing never holds its rows or its text at once — less memory to fault in and to collect.
 * `width(row, column)`, if given, answers a cell's rune count without building it.
 */
export function writeTable(
  headers: readonly string[],
  count: number,
  cell: (row: number, column: number) => string,
  emit: (chunk: string) => void,
  width?: (row: number, column: number) => number | undefined,
): void {
  const columns = headers.length;
  const padded = columns - 1;
  const dashes = headers.map((h) => '-'.repeat(Buffer.byteLength(h)));
  // Rows 0 and 1 are the header and its dashes; data row r is cell(r - 2, ·).
  const text = (r: number, c: number): string => (r === 0 ? headers[c]! : r === 1 ? dashes[c]! : cell(r - 2, c));
  const total = count + 2;
  const counts = new Int32Array(total * Math.max(padded, 1));
  const widths: number[] = new Array<number>(padded).fill(4);
  for (let r = 0; r < total; r++) {
    for (let c = 0; c < padded; c++) {
      const n = (r >= 2 ? width?.(r - 2, c) : undefined) ?? runeCount(text(r, c));
      counts[r * padded + c] = n;
      if (n + 4 > widths[c]!) widths[c] = n + 4;
    }
  }
  const spaces: string[] = [];
  const pad = (k: number): string => (spaces[k] ??= ' '.repeat(k));
  let chunk = '';
  for (let r = 0; r < total; r++) {
    for (let c = 0; c < padded; c++) chunk += text(r, c) + pad(widths[c]! - counts[r * padded + c]!);
    chunk += text(r, padded) + '\n';
    if (chunk.length >= CHUNK_CHARS) {
      emit(chunk);
      chunk = '';
    }
  }
  if (chunk !== '') emit(chunk);
}

/** Notary's truncation (byte-based, like Go's len on strings). */
export function truncateWithEllipsis(s: string, maxWidth: number, leftTruncate: boolean): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxWidth) return s;
  const dec = new TextDecoder();
  return leftTruncate ? '...' + dec.decode(bytes.subarray(bytes.length - (maxWidth - 3))) : dec.decode(bytes.subarray(0, maxWidth - 3)) + '...';
}
