// Second half of `npm run build` (after tsc): ships the CLI as a bundle with V8 code caches, which is how
// src/cli/main.ts loads it (docs/design.md, "How the CLI is loaded"; numbers in docs/dependencies.md).
//
// 1. esbuild bundles dist/cli/bundle-entry.js (tsc's output: `buildProgram` and, behind it, every module the
//    CLI uses) into dist/cli/notary-ts.cjs, and each dependency of VENDOR_CHUNKS (zod, undici) into a chunk of
//    its own, dist/cli/notary-ts.<name>.cjs, which the main chunk requires by name when it first needs it.
//    CommonJS, so that each can be compiled with `vm.Script` and a code cache; the command groups' dynamic
//    imports become lazily initialised closures.
// 2. Training: in this process, load the chunks exactly as the bin does (dist/cli/bundle-loader.js), run a
//    representative set of commands in-process — init, add, publish into a `file://` directory; key list;
//    a usage error; version; list and lookup from fresh trust dirs — then save each chunk's
//    `script.createCachedData()` (which now includes every function those commands compiled) as
//    `<chunk>.cache`. Everything happens in a temporary directory (trust dirs, the directory "server",
//    HOME): no network, nothing of the user's.
// 3. Check: the shipped bin runs `version` from the bundle and V8 accepts the cache.
// Any failure fails the build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const cliDir = join(root, 'dist', 'cli');
const { BUILD_ID_PREFIX, CACHE_SUFFIX, VENDOR_CHUNKS, BundleLoader, applyCliV8Flags, chunkFile, serializeCache } = await import(join(cliDir, 'bundle-loader.js'));
const chunks = [{ name: 'main', file: chunkFile(cliDir) }, ...VENDOR_CHUNKS.map((name) => ({ name, file: chunkFile(cliDir, name) }))];

function fail(message) {
  console.error(`scripts/bundle.mjs: ${message}`);
  process.exit(1);
}

/** Writes through a temporary file and a rename: a reader never sees half a file. */
function writeAtomic(path, data) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

// The caches of the previous build must not outlive their chunks (the loader would refuse them anyway).
for (const c of chunks) rmSync(c.file + CACHE_SUFFIX, { force: true });

// ---- 1. bundle ----
// What a vendor chunk holds, when not the whole package. undici: we use only `Agent` and the request API,
// which undici's index attaches to Dispatcher.prototype; the index also loads fetch, WebSocket, EventSource,
// mocks and cache stores, and took 80 ms of a CLI run with its code cache (≈ 30 ms as below). These are
// undici-internal paths: a layout change fails this build (esbuild cannot resolve them) rather than the bin.
const VENDOR_ENTRIES = {
  // zod: the schema builders src/core/metadata.ts and src/policy use, so esbuild can leave out the rest (zod is ESM and
  // side-effect free): 568 KiB → see the build log.
  zod: [
    // (src/policy adds enum, literal, strictObject and union for the signing policy's schema)
    "import { ZodError, array, boolean, custom, enum as enum_, literal, looseObject, number, record, strictObject, string, union, unknown } from 'zod';",
    'export const z = { ZodError, array, boolean, custom, enum: enum_, literal, looseObject, number, record, strictObject, string, union, unknown };',
  ].join('\n'),
  undici: [
    "const Dispatcher = require('undici/lib/dispatcher/dispatcher');",
    "const Agent = require('undici/lib/dispatcher/agent');",
    "Object.assign(Dispatcher.prototype, require('undici/lib/api'));",
    // ProxyAgent only when a proxy is configured (HTTP(S)_PROXY): required on first use.
    "module.exports = { Agent, Dispatcher, get ProxyAgent() { return require('undici/lib/dispatcher/proxy-agent'); } };",
  ].join('\n'),
};

const common = {
  bundle: true,
  write: false,
  metafile: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  // Error classes name themselves after their class (`this.name = new.target.name`); `--debug` prints stacks.
  keepNames: true,
  legalComments: 'eof',
  logLevel: 'silent',
};

