/**
 * Go's text/tabwriter as notary configures it (minwidth 4, padding 4, space padding, no flags): every
 * column but the last is padded to max(4, widest cell + 4), cell widths counted in code points (runes),
 * and a separator row of dashes as long as each header in bytes.
 */
function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
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
  let out = '';
  for (const row of all) {
    let line = '';
    for (let c = 0; c < columns - 1; c++) {
      const cell = row[c] ?? '';
      line += cell + ' '.repeat(widths[c]! - runeCount(cell));
    }
    out += line + (row[columns - 1] ?? '') + '\n';
  }
  return out;
}

/** Notary's truncation (byte-based, like Go's len on strings). */
export function truncateWithEllipsis(s: string, maxWidth: number, leftTruncate: boolean): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxWidth) return s;
  const dec = new TextDecoder();
  return leftTruncate ? '...' + dec.decode(bytes.subarray(bytes.length - (maxWidth - 3))) : dec.decode(bytes.subarray(0, maxWidth - 3)) + '...';
}
