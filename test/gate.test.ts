/**
 * The deploy gate's policy semantics as a table, on repositories the real Go notary made on a live
 * notary-server (test/support/gate-repos.ts): required signers present, one missing, not a delegation at all,
 * two signers on different digests, any-N-of, Docker's default rule, by digest, tag + matching digest,
 * tag + other digest, a repository without delegations, pinned root keys right and wrong, expiry and the
 * freshness window, and an unknown image under the default rule. Then `trust verify` as a separate process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCryptoBackend } from '../src/crypto/node.js';
import { FileMetadataCache } from '../src/node/cache.js';
import { NotaryRemote } from '../src/node/remote.js';
import { Gate } from '../src/policy/gate.js';
import { openRepository } from '../src/repository/open.js';
import { TrustedRepository, type MetadataRemote } from '../src/repository/reader.js';
import { parsePolicy } from '../src/policy/policy.js';
import { goNotary } from './support/go-repo.js';
import { makeGateRepos, type GateRepos } from './support/gate-repos.js';

let repos: GateRepos;
let n = 0;

beforeAll(async () => {
  repos = await makeGateRepos();
}, 180_000);

afterAll(async () => {
  await repos?.cleanup();
});

/** A policy with one rule for registry.test/** (the given YAML lines) over a fresh trust dir. */
function policyOf(ruleLines: string, extra = ''): string {
  const trustDir = join(repos.work, `gate-trust-${n++}`);
  return `trustDir: ${trustDir}\nrules:\n  - pattern: registry.test/**\n    server: ${repos.server.url}\n${ruleLines
    .split('\n')
    .filter(Boolean)
    .map((l) => `    ${l}`)
    .join('\n')}\n${extra}`;
}

async function decide(ruleLines: string, image: string, at?: Date) {
  const gate = new Gate({ policy: parsePolicy(policyOf(ruleLines), 'test.yaml'), ...(at ? { clock: () => at } : {}) });
  try {
    return await gate.decide(image);
  } finally {
    await gate.close();
  }
}

const sha = (hex: string) => `sha256:${hex}`;

