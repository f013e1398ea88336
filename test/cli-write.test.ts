/**
 * The writing commands (init, add, addhash, remove, status, reset, publish, witness, delete), differential
 * against the real `notary` 0.7 on the same notary-server: same stdout and exit codes, the same changelist
 * file contents, and each client publishing what the other staged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCustomJson } from '../src/cli/writer.js';
import { parseGoInt64 } from '../src/cli/commands/write.js';
import { goWords, runNotary, runOurs, type CliRun, expectSameOutcome } from './support/cli.js';
import { PASSPHRASE_ENV, startServer, tempDir, type Server } from './support/go-repo.js';
// @ts-expect-error -- plain JS helper
import { freePort } from '../scripts/lib/notary-server.mjs';

const ENV: Record<string, string> = { ...PASSPHRASE_ENV };

let server: Server;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

function twin(): { go: string; ours: string } {
  return { go: join(tempDir('cli-write-go-'), 'trust'), ours: join(tempDir('cli-write-ours-'), 'trust') };
}

interface RunOpts {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
}

/** Runs Go on one trust_dir and us on the other (same args), trust_dir paths unified in the output. */
async function both(dirs: { go: string; ours: string }, args: string[], opts: RunOpts = {}): Promise<{ go: CliRun; ours: CliRun }> {
  const o = { env: { ...ENV, ...opts.env }, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) };
  const go = await runNotary(['-d', dirs.go, ...args], o);
  const ours = await runOurs(['-d', dirs.ours, ...args], o);
  return { go: { ...go, stdout: go.stdout.split(dirs.go).join('<TRUST>') }, ours: { ...ours, stdout: ours.stdout.split(dirs.ours).join('<TRUST>') } };
}


function changelistFiles(trustDir: string, gun: string): string[] {
  const dir = join(trustDir, 'tuf', ...gun.split('/'), 'changelist');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort();
}

function changelistContents(trustDir: string, gun: string): string[] {
  const dir = join(trustDir, 'tuf', ...gun.split('/'), 'changelist');
  return changelistFiles(trustDir, gun).map((f) => readFileSync(join(dir, f), 'utf8'));
}

const work = tempDir('cli-write-files-');
const PAYLOAD = join(work, 'payload.txt');
writeFileSync(PAYLOAD, 'hello notary\n');
const CUSTOM = join(work, 'custom.json');
writeFileSync(CUSTOM, '{"a": 1, "b": {"c": [1, 2], "d": "x"}}\n');

