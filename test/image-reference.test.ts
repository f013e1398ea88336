/**
 * Docker image references as tables, then the same tables differentially against the real docker CLI 28.x:
 * invalid references must produce docker's exact stderr (`docker pull` fails on parsing before it needs a
 * daemon); valid ones are pulled against a fake daemon on loopback (DOCKER_HOST), which records the
 * `fromImage` and `tag` the CLI sends — docker's own normalised name and tag/digest.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotaryError } from '../src/core/errors.js';
import {
  familiarName,
  familiarString,
  gunOf,
  ImageReferenceError,
  indexName,
  isDockerHub,
  isLoopbackLiteral,
  isValidTag,
  parseNormalizedNamed,
  parseReference,
  referenceString,
  splitHostPort,
  trimNamed,
  tryParseNormalizedNamed,
  withDigest,
  withTag,
} from '../src/images/reference.js';

const D64 = 'b'.repeat(64);
const DIG = `sha256:${D64}`;
const H64 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

interface Ok {
  input: string;
  name: string;
  tag?: string;
  digest?: string;
  familiar: string;
}
// input → normalised name (the GUN), tag, digest, familiar name
const VALID: Ok[] = [
  { input: 'alpine', name: 'docker.io/library/alpine', familiar: 'alpine' },
  { input: 'alpine:3.19', name: 'docker.io/library/alpine', tag: '3.19', familiar: 'alpine' },
  { input: 'alpine:latest', name: 'docker.io/library/alpine', tag: 'latest', familiar: 'alpine' },
  { input: 'library/alpine', name: 'docker.io/library/alpine', familiar: 'alpine' },
  { input: 'docker.io/alpine', name: 'docker.io/library/alpine', familiar: 'alpine' },
  { input: 'docker.io/library/alpine:edge', name: 'docker.io/library/alpine', tag: 'edge', familiar: 'alpine' },
  { input: 'index.docker.io/alpine', name: 'docker.io/library/alpine', familiar: 'alpine' },
  { input: 'index.docker.io/user/app:1', name: 'docker.io/user/app', tag: '1', familiar: 'user/app' },
  { input: 'user/app', name: 'docker.io/user/app', familiar: 'user/app' },
  { input: 'user/app/sub', name: 'docker.io/user/app/sub', familiar: 'user/app/sub' },
  { input: 'library/a/b', name: 'docker.io/library/a/b', familiar: 'library/a/b' },
  { input: 'foo:Bar', name: 'docker.io/library/foo', tag: 'Bar', familiar: 'foo' },
  { input: 'foo:_x-Y.z', name: 'docker.io/library/foo', tag: '_x-Y.z', familiar: 'foo' },
  { input: `foo:${'t'.repeat(128)}`, name: 'docker.io/library/foo', tag: 't'.repeat(128), familiar: 'foo' },
  { input: `alpine@${DIG}`, name: 'docker.io/library/alpine', digest: DIG, familiar: 'alpine' },
  { input: `alpine:3@${DIG}`, name: 'docker.io/library/alpine', tag: '3', digest: DIG, familiar: 'alpine' },
  { input: `a@sha512:${'c'.repeat(128)}`, name: 'docker.io/library/a', digest: `sha512:${'c'.repeat(128)}`, familiar: 'a' },
  { input: `a@sha384:${'c'.repeat(96)}`, name: 'docker.io/library/a', digest: `sha384:${'c'.repeat(96)}`, familiar: 'a' },
  { input: 'localhost/app', name: 'localhost/app', familiar: 'localhost/app' },
  { input: 'localhost:5000/app:v1', name: 'localhost:5000/app', tag: 'v1', familiar: 'localhost:5000/app' },
  { input: 'LOCALHOST/a', name: 'LOCALHOST/a', familiar: 'LOCALHOST/a' },
  { input: 'Localhost/a', name: 'Localhost/a', familiar: 'Localhost/a' },
  { input: 'Foo.com/bar', name: 'Foo.com/bar', familiar: 'Foo.com/bar' },
  { input: 'FOO/bar', name: 'FOO/bar', familiar: 'FOO/bar' },
  { input: 'foo.com/bar', name: 'foo.com/bar', familiar: 'foo.com/bar' },
  { input: 'registry.example.com:5000/ns/repo:1.2.3', name: 'registry.example.com:5000/ns/repo', tag: '1.2.3', familiar: 'registry.example.com:5000/ns/repo' },
  { input: '127.0.0.1:5000/a/b', name: '127.0.0.1:5000/a/b', familiar: '127.0.0.1:5000/a/b' },
  { input: 'host:5000/a', name: 'host:5000/a', familiar: 'host:5000/a' },
  { input: '[::1]:5000/a', name: '[::1]:5000/a', familiar: '[::1]:5000/a' },
  { input: '[2001:db8::1]/a', name: '[2001:db8::1]/a', familiar: '[2001:db8::1]/a' },
  { input: 'my-reg.io/a__b/c.d/e-f/g---h', name: 'my-reg.io/a__b/c.d/e-f/g---h', familiar: 'my-reg.io/a__b/c.d/e-f/g---h' },
  { input: 'a-b.c-d.io/x', name: 'a-b.c-d.io/x', familiar: 'a-b.c-d.io/x' },
  { input: 'docker.io/user/app', name: 'docker.io/user/app', familiar: 'user/app' },
  { input: 'a.b/library/alpine', name: 'a.b/library/alpine', familiar: 'a.b/library/alpine' },
  { input: 'example.com/x:tag', name: 'example.com/x', tag: 'tag', familiar: 'example.com/x' },
  { input: '0', name: 'docker.io/library/0', familiar: '0' },
  { input: 'a1_b2', name: 'docker.io/library/a1_b2', familiar: 'a1_b2' },
  { input: `${'a'.repeat(200)}/b`, name: `docker.io/${'a'.repeat(200)}/b`, familiar: `${'a'.repeat(200)}/b` },
  { input: 'a'.repeat(247), name: `docker.io/library/${'a'.repeat(247)}`, familiar: 'a'.repeat(247) },
  { input: `example.com/${'a'.repeat(255)}`, name: `example.com/${'a'.repeat(255)}`, familiar: `example.com/${'a'.repeat(255)}` },
];

// input → docker's error, byte for byte (checked against the docker CLI below)
const INVALID: [string, string][] = [
  ['', 'invalid reference format'],
  ['Alpine', 'invalid reference format: repository name (library/Alpine) must be lowercase'],
  ['a/B', 'invalid reference format: repository name (a/B) must be lowercase'],
  ['foo.com/Bar', 'invalid reference format: repository name (Bar) must be lowercase'],
  ['localhost/A', 'invalid reference format: repository name (A) must be lowercase'],
  ['localhost:5000/App:v1', 'invalid reference format: repository name (App) must be lowercase'],
  ['user/App:tag', 'invalid reference format: repository name (user/App) must be lowercase'],
  [`a@SHA256:${D64}`, 'invalid reference format: repository name (library/a@SHA256) must be lowercase'],
  ['a@sha256:abc', 'invalid reference format'],
  [`a@sha256:${D64.toUpperCase()}`, 'invalid checksum digest format'],
  [`a@sha256:${'b'.repeat(63)}`, 'invalid checksum digest length'],
  [`a@sha256:${'b'.repeat(65)}`, 'invalid checksum digest length'],
  ['a@sha512:abcdef0123456789abcdef0123456789', 'invalid checksum digest length'],
  ['a@md5:abcdef0123456789abcdef0123456789', 'unsupported digest algorithm'],
  [`a@sha256+b64:${D64}`, 'unsupported digest algorithm'],
  [`a@Sha256:${D64}`, 'invalid reference format: repository name (library/a@Sha256) must be lowercase'],
  [`example.com/a@Xyz:${D64}`, 'invalid reference format: repository name (a@Xyz) must be lowercase'],
  [`example.com/a:t@Xyz:${D64}`, 'invalid checksum digest format'],
  [H64, `invalid repository name (${H64}), cannot specify 64-byte hexadecimal strings`],
  ['a:', 'invalid reference format'],
  ['a:-x', 'invalid reference format'],
  ['a:.x', 'invalid reference format'],
  [`a:${'t'.repeat(129)}`, 'invalid reference format'],
  ['a:b:c', 'invalid reference format'],
  ['a//b', 'invalid reference format'],
  ['a/', 'invalid reference format'],
  ['/a', 'invalid reference format'],
  ['a/b/', 'invalid reference format'],
  ['_a', 'invalid reference format'],
  ['a_', 'invalid reference format'],
  ['a___b', 'invalid reference format'],
  ['a-', 'invalid reference format'],
  ['a..b', 'invalid reference format'],
  ['a._b', 'invalid reference format'],
  ['a b', 'invalid reference format'],
  ['a@', 'invalid reference format'],
  ['a@sha256', 'invalid reference format'],
  ['-host.com/a', 'invalid reference format'],
  ['host-.com/a', 'invalid reference format'],
  ['host.com:/a', 'invalid reference format'],
  ['host.com:port/a', 'invalid reference format'],
  ['host.com/', 'invalid reference format'],
  ['[::1/a', 'invalid reference format'],
  ['[zz::1]:5000/a', 'invalid reference format'],
  ['http://host.com/a', 'invalid reference format'],
  ['ünïcode', 'invalid reference format'],
  ['a'.repeat(248), 'repository name must not be more than 255 characters'],
  [`${'a'.repeat(250)}/bcdef`, 'repository name must not be more than 255 characters'],
  [`example.com/${'a'.repeat(256)}`, 'repository name must not be more than 255 characters'],
  ['a'.repeat(5000), 'invalid reference format'],
];

function expectRefError(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ImageReferenceError);
  expect(caught).toBeInstanceOf(NotaryError);
  expect((caught as NotaryError).code).toBe('INVALID_ARGUMENT');
  expect((caught as Error).message).toBe(message);
}

describe('parseNormalizedNamed (tables)', () => {
  it.each(VALID)('$input', (c) => {
    const ref = parseNormalizedNamed(c.input);
    expect(ref.name).toBe(c.name);
    expect(gunOf(ref)).toBe(c.name);
    expect(ref.tag).toBe(c.tag);
    expect(ref.digest).toBe(c.digest);
    expect(familiarName(ref)).toBe(c.familiar);
    expect(`${ref.domain}/${ref.path}`).toBe(c.name);
    expect(referenceString(ref)).toBe(c.name + (c.tag ? `:${c.tag}` : '') + (c.digest ? `@${c.digest}` : ''));
    expect(familiarString(ref)).toBe(c.familiar + (c.tag ? `:${c.tag}` : '') + (c.digest ? `@${c.digest}` : ''));
    // normalising is idempotent
    expect(parseNormalizedNamed(referenceString(ref))).toEqual(ref);
    expect(parseNormalizedNamed(familiarString(ref))).toEqual(ref);
    expect(JSON.parse(JSON.stringify(ref))).toEqual(ref);
  });

  it.each(INVALID)('%j is refused', (input, message) => {
    expectRefError(() => parseNormalizedNamed(input), message);
    const r = tryParseNormalizedNamed(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(message);
      expect(r.error.where).toBe(input);
    }
  });

  it('stays fast on long adversarial input', () => {
    // each takes about a millisecond; the bound only catches catastrophic backtracking (which would take
    // minutes), with room for a loaded machine
    const inputs = ['a-'.repeat(400) + '!', 'a.'.repeat(400) + '/', `${'a'.repeat(500)}.${'b'.repeat(400)}:`, '[' + ':'.repeat(900), 'a/'.repeat(500) + '!', `a${'-'.repeat(1000)}!`];
    const t0 = performance.now();
    for (const s of inputs) expect(tryParseNormalizedNamed(s).ok).toBe(false);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('parseReference (no normalisation)', () => {
  it('keeps a bare name without a domain', () => {
    expect(parseReference('alpine:3')).toEqual({ domain: '', path: 'alpine', name: 'alpine', tag: '3' });
    expect(parseReference('a/b/c')).toEqual({ domain: 'a', path: 'b/c', name: 'a/b/c' });
  });
  it('uses distribution/reference errors', () => {
    expectRefError(() => parseReference(''), 'repository name must have at least one component');
    expectRefError(() => parseReference('Alpine'), 'repository name must be lowercase');
    expectRefError(() => parseReference('a b'), 'invalid reference format');
  });
});

describe('helpers', () => {
  it('withTag / withDigest / trimNamed', () => {
    const ref = parseNormalizedNamed('alpine');
    expect(referenceString(withTag(ref, 'v1'))).toBe('docker.io/library/alpine:v1');
    expectRefError(() => withTag(ref, '-bad'), 'invalid tag format');
    expect(referenceString(withDigest(ref, DIG))).toBe(`docker.io/library/alpine@${DIG}`);
    expectRefError(() => withDigest(ref, 'sha256:00'), 'invalid checksum digest length');
    expectRefError(() => withDigest(ref, `md5:${D64}`), 'unsupported digest algorithm');
    expect(trimNamed(parseNormalizedNamed(`alpine:1@${DIG}`))).toEqual(ref);
    expect(isValidTag('a'.repeat(128))).toBe(true);
    expect(isValidTag('a'.repeat(129))).toBe(false);
  });

  it('index names', () => {
    expect(indexName('index.docker.io')).toBe('docker.io');
    expect(indexName('reg:5000')).toBe('reg:5000');
    expect(isDockerHub('docker.io')).toBe(true);
    expect(isDockerHub('index.docker.io')).toBe(true);
    expect(isDockerHub('docker.com')).toBe(false);
  });

  it.each([
    ['localhost', true],
    ['LocalHost:5000', true],
    ['127.0.0.1', true],
    ['127.1.2.3:443', true],
    ['127.0.0.01', false],
    ['128.0.0.1', false],
    ['::1', true],
    ['[::1]:5000', true],
    ['[::1]', false], // Go's SplitHostPort fails without a port; "[::1]" is then neither an IP nor resolvable
    ['0:0:0:0:0:0:0:1', true],
    ['[0::1]:80', true],
    ['::2', false],
    ['::ffff:127.0.0.1', true],
    ['[::ffff:10.0.0.1]:5000', false],
    ['10.0.0.1:5000', false],
    ['example.com', false],
    ['localhost.example.com', false],
  ] as [string, boolean][])('isLoopbackLiteral(%j) = %j', (domain, expected) => {
    expect(isLoopbackLiteral(domain)).toBe(expected);
  });

  it('splitHostPort', () => {
    expect(splitHostPort('[::1]:5000')).toEqual({ host: '::1', port: '5000' });
    expect(splitHostPort('reg:443')).toEqual({ host: 'reg', port: '443' });
    expect(splitHostPort('reg')).toEqual({ host: 'reg' });
    expect(splitHostPort('[::1]')).toEqual({ host: '::1' });
  });
});

// ---- differential: the docker CLI itself ------------------------------------------------------------------

function runDocker(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the docker CLI agrees', () => {
  let daemon: Server;
  let dockerConfig: string;
  let env: NodeJS.ProcessEnv;
  const pulls: URLSearchParams[] = [];

  beforeAll(async () => {
    dockerConfig = mkdtempSync(join(tmpdir(), 'ref-docker-'));
    daemon = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.endsWith('/_ping')) {
        res.writeHead(200, { 'Api-Version': '1.47', 'Content-Type': 'text/plain' });
        res.end('OK');
        return;
      }
      if (url.pathname.endsWith('/images/create')) pulls.push(url.searchParams);
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"fake daemon"}');
    });
    await new Promise<void>((r) => daemon.listen(0, '127.0.0.1', r));
    const port = (daemon.address() as AddressInfo).port;
    env = { PATH: process.env.PATH, HOME: dockerConfig, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: `tcp://127.0.0.1:${port}` };
  });
  afterAll(async () => {
    await new Promise((r) => daemon.close(r));
    rmSync(dockerConfig, { recursive: true, force: true });
  });

  it('refuses the invalid references with the same message', async () => {
    // `docker pull` treats a leading '-' as a flag and docker's own huge-input path is slow; skip only those
    const cases = INVALID.filter(([input]) => !input.startsWith('-') && input.length < 1000);
    const mismatches: string[] = [];
    for (const [input, message] of cases) {
      const { code, stderr } = await runDocker(['pull', input], env);
      if (code !== 1 || stderr.trim() !== message) mismatches.push(`${JSON.stringify(input)}: docker said ${code} ${JSON.stringify(stderr.trim())}`);
    }
    expect(mismatches).toEqual([]);
    expect(pulls).toEqual([]);
  });

  it('normalises the valid references the same way', async () => {
    const mismatches: string[] = [];
    for (const c of VALID) {
      pulls.length = 0;
      await runDocker(['pull', c.input], env);
      const sent = pulls[0];
      const tag = c.digest ?? c.tag ?? 'latest';
      // docker 28 sends the fully qualified name (older CLIs sent the familiar one)
      if (!sent || sent.get('fromImage') !== c.name || sent.get('tag') !== tag) {
        mismatches.push(`${c.input}: docker sent ${sent ? `${sent.get('fromImage')} ${sent.get('tag')}` : 'nothing'}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('purity', () => {
  it('reference.ts imports nothing but the core (no IO, runs anywhere)', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../src/images/reference.ts', import.meta.url), 'utf8');
    const imports = [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]);
    expect(imports).toEqual(['../core/errors.js']);
  });
});