describe('policy table on Go-made repositories', () => {
  const D = () => repos.digest;
  const cases: [string, string, () => string, { allowed: boolean; digest?: () => string; code?: string; roles?: string[] }][] = [
    ['required signers present', 'signers: [ci, qa]', () => `${repos.app}:v1`, { allowed: true, digest: () => D().d1, roles: ['targets/ci', 'targets/qa'] }],
    ['one required signer missing', 'signers: [ci, qa]', () => `${repos.app}:v2`, { allowed: false, code: 'SIGNER_MISSING' }],
    ['a required signer that is not a delegation', 'signers: [ci, nobody]', () => `${repos.app}:v1`, { allowed: false, code: 'NOT_A_DELEGATION' }],
    ['two required signers on different digests', 'signers: [ci, qa]', () => `${repos.app}:v3`, { allowed: false, code: 'DIGEST_CONFLICT' }],
    ['any 2 of three', 'signers: { anyOf: [qa, ci, releases], count: 2 }', () => `${repos.app}:v2`, { allowed: true, digest: () => D().d2, roles: ['targets/ci', 'targets/releases'] }],
    ['any 2 of two that disagree', 'signers: { anyOf: [ci, qa], count: 2 }', () => `${repos.app}:v3`, { allowed: false, code: 'DIGEST_CONFLICT' }],
    ["Docker's rule: targets/releases first", '', () => `${repos.app}:v1`, { allowed: true, digest: () => D().d1, roles: ['targets/releases'] }],
    ["Docker's rule: else targets", '', () => `${repos.app}:top`, { allowed: true, digest: () => D().d5, roles: ['targets'] }],
    ["Docker's rule: other delegations are audit trails only", '', () => `${repos.app}:ci-only`, { allowed: false, code: 'TARGET_NOT_FOUND' }],
    ['by digest (reverse lookup)', '', () => `${repos.app}@${sha(D().d2)}`, { allowed: true, digest: () => D().d2 }],
    ['by a digest nobody signed', '', () => `${repos.app}@${sha('0'.repeat(64))}`, { allowed: false, code: 'SIGNER_MISSING' }],
    ['tag + matching digest', 'signers: [ci]', () => `${repos.app}:v1@${sha(D().d1)}`, { allowed: true, digest: () => D().d1 }],
    ['tag + other digest', 'signers: [ci]', () => `${repos.app}:v1@${sha(D().d2)}`, { allowed: false, code: 'DIGEST_MISMATCH' }],
    ['repository without delegations, signers required', 'signers: [ci]', () => `${repos.plain}:v1`, { allowed: false, code: 'NOT_A_DELEGATION' }],
    ["repository without delegations, Docker's rule", '', () => `${repos.plain}:v1`, { allowed: true, digest: () => D().p1, roles: ['targets'] }],
    ['unsigned tag', '', () => `${repos.app}:nope`, { allowed: false, code: 'TARGET_NOT_FOUND' }],
    ['repository the server does not have', '', () => 'registry.test/team/none:v1', { allowed: false, code: 'NOT_FOUND' }],
    ['freshness window wider than the timestamp has left', 'freshness: 30d', () => `${repos.app}:v1`, { allowed: false, code: 'EXPIRES_SOON' }],
    ['freshness window it meets', 'freshness: 1h', () => `${repos.app}:v1`, { allowed: true, digest: () => D().d1 }],
    ['deny rule', 'action: deny', () => `${repos.app}:v1`, { allowed: false, code: 'POLICY_DENIED' }],
    ['warn rule, unverifiable image: allowed with the refusal as a warning', 'action: warn\nsigners: [ci, qa]', () => `${repos.app}:v2`, { allowed: true, code: 'SIGNER_MISSING' }],
    ['allow rule: no verification', 'action: allow', () => `${repos.app}:nope`, { allowed: true }],
    ['an invalid reference', '', () => 'Registry.test/UPPER:v1', { allowed: false, code: 'INVALID_ARGUMENT' }],
  ];
  it.each(cases)('%s', async (_what, rule, image, want) => {
    const d = await decide(rule, image());
    expect(d.allowed, JSON.stringify(d.error)).toBe(want.allowed);
    if (want.code) expect(d.error?.code).toBe(want.code);
    else expect(d.error).toBeUndefined();
    if (want.digest) {
      expect(d.verified?.digest).toBe(sha(want.digest()));
      expect(d.pinned).toBe(`${d.name}@${sha(want.digest())}`);
    }
    if (want.roles) expect(d.verified?.roles).toEqual(want.roles);
  });

  it('a digest conflict names both digests', async () => {
    const d = await decide('signers: [ci, qa]', `${repos.app}:v3`);
    expect(d.error?.message).toContain(repos.digest.d3);
    expect(d.error?.message).toContain(repos.digest.d4);
  });

  it('signers carry their key IDs in both forms', async () => {
    const d = await decide('signers: [ci]', `${repos.app}:v1`);
    const keys = d.verified!.signers[0]!.keys;
    expect(keys).toHaveLength(1);
    const listed = execFileSync('notary', ['-s', repos.server.url, '-d', repos.trustDir, 'delegation', 'list', repos.app], { encoding: 'utf8' });
    expect(listed).toContain(keys[0]!.canonicalId);
  });

  it('pinned root key: the repository root certificate passes, a stranger key is refused', async () => {
    const pem = repos.appRootCertPem.trim().split('\n').join('\n      ');
    const ok = await decide(`root:\n  keys:\n    - |\n      ${pem}`, `${repos.app}:v1`);
    expect(ok.allowed, JSON.stringify(ok.error)).toBe(true);
    const keyDir = join(repos.work, 'stranger');
    mkdirSync(keyDir, { recursive: true });
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k.pem'], { cwd: keyDir, stdio: 'pipe' });
    execFileSync('openssl', ['pkey', '-in', 'k.pem', '-pubout', '-out', 'pub.pem'], { cwd: keyDir, stdio: 'pipe' });
    const bad = await decide(`root:\n  keys: [${join(keyDir, 'pub.pem')}]`, `${repos.app}:v1`);
    expect(bad).toMatchObject({ allowed: false, error: { code: 'ROOT_KEY_NOT_PINNED' } });
  });

  it('Notary trust pinning by root certificate ID: the right ID passes, another is refused', async () => {
    const root = (await import('node:fs')).readFileSync(join(repos.trustDir, 'tuf', repos.app, 'metadata', 'root.json'), 'utf8');
    const rootId = JSON.parse(root).signed.roles.root.keyids[0];
    const ok = await decide(`root: { pinning: { certs: { "${repos.app}": ["${rootId}"] } } }`, `${repos.app}:v1`);
    expect(ok.allowed, JSON.stringify(ok.error)).toBe(true);
    const bad = await decide(`root: { pinning: { certs: { "${repos.app}": ["${'ab'.repeat(32)}"] } } }`, `${repos.app}:v1`);
    expect(bad.allowed).toBe(false);
    expect(bad.error?.code).toBe('TRUST_PINNING_FAILED');
  });

  it('as of a time after the timestamp expired: EXPIRED', async () => {
    const d = await decide('', `${repos.app}:v1`, new Date(Date.now() + 400 * 86_400_000));
    expect(d).toMatchObject({ allowed: false, error: { code: 'EXPIRED' } });
  });

  it('an image no rule matches falls to the default (deny)', async () => {
    const gate = new Gate({ policy: parsePolicy(policyOf(''), 'test.yaml') });
    try {
      expect(await gate.decide('quay.io/other/image:v1')).toMatchObject({ allowed: false, rule: 'default', error: { code: 'POLICY_DENIED' } });
    } finally {
      await gate.close();
    }
  });

  it('reuses verified trust data across decisions and coalesces identical concurrent ones', async () => {
    const gate = new Gate({ policy: parsePolicy(policyOf(''), 'test.yaml') });
    try {
      const many = await Promise.all(Array.from({ length: 20 }, () => gate.decide(`${repos.app}:v1`)));
      expect(many.every((d) => d.allowed)).toBe(true);
      expect(gate.stats.misses).toBe(1);
      const again = await gate.decide(`${repos.app}:top`);
      expect(again).toMatchObject({ allowed: true, cached: true });
    } finally {
      await gate.close();
    }
  });
});