describe('staging commands: same output, same changelist files', () => {
  it('add / addhash / remove / witness, including the error paths', async () => {
    const dirs = twin();
    const gun = 'example.com/stage/targets';
    const sha256 = 'ab'.repeat(32);
    const sha512 = 'cd'.repeat(64);
    const cases: string[][] = [
      ['add', gun, 'plain', PAYLOAD],
      ['add', gun, 'dir/A<b>&c', PAYLOAD, '-r', 'targets/releases,targets'],
      ['add', gun, 'x', PAYLOAD, '-r', 'targets/NoUpper'],
      ['add', gun, 'x', PAYLOAD, '-r', 'targets,root'],
      ['add', gun, 'x', PAYLOAD, '-r', 'targets/*'],
      ['add', gun, 'x', join(work, 'missing')],
      ['add', gun, 'x'],
      ['add', gun, 'withcustom', PAYLOAD, '--custom', CUSTOM],
      ['add', gun, 'x', PAYLOAD, '--custom', join(work, 'missing.json')],
      ['addhash', gun, 'h1', '0x10', '--sha256', sha256],
      ['addhash', gun, 'h2', '010', '--sha512', sha512, '-r', 'targets/qa'],
      ['addhash', gun, 'h3', '1_000', '--sha256', sha256],
      ['addhash', gun, 'h4', '0b1_01', '--sha256', sha256],
      ['addhash', gun, 'h5', '-3', '--sha256', sha256],
      ['addhash', gun, 'h', 'abc', '--sha256', sha256],
      ['addhash', gun, 'h', '99999999999999999999', '--sha256', sha256],
      ['addhash', gun, 'h', '12', '--sha256', '00'],
      ['addhash', gun, 'h', '12', '--sha512', '00'],
      ['addhash', gun, 'h', '12', '--sha256', 'g'.repeat(64)],
      ['addhash', gun, 'h', '12'],
      ['addhash', gun, 'h6', '7', '--sha256', sha256, '--custom', CUSTOM],
      ['remove', gun, 'plain'],
      ['remove', gun, 'rel', '-r', 'targets/releases'],
      ['remove', gun, 'x', '-r', 'snapshot'],
      ['remove', gun],
      ['witness', gun, 'targets', 'targets/releases', 'whatever'],
      ['witness', gun],
    ];
    for (const args of cases) {
      const r = await both(dirs, args);
      expectSameOutcome(r, args.join(' '));
      expect(changelistContents(dirs.ours, gun), args.join(' ')).toEqual(changelistContents(dirs.go, gun));
    }
    // Both hashes: Go prints them in (random) map order.
    const r = await both(dirs, ['addhash', gun, 'both', '3', '--sha512', sha512, '--sha256', sha256]);
    expect(r.ours.stdout).toBe(`Addition of target "both" by sha256, sha512 hash to repository "${gun}" staged for next publish.\n`);
    expect([r.ours.stdout, r.ours.stdout.replace('sha256, sha512', 'sha512, sha256')]).toContain(r.go.stdout);
    expect(changelistContents(dirs.ours, gun)).toEqual(changelistContents(dirs.go, gun));
    expect(changelistFiles(dirs.ours, gun).every((f) => /^\d{20}_[0-9a-f-]{36}\.change$/.test(f))).toBe(true);

    // status, then reset by number and all.
    expectSameOutcome(await both(dirs, ['status', gun]));
    const json = JSON.parse((await runOurs(['-d', dirs.ours, 'status', gun, '--json'])).stdout);
    expect(json.length).toBe(changelistFiles(dirs.ours, gun).length);
    expect(Object.keys(json[0])).toEqual(['index', 'action', 'scope', 'type', 'path', 'file']);
    for (const args of [['reset', gun, '-n', '1,3', '-n', '99'], ['reset', gun, '-n', '1x'], ['reset', gun], ['reset'], ['status'], ['status', 'example.com/unknown']]) {
      expectSameOutcome(await both(dirs, args), args.join(' '));
      expect(changelistContents(dirs.ours, gun)).toEqual(changelistContents(dirs.go, gun));
    }
    expectSameOutcome(await both(dirs, ['status', gun]));
    expectSameOutcome(await both(dirs, ['reset', gun, '--all']));
    expectSameOutcome(await both(dirs, ['status', gun]));
    expect(changelistFiles(dirs.ours, gun)).toEqual([]);
    expect((await runOurs(['-d', dirs.ours, 'status', gun, '--json'])).stdout).toBe('[]\n');
  });

  it('custom data must be Notary-canonical (we refuse what notary would publish and then fail to verify)', async () => {
    expect(checkCustomJson(' {"a":1,\n "b":[1,2]}\n', 'f')).toBe('{"a":1,"b":[1,2]}');
    for (const ok of ['"just a string"', '[3,1,2]', 'null', '{"a":"é"}', '{"ﬁ":2,"😀":1}']) {
      expect(checkCustomJson(ok, 'f')).toBe(ok);
    }
    const bad = ['{"b":1,"a":2}', '{"a":"<"}', '{"a":"\\u00e9"}', '{"a":"\\/"}', '{"a":"x\\ty"}', '{"a":1.0}', '{"a":1e2}', '{"a":9007199254740993}', '{"a":1.5}', '{"a":1,"a":2}', '{"😀":1,"ﬁ":2}', '{"a":'];
    for (const text of bad) {
      expect(() => checkCustomJson(text, 'f'), text).toThrow(expect.objectContaining({ code: expect.stringMatching(/NON_CANONICAL|MALFORMED_JSON/) }));
    }
    // Through the CLI: nothing is staged, exit 1.
    const dir = tempDir();
    const file = join(work, 'unsorted.json');
    writeFileSync(file, '{"b":1,"a":2}');
    const r = await runOurs(['-d', dir, 'add', 'example.com/custom', 't', PAYLOAD, '--custom', file], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\n\* fatal: custom data in .*unsorted\.json is not in Notary's canonical JSON form/);
    expect(changelistFiles(dir, 'example.com/custom')).toEqual([]);
    const json = await runOurs(['-d', dir, 'add', 'example.com/custom', 't', PAYLOAD, '--custom', file, '--json'], { env: ENV });
    expect(JSON.parse(json.stdout).error.code).toBe('NON_CANONICAL');
  });

  it('parses sizes like Go strconv.ParseInt(s, 0, 64)', () => {
    expect(parseGoInt64('0x1F')).toBe(31n);
    expect(parseGoInt64('017')).toBe(15n);
    expect(parseGoInt64('0o17')).toBe(15n);
    expect(parseGoInt64('-0b11')).toBe(-3n);
    expect(parseGoInt64('1_000')).toBe(1000n);
    expect(parseGoInt64('0')).toBe(0n);
    for (const bad of ['', '_1', '1__0', '1_', '0x', '08', '1e3', ' 1', '0x_']) expect(() => parseGoInt64(bad), bad).toThrow(/invalid syntax/);
    expect(() => parseGoInt64('9223372036854775808')).toThrow(/value out of range/);
  });
});

describe('publishing: interop with notary on the same server', () => {
  it('init, publish offline and online, -p forms, delete: same output as notary', async () => {
    const dirs = twin();
    const s = ['-s', server.url];
    const offline = ['-s', 'http://127.0.0.1:1'];
    // init offline fails the same way. Deliberate difference: notary has already created the root, targets
    // and snapshot keys by then and leaves them behind; we ask the server first and create nothing.
    const offDirs = twin();
    expectSameOutcome(await both(offDirs, [...offline, 'init', 'example.com/pub/offline']));
    expect(readdirSync(join(offDirs.go, 'private')).filter((f) => f.endsWith('.key')).length).toBe(3);
    expect(existsSync(join(offDirs.ours, 'private')) ? readdirSync(join(offDirs.ours, 'private')).filter((f) => f.endsWith('.key')) : []).toEqual([]);
    // Then both init for real (each its own GUN on the server).
    for (const who of ['go', 'ours'] as const) {
      const gun = `example.com/pub/${who}`;
      const run = who === 'go' ? runNotary : runOurs;
      const dir = dirs[who];
      const outs: string[] = [];
      const go = (args: string[]) => run(['-d', dir, ...args], { env: ENV }).then((r) => outs.push(`${r.code}:${goWords(r.stdout).split(dir).join('<TRUST>')}`));
      await go([...s, 'init', gun]);
      await go([...s, 'init', gun]); // re-init: reuses the root key
      await go([...offline, 'publish', gun]);
      await go([...s, 'add', gun, 'a', PAYLOAD, '-p']);
      await go([...s, 'addhash', gun, 'b', '5', '--sha256', 'ab'.repeat(32), '-p']);
      await go([...s, 'remove', gun, 'a', '-p']);
      await go([...s, 'witness', gun, 'targets', '-p']);
      await go([...s, 'publish', gun]);
      await go([...s, 'status', gun]);
      await go([...s, 'list', gun]);
      await go([...s, 'add', gun, 'y', PAYLOAD, '-r', 'targets/unknown']);
      await go([...s, 'publish', gun]);
      await go([...s, 'status', gun]);
      await go([...s, 'reset', gun, '--all']);
      await go([...s, 'witness', gun, 'targets/zzz', '-p']);
      await go([...s, 'reset', gun, '--all']);
      await go([...s, 'delete', gun]);
      await go([...s, 'delete', gun, '--remote']);
      await go([...s, 'list', gun]);
      await go([...offline, 'delete', gun, '--remote']);
      (dirs as unknown as Record<string, string[]>)[`${who}Out`] = outs;
    }
    const norm = (outs: string[], who: string) =>
      outs.map((o) => o.split(`example.com/pub/${who}`).join('GUN').replace(/Root key found, using: [0-9a-f]{64}/, 'Root key found, using: ID'));
    const r = dirs as unknown as Record<string, string[]>;
    expect(norm(r['oursOut']!, 'ours')).toEqual(norm(r['goOut']!, 'go'));
  });

  it('alternating in one trust_dir: notary publishes what we staged, we publish what notary staged; both list the same', async () => {
    const dir = tempDir();
    const gun = 'example.com/pub/alternate';
    const s = ['-s', server.url, '-d', dir];
    const ok = (r: CliRun) => {
      expect(r.code, r.stdout).toBe(0);
      return r;
    };
    ok(await runNotary([...s, 'init', gun], { env: ENV }));
    ok(await runOurs([...s, 'add', gun, 'staged-by-ours', PAYLOAD, '--custom', CUSTOM], { env: ENV }));
    ok(await runOurs([...s, 'addhash', gun, 'hash-by-ours', '0x20', '--sha512', 'cd'.repeat(64)], { env: ENV }));
    ok(await runNotary([...s, 'publish', gun], { env: ENV }));
    ok(await runNotary([...s, 'add', gun, 'staged-by-go', PAYLOAD], { env: ENV }));
    ok(await runNotary([...s, 'witness', gun, 'targets'], { env: ENV }));
    ok(await runOurs([...s, 'publish', gun], { env: ENV }));
    ok(await runOurs([...s, 'remove', gun, 'staged-by-go'], { env: ENV }));
    ok(await runOurs([...s, 'add', gun, 'then-by-ours', PAYLOAD, '-p'], { env: ENV }));
    expect(changelistFiles(dir, gun)).toEqual([]);
    const fresh = [tempDir(), tempDir()];
    const go = ok(await runNotary(['-s', server.url, '-d', fresh[0]!, 'list', gun]));
    const ours = ok(await runOurs(['-s', server.url, '-d', fresh[1]!, 'list', gun]));
    expect(ours.stdout).toBe(go.stdout);
    expect(go.stdout).toMatch(/hash-by-ours +c{0}/);
    expect(go.stdout).toContain('staged-by-ours');
    expect(go.stdout).toContain('then-by-ours');
    expect(go.stdout).not.toContain('staged-by-go');
    // The custom data went through as given (canonical), and Go verifies it.
    const lookup = await runNotary(['-s', server.url, '-d', fresh[0]!, 'lookup', gun, 'staged-by-ours']);
    expect(lookup.code).toBe(0);
  });

  it('init by us (new root key, then --rootkey import, --rootcert) is accepted by notary', async () => {
    const gun = 'example.com/pub/rootkey';
    const dir = tempDir();
    const s = ['-s', server.url, '-d', dir];
    const first = await runOurs([...s, 'init', gun, '-p'], { env: ENV });
    expect(first).toMatchObject({ code: 0, stdout: `Auto-publishing changes to ${gun}\nSuccessfully published changes for repository ${gun}\n` });
    expect((await runNotary(['-s', server.url, '-d', tempDir(), 'list', gun])).stdout).toBe('\nNo targets present in this repository.\n\n');

    // --rootkey: an encrypted key file (Go's `key generate -o` encrypts it with the delegation passphrase).
    const keyDir = tempDir();
    expect((await runNotary(['-d', tempDir(), 'key', 'generate', '-o', join(keyDir, 'rk')], { env: ENV })).code).toBe(0);
    const dirs = twin();
    const env = { NOTARY_ROOT_PASSPHRASE: ENV['NOTARY_DELEGATION_PASSPHRASE']! };
    const withKey = await both(dirs, ['-s', server.url, 'init', 'example.com/pub/rootkey2', '--rootkey', join(keyDir, 'rk-key.pem')], { env });
    expectSameOutcome(withKey);
    expect(withKey.ours.stdout).toMatch(/^Root key found, using: [0-9a-f]{64}\n$/);
    for (const [args, e] of [
      [['init', 'example.com/pub/rk3', '--rootkey', join(work, 'nope.pem')], {}],
      [['init', 'example.com/pub/rk3', '--rootkey', PAYLOAD], {}],
      [['init', 'example.com/pub/rk3', '--rootkey', join(keyDir, 'rk.pem')], {}],
      [['init', 'example.com/pub/rk3', '--rootkey', join(keyDir, 'rk-key.pem')], { NOTARY_ROOT_PASSPHRASE: 'wrong-passphrase' }],
      [['init', 'example.com/pub/rk3', '--rootcert', PAYLOAD], {}],
      [['init', 'example.com/pub/rk3', '--rootcert', join(work, 'nope.crt')], {}],
      [['init'], {}],
    ] as const) {
      expectSameOutcome(await both(dirs, ['-s', server.url, ...args], { env: { ...env, ...e } }), args.join(' '));
    }
    // --rootcert: the certificate of a root key in the key store (here: the one a first init made, taken from its
    // root.json) is used as is, and picks that key. Same output from both clients; notary reads what we publish.
    const certOuts: string[] = [];
    for (const who of ['go', 'ours'] as const) {
      const run = who === 'go' ? runNotary : runOurs;
      const d = tempDir();
      const g = `example.com/pub/rootcert-${who}`;
      expect((await run(['-s', server.url, '-d', d, 'init', g], { env: ENV })).code).toBe(0);
      const root = JSON.parse(readFileSync(join(d, 'tuf', ...g.split('/'), 'metadata', 'root.json'), 'utf8'));
      const rootId = root.signed.roles.root.keyids[0];
      const certFile = join(d, 'root.crt');
      writeFileSync(certFile, Buffer.from(root.signed.keys[rootId].keyval.public, 'base64'));
      await run(['-d', d, 'delete', g], { env: ENV });
      const r = await run(['-s', server.url, '-d', d, 'init', g, '--rootcert', certFile, '-p'], { env: ENV });
      certOuts.push(`${r.code}:${r.stdout.split(g).join('GUN').replace(/[0-9a-f]{64}/g, 'ID')}`);
      const published = JSON.parse(readFileSync(join(d, 'tuf', ...g.split('/'), 'metadata', 'root.json'), 'utf8'));
      expect(published.signed.keys[rootId]).toEqual(root.signed.keys[rootId]);
      expect((await runNotary(['-s', server.url, '-d', tempDir(), 'list', g])).stdout).toBe('\nNo targets present in this repository.\n\n');
    }
    expect(certOuts[1]).toBe(certOuts[0]);
    expect(certOuts[1]).toBe('0:Root key found, using: ID\nAuto-publishing changes to GUN\nSuccessfully published changes for repository GUN\n');

    // An unencrypted key file is refused.
    const plain = join(keyDir, 'plain.pem');
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', plain]);
    const refused = await both(dirs, ['-s', server.url, 'init', 'example.com/pub/rk4', '--rootkey', plain]);
    expectSameOutcome(refused);
    expect(refused.ours.stdout).toBe('\n* fatal: only encrypted root keys may be imported\n');
  });

  it('error paths: unknown delegation, missing keys, wrong passphrase change nothing', async () => {
    const dir = tempDir();
    const gun = 'example.com/pub/errors';
    const s = ['-s', server.url, '-d', dir];
    expect((await runOurs([...s, 'init', gun, '-p'], { env: ENV })).code).toBe(0);
    const serverState = async () => (await runNotary(['-s', server.url, '-d', tempDir(), 'list', gun])).stdout;
    const before = await serverState();
    const twinOf = () => {
      const d = { go: join(tempDir(), 'trust'), ours: join(tempDir(), 'trust') };
      execCp(dir, d.go);
      execCp(dir, d.ours);
      return d;
    };
    // A wrong targets passphrase: Go cannot sign ("could not find necessary signing keys"); nothing changes.
    let d = twinOf();
    const wrong = { NOTARY_TARGETS_PASSPHRASE: 'not-the-passphrase' };
    let r = await both(d, ['-s', server.url, 'add', gun, 'x', PAYLOAD, '-p'], { env: wrong });
    // notary-ts says it is the passphrase (BAD_PASSPHRASE under --json, as in the library); same exit code.
    expect(r.ours.stdout).toBe(r.go.stdout.replace('* fatal: ', '* fatal: passphrase refused for the targets key: '));
    expect(r.ours.code).toBe(r.go.code);
    expect(r.go.stdout).toMatch(/\* fatal: could not find necessary signing keys, at least one of these keys must be available: [0-9a-f]{64}\n$/);
    expect(changelistContents(d.ours, gun)).toEqual(changelistContents(d.go, gun));
    expect(changelistContents(d.ours, gun).length).toBe(1);
    expect(await serverState()).toBe(before);
    // Missing key: a delegation whose key we do not hold.
    d = twinOf();
    const pub = join(work, 'deleg.pub.pem');
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(work, 'deleg.key')]);
    execFileSync('openssl', ['pkey', '-in', join(work, 'deleg.key'), '-pubout', '-out', pub]);
    expect((await runOurs([...s, 'delegation', 'add', gun, 'targets/releases', pub, '--all-paths', '-p'], { env: ENV })).code).toBe(0);
    d = twinOf();
    r = await both(d, ['-s', server.url, 'add', gun, 'rel', PAYLOAD, '-r', 'targets/releases', '-p']);
    expectSameOutcome(r);
    expect(r.ours.stdout).toMatch(/could not find necessary signing keys/);
    // Unknown delegation role.
    d = twinOf();
    r = await both(d, ['-s', server.url, 'add', gun, 'u', PAYLOAD, '-r', 'targets/unknown', '-p']);
    expectSameOutcome(r);
    expect(r.ours.stdout).toContain('* fatal: tuf: invalid role targets/unknown. delegation does not exist');
    // Offline publish.
    d = twinOf();
    r = await both(d, ['-s', 'http://127.0.0.1:1', 'publish', gun]);
    expect(r.ours.code).toBe(r.go.code);
    // Go's line, then the server and the cause Go only logs (issue 9)
    expect(r.go.stdout).toBe(`Pushing changes to ${gun}\n\n* fatal: client is offline\n`);
    expect(r.ours.stdout).toMatch(/^Pushing changes to \S+\n\n\* fatal: client is offline: could not reach http:\/\/127\.0\.0\.1:1: .*connection refused.*\n$/);
  });
});

