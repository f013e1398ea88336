/**
 * Big files: `add` and `verify` hash as the content streams (sha256 + sha512 in one pass, constant memory),
 * `verify` echoes the content only once verified, and a progress line appears on a terminal once the work
 * passes a second (never with --no-progress or --json). Streaming correctness is tested here on files of a
 * few MiB in irregular chunks; the > 2 GiB path and the memory bound are measured by bench/bigfile.mjs (a
 * 3 GiB sparse file), too slow for a test on this machine.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/commands/index.js';
import { promises as fsp } from 'node:fs';
import { hashFile, hashStream } from '../src/node/bigfile/hash-stream.js';
import { hashFdParallel } from '../src/node/bigfile/parallel-hash.js';

const BIN = resolve('dist', 'cli', 'main.js');
const ENV = { NOTARY_ROOT_PASSPHRASE: 'big-root-passphrase', NOTARY_TARGETS_PASSPHRASE: 'big-targets-passphrase', NOTARY_SNAPSHOT_PASSPHRASE: 'big-snapshot-passphrase', DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'big-timestamp-passphrase' };
const work = mkdtempSync(join(tmpdir(), 'notary-ts-bigfile-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const content = randomBytes(5 * 1024 * 1024 + 123);
const bigFile = join(work, 'big.bin');
writeFileSync(bigFile, content);
const hex = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('hex');

/** The content cut into irregular pieces (1 byte, odd sizes, more than a MiB). */
function* pieces(bytes: Uint8Array): Generator<Uint8Array> {
  const sizes = [1, 7, 65_536, 1_048_577, 3, 2_000_000];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe('streamed hashing', () => {
  it('hashStream over irregular chunks = the digests of the whole', async () => {
    const seen: number[] = [];
    const d = await hashStream(Readable.from(pieces(content)), { onProgress: (n) => seen.push(n) });
    expect(d.length).toBe(content.length);
    expect(Buffer.from(d.sha256).toString('hex')).toBe(hex('sha256', content));
    expect(Buffer.from(d.sha512).toString('hex')).toBe(hex('sha512', content));
    expect(seen[seen.length - 1]).toBe(content.length);
  });

  it('hashFile (1 MiB reads) = the digests of the whole; empty files too', async () => {
    const d = await hashFile(bigFile);
    expect([d.length, d.size]).toEqual([content.length, content.length]);
    expect(Buffer.from(d.sha512).toString('hex')).toBe(hex('sha512', content));
    const empty = join(work, 'empty');
    writeFileSync(empty, '');
    expect(Buffer.from((await hashFile(empty)).sha256).toString('hex')).toBe(hex('sha256', new Uint8Array()));
  });

  it('the two-thread path (sha512 on a worker, shared 1 MiB slots) = the same digests, sink in order; the limit too', async () => {
    const handle = await fsp.open(bigFile, 'r');
    try {
      const copied: Buffer[] = [];
      const d = await hashFdParallel(handle.fd, { sink: (c) => void copied.push(Buffer.from(c)) });
      expect(d.length).toBe(content.length);
      expect(Buffer.from(d.sha256).toString('hex')).toBe(hex('sha256', content));
      expect(Buffer.from(d.sha512).toString('hex')).toBe(hex('sha512', content));
      expect(Buffer.concat(copied).equals(content)).toBe(true);
    } finally {
      await handle.close();
    }
    const again = await fsp.open(bigFile, 'r');
    try {
      await expect(hashFdParallel(again.fd, { limit: 3_000_000, onLimit: (n) => new Error(`over: ${n}`) })).rejects.toThrow('over: 3145728');
    } finally {
      await again.close();
    }
  });

  it('stops as soon as more than the limit arrives, without reading the rest', async () => {
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (const p of pieces(content)) {
          pulled += p.length;
          yield p;
        }
      })(),
    );
    await expect(hashStream(source, { limit: 100_000, onLimit: (n) => new Error(`over: ${n}`) })).rejects.toThrow(/^over: /);
    expect(pulled).toBeLessThan(content.length);
  });
});

/** Runs the bin; `stdin` as bytes through a pipe, or a file name to redirect standard input from (`< FILE`). */
function bin(args: readonly string[], stdin?: Uint8Array | string): Promise<{ stdout: Buffer; stderr: string; code: number }> {
  return new Promise((done, reject) => {
    const input = typeof stdin === 'string' ? openSync(stdin, 'r') : 'pipe';
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: work, TMPDIR: spool, ...ENV }, stdio: [input, 'pipe', 'pipe'] });
    if (typeof input === 'number') closeSync(input);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => done({ stdout: Buffer.concat(out), stderr, code: code ?? -1 }));
    child.stdin?.on('error', () => {});
    if (typeof stdin !== 'string') child.stdin?.end(stdin ?? '');
  });
}

const site = join(work, 'site');
const trust = join(work, 'trust');
const spool = join(work, 'tmp'); // the bin's TMPDIR: verify's spool must not outlive it
const gun = 'example.com/big/app';
const S = ['-s', `file://${site}`, '-d', trust];

