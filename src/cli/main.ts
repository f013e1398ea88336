#!/usr/bin/env node
// notary-ts: a drop-in for the `notary` CLI. Thin: every command calls the library.
import { buildProgram } from './commands/index.js';

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
