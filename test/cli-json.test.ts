/**
 * `--json` on every command, through the shipped bin in a separate process (dist/cli/main.js; needs
 * `npm run build`): stdout is exactly one JSON document — the result, or `{"error":{code,message,where}}` —
 * nothing is ever asked on the terminal (a confirmation is an error naming the flag), and the exit code is
 * the one without --json. docs/cli-json.md documents the shapes checked here. Against a real notary-server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../src/cli/commands/index.js';
import { PASSPHRASE_ENV, startServer, type Server } from './support/go-repo.js';

const BIN = resolve('dist', 'cli', 'main.js');

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'notary-ts-json-test-'));
  temps.push(dir);
  return dir;
}

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export function runBin(args: readonly string[], options: { env?: Record<string, string>; stdin?: string | Buffer } = {}): Promise<Run> {
  return new Promise((done, reject) => {
    const env = { PATH: process.env['PATH'] ?? '', HOME: HOME, TZ: 'UTC', ...(options.env ?? PASSPHRASE_ENV) };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => done({ stdout, stderr, code: code ?? -1 }));
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

/** Exactly one JSON document, on one line, and nothing else on stdout. */
function oneDocument(r: Run, what: string): any {
  expect(r.stdout.endsWith('\n'), `${what}: stdout ${JSON.stringify(r.stdout)}\nstderr ${r.stderr}`).toBe(true);
  expect(r.stdout.indexOf('\n'), `${what}: more than one line on stdout: ${r.stdout}`).toBe(r.stdout.length - 1);
  return JSON.parse(r.stdout);
}

function expectError(r: Run, what: string, code: string): any {
  const doc = oneDocument(r, what);
  expect(Object.keys(doc), what).toEqual(['error']);
  expect(Object.keys(doc.error), what).toEqual(['code', 'message', 'where']);
  expect(doc.error.code, `${what}: ${doc.error.message}`).toBe(code);
  expect(r.code, what).toBe(1);
  return doc.error;
}

async function ok(args: readonly string[], what = args.join(' '), options: { env?: Record<string, string>; stdin?: string } = {}): Promise<any> {
  const r = await runBin(['--json', ...args], options);
  const doc = oneDocument(r, what);
  expect(doc.error, `${what}: ${JSON.stringify(doc.error)}`).toBeUndefined();
  expect(r.code, what).toBe(0);
  return doc;
}

const HOME = tempDir();
let server: Server;
let S: string[];
let trust: string;
const gun = 'example.com/json/app';
const covered = new Set<string>();
const cover = (name: string) => covered.add(name);

beforeAll(async () => {
  server = await startServer();
  trust = tempDir();
  S = ['-s', server.url, '-d', trust];
}, 60_000);

