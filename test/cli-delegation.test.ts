/**
 * `delegation add|remove|purge`, differential against the real `notary` 0.7: same stdout, exit codes and
 * changelist files when staging; what we publish, `notary delegation list` shows exactly as we list it; a
 * target we sign into `targets/releases` is listed by notary with that role.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePemPublicKey } from '../src/cli/commands/delegation.js';
import { certificateToPem, createNotaryRootCertificate } from '../src/core/x509.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { runNotary, runOurs, type CliRun, expectSameOutcome } from './support/cli.js';
import { PASSPHRASE_ENV, startServer, tempDir, type Server } from './support/go-repo.js';

const ENV: Record<string, string> = { ...PASSPHRASE_ENV };

let server: Server;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const keys = tempDir('deleg-keys-');
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: keys, stdio: 'pipe' });
openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rel-key.pem', '-out', 'rel.crt', '-days', '365', '-subj', '/CN=releases', '-sha256']);
openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'qa-key.pem']);
openssl(['pkey', '-in', 'qa-key.pem', '-pubout', '-out', 'qa.pub.pem']);
openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa-key.pem']);
openssl(['pkey', '-in', 'rsa-key.pem', '-pubout', '-out', 'rsa.pub.pem']);
openssl(['genpkey', '-algorithm', 'ED25519', '-out', 'ed-key.pem']);
openssl(['pkey', '-in', 'ed-key.pem', '-pubout', '-out', 'ed.pub.pem']);
{
  // An expired certificate (OpenSSL 3.0's `req` cannot back-date one): a Notary-style certificate for 2020.
  const key = crypto.generateKey('ecdsa');
  if (key.kind !== 'ecdsa') throw new Error('unreachable');
  const der = createNotaryRootCertificate({
    gun: 'old',
    publicKey: { kind: 'ecdsa', curve: key.curve, point: key.point, spki: new Uint8Array(0) },
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2020-02-01T00:00:00Z'),
    serialNumber: 7n,
    hash: 'sha256',
    sign: (tbs) => crypto.sign('ecdsa', key, tbs),
  });
  writeFileSync(join(keys, 'expired.crt'), certificateToPem(der));
}
openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'soon-key.pem', '-out', 'soon.crt', '-days', '30', '-subj', '/CN=soon', '-sha256']);
openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'sha1-key.pem', '-out', 'sha1.crt', '-days', '30', '-subj', '/CN=sha1', '-sha1']);
writeFileSync(join(keys, 'garbage.pem'), 'garbage\n');
const k = (f: string) => join(keys, f);

function twin(seed?: string): { go: string; ours: string } {
  const d = { go: join(tempDir(), 'trust'), ours: join(tempDir(), 'trust') };
  if (seed) {
    cpSync(seed, d.go, { recursive: true });
    cpSync(seed, d.ours, { recursive: true });
  }
  return d;
}

async function both(dirs: { go: string; ours: string }, args: string[], opts: { stdin?: string } = {}): Promise<{ go: CliRun; ours: CliRun }> {
  const o = { env: ENV, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) };
  return { go: await runNotary(['-d', dirs.go, ...args], o), ours: await runOurs(['-d', dirs.ours, ...args], o) };
}


function changelist(trustDir: string, gun: string): string[] {
  const dir = join(trustDir, 'tuf', ...gun.split('/'), 'changelist');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
}

describe('delegation staging: same output and changelist as notary', () => {
  it('add, remove (with and without the prompt) and purge, including the error paths', async () => {
    const dirs = twin();
    const gun = 'example.com/deleg/stage';
    const cases: Array<[string[], string?]> = [
      [['delegation', 'add', gun, 'targets/rel', k('rel.crt'), k('qa.pub.pem'), '--paths', 'b/,a/']],
      [['delegation', 'add', gun, 'targets/rel', k('rel.crt'), '--all-paths']],
      [['delegation', 'add', gun, 'targets/rel', k('rel.crt'), '--paths', 'a/,,b']],
      [['delegation', 'add', gun, 'targets/rel', k('rsa.pub.pem')]],
      [['delegation', 'add', gun, 'targets/rel', '--paths', 'x']],
      [['delegation', 'add', gun, 'targets/rel', '--paths', '']],
      [['delegation', 'add', gun, 'targets/rel/sub', k('qa.pub.pem'), '-p', '-s', 'http://127.0.0.1:1']],
      [['delegation', 'add', gun, 'targets/rel', k('ed.pub.pem')]],
      [['delegation', 'add', gun, 'targets/rel', k('nonexist.pem')]],
      [['delegation', 'add', gun, 'targets/rel', k('garbage.pem')]],
      [['delegation', 'add', gun, 'targets/rel', k('rel-key.pem')]],
      [['delegation', 'add', gun, 'targets/rel', k('expired.crt')]],
      [['delegation', 'add', gun, 'targets/rel', k('sha1.crt')]],
      [['delegation', 'add', gun, 'targets/soon', k('soon.crt')]],
      [['delegation', 'add', gun, 'targets/NoUpper', k('rel.crt')]],
      [['delegation', 'add', gun, 'targets', k('rel.crt')]],
      [['delegation', 'add', gun, 'targets/NoUpper', '--paths', 'x']],
      [['delegation', 'add', gun, 'targets/rel']],
      [['delegation', 'add', gun]],
      [['delegation', 'remove', gun, 'targets/rel'], ''],
      [['delegation', 'remove', gun, 'targets/rel'], 'nope\n'],
      [['delegation', 'remove', gun, 'targets/rel'], 'YES\n'],
      [['delegation', 'remove', gun, 'targets/rel', '-y']],
      [['delegation', 'remove', gun, 'targets/rel', 'abc', 'def', '--paths', 'z/,a/']],
      [['delegation', 'remove', gun, 'targets/rel', '--all-paths', '--paths', 'q']],
      [['delegation', 'remove', gun, 'targets/rel', 'abc', '--all-paths']],
      [['delegation', 'remove', gun, 'targets/rel', '--paths', '']],
      [['delegation', 'remove', gun, 'targets/NoUpper', '-y']],
      [['delegation', 'remove', gun, 'targets']],
      [['delegation', 'remove', gun]],
      [['delegation', 'purge', gun, '--key', 'a1', '--key', 'b2,c3']],
      [['delegation', 'purge', gun]],
      [['delegation', 'purge', gun, 'extra', '--key', 'a1']],
    ];
    for (const [args, stdin] of cases) {
      const r = await both(dirs, args, stdin === undefined ? {} : { stdin });
      expectSameOutcome(r, args.join(' '));
      expect(changelist(dirs.ours, gun), args.join(' ')).toEqual(changelist(dirs.go, gun));
    }
    expect(changelist(dirs.ours, gun).length).toBeGreaterThan(10);
    expectSameOutcome(await both(dirs, ['status', gun]));
  });

  it('parses PEM public keys as Notary does', () => {
    const now = new Date();
    const warnings: string[] = [];
    expect(parsePemPublicKey(readFileSync(k('rel.crt'), 'latin1'), now, (m) => warnings.push(m)).keytype).toBe('ecdsa-x509');
    expect(parsePemPublicKey(readFileSync(k('rsa.pub.pem'), 'latin1'), now, () => {}).keytype).toBe('rsa');
    parsePemPublicKey(readFileSync(k('soon.crt'), 'latin1'), now, (m) => warnings.push(m));
    expect(warnings).toEqual(['certificate with CN soon is near expiry']);
    expect(() => parsePemPublicKey(readFileSync(k('ed.pub.pem'), 'latin1'), now, () => {})).toThrow('unknown public key format');
  });
});

describe('delegations we publish, notary reads', () => {
  it('add/remove/purge by us: `delegation list` is identical for both clients; targets/releases signed by us listed by notary', async () => {
    const dir = tempDir();
    const gun = 'example.com/deleg/publish';
    const s = ['-s', server.url, '-d', dir];
    const ok = async (p: Promise<CliRun>) => {
      const r = await p;
      expect(r.code, r.stdout).toBe(0);
      return r;
    };
    const lists = async () => {
      const go = await runNotary(['-s', server.url, '-d', tempDir(), 'delegation', 'list', gun]);
      const ours = await runOurs(['-s', server.url, '-d', tempDir(), 'delegation', 'list', gun]);
      expect(go.code, go.stdout).toBe(0);
      expect(ours.stdout).toBe(go.stdout);
      return go.stdout;
    };
    await ok(runOurs([...s, 'init', gun, '-p'], { env: ENV }));
    // The delegation keys, imported (notary-ts key import); targets/qa signs its child targets/qa/team.
    await ok(runOurs([...s, 'key', 'import', k('rel-key.pem'), '--role', 'targets/releases'], { env: ENV }));
    await ok(runOurs([...s, 'key', 'import', k('qa-key.pem'), '--role', 'targets/qa'], { env: ENV }));
    await ok(runOurs([...s, 'delegation', 'add', gun, 'targets/releases', k('rel.crt'), '--all-paths'], { env: ENV }));
    await ok(runOurs([...s, 'delegation', 'add', gun, 'targets/qa', k('qa.pub.pem'), k('rsa.pub.pem'), '--paths', 'qa/,shared/'], { env: ENV }));
    await ok(runOurs([...s, 'delegation', 'add', gun, 'targets/qa/team', k('qa.pub.pem'), '--paths', 'qa/team/', '-p'], { env: ENV }));
    let out = await lists();
    expect(out).toContain('targets/releases');
    expect(out).toContain('targets/qa/team');
    // Sign targets into delegations with the imported keys.
    const payload = join(keys, 'payload');
    writeFileSync(payload, 'release payload\n');
    await ok(runOurs([...s, 'add', gun, 'rel/one', payload, '-r', 'targets/releases'], { env: ENV }));
    await ok(runOurs([...s, 'add', gun, 'qa/x', payload, '-r', 'targets/qa', '-p'], { env: ENV }));
    const goList = await runNotary(['-s', server.url, '-d', tempDir(), 'list', gun]);
    expect(goList.code).toBe(0);
    expect(goList.stdout).toMatch(/rel\/one +[0-9a-f]{64} +16 +targets\/releases\n/);
    expect(goList.stdout).toMatch(/qa\/x +[0-9a-f]{64} +16 +targets\/qa\n/);
    expect((await runOurs(['-s', server.url, '-d', tempDir(), 'list', gun])).stdout).toBe(goList.stdout);

    // remove keys and paths, purge a key everywhere, remove a whole role.
    const rsaId = /\[([0-9a-f]{64})\]/.exec((await runOurs(['-d', tempDir(), 'delegation', 'add', 'x/y', 'targets/z', k('rsa.pub.pem')], { env: ENV })).stdout)![1]!;
    await ok(runOurs([...s, 'delegation', 'remove', gun, 'targets/qa', rsaId, '--paths', 'shared/'], { env: ENV }));
    await ok(runOurs([...s, 'delegation', 'remove', gun, 'targets/releases', '--all-paths', '-p'], { env: ENV }));
    out = await lists();
    expect(out).not.toContain(rsaId);
    expect(out).not.toContain('shared/');
    const qaId = /\[([0-9a-f]{64})\]/.exec((await runOurs(['-d', tempDir(), 'delegation', 'add', 'x/y', 'targets/z', k('qa.pub.pem')], { env: ENV })).stdout)![1]!;
    const purge = await ok(runOurs([...s, 'delegation', 'purge', gun, '--key', qaId, '-p'], { env: ENV }));
    expect(purge.stdout).toBe(`Removal of the following keys from all delegations in ${gun} staged for next publish:\n\t- ${qaId}\nAuto-publishing changes to ${gun}\nSuccessfully published changes for repository ${gun}\n`);
    out = await lists();
    expect(out).not.toContain(qaId);
    await ok(runOurs([...s, 'delegation', 'remove', gun, 'targets/releases', '-y', '-p'], { env: ENV }));
    out = await lists();
    expect(out).not.toContain('targets/releases');
    // notary publishes on top of all that from the same trust_dir.
    await ok(runNotary([...s, 'delegation', 'add', gun, 'targets/late', k('rel.crt'), '--all-paths', '-p'], { env: ENV }));
    expect(await lists()).toContain('targets/late');
  });
});
