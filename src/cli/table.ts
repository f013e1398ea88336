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
  const all = [headers, headers.map((h) => '-'.repeat(new TextEncoder().encode(h).length)), ...rows];
  const columns = headers.length;
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) {
    let w = 4;
    for (const row of all) w = Math.max(w, runeCount(row[c] ?? '') + 4);
    widths.push(w);
  }
  const lines: string[] = new Array(all.length);
  for (let r = 0; r < all.length; r++) {
    const row = all[r]!;
    let line = '';
    for (let c = 0; c < columns - 1; c++) {
      const cell = row[c] ?? '';
      line += cell + ' '.repeat(widths[c]! - runeCount(cell));
    }
    lines[r] = line + (row[columns - 1] ?? '');
  }
  return lines.join('\n') + '\n';
}

/** Notary's truncation (byte-based, like Go's len on strings). */
export function truncateWithEllipsis(s: string, maxWidth: number, leftTruncate: boolean): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxWidth) return s;
  const dec = new TextDecoder();
  return leftTruncate ? '...' + dec.decode(bytes.subarray(bytes.length - (maxWidth - 3))) : dec.decode(bytes.subarray(0, maxWidth - 3)) + '...';
}