afterAll(async () => {
  await server?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('--json: one JSON document on stdout for every command (built bin, separate process)', () => {
  it('frame: version, --version, --help, help, completion, unknown command, usage and flag errors', async () => {
    expect(await ok(['version'])).toEqual({ name: 'notary-ts', version: expect.any(String), node: process.version });
    expect((await ok(['--version'])).version).toEqual(expect.any(String));
    expect((await ok(['--help'])).help).toMatch(/Available Commands:/);
    expect((await ok(['help', 'verify'])).help).toMatch(/standard input/);
    expect((await ok(['completion', 'bash'])).script).toMatch(/complete -o default -F/);
    const unknown = expectError(await runBin(['--json', 'lsit']), 'lsit', 'INVALID_ARGUMENT');
    expect(unknown.message).toMatch(/Did you mean this\?\n\tinit\n\tlist/);
    expect(unknown.where).toBe('lsit');
    // A usage error prints no usage text under --json, only the error.
    const usage = expectError(await runBin(['--json', 'add']), 'add without args', 'INVALID_ARGUMENT');
    expect(usage.message).toBe('Must specify a GUN, target, and path to target data');
    expect(expectError(await runBin(['--json', 'list', '--nope']), 'unknown flag', 'INVALID_ARGUMENT').where).toBe('--nope');
    // Exit codes are those without --json.
    expect((await runBin(['add'])).code).toBe(1);
    cover('version');
  });

  it('the write, read and key commands, in a real repository life cycle', async () => {
    const payload = join(tempDir(), 'payload.bin');
    writeFileSync(payload, 'json payload\n');
    const sha256 = createHash('sha256').update('json payload\n').digest('hex');

    const generated = await ok([...S, 'key', 'generate']);
    expect(generated).toEqual({ keyId: expect.stringMatching(/^[0-9a-f]{64}$/), role: 'root', algorithm: 'ecdsa' });
    cover('key generate');
    const init = await ok([...S, 'init', '-p', gun]);
    expect(init).toEqual({ gun, rootKeyId: generated.keyId, published: true });
    cover('init');
    expect(await ok([...S, 'add', gun, 'one', payload])).toEqual({
      gun,
      target: 'one',
      roles: ['targets'],
      length: 13,
      hashes: { sha256, sha512: createHash('sha512').update('json payload\n').digest('hex') },
      published: false,
    });
    cover('add');
    expect(await ok([...S, 'addhash', gun, 'two', '13', '--sha256', sha256])).toEqual({ gun, target: 'two', roles: ['targets'], length: 13, hashes: { sha256 }, published: false });
    cover('addhash');
    expect((await ok([...S, 'addhash', gun, 'three', '13', '--sha256', sha256])).target).toBe('three');
    const status = await ok([...S, 'status', gun]);
    expect(status.map((c: any) => c.path)).toEqual(['one', 'two', 'three']);
    cover('status');
    expect(await ok([...S, 'reset', gun, '-n', '2'])).toEqual({ gun, reset: [2] });
    cover('reset');
    expect(await ok([...S, 'publish', gun])).toEqual({ gun, published: true });
    cover('publish');
    const list = await ok([...S, 'list', gun]);
    expect(list.map((t: any) => t.name)).toEqual(['one', 'two']);
    cover('list');
    expect(await ok([...S, 'lookup', gun, 'one'])).toMatchObject({ name: 'one', digest: sha256, size: 13, role: 'targets' });
    cover('lookup');
    // verify: from a file and from stdin; the content is not echoed under --json.
    expect(await ok([...S, 'verify', gun, 'one', '-i', payload])).toMatchObject({ gun, target: 'one', verified: true, length: 13, hashes: { sha256 } });
    expect((await ok([...S, 'verify', gun, 'one'], 'verify stdin', { stdin: 'json payload\n' })).verified).toBe(true);
    const out = join(tempDir(), 'out.bin');
    expect((await ok([...S, 'verify', gun, 'one', '-o', out], 'verify -o', { stdin: 'json payload\n' })).output).toBe(out);
    expect(readFileSync(out, 'utf8')).toBe('json payload\n');
    const bad = expectError(await runBin(['--json', ...S, 'verify', gun, 'one'], { stdin: 'something else\n' }), 'verify mismatch', 'HASH_MISMATCH');
    expect(bad.message).toMatch(/^data not present in the trusted collection, /);
    expect(bad.where).toBe('one');
    cover('verify');
    expect(await ok([...S, 'remove', '-p', gun, 'two'])).toEqual({ gun, target: 'two', roles: ['targets'], published: true });
    cover('remove');
    expect(await ok([...S, 'witness', gun, 'targets'])).toEqual({ gun, witness: ['targets'], published: false });
    cover('witness');
    expectError(await runBin(['--json', ...S, 'lookup', gun, 'two']), 'lookup removed', 'TARGET_NOT_FOUND');

    // keys
    const keys = await ok([...S, 'key', 'list']);
    expect(keys.map((k: any) => k.role).sort()).toEqual(['root', 'snapshot', 'targets']);
    cover('key list');
    const exported = await ok([...S, 'key', 'export']);
    expect(exported.pem).toMatch(/-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    cover('key export');
    const other = tempDir();
    const keyFile = join(other, 'keys.pem');
    writeFileSync(keyFile, exported.pem);
    const imported = await ok(['-d', join(other, 'trust'), 'key', 'import', keyFile]);
    expect(imported.imported.map((k: any) => k.keyId).sort()).toEqual(keys.map((k: any) => k.keyId).sort());
    cover('key import');
    const targetsKey = keys.find((k: any) => k.role === 'targets').keyId;
    expect(await ok([...S, 'key', 'passwd', targetsKey])).toEqual({ keyId: targetsKey, passphraseChanged: true });
    cover('key passwd');
    const rotated = await ok([...S, 'key', 'rotate', gun, 'snapshot', '-r']);
    expect(rotated).toMatchObject({ gun, role: 'snapshot' });
    cover('key rotate');
    // Confirmations are never asked: an error names the flag that confirms, and nothing changes.
    const rootRotate = expectError(await runBin(['--json', ...S, 'key', 'rotate', gun, 'root'], { stdin: 'yes\n' }), 'root rotation', 'CONFIRMATION_REQUIRED');
    expect(rootRotate.where).toBe('--yes');
    const imp = join(other, 'trust');
    const toRemove = (await ok(['-d', imp, 'key', 'list'])).find((k: any) => k.role === 'snapshot').keyId;
    expect(expectError(await runBin(['--json', '-d', imp, 'key', 'remove', toRemove], { stdin: 'yes\n' }), 'key remove', 'CONFIRMATION_REQUIRED').where).toBe('--yes');
    expect((await ok(['-d', imp, 'key', 'list'])).some((k: any) => k.keyId === toRemove)).toBe(true);
    expect(await ok(['-d', imp, 'key', 'remove', '-y', toRemove])).toMatchObject({ keyId: toRemove, removed: true });
    cover('key remove');
  }, 120_000);

  it('delegations and co-signing', async () => {
    const work = tempDir();
    const g = await ok(['-d', trust, 'key', 'generate', '-o', join(work, 'alice'), '--role', 'targets/releases']);
    expect(existsSync(g.publicKeyFile)).toBe(true);
    expect(g.privateKeyFile).toBe(join(work, 'alice-key.pem'));
    // The delegation key: made by openssl, its private half imported here, its public half delegated to.
    const priv = join(work, 'bob-key.pem');
    const pub = join(work, 'bob.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', priv]);
    execFileSync('openssl', ['pkey', '-in', priv, '-pubout', '-out', pub]);
    const imported = await ok([...S, 'key', 'import', priv, '--role', 'targets/releases']);
    const keyId = imported.imported[0].keyId;
    const added = await ok([...S, 'delegation', 'add', '-p', gun, 'targets/releases', pub, '--all-paths']);
    expect(added).toEqual({ gun, role: 'targets/releases', keyIds: [keyId], paths: [''], threshold: 1, published: true });
    cover('delegation add');
    const delegations = await ok([...S, 'delegation', 'list', gun]);
    expect(delegations).toEqual([{ role: 'targets/releases', paths: [''], keyIds: [keyId], threshold: 1 }]);
    cover('delegation list');
    // co-signing through a file
    const payload = join(work, 'p.txt');
    writeFileSync(payload, 'cosigned\n');
    await ok([...S, 'add', '-r', 'targets/releases', gun, 'co', payload]);
    const pending = join(work, 'pending.json');
    const prepared = await ok([...S, 'cosign', 'prepare', gun, 'targets/releases', pending]);
    expect(prepared).toMatchObject({ role: 'targets/releases', threshold: 1, complete: true, added: ['co'] });
    cover('cosign prepare');
    expect((await ok([...S, 'cosign', 'sign', gun, 'targets/releases', pending])).complete).toBe(true);
    cover('cosign sign');
    expect((await ok([...S, 'cosign', 'status', gun, 'targets/releases', pending])).signedBy).toEqual([keyId]);
    cover('cosign status');
    expect(await ok([...S, 'cosign', 'publish', gun, 'targets/releases', pending])).toEqual({ gun, role: 'targets/releases', published: true });
    cover('cosign publish');
    expect((await ok([...S, 'lookup', gun, 'co'])).role).toBe('targets/releases');

    expect(await ok([...S, 'delegation', 'purge', gun, '--key', keyId])).toEqual({ gun, purgedKeyIds: [keyId], published: false });
    cover('delegation purge');
    await ok([...S, 'reset', gun, '--all']);
    // The whole-role removal needs -y; without it nothing is staged and nothing is asked.
    const removeAll = expectError(await runBin(['--json', ...S, 'delegation', 'remove', gun, 'targets/releases'], { stdin: 'yes\n' }), 'delegation remove', 'CONFIRMATION_REQUIRED');
    expect(removeAll.where).toBe('--yes');
    expect(await ok([...S, 'status', gun])).toEqual([]);
    expect(await ok([...S, 'delegation', 'remove', '-y', gun, 'targets/releases'])).toMatchObject({ gun, role: 'targets/releases', removeAll: true, published: false });
    cover('delegation remove');
    expect(await ok([...S, 'delete', gun])).toEqual({ gun, deletedLocal: true, deletedRemote: false });
    cover('delete');
  }, 120_000);

  it('passphrases: none and no terminal → NO_PASSPHRASE naming the variables; a wrong one → BAD_PASSPHRASE', async () => {
    const t = tempDir();
    const none = expectError(await runBin(['--json', '-d', t, 'key', 'generate'], { env: {} }), 'no passphrase', 'NO_PASSPHRASE');
    expect(none.message).toContain('NOTARY_ROOT_PASSPHRASE or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE');
    expect(none.where).toBe('root');
    // Without --json, the same words after `* fatal:`.
    const human = await runBin(['-d', t, 'key', 'generate'], { env: {} });
    expect(human.stdout).toMatch(/^\n\* fatal: no passphrase for the root key: NOTARY_ROOT_PASSPHRASE or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE \(no terminal to ask on/);
    expect(human.code).toBe(1);
    // Publishing with a wrong targets passphrase (the snapshot one is right).
    await ok(['-d', trust, 'addhash', gun, 'late', '1', '--sha256', 'aa'.repeat(32)]);
    const wrong = { ...PASSPHRASE_ENV, NOTARY_TARGETS_PASSPHRASE: 'not-the-passphrase' };
    const refused = expectError(await runBin(['--json', ...S, 'publish', gun], { env: wrong }), 'wrong passphrase', 'BAD_PASSPHRASE');
    expect(refused.message).toMatch(/targets/);
    const ci = { NOTARY_ROOT_PASSPHRASE: PASSPHRASE_ENV.NOTARY_ROOT_PASSPHRASE, NOTARY_SNAPSHOT_PASSPHRASE: PASSPHRASE_ENV.NOTARY_SNAPSHOT_PASSPHRASE };
    const missing = expectError(await runBin(['--json', ...S, 'publish', gun], { env: ci }), 'targets passphrase missing', 'NO_PASSPHRASE');
    expect(missing.message).toContain('NOTARY_TARGETS_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
    // Docker's variable is read for the targets key too.
    expect(await ok([...S, 'publish', gun], 'publish with DCT variable', { env: { ...ci, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE_ENV.NOTARY_TARGETS_PASSPHRASE } })).toEqual({ gun, published: true });
  }, 60_000);

  it('the gate, report and migration commands: one document, their exit codes', async () => {
    const policy = join(tempDir(), 'deny-all.yaml');
    writeFileSync(policy, 'default: deny\n');
    const denied = await runBin(['--json', 'trust', 'verify', '--policy', policy, 'example.com/app:v1']);
    const verdict = oneDocument(denied, 'trust verify');
    expect(verdict).toMatchObject({ allowed: false, images: [{ image: 'example.com/app:v1', allowed: false, rule: 'default', error: { code: 'POLICY_DENIED' } }] });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('');
    cover('trust verify');
    expect(expectError(await runBin(['--json', 'admission', 'serve']), 'admission serve', 'INVALID_ARGUMENT').message).toBe('--policy is required');
    cover('admission serve');
    // report: a repository the server does not have cannot be verified (exit 2), said in the one document.
    const report = await runBin(['--json', ...S, 'report', 'example.com/json/none']);
    expect(oneDocument(report, 'report').repositories[0].status).toBe('unverified');
    expect(report.code).toBe(2);
    cover('report');
    for (const command of ['migrate', 'refresh-timestamp', 'mirror', 'audit']) {
      expectError(await runBin(['--json', ...S, command, gun]), command, 'INVALID_ARGUMENT');
      cover(command);
    }
    // `trust` is docker's interface (docker trust has no --json; `trust inspect` prints JSON of its own),
    // tested byte for byte against docker in test/trust-docker.test.ts.
    cover('trust');
  }, 60_000);

  it('covered every command of the registry', () => {
    const all = COMMAND_GROUPS.flatMap((g) => g.paths.map((p) => p.join(' ')));
    expect(all.filter((c) => !covered.has(c))).toEqual([]);
  });
});
