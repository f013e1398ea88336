/**
 * `key` commands, differential against the real `notary` 0.7: same arguments, same trust_dir content, same
 * stdout and exit code; and keys crossing between the two clients in both directions.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../src/core/bytes.js';
import { canonicalize } from '../src/core/canonical.js';
import { publicKeyOf } from '../src/core/init.js';
import { decodePublicKey } from '../src/core/keys.js';
import { nodeCryptoBackend } from '../src/crypto/node.js';
import { decodeKeyFile, encodePublicKeyPem, privateKeyId, readKeyFileInfo } from '../src/node/keyfile.js';
import { formatKeyList, notaryTable, truncateWithEllipsis } from '../src/cli/commands/key.js';
import { runBoth, runNotary, runOurs, type CliRun } from './support/cli.js';
import { notaryFixturesDir } from './support/fixtures.js';

const ENV = {
  NOTARY_ROOT_PASSPHRASE: 'root-pass-123',
  NOTARY_TARGETS_PASSPHRASE: 'targets-pass-123',
  NOTARY_SNAPSHOT_PASSPHRASE: 'snapshot-pass-123',
  NOTARY_DELEGATION_PASSPHRASE: 'deleg-pass-123',
};

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'cli-key-'));
}

/** Two copies of a trust_dir: one for Go, one for us. Outputs are compared with the directory names unified. */
function twin(seed?: string): { go: string; ours: string } {
  const go = join(tmp(), 'trust');
  const ours = join(tmp(), 'trust');
  if (seed) {
    cpSync(seed, go, { recursive: true });
    cpSync(seed, ours, { recursive: true });
  }
  return { go, ours };
}

