/**
 * Differential tests of the read side: the real Go `notary` and notary-ts, same arguments, same server,
 * same (or equally fresh) trust_dir — stdout and exit codes must be identical.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goWords, runBoth, runNotary, runOurs } from './support/cli.js';
import { makeGoRepository, startServer, tempDir, type GoRepository, type Server } from './support/go-repo.js';

let server: Server;
let repo: GoRepository;
const gun = 'example.com/cli/read';

beforeAll(async () => {
  server = await startServer();
  repo = makeGoRepository(server, gun);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** Fresh trust dirs for each client, so each does a cold update against the server. */
async function coldBoth(args: string[], stdin?: string) {
  const goDir = tempDir();
  const ourDir = tempDir();
  const go = await runNotary(['-s', server.url, '-d', goDir, ...args], stdin === undefined ? {} : { stdin });
  const ours = await runOurs(['-s', server.url, '-d', ourDir, ...args], stdin === undefined ? {} : { stdin });
  return { go, ours };
}

describe('read commands match Go notary', () => {
  it.each([
    ['list', () => ['list', gun]],
    ['list -r targets/releases', () => ['list', gun, '-r', 'targets/releases']],
    ['list -r targets/qa', () => ['list', gun, '--roles', 'targets/qa']],
    ['lookup top-level', () => ['lookup', gun, 'dir/A<b>&c']],
    ['lookup delegated', () => ['lookup', gun, 'qa/x']],
    ['lookup top-level wins', () => ['lookup', gun, 'shared/s']],
    ['lookup missing', () => ['lookup', gun, 'nope']],
    ['delegation list', () => ['delegation', 'list', gun]],
    ['list unknown GUN', () => ['list', 'example.com/cli/none']],
  ])('%s (cold trust dirs)', async (_label, args) => {
    const { go, ours } = await coldBoth(args());
    expect(ours.stdout).toBe(go.stdout);
    expect(ours.code).toBe(go.code);
  });

  // Usage text is our own wording (and names notary-ts); the error line and exit code are Notary's.
  it.each([
    ['list without GUN', ['list']],
    ['lookup without target', ['lookup', gun]],
    ['verify without target', ['verify', gun]],
    ['delegation list without GUN', ['delegation', 'list']],
    ['unknown flag', ['list', gun, '--bogus']],
  ])('%s: same fatal line and exit code', async (_label, args) => {
    const { go, ours } = await coldBoth(args);
    const fatal = (s: string) => s.split('\n').filter((l) => l.startsWith('* fatal:'));
    expect(fatal(ours.stdout)).toEqual(fatal(go.stdout));
    expect(fatal(ours.stdout).length).toBe(1);
    expect(ours.code).toBe(go.code);
    expect(ours.stdout.startsWith('Usage:')).toBe(go.stdout.startsWith('Usage:'));
  });

  it('the listing is non-trivial (sanity: the repository has delegated targets)', async () => {
    const { ours } = await coldBoth(['list', gun]);
    expect(ours.stdout).toContain('targets/releases');
    expect(ours.stdout).toContain('targets/qa');
    expect(ours.stdout.split('\n').length).toBeGreaterThan(10);
  });

  it('verify: echoes matching content, refuses other content', async () => {
    const file = repo.payloads.get('café')!;
    for (const args of [
      ['verify', gun, 'café', '-i', file],
      ['verify', gun, 'café', '-i', file, '-q'],
      ['verify', gun, 'plain', '-i', file],
      ['verify', gun, 'missing', '-i', file],
    ]) {
      const { go, ours } = await coldBoth(args);
      expect(ours.code, args.join(' ')).toBe(go.code);
      // Go checks hashes in map order, so it names sha256 or sha512 at random; we always check sha256 first.
      if (/sha512 checksum/.test(go.stdout)) {
        expect(ours.stdout).toMatch(/^\n\* fatal: data not present in the trusted collection, sha256 checksum for plain did not match: expected [0-9a-f]{64}\n$/);
      } else {
        expect(ours.stdout, args.join(' ')).toBe(go.stdout);
      }
    }
    const { go, ours } = await coldBoth(['verify', gun, 'plain'], 'content of plain\n');
    expect(ours.stdout).toBe(go.stdout);
    expect(ours.stdout).toBe('content of plain\n');
  });

  it('each client reads the cache the other wrote, also offline', async () => {
    const shared = tempDir();
    await runNotary(['-s', server.url, '-d', shared, 'list', gun]);
    const afterGo = await runBoth(['-s', server.url, '-d', shared, 'list', gun]);
    expect(afterGo.ours.stdout).toBe(afterGo.go.stdout);
    const offline = await runBoth(['-s', 'http://127.0.0.1:9', '-d', shared, 'list', gun]);
    expect(offline.ours.code).toBe(0);
    expect(offline.ours.stdout).toBe(offline.go.stdout);

    const ourFirst = tempDir();
    await runOurs(['-s', server.url, '-d', ourFirst, 'list', gun]);
    const goOffline = await runNotary(['-s', 'http://127.0.0.1:9', '-d', ourFirst, 'list', gun]);
    expect(goOffline.code).toBe(0);
    expect(goOffline.stdout).toBe(afterGo.go.stdout);
  });

  it('offline with no cache: same error', async () => {
    const { go, ours } = await coldBoth(['-s', 'http://127.0.0.1:9', 'list', gun]);
    expect(goWords(ours.stdout)).toBe(go.stdout);
    expect(ours.stdout).toMatch(/client is offline: could not reach http:\/\/127\.0\.0\.1:9: .*connection refused/);
    expect(ours.code).toBe(1);
  });

  it('--json gives machine-readable output', async () => {
    const dir = tempDir();
    const r = await runOurs(['-s', server.url, '-d', dir, '--json', 'lookup', gun, 'rel/one']);
    const parsed = JSON.parse(r.stdout);
    expect(parsed).toMatchObject({ name: 'rel/one', role: 'targets/releases', size: 'content of rel/one\n'.length });
    expect(parsed.digest).toMatch(/^[0-9a-f]{64}$/);
    const err = await runOurs(['-s', server.url, '-d', dir, '--json', 'lookup', gun, 'nope']);
    expect(JSON.parse(err.stdout)).toEqual({ error: { code: 'TARGET_NOT_FOUND', message: 'No valid trust data for nope', where: 'nope' } });
    expect(err.code).toBe(1);
    void join;
  });
});
