/**
 * A progress line on stderr for long hashing work: drawn only on a terminal, never under --json or with
 * --no-progress (ctx.progress), and only once the work has run for about a second, so quick commands print
 * nothing new. The line is redrawn in place (\r) at most every 200 ms and erased when the work ends.
 */
import type { CommandContext } from './program.js';

const DELAY_MS = 1000;
const EVERY_MS = 200;

function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export interface Progress {
  update(bytes: number): void;
  done(): void;
}

export function progressLine(ctx: CommandContext, label: string, total?: number): Progress {
  if (!ctx.progress) return { update: () => {}, done: () => {} };
  const start = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(bytes) {
      const now = Date.now();
      if (now - start < DELAY_MS || now - last < EVERY_MS) return;
      last = now;
      const rate = bytes / ((now - start) / 1000);
      const of = total !== undefined && total > 0 ? ` / ${size(total)} (${Math.floor((100 * bytes) / total)}%)` : '';
      ctx.io.stderr(`\r\x1b[K${label}: ${size(bytes)}${of}, ${size(rate)}/s`);
      drawn = true;
    },
    done() {
      if (drawn) ctx.io.stderr('\r\x1b[K');
    },
  };
}
