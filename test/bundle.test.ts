/**
 * The shipped bin (dist/cli/main.js, as `npm run build` leaves it) runs the CLI from the esbuild bundle with
 * the V8 code caches trained at build time (scripts/bundle.mjs), loads the zod and undici chunks only when a
 * command needs them, and prints exactly what the in-process CLI (the source modules, test/support/cli.ts)
 * prints. Needs a build: scripts/test.sh builds before the tests; without one these tests fail.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CACHE_SUFFIX, VENDOR_CHUNKS, bundleState, chunkFile } from '../src/cli/bundle-loader.js';
import { VERSION } from '../src/cli/program.js';
import { runOurs, type CliRun } from './support/cli.js';
import { startServer } from './support/go-repo.js';

const CLI_DIR = resolve('dist', 'cli');
const BIN = join(CLI_DIR, 'main.js');

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'notary-ts-bundle-test-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
const HOME = tempDir();
const ENV: Record<string, string> = {
  TZ: 'UTC',
  HOME,
  NOTARY_ROOT_PASSPHRASE: 'test-root-passphrase',
  NOTARY_TARGETS_PASSPHRASE: 'test-targets-passphrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'test-snapshot-passphrase',
  NOTARY_DELEGATION_PASSPHRASE: 'test-delegation-passphrase',
  DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'test-repository-passphrase',
};

interface BinRun extends CliRun {
  /** The loader's NOTARY_TS_CODE_CACHE_DEBUG line (removed from stderr). */
  readonly debug: string;
}

/** Runs the shipped bin in a child process (a clean environment, as a user's shell would give it). */
function runBin(args: readonly string[]): Promise<BinRun> {
  return new Promise((done, reject) => {
    const env = { PATH: process.env['PATH'] ?? '', ...ENV, NOTARY_TS_CODE_CACHE_DEBUG: '1' };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stderr.split('\n');
      const i = lines.findIndex((l) => l.startsWith('notary-ts: bundle'));
      const debug = i >= 0 ? lines.splice(i, 1)[0]! : '';
      done({ stdout, stderr: lines.join('\n'), code: code ?? -1, debug });
    });
  });
}

const inProcess = (args: readonly string[]) => runOurs(args, { env: ENV });

/** Same stdout and exit code as in-process, and the bin ran from the bundle with its cache accepted. */
async function expectSame(args: readonly string[], check: (r: CliRun) => void = () => {}): Promise<BinRun> {
  const bin = await runBin(args);
  const ours = await inProcess(args);
  expect(bin.debug, `${args.join(' ')}\n${bin.stderr}`).toMatch(/^notary-ts: bundle used \(.*notary-ts\.cjs\), code cache accepted \(main accepted[^)]*\)$/);
  expect(bin.stdout, args.join(' ')).toBe(ours.stdout);
  expect(bin.code, args.join(' ')).toBe(ours.code);
  check(bin);
  return bin;
}