async function bundle(chunk, options) {
  const result = await build({ ...common, ...options, outfile: chunk.file }).catch((err) => fail(`esbuild failed (${chunk.name}):\n${err.message}`));
  for (const w of result.warnings) console.error(`esbuild warning (${chunk.name}): ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
  if (result.warnings.length > 0) fail('esbuild reported warnings (see above)');
  if (result.outputFiles.length !== 1) fail(`esbuild wrote ${result.outputFiles.length} files for ${chunk.name}, expected one`);
  // What a chunk may require at run time: Node's builtins (undici requires node:sqlite, absent from Node 20,
  // only when asked for its SQLite cache), and (the main chunk) the vendor chunks by name.
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) {
      if (imp.external && !imp.path.startsWith('node:') && !builtinModules.includes(imp.path) && !(chunk.name === 'main' && VENDOR_CHUNKS.includes(imp.path))) {
        fail(`${chunk.name} would require ${imp.path} at run time (neither a Node builtin nor a vendor chunk)`);
      }
    }
  }
  // The last line names this build (a hash of the content): the cache file carries the same line.
  const text = result.outputFiles[0].text.replace(/\n?$/, '\n');
  chunk.source = `${text}${BUILD_ID_PREFIX}${createHash('sha256').update(text).digest('hex').slice(0, 24)}\n`;
  writeAtomic(chunk.file, chunk.source);
}

for (const chunk of chunks) {
  if (chunk.name === 'main') {
    // import.meta.url (src/tokens/pkcs11/loader.ts resolves the optional native pkcs11js from it) is this chunk's URL.
    await bundle(chunk, {
      entryPoints: [join(cliDir, 'bundle-entry.js')],
      external: [...VENDOR_CHUNKS],
      define: { 'import.meta.url': '__notaryTsChunkUrl' },
      banner: { js: "var __notaryTsChunkUrl=require('node:url').pathToFileURL(__filename).href;" },
    });
  }
  else await bundle(chunk, { stdin: { contents: VENDOR_ENTRIES[chunk.name] ?? `module.exports = require(${JSON.stringify(chunk.name)});`, resolveDir: root, sourcefile: `${chunk.name}-chunk.js` } });
}

// ---- 2. train the code caches ----
applyCliV8Flags(); // the flags the bin runs with: a cache made under other flags is rejected
const loader = new BundleLoader(cliDir, false);
let program;
try {
  const exports = loader.load();
  program = () => exports.buildProgram();
} catch (err) {
  fail(`the bundle does not load: ${err?.stack ?? err}`);
}

const work = mkdtempSync(join(tmpdir(), 'notary-ts-bundle-'));
const site = join(work, 'site'); // the file:// "server"
const gun = 'example.com/bundle/training';
const payload = join(work, 'payload.txt');
writeFileSync(payload, 'notary-ts code cache training\n');
// The commands read io.env, but the config loader falls back to process.env.HOME: point both at `work`.
const userHome = process.env.HOME;
process.env.HOME = join(work, 'home');
const env = {
  PATH: process.env.PATH,
  HOME: join(work, 'home'),
  TZ: 'UTC',
  NOTARY_ROOT_PASSPHRASE: 'training-root-passphrase',
  NOTARY_TARGETS_PASSPHRASE: 'training-targets-passphrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'training-snapshot-passphrase',
  NOTARY_DELEGATION_PASSPHRASE: 'training-delegation-passphrase',
  // the timestamp key (a file:// remote signs the timestamp locally)
  DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'training-repository-passphrase',
};

async function run(args, expect = {}) {
  let stdout = '';
  let stderr = '';
  const code = await program().run(args, {
    stdout: (t) => (stdout += t),
    stdoutBytes: (b) => (stdout += Buffer.from(b).toString('utf8')),
    stderr: (t) => (stderr += t),
    stdin: Readable.from([]),
    stdinIsTTY: false,
    env,
    cwd: work,
  });
  const wantCode = expect.code ?? 0;
  if (code !== wantCode || (expect.stdout && !expect.stdout.test(stdout))) {
    throw new Error(`training command \`notary-ts ${args.join(' ')}\` exited ${code} (expected ${wantCode}${expect.stdout ? `, stdout matching ${expect.stdout}` : ''})\n--- stdout\n${stdout}--- stderr\n${stderr}`);
  }
}

let trainingError;
try {
  const trust = join(work, 'trust');
  const s = ['-s', `file://${site}`];
  // Writing first, reading last: what runs last is surest to still have its bytecode when the cache is made.
  await run([...s, '-d', trust, 'init', gun]);
  await run([...s, '-d', trust, 'add', gun, 'v1.0', payload]);
  await run([...s, '-d', trust, 'add', gun, 'v1.1', payload, '-p'], { stdout: /Successfully published/ });
  await run([...s, '-d', trust, 'publish', gun]);
  await run(['-d', trust, 'key', 'list'], { stdout: /root/ });
  await run(['-d', join(work, 'empty'), 'list'], { code: 1, stdout: /\* fatal:/ }); // a usage error
  await run(['version'], { stdout: /^notary-ts\n/ });
  await run([...s, '-d', join(work, 'reader1'), 'list', gun], { stdout: /v1\.1/ });
  await run([...s, '-d', join(work, 'reader2'), 'lookup', gun, 'v1.0'], { stdout: /^v1\.0 sha256:/ });
  await run([...s, '-d', join(work, 'reader2'), 'list', gun, '--json'], { stdout: /v1\.0/ });
} catch (err) {
  trainingError = err;
} finally {
  rmSync(work, { recursive: true, force: true });
  if (userHome === undefined) delete process.env.HOME;
  else process.env.HOME = userHome;
}
if (trainingError) fail(trainingError?.stack ?? String(trainingError));
for (const chunk of chunks) {
  const loaded = loader.chunks.find((c) => c.name === chunk.name);
  if (!loaded) fail(`training never loaded the ${chunk.name} chunk: add a command that uses it`);
  if (loaded.source !== chunk.source) fail(`${chunk.file} changed while this build ran (another build?)`);
  writeAtomic(chunk.file + CACHE_SUFFIX, serializeCache(loaded));
}

// ---- 3. check that the shipped bin uses them ----
const check = spawnSync(process.execPath, [join(cliDir, 'main.js'), 'version'], {
  env: { ...process.env, NOTARY_TS_CODE_CACHE_DEBUG: '1' },
  encoding: 'utf8',
});
if (check.status !== 0 || !check.stdout.startsWith('notary-ts\n') || !/bundle used .* code cache accepted/.test(check.stderr)) {
  fail(`dist/cli/main.js version did not run from the bundle with its code cache:\n${check.stdout}${check.stderr}`);
}
const kb = (f) => `${Math.round(statSync(f).size / 1024)} KiB`;
for (const c of chunks) console.error(`bundle: dist/cli/${basename(c.file)} ${kb(c.file)}, code cache ${kb(c.file + CACHE_SUFFIX)}`);