describe('add and verify through the bin (a file:// repository)', () => {
  beforeAll(async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(spool);
    expect((await bin([...S, 'init', '-p', gun])).code).toBe(0);
    const added = await bin([...S, '--json', 'add', '-p', gun, 'big', bigFile]);
    expect(JSON.parse(added.stdout.toString()).hashes.sha512).toBe(hex('sha512', content));
  }, 60_000);

  it('verify from stdin echoes exactly the content once verified, and leaves no spool behind', async () => {
    const r = await bin([...S, 'verify', gun, 'big'], content);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(content)).toBe(true);
    expect(readdirSync(spool)).toEqual([]);
    // Without a terminal no progress line is drawn, however long it takes.
    expect(r.stderr).toBe('');
  });

  it('verify with standard input redirected from a file (read through one buffer) = the same', async () => {
    const r = await bin([...S, 'verify', gun, 'big'], bigFile);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(content)).toBe(true);
    const other = join(work, 'other.bin');
    writeFileSync(other, Buffer.concat([content.subarray(1), Buffer.from('!')]));
    const bad = await bin([...S, '--json', 'verify', gun, 'big'], other);
    expect(JSON.parse(bad.stdout.toString()).error.code).toBe('HASH_MISMATCH');
    expect(readdirSync(spool)).toEqual([]);
  });

  it('content that differs or is longer: nothing echoed, -o not created, exit 1', async () => {
    const changed = Buffer.from(content);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
    const r = await bin([...S, 'verify', gun, 'big'], changed);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toMatch(/^\n\* fatal: data not present in the trusted collection, sha256 checksum for big did not match: expected [0-9a-f]{64}\n$/);
    const longer = Buffer.concat([content, Buffer.from('x')]);
    const out = join(work, 'out.bin');
    const l = await bin([...S, '--json', 'verify', gun, 'big', '-o', out], longer);
    expect(l.code).toBe(1);
    expect(JSON.parse(l.stdout.toString()).error).toMatchObject({ code: 'HASH_MISMATCH', where: 'big' });
    expect(JSON.parse(l.stdout.toString()).error.message).toMatch(new RegExp(`^data not present in the trusted collection, big is more than the ${content.length} bytes`));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('verify -i FILE -o FILE writes the verified content; a missing input is Go\'s open error', async () => {
    const out = join(work, 'copy.bin');
    const r = await bin([...S, 'verify', gun, 'big', '-i', bigFile, '-o', out]);
    expect(r.code, r.stdout.toString()).toBe(0);
    expect(readFileSync(out).equals(content)).toBe(true);
    const missing = await bin([...S, 'verify', gun, 'big', '-i', join(work, 'nope')]);
    expect(missing.stdout.toString()).toBe(`\n* fatal: open ${join(work, 'nope')}: no such file or directory\n`);
    expect(missing.code).toBe(1);
  });

  it('a progress line on a terminal once the work passes a second; not with --no-progress or --json', async () => {
    const run = async (extra: string[]) => {
      let stderr = '';
      let stdout = '';
      // Standard input that takes ≈ 1.6 s to deliver the content.
      const slow = Readable.from(
        (async function* () {
          for (const p of pieces(content)) {
            await new Promise((r) => setTimeout(r, 250));
            yield Buffer.from(p);
          }
        })(),
      );
      const code = await buildProgram().run([...S, ...extra, 'verify', '-q', gun, 'big'], {
        stdout: (t) => (stdout += t),
        stdoutBytes: () => undefined,
        stderr: (t) => (stderr += t),
        stdin: slow,
        stdinIsTTY: false,
        stderrIsTTY: true,
        env: { ...ENV, HOME: work },
        cwd: work,
      });
      return { code, stderr, stdout };
    };
    const shown = await run([]);
    expect(shown.code, shown.stdout).toBe(0);
    expect(shown.stderr).toMatch(/\r\x1b\[Kverifying standard input: [\d.]+ MiB, [\d.]+ [KMG]?i?B\/s/);
    expect(shown.stderr.endsWith('\r\x1b[K')).toBe(true); // erased at the end
    expect((await run(['--no-progress'])).stderr).toBe('');
    const json = await run(['--json']);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ verified: true, length: content.length });
  }, 30_000);

  it('metadata larger than its parent states: Notary\'s "trust server returned a bad response."', async () => {
    const dir = join(site, 'v2', gun, '_trust', 'tuf');
    for (const f of readdirSync(dir).filter((n) => n.startsWith('targets'))) appendFileSync(join(dir, f), ' '.repeat(64));
    const fresh = ['-s', `file://${site}`, '-d', join(work, 'fresh-trust')];
    const r = await bin([...fresh, 'list', gun]);
    expect(r.stdout.toString()).toMatch(/^\n\* fatal: trust server returned a bad response\. targets\.[0-9a-f]{64}\.json is larger than the \d+ bytes allowed\n$/);
    expect(r.code).toBe(1);
    const j = await bin([...fresh, '--json', 'list', gun]);
    expect(JSON.parse(j.stdout.toString()).error.code).toBe('LENGTH_EXCEEDED');
  });
});
