#!/usr/bin/env node
// notary-ts: a drop-in for the `notary` CLI. Thin: every command calls the library.
// (--optimize-for-size was measured and dropped: a 50k-target list took 1.97 s instead of 1.38 s to save
// ≈20 MB of peak RSS — see docs/performance.md.)
//
// Start-up: `npm run build` also bundles the CLI with esbuild (dist/cli/notary-ts.cjs for our code, and
// notary-ts.zod.cjs / notary-ts.undici.cjs, loaded when first needed) and trains a V8 code cache for each
// chunk on a few commands (scripts/bundle.mjs). When the bundle is here we run it from those caches
// (src/cli/bundle-loader.ts); otherwise (a plain `tsc` build) the modules load one by one, as before.
// See docs/design.md, "How the CLI is loaded". NOTARY_TS_CODE_CACHE_DEBUG=1 reports which path ran.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BundleLoader, applyCliV8Flags, bundleState, chunkFile } from './bundle-loader.js';
import type { Program } from './program.js';

async function loadProgram(): Promise<Program> {
  applyCliV8Flags();
  const debug = process.env['NOTARY_TS_CODE_CACHE_DEBUG'] === '1';
  const self = fileURLToPath(import.meta.url);
  const dir = dirname(self);
  // tsc rewrites this file on every build: a bundle older than it holds the code of an earlier build.
  const state = bundleState(dir, self);
  if (state === 'ok') {
    const loader = new BundleLoader(dir, true);
    const exports = loader.load();
    // One line, when the process ends: the dependency chunks load (or not) while the command runs.
    if (debug) {
      process.once('exit', () => {
        const outcomes = loader.chunks.map((c) => (c.cache === 'other-build' ? 'rejected (made for another build)' : c.cache));
        const all = outcomes.every((o) => o === 'accepted') ? 'accepted' : outcomes.every((o) => o === 'missing') ? 'missing' : outcomes.some((o) => o === 'accepted') ? 'partly rejected' : 'rejected';
        const detail = loader.chunks.map((c, i) => `${c.name} ${outcomes[i]}`).join(', ');
        process.stderr.write(`notary-ts: bundle used (${chunkFile(dir)}), code cache ${all} (${detail})\n`);
      });
    }
    return exports.buildProgram();
  }
  if (debug) process.stderr.write(`notary-ts: bundle not used (${state === 'stale' ? 'older than this build' : 'missing'}), loading modules\n`);
  return (await import('./commands/index.js')).buildProgram();
}

// A reader that goes away (`notary-ts list GUN | head`): Go dies of SIGPIPE, silently; Node would throw
// from the stream. Exit the same way, 128 + SIGPIPE, without a word.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

const code = await (await loadProgram()).run(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stdoutBytes: (b) => process.stdout.write(b),
  stderr: (t) => process.stderr.write(t),
  stdin: process.stdin,
  stdinIsTTY: Boolean(process.stdin.isTTY),
  stdinFd: 0,
  stdoutStream: process.stdout,
  stderrIsTTY: Boolean(process.stderr.isTTY),
  env: process.env,
  cwd: process.cwd(),
});
// Let stdout drain before exiting (large listings go to pipes).
process.exitCode = code;
