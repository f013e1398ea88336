/**
 * `notary-ts trust sign` without a daemon: the digest comes from a real docker-registry (plain, and with
 * token auth), the trust data goes to a real notary-server over HTTPS with a private CA. The docker CLI
 * (client only) is the oracle for what was written: `docker trust inspect` must show it exactly as
 * `notary-ts trust inspect` does, docker co-signs it, and the Go `notary` CLI lists it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSignedImage, signImage } from '../src/index.js';
import { dockerConfig, runDocker, runTrust, type Run, type TrustServer, startTrustServer } from './support/docker-trust.js';
import { goNotary } from './support/go-repo.js';
import { pushImage, pushIndex, startRegistry, type StartedRegistry } from './support/registry.js';

let srv: TrustServer;
let reg: StartedRegistry;
let tokenReg: StartedRegistry;
const dirs: string[] = [];

function config(user?: string, registry = reg) {
  const auths = user ? { [registry.domain]: { auth: Buffer.from(`${user}:secret-${user}`).toString('base64') } } : undefined;
  const c = dockerConfig(srv, auths ? { auths } : {});
  dirs.push(c.dir);
  return c;
}

async function both(args: string[]): Promise<{ docker: Run; ours: Run }> {
  const a = config();
  const b = config();
  const [docker, ours] = await Promise.all([runDocker(args, a.env, '', a.dir), runTrust(args, b.env, '', b.dir)]);
  return { docker, ours };
}

function expectSame(r: { docker: Run; ours: Run }): void {
  expect(r.ours.stdout).toBe(r.docker.stdout);
  expect(r.ours.stderr).toBe(r.docker.stderr);
  expect(r.ours.code).toBe(r.docker.code);
}

const hex = (digest: string) => digest.replace(/^sha256:/, '');

beforeAll(async () => {
  [srv, reg, tokenReg] = await Promise.all([
    startTrustServer(),
    startRegistry(),
    startRegistry({ tokenAuth: { users: { ci: 'secret-ci' }, policy: (requested, { user }) => (user ? requested : []) } }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([srv?.stop(), reg?.stop(), tokenReg?.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('trust sign from the registry digest', () => {
  let ci: ReturnType<typeof config>;
  let dave: ReturnType<typeof config>;
  let erin: ReturnType<typeof config>;
  let name: string;
  let v10: { digest: string; size: number };
  let v11: { digest: string; size: number };

  beforeAll(async () => {
    name = `${reg.domain}/team/app`;
    ci = config('ci');
    dave = config('dave');
    erin = config('erin');
    v10 = await pushImage(reg, 'team/app', '1.0');
    v11 = await pushImage(reg, 'team/app', '1.1');
  }, 60_000);

  it('first sign of a repository: signer targets/<login user>, as docker prints it', async () => {
    const r = await runTrust(['sign', `${name}:1.0`], ci.env, '', ci.dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Created signer: ci\nFinished initializing signed repository for ${name}:1.0\nSigning and pushing trust metadata\nSuccessfully signed ${name}:1.0\n`);
    expect(r.code).toBe(0);
    const second = await runTrust(['sign', `${name}:1.1`], ci.env, '', ci.dir);
    expect(second.stdout).toBe(`Signing and pushing trust metadata\nSuccessfully signed ${name}:1.1\n`);
    // docker shows exactly what notary-ts shows, and the digests are the registry's.
    const seen = await both(['inspect', name]);
    expectSame(seen);
    const parsed = JSON.parse(seen.docker.stdout) as { SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[] }[];
    expect(parsed[0]!.SignedTags).toEqual([
      { SignedTag: '1.0', Digest: hex(v10.digest), Signers: ['ci'] },
      { SignedTag: '1.1', Digest: hex(v11.digest), Signers: ['ci'] },
    ]);
    expectSame(await both(['inspect', '--pretty', name]));
    // Go notary lists the signed size and digest.
    const list = goNotary(['-s', srv.url, '--tlscacert', srv.caFile, '-d', join(ci.dir, 'trust'), 'list', name, '-r', 'targets/releases']);
    expect(list).toMatch(new RegExp(`1\\.0\\s+${hex(v10.digest)}\\s+${v10.size}\\s+targets/releases`));
  });

  it('co-sign: docker and notary-ts print the same for an already released tag', async () => {
    for (const [who, cfg] of [['dave', dave], ['erin', erin]] as const) {
      const gen = await runTrust(['key', 'generate', who, '--dir', cfg.dir], cfg.env, '', cfg.dir);
      expect(gen.code).toBe(0);
      const add = await runTrust(['signer', 'add', '--key', join(cfg.dir, `${who}.pub`), who, name], ci.env, '', ci.dir);
      expect(add.code).toBe(0);
    }
    const docker = await runDocker(['sign', `${name}:1.0`], dave.env, '', dave.dir);
    const ours = await runTrust(['sign', `${name}:1.1`], erin.env, '', erin.dir);
    expect(docker.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(docker.stdout.replaceAll(`${name}:1.0`, `${name}:1.1`).replace('tag 1.0', 'tag 1.1').replace(hex(v10.digest), hex(v11.digest)));
    expect(ours.stderr).toBe(docker.stderr);
    const seen = await both(['inspect', '--pretty', name]);
    expectSame(seen);
    expect(seen.ours.stdout).toContain(`${hex(v10.digest)}   ci, dave`);
    expect(seen.ours.stdout).toContain(`${hex(v11.digest)}   ci, erin`);
    // notary-ts co-signs what docker co-signed.
    const again = await runTrust(['sign', `${name}:1.0`], erin.env, '', erin.dir);
    expect(again.stdout).toBe(`Signing and pushing trust metadata for ${name}:1.0\nExisting signatures for tag 1.0 digest ${hex(v10.digest)} from:\nci, dave\nSuccessfully signed ${name}:1.0\n`);
    expect((await resolveSignedImage(`${name}:1.0`, { env: config().env })).signers).toEqual(['ci', 'dave', 'erin']);
  });

  it('a tag moved in the registry after signing is re-signed with the new digest', async () => {
    const moved = await pushImage(reg, 'team/app', '1.0');
    expect(moved.digest).not.toBe(v10.digest);
    const r = await runTrust(['sign', `${name}:1.0`], ci.env, '', ci.dir);
    expect(r.stdout).toBe(`Signing and pushing trust metadata\nSuccessfully signed ${name}:1.0\n`);
    const seen = await both(['inspect', `${name}:1.0`]);
    expectSame(seen);
    expect(JSON.parse(seen.docker.stdout)[0].SignedTags).toEqual([{ SignedTag: '1.0', Digest: hex(moved.digest), Signers: ['ci'] }]);
    const resolved = await resolveSignedImage(`${name}:1.0`, { env: config().env });
    expect(resolved).toMatchObject({ digest: moved.digest, size: moved.size, signers: ['ci'] });
    // --local: sign the registry's digest even though it is released (docker's push path), never a co-sign.
    const local = await runTrust(['sign', '--local', `${name}:1.0`], ci.env, '', ci.dir);
    expect(local.stdout).toBe(`Signing and pushing trust metadata\nSuccessfully signed ${name}:1.0\n`);
    expect(local.code).toBe(0);
  });

  it('a multi-platform tag signs its index (Docker manifest list and OCI index)', async () => {
    for (const format of ['docker', 'oci'] as const) {
      const tag = `multi-${format}`;
      const index = await pushIndex(reg, 'team/app', tag, { format });
      const r = await runTrust(['sign', `${name}:${tag}`], ci.env, '', ci.dir);
      expect(r.code).toBe(0);
      const resolved = await resolveSignedImage(`${name}:${tag}`, { env: config().env });
      expect(resolved).toMatchObject({ digest: index.digest, size: index.size, role: 'targets/releases' });
      expectSame(await both(['inspect', `${name}:${tag}`]));
    }
  });

  it('a tag the registry does not have is not signed (exit 1, nothing published)', async () => {
    const r = await runTrust(['sign', `${name}:absent`], ci.env, '', ci.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${name}:absent: not found (manifest unknown: manifest unknown)\n`);
    const err = await resolveSignedImage(`${name}:absent`, { env: config().env }).then(() => undefined, (e: unknown) => e as { code: string });
    // TARGET_NOT_FOUND, or NOT_FOUND when this test runs alone (the repository was never initialised).
    expect(['TARGET_NOT_FOUND', 'NOT_FOUND']).toContain(err?.code);
  });

  it('revoke by notary-ts, then docker and notary-ts agree', async () => {
    const r = await runTrust(['revoke', `${name}:1.1`], ci.env, '', ci.dir);
    expect(r.stdout).toBe(`Successfully deleted signature for ${name}:1.1\n`);
    expectSame(await both(['inspect', '--pretty', name]));
    const unknown = await runTrust(['revoke', `${name}:never`], ci.env, '', ci.dir);
    expect(unknown.stderr).toBe(`could not remove signature for ${name}:never: No valid trust data for never\n`);
    expect(unknown.code).toBe(1);
  });
});

describe('trust sign against a token-auth registry', () => {
  it('signs with docker login credentials; without them it fails closed', async () => {
    const name = `${tokenReg.domain}/secure/app`;
    const pushed = await pushImage(tokenReg, 'secure/app', 'v1');
    const anonymous = config(undefined, tokenReg);
    const denied = await runTrust(['sign', `${name}:v1`], anonymous.env, '', anonymous.dir);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe('');
    const ci = config('ci', tokenReg);
    const outcome = await signImage(`${name}:v1`, { env: ci.env });
    expect(outcome.initialized).toEqual({ signer: 'ci' });
    expect(outcome.target).toEqual({ tag: 'v1', digest: pushed.digest, size: pushed.size });
    expect(outcome.roles).toEqual(['targets/ci', 'targets/releases']);
    expectSame(await both(['inspect', name]));
  });
});