function execCp(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

describe('-s file://DIR: publishing into a directory served statically', () => {
  let http: ChildProcess | undefined;
  afterAll(() => {
    http?.kill();
  });

  it('our init + add + publish into a directory; notary lists it through python3 -m http.server', async () => {
    const site = tempDir('site-');
    const dir = tempDir();
    const gun = 'example.com/static/app';
    const env = { ...ENV, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'timestamp-passphrase' };
    const s = ['-s', `file://${site}`, '-d', dir];
    expect(await runOurs([...s, 'init', gun], { env })).toMatchObject({ code: 0, stdout: '' });
    expect((await runOurs([...s, 'add', gun, 'v1.0', PAYLOAD], { env })).code).toBe(0);
    expect((await runOurs([...s, 'addhash', gun, 'v1.1', '13', '--sha256', 'ab'.repeat(32), '-p'], { env })).stdout).toContain('Successfully published');
    expect(existsSync(join(site, 'v2', 'example.com', 'static', 'app', '_trust', 'tuf', 'timestamp.json'))).toBe(true);
    // We read it back through the same file:// URL (fresh trust_dir: TOFU from the directory).
    const oursList = await runOurs(['-s', `file://${site}`, '-d', tempDir(), 'list', gun]);
    expect(oursList.code).toBe(0);

    const port: number = await freePort();
    http = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port), '--directory', site], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    let go: CliRun | undefined;
    for (let i = 0; i < 50; i++) {
      go = await runNotary(['-s', url, '-d', tempDir(), 'list', gun]);
      if (go.code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(go!.code, go!.stdout).toBe(0);
    expect(go!.stdout).toBe(oursList.stdout);
    expect(go!.stdout).toContain('v1.0');
    expect(go!.stdout).toContain('v1.1');
    const verify = await runNotary(['-s', url, '-d', tempDir(), 'verify', gun, 'v1.0', '-i', PAYLOAD]);
    expect(verify.code).toBe(0);
    // A second publish bumps the timestamp; notary follows with its cache.
    const goDir = tempDir();
    await runNotary(['-s', url, '-d', goDir, 'list', gun]);
    expect((await runOurs([...s, 'remove', gun, 'v1.1', '-p'], { env })).code).toBe(0);
    const after = await runNotary(['-s', url, '-d', goDir, 'list', gun]);
    expect(after.code).toBe(0);
    expect(after.stdout).not.toContain('v1.1');
    // delete --remote removes the GUN from the directory.
    expect((await runOurs([...s, 'delete', gun, '--remote'], { env })).stdout).toBe(
      `Deleting trust data for repository ${gun}\nSuccessfully deleted local and remote trust data for repository ${gun}\n`,
    );
    expect(existsSync(join(site, 'v2', 'example.com', 'static', 'app', '_trust'))).toBe(false);
  });
});

describe('target names that are Object.prototype members', () => {
  it('__proto__ and constructor: added, published and looked up as notary does (and absent ones are not found)', async () => {
    const s = ['-s', server.url];
    const outs: Record<'go' | 'ours', string[]> = { go: [], ours: [] };
    for (const who of ['go', 'ours'] as const) {
      const gun = `example.com/proto/${who}`;
      const run = who === 'go' ? runNotary : runOurs;
      const dir = tempDir(`cli-proto-${who}-`);
      const step = async (args: string[]) => {
        const r = await run(['-d', dir, ...args], { env: ENV });
        outs[who].push(`${r.code}:${r.stdout.split(gun).join('GUN')}`);
      };
      await step([...s, 'init', gun, '-p']);
      await step([...s, 'lookup', gun, '__proto__']);
      await step([...s, 'lookup', gun, 'toString']);
      await step([...s, 'add', gun, '__proto__', PAYLOAD, '-p']);
      await step([...s, 'add', gun, 'constructor', PAYLOAD, '-p']);
      await step([...s, 'list', gun]);
      await step([...s, 'lookup', gun, '__proto__']);
      await step([...s, 'remove', gun, '__proto__', '-p']);
      await step([...s, 'list', gun]);
    }
    expect(outs.ours).toEqual(outs.go);
    expect(outs.go.join('\n')).toContain('constructor');
    // Cross-read: each lists the other's repository identically.
    const goReads = await runNotary(['-s', server.url, '-d', tempDir(), 'list', 'example.com/proto/ours'], { env: ENV });
    const oursReads = await runOurs(['-s', server.url, '-d', tempDir(), 'list', 'example.com/proto/go'], { env: ENV });
    expect(goReads.stdout.split('example.com/proto/ours').join('GUN')).toBe(oursReads.stdout.split('example.com/proto/go').join('GUN'));
  });
});