describe('keeping trust data fresh in a long-running process', () => {
  it('refresh() asks for the timestamp only when nothing changed, and updates when something did', async () => {
    const calls: string[] = [];
    const inner = new NotaryRemote({ serverUrl: repos.server.url, gun: repos.app });
    // A pass-through that records which files are asked for (the server is real).
    const remote: MetadataRemote = {
      host: inner.host,
      getTimestamp: () => (calls.push('timestamp'), inner.getTimestamp()),
      getRoot: () => (calls.push('root'), inner.getRoot()),
      getRootVersion: (v) => (calls.push(`${v}.root`), inner.getRootVersion(v)),
      getRoleByChecksum: (role, hex, max) => (calls.push(role), inner.getRoleByChecksum(role, hex, max)),
      getRole: (role, max) => (calls.push(role), inner.getRole(role, max)),
      close: () => inner.close(),
    };
    const dir = join(repos.work, `refresh-${n++}`);
    const repo = await TrustedRepository.open({ gun: repos.app, remote, cache: new FileMetadataCache(dir, repos.app), crypto: nodeCryptoBackend });
    try {
      await repo.loadAll();
      calls.length = 0;
      expect(await repo.refresh()).toBe(false);
      expect(calls).toEqual(['timestamp']);
      const file = join(repos.work, 'fresh-payload');
      writeFileSync(file, 'a new manifest\n');
      goNotary(['-s', repos.server.url, '-d', repos.trustDir, 'add', repos.app, 'fresh', file, '-p']);
      calls.length = 0;
      expect(await repo.refresh()).toBe(true);
      expect(calls).toContain('targets');
      expect((await repo.lookup('fresh')).length).toBe('a new manifest\n'.length);
    } finally {
      await repo.close();
    }
  });

  it('refresh() past the expiry of what it holds runs the full update, which refuses an expired timestamp', async () => {
    let now = Date.now();
    const dir = join(repos.work, `refresh-${n++}`);
    const repo = await openRepository({ gun: repos.app, server: repos.server.url, trustDir: dir, clock: () => new Date(now) });
    try {
      now += 400 * 86_400_000;
      await expect(repo.refresh()).rejects.toMatchObject({ code: 'EXPIRED', where: 'timestamp' });
    } finally {
      await repo.close();
    }
  });

  it('the gate refreshes a repository when due and sees a new signature', async () => {
    const gate = new Gate({ policy: parsePolicy(policyOf('signers: [ci]', 'refresh: 50ms'), 'test.yaml') });
    try {
      expect((await gate.decide(`${repos.app}:ci-later`)).error?.code).toBe('SIGNER_MISSING');
      const file = join(repos.work, 'ci-later');
      writeFileSync(file, 'signed later\n');
      goNotary(['-s', repos.server.url, '-d', repos.trustDir, 'add', repos.app, 'ci-later', file, '--roles', 'targets/ci', '-p']);
      await new Promise((r) => setTimeout(r, 100));
      const d = await gate.decide(`${repos.app}:ci-later`);
      expect(d.allowed, JSON.stringify(d.error)).toBe(true);
      expect(gate.stats.misses).toBe(2);
    } finally {
      await gate.close();
    }
  });
});

