#!/usr/bin/env node
// notary-ts: a drop-in for the `notary` CLI. Thin: every command calls the library.
// (--optimize-for-size was measured and dropped: a 50k-target list took 1.97 s instead of 1.38 s to save
// ≈20 MB of peak RSS — see docs/performance.md.)
const { buildProgram } = await import('./commands/index.js');
const code = await buildProgram().run(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stdoutBytes: (b) => process.stdout.write(b),
  stderr: (t) => process.stderr.write(t),
  stdin: process.stdin,
  stdinIsTTY: Boolean(process.stdin.isTTY),
  env: process.env,
  cwd: process.cwd(),
});
// Let stdout drain before exiting (large listings go to pipes).
process.exitCode = code;
