/**
 * One answer for a lookup, whatever ran before: with a tag signed in `targets` (digest A) and in
 * `targets/releases` (digest B), the order of the role list decides (Notary's GetTargetByName: each role
 * in turn, breadth-first below it, first entry wins) — in the CLI, in the library on a fresh repository and
 * on one that already walked its delegations, and in verifyDigest. Docker pulls with releases first, so a
 * gate copying Docker's rule must get B. Also: the signer IDs a lookup reports name the keys the way
 * `delegation list` and `key list` do (canonical IDs) besides the TUF IDs in the signatures.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from '../src/repository/open.js';
import type { TrustedRepository } from '../src/repository/reader.js';
import { runNotary, runOurs } from './support/cli.js';
import { goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

const gun = 'example.com/order/both';
let server: Server;
let work: string;
let trustDir: string;
let digestA: string;
let digestB: string;
const dirs: string[] = [];

function fresh(): string {
  const d = tempDir('order-');
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  server = await startServer();
  work = fresh();
  trustDir = join(work, 'trust');
  const g = (args: string[]) => goNotary(['-s', server.url, '-d', trustDir, ...args]);
  g(['init', gun, '-p']);
  mkdirSync(join(work, 'keys'));
  // A certificate-backed delegation key: its TUF ID (in signatures) and canonical ID (in lists) differ.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rel-key.pem', '-out', 'rel.crt', '-days', '365', '-subj', '/CN=releases', '-sha256'], { cwd: join(work, 'keys'), stdio: 'pipe' });
  g(['delegation', 'add', gun, 'targets/releases', join(work, 'keys', 'rel.crt'), '--all-paths']);
  g(['key', 'import', join(work, 'keys', 'rel-key.pem'), '--role', 'targets/releases']);
  g(['publish', gun]);
  const a = join(work, 'a'), b = join(work, 'b');
  writeFileSync(a, 'manifest A\n');
  writeFileSync(b, 'manifest B, a different one\n');
  digestA = createHash('sha256').update(readFileSync(a)).digest('hex');
  digestB = createHash('sha256').update(readFileSync(b)).digest('hex');
  g(['add', gun, 'both', a]);
  g(['add', gun, 'both', b, '--roles', 'targets/releases']);
  g(['add', gun, 'only-top', a]);
  g(['publish', gun]);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const hexOf = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('hex');
const open = (dir = fresh()) => openRepository({ gun, server: server.url, trustDir: dir });

describe('lookup order: the role list decides, whatever ran before', () => {
  it.each([
    [['targets/releases', 'targets'], 'B'],
    [['targets', 'targets/releases'], 'A'],
    [['targets/releases'], 'B'],
    [['targets'], 'A'],
  ] as const)('CLI lookup -r %j answers what Go lists for the same roles (%s)', async (roles, which) => {
    // Go's lookup has no --roles; its list does, and shows the entry GetTargetByName would pick.
    const go = await runNotary(['-s', server.url, '-d', fresh(), 'list', gun, '-r', roles.join(',')]);
    const ours = await runOurs(['-s', server.url, '-d', fresh(), 'lookup', gun, 'both', '-r', roles.join(',')]);
    const goRow = go.stdout.split('\n').find((l) => l.startsWith('both '))!.split(/\s+/);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(`both sha256:${goRow[1]} ${goRow[2]}\n`);
    expect(ours.stdout).toContain(which === 'A' ? digestA : digestB);
  });

  it('CLI lookup and list agree for the same -r', async () => {
    const roles = 'targets/releases,targets';
    const look = await runOurs(['-s', server.url, '-d', fresh(), 'lookup', gun, 'both', '-r', roles]);
    const list = await runOurs(['-s', server.url, '-d', fresh(), 'list', gun, '-r', roles]);
    const listed = list.stdout.split('\n').find((l) => l.startsWith('both '))!;
    expect(listed).toContain(digestB);
    expect(look.stdout).toContain(digestB);
  });

  it('a fresh repository and one that already walked its delegations answer the same', async () => {
    const releasesFirst = ['targets/releases', 'targets'];
    const freshRepo = await open();
    let walked: TrustedRepository | undefined;
    try {
      expect(hexOf((await freshRepo.lookup('both', releasesFirst)).hashes['sha256'])).toBe(digestB);
      expect(hexOf((await freshRepo.lookup('both')).hashes['sha256'])).toBe(digestA);
      expect(hexOf((await freshRepo.lookup('both', releasesFirst)).hashes['sha256'])).toBe(digestB);
      walked = await open();
      await walked.listTargets();
      expect(hexOf((await walked.lookup('both')).hashes['sha256'])).toBe(digestA);
      expect(hexOf((await walked.lookup('both', ['targets', 'targets/releases'])).hashes['sha256'])).toBe(digestA);
      expect(hexOf((await walked.lookup('both', releasesFirst)).hashes['sha256'])).toBe(digestB);
      // A name only the top level holds is still found through a releases-first list.
      expect(hexOf((await walked.lookup('only-top', releasesFirst)).hashes['sha256'])).toBe(digestA);
    } finally {
      await freshRepo.close();
      await walked?.close();
    }
  });

  it('verifyDigest with releases first accepts B and refuses A', async () => {
    const repo = await open();
    try {
      const roles = ['targets/releases', 'targets'];
      await expect(repo.verifyDigest('both', { sha256: digestB }, roles)).resolves.toMatchObject({ role: 'targets/releases' });
      await expect(repo.verifyDigest('both', { sha256: digestA }, roles)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
      await expect(repo.verifyDigest('both', { sha256: digestA })).resolves.toMatchObject({ role: 'targets' });
      await expect(repo.verifyDigest('both', { sha256: digestB })).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    } finally {
      await repo.close();
    }
  });
});

describe('signer identities', () => {
  it('a lookup names its signers by the IDs delegation list and key list show (canonical), and by TUF ID', async () => {
    const repo = await open();
    let signer: { signers: readonly string[]; signerKeys: readonly { keyId: string; canonicalId: string }[] };
    try {
      signer = await repo.lookup('both', ['targets/releases']);
    } finally {
      await repo.close();
    }
    const delegations = goNotary(['-s', server.url, '-d', trustDir, 'delegation', 'list', gun]);
    const keys = goNotary(['-s', server.url, '-d', trustDir, 'key', 'list']);
    expect(signer.signerKeys).toHaveLength(1);
    const { keyId, canonicalId } = signer.signerKeys[0]!;
    expect(signer.signers).toEqual([keyId]);
    expect(keyId).not.toBe(canonicalId); // a certificate key: the two forms differ
    expect(delegations).toContain(canonicalId);
    expect(keys).toContain(canonicalId);
    expect(delegations).not.toContain(keyId);
    // The CLI's JSON lookup carries both forms too.
    const json = await runOurs(['-s', server.url, '-d', fresh(), '--json', 'lookup', gun, 'both', '-r', 'targets/releases']);
    expect(JSON.parse(json.stdout)).toMatchObject({ signers: [keyId], signerKeys: [{ keyId, canonicalId }] });
  });
});