describe('the shipped bin: bundle + code cache', () => {
  // A test, not a beforeAll: a failing hook reports its tests as skipped, and a missing bundle must fail.
  it('the build left every chunk of the bundle and its cache, not older than the tsc output', () => {
    for (const file of [chunkFile(CLI_DIR), ...VENDOR_CHUNKS.map((v) => chunkFile(CLI_DIR, v))]) {
      expect(existsSync(file), `${file} is missing: run \`npm run build\``).toBe(true);
      expect(existsSync(file + CACHE_SUFFIX), `${file}${CACHE_SUFFIX} is missing: run \`npm run build\``).toBe(true);
    }
    expect(bundleState(CLI_DIR, BIN), 'a plain tsc ran after the last `npm run build`').toBe('ok');
  });

  it('version (same Node, so the same text)', async () => {
    const r = await expectSame(['version'], (b) => expect(b.code).toBe(0));
    expect(r.stdout).toBe(`notary-ts\n Version:    ${VERSION}\n Node version: ${process.version}\n`);
    expect(r.stderr).toBe('');
    // zod and undici are chunks of their own: version neither loads nor evaluates them.
    expect(r.debug).toMatch(/\(main accepted\)$/);
  });

  it('a usage error: list without a GUN', async () => {
    const r = await expectSame(['list'], (b) => expect(b.code).toBe(1));
    expect(r.stdout).toContain('* fatal:');
  });

  it('a --json error and a help listing (every command group loaded)', async () => {
    await expectSame(['--json', 'lookup', 'example.com/x'], (b) => expect(b.stdout).toContain('"error"'));
    await expectSame(['--help'], (b) => expect(b.stdout).toMatch(/^ {2}publish /m));
  });

  it('init, add, publish into a file:// directory, then list and lookup it from fresh trust dirs', async () => {
    const payload = join(tempDir(), 'payload.txt');
    writeFileSync(payload, 'hello bundle\n');
    const gun = 'example.com/bundle/app';
    // Each side writes its own directory "server" with its own trust dir; the output must match.
    const sites = { bin: tempDir(), ours: tempDir() };
    const trust = { bin: tempDir(), ours: tempDir() };
    const steps = (who: 'bin' | 'ours'): string[][] => [
      ['-s', `file://${sites[who]}`, '-d', trust[who], 'init', gun],
      ['-s', `file://${sites[who]}`, '-d', trust[who], 'add', gun, 'v1.0', payload],
      ['-s', `file://${sites[who]}`, '-d', trust[who], 'publish', gun],
      ['-s', `file://${sites[who]}`, '-d', trust[who], 'add', gun, 'v1.1', payload, '-p'],
    ];
    const [binSteps, ourSteps] = [steps('bin'), steps('ours')];
    for (let i = 0; i < binSteps.length; i++) {
      const bin = await runBin(binSteps[i]!);
      const ours = await inProcess(ourSteps[i]!);
      expect(bin.debug).toMatch(/code cache accepted \(main accepted/);
      expect(bin.code, `${binSteps[i]!.join(' ')}\n${bin.stdout}${bin.stderr}`).toBe(0);
      expect(bin.stdout.split(sites.bin).join('<SITE>'), binSteps[i]!.join(' ')).toBe(ours.stdout.split(sites.ours).join('<SITE>'));
      expect(bin.code).toBe(ours.code);
    }
    // Reading what the bin published: the bin and the in-process CLI list the same, from fresh trust dirs.
    for (const args of [['list', gun], ['lookup', gun, 'v1.1'], ['--json', 'list', gun]]) {
      const r = await expectSame(['-s', `file://${sites.bin}`, '-d', tempDir(), ...args], (b) => expect(b.code).toBe(0));
      expect(r.stdout).toContain('v1.');
      expect(r.debug).toMatch(/\(main accepted, (zod accepted, undici accepted|undici accepted, zod accepted)\)$/);
    }
    // And the bin reads what the in-process CLI published.
    const cross = await runBin(['-s', `file://${sites.ours}`, '-d', tempDir(), 'list', gun]);
    const direct = await inProcess(['-s', `file://${sites.bin}`, '-d', tempDir(), 'list', gun]);
    expect(cross.code).toBe(0);
    expect(cross.stdout).toContain('v1.0');
    expect(cross.stdout).toBe(direct.stdout);
    // Keys made by the bin are listed the same way by both.
    await expectSame(['-d', trust.bin, 'key', 'list'], (b) => expect(b.stdout).toContain('root'));
  });

  it('over HTTP against notary-server (the undici chunk): publish, list, lookup, and a refusal with zod\'s wording', async () => {
    const server = await startServer();
    try {
      const payload = join(tempDir(), 'payload.txt');
      writeFileSync(payload, 'hello http\n');
      const gun = 'example.com/bundle/http';
      const trust = tempDir();
      for (const args of [['init', gun], ['add', gun, 'v2.0', payload], ['publish', gun]]) {
        const r = await runBin(['-s', server.url, '-d', trust, ...args]);
        expect(r.code, `${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
        expect(r.debug).toMatch(/code cache accepted/);
      }
      for (const args of [['list', gun], ['lookup', gun, 'v2.0'], ['lookup', gun, 'missing']]) {
        const r = await expectSame(['-s', server.url, '-d', tempDir(), ...args]);
        expect(r.debug).toMatch(/undici accepted/);
      }
      // Malformed metadata: the message comes from zod's English wording, which the trimmed zod chunk keeps.
      const site = tempDir();
      await runBin(['-s', `file://${site}`, '-d', tempDir(), 'init', gun, '-p']);
      const ts = join(site, 'v2', gun, '_trust', 'tuf', 'timestamp.json');
      expect(existsSync(ts)).toBe(true);
      writeFileSync(ts, '{"signed":{"_type":"Timestamp","expires":"2030-01-01T00:00:00Z","meta":{},"version":"x"},"signatures":[]}');
      const bin = await runBin(['-s', `file://${site}`, '-d', tempDir(), 'list', gun]);
      const ours = await inProcess(['-s', `file://${site}`, '-d', tempDir(), 'list', gun]);
      expect(bin.code).toBe(1);
      expect(bin.stdout).toBe(ours.stdout);
      expect(bin.stderr).toBe(ours.stderr);
      expect(bin.stdout + bin.stderr).toMatch(/expected (string|number)/);
    } finally {
      await server.stop();
    }
  });

  it('a reader that goes away (| head): exit 141 without a word, as Go dies of SIGPIPE', async () => {
    const site = tempDir();
    const gun = 'example.com/bundle/pipe';
    expect((await runBin(['-s', `file://${site}`, '-d', tempDir(), 'init', gun, '-p'])).code).toBe(0);
    const result = await new Promise<{ code: number | null; stderr: string }>((done, reject) => {
      const env = { PATH: process.env['PATH'] ?? '', ...ENV };
      const child = spawn(process.execPath, [BIN, '-s', `file://${site}`, '-d', tempDir(), 'list', gun], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // nobody reads: the bin's first write fails with EPIPE
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => done({ code, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(141);
  });
});