const BIN = resolve('dist', 'cli', 'main.js');

function runBin(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH']!, HOME: repos.work, TZ: 'UTC', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => ok({ stdout, stderr, code }));
  });
}

describe('notary-ts trust verify (the built bin, a separate process)', () => {
  let policyFile: string;
  beforeAll(() => {
    policyFile = join(repos.work, 'verify-policy.yaml');
    writeFileSync(policyFile, policyOf('name: team\nsigners: [ci]'));
  });

  it('prints IMAGE -> name@digest for each image and exits 0 when all pass', async () => {
    const r = await runBin(['trust', 'verify', '--policy', policyFile, `${repos.app}:v1`, `${repos.app}:v2`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${repos.app}:v1 -> ${repos.app}@sha256:${repos.digest.d1}\n${repos.app}:v2 -> ${repos.app}@sha256:${repos.digest.d2}\n`);
    expect(r.code).toBe(0);
  });

  it('exits 1 when one fails, naming image, rule and reason on stderr', async () => {
    const r = await runBin(['trust', 'verify', '--policy', policyFile, `${repos.app}:v1`, `${repos.app}:top`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${repos.app}:v1 -> ${repos.app}@sha256:${repos.digest.d1}\n`);
    expect(r.stderr).toMatch(new RegExp(`^${repos.app.replace(/\./g, '\\.')}:top: rule team: SIGNER_MISSING: `));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--json: one document with digests, signers and roles', async () => {
    const r = await runBin(['trust', 'verify', '--json', '--policy', policyFile, `${repos.app}:v1`, `${repos.app}:v3@sha256:${repos.digest.d4}`]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.allowed).toBe(false);
    expect(doc.images[0]).toMatchObject({ image: `${repos.app}:v1`, allowed: true, digest: `sha256:${repos.digest.d1}`, roles: ['targets/ci'], rule: 'team' });
    expect(doc.images[0].signers[0].keys[0]).toHaveProperty('canonicalId');
    expect(doc.images[1]).toMatchObject({ allowed: false, error: { code: 'DIGEST_MISMATCH' } });
  });

  it('without --policy: the trust server as docker chooses it (DOCKER_CONTENT_TRUST_SERVER must be https, in docker\'s words)', async () => {
    const r = await runBin(['trust', 'verify', `${repos.app}:v2`], { DOCKER_CONTENT_TRUST_SERVER: repos.server.url, DOCKER_CONFIG: join(repos.work, 'docker-config') });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${repos.app}:v2: rule default: INVALID_ARGUMENT: valid https URL required for trust server, got ${repos.server.url}\n`);
    expect(r.code).toBe(1);
  });

  it('--at in the future: the expired timestamp is a refusal', async () => {
    const later = new Date(Date.now() + 400 * 86_400_000).toISOString();
    const r = await runBin(['trust', 'verify', '--policy', policyFile, '--at', later, `${repos.app}:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr, r.stderr).toContain('EXPIRED');
  });

  it('a malformed policy: one fatal line naming file, line and field, exit 1', async () => {
    const bad = join(repos.work, 'bad-policy.yaml');
    writeFileSync(bad, 'rules:\n  - pattern: a/b\n    signerz: [ci]\n');
    const r = await runBin(['trust', 'verify', '--policy', bad, `${repos.app}:v1`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`\n* fatal: ${bad}:3: rules[0].signerz: unknown field signerz\n`);
    expect(r.stderr).toBe('');
  });

  it('no image: usage error, exit 1', async () => {
    const r = await runBin(['trust', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('* fatal: "notary-ts trust verify" requires at least 1 argument');
  });

  it('an unreachable server: a refusal, exit 1, never a pass', async () => {
    const unreachable = join(repos.work, 'unreachable.yaml');
    writeFileSync(unreachable, `trustDir: ${join(repos.work, 'unreach-trust')}\nrules:\n  - pattern: registry.test/**\n    server: http://127.0.0.1:9\n`);
    const r = await runBin(['trust', 'verify', '--policy', unreachable, `${repos.app}:v1`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/rule registry\.test\/\*\*: (NETWORK|OFFLINE|TIMEOUT)/);
  });
});