async function both(dirs: { go: string; ours: string }, args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<{ go: CliRun; ours: CliRun }> {
  const go = await runNotary(['-d', dirs.go, ...args], { env: { ...ENV, ...opts.env }, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
  const ours = await runOurs(['-d', dirs.ours, ...args], { env: { ...ENV, ...opts.env }, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
  // A long TMPDIR (scripts/test.sh gives each test file its own) makes LOCATION a truncated tail, which holds
  // the twins' own directory names (cli-key-XXXXXX): unify those too, at the same length.
  const unify = (text: string, dir: string) => text.split(dir).join('<TRUST>').split(basename(dirname(dir))).join('cli-key-TWIN00');
  return { go: { ...go, stdout: unify(go.stdout, dirs.go) }, ours: { ...ours, stdout: unify(ours.stdout, dirs.ours) } };
}

function expectSame(r: { go: CliRun; ours: CliRun }): void {
  expect(r.ours.stdout).toBe(r.go.stdout);
  expect(r.ours.code).toBe(r.go.code);
}

function keyFiles(trustDir: string): Record<string, string> {
  const dir = join(trustDir, 'private');
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.key')).sort().map((f) => [f, readFileSync(join(dir, f), 'latin1')]));
}

describe('formatting helpers match Go', () => {
  it('tabwriter widths (minwidth 4, padding 4) and left truncation of GUN (25) and LOCATION (40)', () => {
    expect(notaryTable(['ab', 'x', 'tail'], [['abcdef', '', 't']])).toBe('ab        x    tail\n--        -    ----\nabcdef         t\n');
    expect(truncateWithEllipsis('docker.com/notary0.1/samplerepo', 25, true)).toBe('...m/notary0.1/samplerepo');
    expect(truncateWithEllipsis('short', 25, true)).toBe('short');
    expect(formatKeyList([])).toBe('No signing keys found.\n');
  });
});

describe('key list / generate', () => {
  it('an empty store lists the same', async () => {
    expectSame(await both(twin(), ['key', 'list']));
  });

  it('keys we generate are listed by notary exactly as we list them (and as JSON)', async () => {
    const dirs = twin();
    for (const role of ['root', 'targets', 'targets/releases', 'weird']) {
      const r = await runOurs(['-d', dirs.ours, 'key', 'generate', '--role', role], { env: ENV });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Generated new ecdsa ${role.replace('/', '\\/')} key with keyID: [0-9a-f]{64}\\n$`));
    }
    const go = await runNotary(['-d', dirs.ours, 'key', 'list']);
    const ours = await runOurs(['-d', dirs.ours, 'key', 'list']);
    expect(go.code).toBe(0);
    expect(ours.stdout).toBe(go.stdout);
    expect(ours.stdout.split('\n').filter((l) => /^[a-z]/.test(l)).map((l) => l.split(/ +/)[0])).toEqual(['root', 'targets', 'targets/releases', 'weird']);
    const json = JSON.parse((await runOurs(['-d', dirs.ours, 'key', 'list', '--json'])).stdout);
    expect(json.map((k: any) => Object.keys(k))).toEqual(Array(4).fill(['role', 'gun', 'keyId', 'location']));
    expect(json[0].location).toBe(join(dirs.ours, 'private'));
    // notary decrypts every key we wrote (key passwd re-encrypts with the same env passphrase) …
    for (const f of Object.keys(keyFiles(dirs.ours))) {
      const r = await runNotary(['-d', dirs.ours, 'key', 'passwd', f.slice(0, -4)], { env: ENV });
      expect(r.stdout, f).toBe(`\nSuccessfully updated passphrase for key ID: ${f.slice(0, -4)}\n`);
    }
    // … and we decrypt what it re-wrote.
    for (const [f, text] of Object.entries(keyFiles(dirs.ours))) {
      const role = readKeyFileInfo(text).role;
      const pass = role === 'root' ? ENV.NOTARY_ROOT_PASSPHRASE : role === 'targets' ? ENV.NOTARY_TARGETS_PASSPHRASE : ENV.NOTARY_DELEGATION_PASSPHRASE;
      expect(privateKeyId(decodeKeyFile(text, pass, f))).toBe(f.slice(0, -4));
    }
  });

  it('a store with nested, symlinked, corrupt and non-key files lists like notary (and keeps legacy quirks)', async () => {
    const seed = tmp();
    await runOurs(['-d', seed, 'key', 'generate', '--role', 'targets'], { env: ENV });
    await runOurs(['-d', seed, 'key', 'generate'], { env: ENV });
    const priv = join(seed, 'private');
    const [first] = Object.keys(keyFiles(seed));
    cpSync(join(priv, first!), join(priv, 'sub', 'dir', '1'.repeat(64) + '.key'), { recursive: true });
    writeFileSync(join(priv, 'garbage.key'), 'garbage\n');
    writeFileSync(join(priv, 'cert.key'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(priv, 'trunc.key'), readFileSync(join(priv, first!), 'latin1').slice(0, 150));
    writeFileSync(join(priv, 'note.txt'), 'x');
    expectSame(await both(twin(seed), ['key', 'list']));
    expectSame(await both(twin(seed), ['key', 'export']));
    expectSame(await both(twin(seed), ['key', 'export', '--key', '1'.repeat(64)]));
  });

  it('legacy fixtures migrate and list identically', async () => {
    for (const f of ['notary0.1', 'notary0.3']) {
      const dirs = twin(join(notaryFixturesDir(), f));
      expectSame(await both(dirs, ['key', 'list']));
      expect(keyFiles(dirs.ours)).toEqual(keyFiles(dirs.go));
    }
  });

  it('generate -o writes PREFIX.pem and PREFIX-key.pem (NOTARY_DELEGATION_PASSPHRASE, even for root), prints nothing, stores nothing', async () => {
    const dirs = twin();
    const out = tmp();
    const r = await runOurs(['-d', dirs.ours, 'key', 'generate', '-o', join(out, 'k')], { env: ENV });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(keyFiles(dirs.ours)).toEqual({});
    const priv = readFileSync(join(out, 'k-key.pem'), 'latin1');
    expect(priv.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n\n')).toBe(true);
    const key = decodeKeyFile(priv, ENV.NOTARY_DELEGATION_PASSPHRASE);
    expect(readFileSync(join(out, 'k.pem'), 'latin1')).toBe(encodePublicKeyPem(key, 'root'));
    expect(statSync(join(out, 'k-key.pem')).mode & 0o777).toBe(0o600);
    // Without a `path:` header neither client can import it.
    const imp = await both(dirs, ['key', 'import', join(out, 'k-key.pem')]);
    expectSame(imp);
    expect(imp.ours.stdout).toBe('\n* fatal: failed to import all keys: invalid key pem block\n');
    // Without the delegation passphrase (root's is not used) it gives up as notary does.
    const env = { ...ENV, NOTARY_DELEGATION_PASSPHRASE: '' };
    const g = await both(dirs, ['key', 'generate', '-o', join(out, 'k2')], { env });
    // Same exit code; notary-ts names the variables it reads instead of Notary's bare words (issue 13).
    expect(g.go.stdout).toBe('\n* fatal: maximum number of passphrase attempts exceeded\n');
    expect(g.ours.code).toBe(g.go.code);
    expect(g.ours.stdout).toMatch(/^\n\* fatal: no passphrase for the exported key: NOTARY_DELEGATION_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE \(no terminal to ask on;/);
  });
});

describe('errors and prompts match notary byte for byte', () => {
  const cases: Array<[string, string[], string?]> = [
    ['generate rsa', ['key', 'generate', 'rsa']],
    ['remove bad id', ['key', 'remove', 'abc']],
    ['remove unknown id', ['key', 'remove', '0'.repeat(64)]],
    ['passwd bad id', ['key', 'passwd', 'abc']],
    ['passwd unknown id', ['key', 'passwd', '0'.repeat(64)]],
    ['import missing file', ['key', 'import', '/nonexistent/keys.pem']],
    ['export with --gun and --key', ['key', 'export', '--gun', 'a', '--key', 'b']],
    ['export unknown gun', ['key', 'export', '--gun', 'nope']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      expectSame(await both(twin(), args));
    });
  }

  it('remove asks, aborts on anything but y/yes, deletes on YES', async () => {
    const seed = tmp();
    await runOurs(['-d', seed, 'key', 'generate', '--role', 'targets/qa'], { env: ENV });
    const id = Object.keys(keyFiles(seed))[0]!.slice(0, -4);
    for (const answer of ['no\n', '', 'yes please\n']) {
      const dirs = twin(seed);
      const r = await both(dirs, ['key', 'remove', id], { stdin: answer });
      expectSame(r);
      expect(r.ours.stdout).toContain('Aborting action.');
      expect(Object.keys(keyFiles(dirs.ours))).toHaveLength(1);
    }
    const dirs = twin(seed);
    const r = await both(dirs, ['key', 'remove', id], { stdin: 'YES\n' });
    expectSame(r);
    expect(r.ours.stdout).toBe(`\nAre you sure you want to remove ${id} (role targets/qa) from <TRUST>/private?  (yes/no)  \nDeleted ${id} (role targets/qa) from <TRUST>/private.\n\n`);
    expect(keyFiles(dirs.ours)).toEqual({});
    expect(keyFiles(dirs.go)).toEqual({});
  });

  it('passwd with a wrong passphrase fails like notary and changes nothing', async () => {
    const seed = tmp();
    await runOurs(['-d', seed, 'key', 'generate', '--role', 'targets'], { env: ENV });
    const id = Object.keys(keyFiles(seed))[0]!.slice(0, -4);
    const dirs = twin(seed);
    const before = keyFiles(dirs.ours);
    const r = await both(dirs, ['key', 'passwd', id], { env: { NOTARY_TARGETS_PASSPHRASE: 'wrong' } });
    // Notary's words, said to be a refused passphrase (BAD_PASSPHRASE under --json), same exit code.
    expect(r.ours.stdout).toBe(r.go.stdout.replace('* fatal: ', '* fatal: passphrase refused for the targets key: '));
    expect(r.ours.code).toBe(r.go.code);
    expect(keyFiles(dirs.ours)).toEqual(before);
  });

  it('generate without passphrase: the variables read for the role, where notary gives up', async () => {
    const r = await both(twin(), ['key', 'generate', '--role', 'timestamp']);
    expect(r.go.stdout).toBe('\n* fatal: Failed to create a new timestamp key: maximum number of passphrase attempts exceeded\n');
    expect(r.ours.stdout).toMatch(/^\n\* fatal: no passphrase for the timestamp key: DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE \(no terminal/);
    expect(r.ours.code).toBe(r.go.code);
  });

  it('without a terminal the prompt is not used; with one (interactive), Notary texts are printed', async () => {
    const dirs = twin();
    const r = await runOurs(['-d', dirs.ours, 'key', 'generate', '--role', 'targets/x'], {});
    expect(r.stdout).toMatch(/^\n\* fatal: no passphrase for the delegation \(targets\/x\) key: NOTARY_DELEGATION_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE \(no terminal/);
    // An interactive run: stdinIsTTY with scripted input (too short, then mismatched, then good).
    const { buildProgram } = await import('../src/cli/commands/index.js');
    const { Readable } = await import('node:stream');
    let stdout = '';
    const code = await buildProgram().run(['-d', dirs.ours, 'key', 'generate'], {
      stdout: (t) => (stdout += t),
      stdoutBytes: (b) => (stdout += Buffer.from(b).toString('utf8')),
      stderr: () => undefined,
      stdin: Readable.from(['short\n', 'long-enough-1\nlong-enough-2\n', 'long-enough-1\nlong-enough-1\n']),
      stdinIsTTY: true,
      env: {},
      cwd: dirs.ours,
    });
    expect(code).toBe(0);
    const id = Object.keys(keyFiles(dirs.ours))[0]!.slice(0, -4);
    const short = id.slice(0, 7);
    const warning = stdout.slice(0, stdout.indexOf('\n', stdout.indexOf('config directory.')) + 1);
    expect(warning).toMatch(/^You are about to create a new root signing key passphrase\./);
    expect(stdout.slice(warning.length)).toBe(
      `Enter passphrase for new root key with ID ${short}: \n` +
        'Passphrase is too short. Please use a password manager to generate and store a good random passphrase.\n' +
        `Enter passphrase for new root key with ID ${short}: \nRepeat passphrase for new root key with ID ${short}: \n` +
        'Passphrases do not match. Please retry.\n' +
        `Enter passphrase for new root key with ID ${short}: \nRepeat passphrase for new root key with ID ${short}: \n` +
        `Generated new ecdsa root key with keyID: ${id}\n`,
    );
    expect(privateKeyId(decodeKeyFile(Object.values(keyFiles(dirs.ours))[0]!, 'long-enough-1'))).toBe(id);
  });
});

describe('import / export cross the clients', () => {
  it('our export imported by notary and by us gives byte-identical key files', async () => {
    const src = tmp();
    for (const role of ['root', 'targets/qa']) await runOurs(['-d', src, 'key', 'generate', '--role', role], { env: ENV });
    const exported = tmp();
    const ex = await both({ go: src, ours: src }, ['key', 'export', '-o', join(exported, 'all.pem')]);
    expect(ex.ours.code).toBe(0);
    expect(ex.go.code).toBe(0);
    const dirs = twin();
    expectSame(await both(dirs, ['key', 'import', join(exported, 'all.pem')]));
    expect(keyFiles(dirs.ours)).toEqual(keyFiles(src));
    expect(keyFiles(dirs.go)).toEqual(keyFiles(src));
    expectSame(await both(twin(src), ['key', 'export', '--gun', '']));
  });

  it('unencrypted keys are encrypted on import with the role passphrase; canonical roles need a gun', async () => {
    const key = nodeCryptoBackend.generateKey('ecdsa');
    const { encodeKeyFile } = await import('../src/node/keyfile.js');
    const file = join(tmp(), 'plain.pem');
    writeFileSync(file, encodeKeyFile(key, { passphrase: '' }));
    const id = privateKeyId(key);
    for (const args of [[], ['-r', 'targets'], ['-r', 'targets', '-g', 'example.com/app'], ['-r', 'root', '-g', 'dropped']]) {
      const dirs = twin();
      const r = await both(dirs, ['key', 'import', file, ...args]);
      expectSame(r);
      expectSame(await both(dirs, ['key', 'list']));
      const ours = keyFiles(dirs.ours)[`${id}.key`];
      const go = keyFiles(dirs.go)[`${id}.key`];
      expect(ours === undefined).toBe(go === undefined);
      if (ours && go) {
        const strip = (t: string) => t.split('\n\n')[0];
        expect(strip(ours)).toBe(strip(go)); // same block type and headers; salt/IV differ
        const role = readKeyFileInfo(ours).role;
        const pass = role === 'targets' ? ENV.NOTARY_TARGETS_PASSPHRASE : role === 'root' ? ENV.NOTARY_ROOT_PASSPHRASE : ENV.NOTARY_DELEGATION_PASSPHRASE;
        expect(privateKeyId(decodeKeyFile(ours, pass))).toBe(id);
        expect(privateKeyId(decodeKeyFile(go, pass))).toBe(id);
      }
    }
  });
});

describe('notary signs with a key we created', () => {
  let server: { url: string; stop: () => Promise<void> } | undefined;
  beforeAll(async () => {
    // @ts-ignore — plain .mjs helper without types
    const { startNotaryServer } = await import('../scripts/lib/notary-server.mjs');
    server = await startNotaryServer();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a delegation key from `notary-ts key generate` signs targets/qa in a notary publish', async () => {
    const trust = tmp();
    const gun = 'example.com/ts/keys';
    const s = ['-s', server!.url, '-d', trust];
    const gen = await runOurs(['-d', trust, 'key', 'generate', '--role', 'targets/qa'], { env: ENV });
    const keyId = gen.stdout.trim().split(' ').pop()!;
    const key = decodeKeyFile(readFileSync(join(trust, 'private', keyId + '.key'), 'latin1'), ENV.NOTARY_DELEGATION_PASSPHRASE);
    const pubFile = join(trust, 'qa.pem');
    writeFileSync(pubFile, encodePublicKeyPem(key, 'targets/qa'));
    const payload = join(trust, 'payload.txt');
    writeFileSync(payload, 'hello from notary-ts\n');
    for (const args of [
      ['init', gun],
      ['publish', gun],
      ['delegation', 'add', gun, 'targets/qa', pubFile, '--all-paths'],
      ['add', gun, 'hello', payload, '-r', 'targets/qa'],
      ['publish', gun],
    ]) {
      const r = await runNotary([...s, ...args], { env: ENV });
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const list = await runNotary([...s, 'list', gun], { env: ENV });
    expect(list.stdout).toMatch(/hello\s+[0-9a-f]{64}\s+21\s+targets\/qa/);
    // The signature notary made with our key verifies with our public key.
    const qa = JSON.parse(readFileSync(join(trust, 'tuf', gun, 'metadata', 'targets', 'qa.json'), 'utf8'));
    const pub = publicKeyOf(key);
    const sig = qa.signatures.find((x: any) => x.keyid === keyId);
    expect(sig).toBeDefined();
    const ok = nodeCryptoBackend.verify('ecdsa', decodePublicKey(pub).material, utf8Encode(canonicalize(qa.signed)), new Uint8Array(Buffer.from(sig.sig, 'base64')));
    expect(ok).toBe(true);
  }, 120_000);
});
