/**
 * `notary-ts trust …` against the docker CLI 28 (client only) as the oracle, both talking to a real
 * notary-server over HTTPS with a private CA (its CA in `$DOCKER_CONFIG/tls/<host:port>/`, the registry name
 * not loopback so the CA is required). Each side gets its own DOCKER_CONFIG (docker signs with every signer
 * key in its trust dir). Compared byte for byte: stdout, stderr and exit codes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerConfig, runDocker, runDockerRaw, runTrust, startTrustServer, DOCKER_PASSPHRASES, type Run, type TrustServer } from './support/docker-trust.js';
import { goNotary } from './support/go-repo.js';
import { formatInspectJson, inspectImage, resolveSignedImage } from '../src/index.js';

let srv: TrustServer;
const dirs: string[] = [];
const GUN = 'registry.test:5000/team/app';

function config(auths?: Record<string, { auth: string }>) {
  const c = dockerConfig(srv, auths ? { auths } : {});
  dirs.push(c.dir);
  return c;
}

/** Same outcome from docker and from us, each in a fresh DOCKER_CONFIG (so each trusts the root on first use). */
async function both(args: string[], stdin = ''): Promise<{ docker: Run; ours: Run }> {
  const a = config();
  const b = config();
  // Independent processes on separate configs: run side by side.
  const [docker, ours] = await Promise.all([runDocker(args, a.env, stdin, a.dir), runTrust(args, b.env, stdin, b.dir)]);
  return { docker, ours };
}

function expectSame(r: { docker: Run; ours: Run }): void {
  expect(r.ours.stdout).toBe(r.docker.stdout);
  expect(r.ours.stderr).toBe(r.docker.stderr);
  expect(r.ours.code).toBe(r.docker.code);
}

/** `notary addhash` with docker's passphrases: a first signature docker cannot make without a daemon. */
function addhash(trustDir: string, gun: string, tag: string, hex: string, size: number, roles: string): void {
  const pass = DOCKER_PASSPHRASES.DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE;
  goNotary(['-s', srv.url, '--tlscacert', srv.caFile, '-d', trustDir, 'addhash', gun, tag, String(size), '--sha256', hex, '-r', roles, '-p'], {
    NOTARY_DELEGATION_PASSPHRASE: pass,
    NOTARY_TARGETS_PASSPHRASE: pass,
    NOTARY_SNAPSHOT_PASSPHRASE: pass,
    NOTARY_ROOT_PASSPHRASE: DOCKER_PASSPHRASES.DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE,
  });
}

beforeAll(async () => {
  srv = await startTrustServer();
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('usage errors as docker prints them', () => {
  const cases: string[][] = [
    ['sign'],
    ['sign', 'foo'],
    ['sign', 'a', 'b'],
    ['sign', 'foo@sha256:' + 'a'.repeat(64)],
    ['sign', 'UPPER:tag'],
    ['sign', '--bogus', 'x:y'],
    ['inspect'],
    ['revoke'],
    ['revoke', 'a@sha256:' + 'a'.repeat(64)],
    ['signer', 'add'],
    ['signer', 'add', 'alice'],
    ['signer', 'add', 'alice', 'repo'],
    ['signer', 'add', 'releases', 'repo', '--key', 'x'],
    ['signer', 'add', 'Alice', 'repo', '--key', 'x'],
    ['signer', 'add', 'alice', 'repo', '--key', '/nonexistent/key.pub'],
    ['signer', 'remove'],
    ['signer', 'remove', 'releases', 'repo'],
    ['key', 'generate'],
    ['key', 'generate', 'Bad'],
    ['key', 'load'],
    ['key', 'load', '/nonexistent'],
    ['key', 'load', '--name', 'Bad', '/nonexistent'],
    ['sign', '--help'],
    ['inspect', '--help'],
    ['revoke', '-h'],
    ['signer', 'add', '--help'],
    ['signer', 'remove', '--help'],
    ['key', 'generate', '--help'],
    ['key', 'load', '--help'],
    ['bogus'],
    [],
    ['key'],
    ['signer'],
    ['key', 'bogus'],
    ['--help'],
    ['key', '--help'],
  ];
  it.each(cases.map((c) => [c.join(' '), c]))('%s', async (_name, args) => {
    const a = config();
    const [docker, ours] = await Promise.all([
      runDocker(args as string[], a.env, '', a.dir),
      runTrust(args as string[], { ...a.env, NOTARY_TS_DOCKER_PLUGIN: '1' }, '', a.dir),
    ]);
    expect(ours.stdout).toBe(docker.stdout);
    expect(ours.stderr).toBe(docker.stderr);
    expect(ours.code).toBe(docker.code);
  });
});

describe('inspect: docker-written trust data', () => {
  let alice: ReturnType<typeof config>;
  let bob: ReturnType<typeof config>;
  const hexA = 'a'.repeat(64);
  const hexB = 'b'.repeat(64);

  beforeAll(async () => {
    alice = config();
    bob = config();
    const ok = async (p: Promise<Run>) => {
      const r = await p;
      if (r.code !== 0) throw new Error(`docker failed: ${r.stdout}${r.stderr}`);
      return r;
    };
    await ok(runDocker(['key', 'generate', 'alice', '--dir', alice.dir], alice.env, '', alice.dir));
    await ok(runDocker(['key', 'generate', 'bob', '--dir', bob.dir], bob.env, '', bob.dir));
    await ok(runDocker(['signer', 'add', '--key', join(alice.dir, 'alice.pub'), 'alice', GUN], alice.env, '', alice.dir));
    await ok(runDocker(['signer', 'add', '--key', join(bob.dir, 'bob.pub'), 'bob', GUN], alice.env, '', alice.dir));
    addhash(join(alice.dir, 'trust'), GUN, 'v1', hexA, 1234, 'targets/releases,targets/alice');
    addhash(join(alice.dir, 'trust'), GUN, 'v10', hexB, 99, 'targets/releases,targets/alice');
    addhash(join(alice.dir, 'trust'), GUN, 'v2', hexB, 99, 'targets/releases,targets/alice');
    addhash(join(alice.dir, 'trust'), GUN, 'admin', hexB, 99, 'targets');
    addhash(join(alice.dir, 'trust'), GUN, 'unreleased', hexB, 99, 'targets/alice');
    await ok(runDocker(['sign', `${GUN}:v1`], bob.env, '', bob.dir)); // co-sign (no daemon needed)
  }, 240_000);

  it('JSON, several references (tag, no tag, unknown tag)', async () => {
    expectSame(await both(['inspect', GUN, `${GUN}:v1`, `${GUN}:nope`]));
  });

  it('--pretty, several references', async () => {
    const r = await both(['inspect', '--pretty', GUN, `${GUN}:v1`, `${GUN}:nope`]);
    expectSame(r);
    expect(r.ours.stdout).toContain('alice, bob');
    expect(r.ours.stdout).toContain('(Repo Admin)');
  });

  it('an unknown repository: no signatures or cannot access', async () => {
    expectSame(await both(['inspect', 'registry.test:5000/none/x']));
    expectSame(await both(['inspect', '--pretty', 'registry.test:5000/none/x', GUN]));
    expectSame(await both(['inspect', GUN, 'registry.test:5000/none/x']));
  });

  it('install-plugin: docker discovers the docker-trust plugin and runs it as `notary-ts trust`', async () => {
    const a = config();
    const bin = join(__dirname, '..', 'dist', 'cli', 'main.js');
    const inst = await runTrust(['install-plugin'], { ...a.env, NOTARY_TS_BIN: bin }, '', a.dir);
    const plugin = join(a.dir, 'cli-plugins', 'docker-trust');
    expect(inst.stdout).toBe(`Installed docker CLI plugin: ${plugin}\n`);
    expect(statSync(plugin).mode & 0o111).not.toBe(0);
    // docker 28 validates the plugin's metadata and lists it; only the builtin `trust` shadows it (docker >= 29 has none).
    const info = execFileSync('docker', ['info', '--format', '{{json .ClientInfo.Plugins}}'], { env: { PATH: process.env['PATH']!, HOME: process.env['HOME']!, ...a.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const plugins = JSON.parse(info.trim()) as { Name: string; Path: string; Err?: string; ShortDescription?: string }[];
    const ours = plugins.find((p) => p.Path === plugin)!;
    expect(ours.Name).toBe('trust');
    expect(ours.Err).toBe('plugin "trust" duplicates builtin command');
    // Under a name docker has no builtin for, docker really runs it: same bytes as the builtin `docker trust`.
    copyFileSync(plugin, join(a.dir, 'cli-plugins', 'docker-ntrust'));
    for (const args of [['inspect', '--pretty', GUN], ['inspect', GUN], ['sign']]) {
      const viaPlugin = await runDockerRaw(['ntrust', ...args], a.env, a.dir);
      const builtin = await runDocker(args, a.env, '', a.dir);
      expect(viaPlugin.stdout).toBe(builtin.stdout);
      expect(viaPlugin.stderr.replaceAll('docker ntrust', 'docker trust')).toBe(builtin.stderr);
      expect(viaPlugin.code).toBe(builtin.code);
    }
  });

  it('API: resolveSignedImage answers what a trusted pull would use, with its signers', async () => {
    const env = config().env;
    const v1 = await resolveSignedImage(`${GUN}:v1`, { env });
    expect(v1).toEqual({ name: GUN, tag: 'v1', digest: `sha256:${hexA}`, size: 1234, role: 'targets/releases', signers: ['alice', 'bob'], roles: ['targets/alice', 'targets/releases', 'targets/bob'] });
    const admin = await resolveSignedImage(`${GUN}:admin`, { env });
    expect(admin).toMatchObject({ role: 'targets', signers: ['Repo Admin'], digest: `sha256:${hexB}` });
    expect((await resolveSignedImage(`${GUN}:v2`, { env, requireSigners: ['alice'] })).signers).toEqual(['alice']);
    await expect(resolveSignedImage(`${GUN}:v2`, { env, requireSigners: ['bob'] })).rejects.toMatchObject({ code: 'THRESHOLD_NOT_MET' });
    await expect(resolveSignedImage(`${GUN}:unreleased`, { env })).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND', message: 'No valid trust data for unreleased' });
    await expect(resolveSignedImage(`${GUN}:nope`, { env })).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND' });
    await expect(resolveSignedImage(`${GUN}:v1@sha256:${hexB}`, { env })).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    expect((await resolveSignedImage(`${GUN}@sha256:${hexA}`, { env })).tag).toBe('v1');
    await expect(resolveSignedImage('registry.test:5000/none/x:v1', { env })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const inspected = await inspectImage(`${GUN}:v1`, { env });
    expect(formatInspectJson([{ name: `${GUN}:v1`, trust: inspected }])).toBe((await runDocker(['inspect', `${GUN}:v1`], env)).stdout);
  });

  it('a bad DOCKER_CONTENT_TRUST_SERVER is refused as docker refuses it', async () => {
    const a = config();
    const env = { ...a.env, DOCKER_CONTENT_TRUST_SERVER: 'http://127.0.0.1:1' };
    const docker = await runDocker(['inspect', GUN], env, '', a.dir);
    const ours = await runTrust(['inspect', GUN], env, '', a.dir);
    expect(ours).toEqual(docker);
  });

  it('without the CA in $DOCKER_CONFIG/tls the server is not trusted', async () => {
    const a = config();
    rmSync(join(a.dir, 'tls'), { recursive: true });
    const docker = await runDocker(['inspect', GUN], a.env, '', a.dir);
    const ours = await runTrust(['inspect', GUN], a.env, '', a.dir);
    expect(docker.code).toBe(1);
    expect(ours).toEqual(docker);
  });
});

describe('what notary-ts writes, docker reads identically (and Go notary lists)', () => {
  const gun = 'registry.test:5000/ours/app';
  let carol: ReturnType<typeof config>;
  let dave: ReturnType<typeof config>;

  beforeAll(async () => {
    carol = config();
    dave = config();
    const ok = async (p: Promise<Run>) => {
      const r = await p;
      if (r.code !== 0) throw new Error(`notary-ts failed: ${r.stdout}${r.stderr}`);
      return r;
    };
    const gen = await ok(runTrust(['key', 'generate', 'carol', '--dir', carol.dir], carol.env, '', carol.dir));
    expect(gen.stdout).toBe(`Generating key for carol...\nSuccessfully generated and loaded private key. Corresponding public key available: ${join(carol.dir, 'carol.pub')}\n`);
    await ok(runTrust(['key', 'generate', 'dave', '--dir', dave.dir], dave.env, '', dave.dir));
    const add = await ok(runTrust(['signer', 'add', '--key', join(carol.dir, 'carol.pub'), 'carol', gun], carol.env, '', carol.dir));
    expect(add.stdout).toBe(`Adding signer "carol" to ${gun}...\nInitializing signed repository for ${gun}...\nSuccessfully initialized "${gun}"\nSuccessfully added signer: carol to ${gun}\n\n`);
    await ok(runTrust(['signer', 'add', '--key', join(dave.dir, 'dave.pub'), 'dave', gun], carol.env, '', carol.dir));
    addhash(join(carol.dir, 'trust'), gun, 'v1', 'c'.repeat(64), 10, 'targets/releases,targets/carol');
  }, 240_000);

  it('inspect (JSON and --pretty) of our repository: same bytes from both', async () => {
    expectSame(await both(['inspect', gun]));
    expectSame(await both(['inspect', '--pretty', gun]));
  });

  it('docker co-signs what we wrote; both inspect it identically', async () => {
    const r = await runDocker(['sign', `${gun}:v1`], dave.env, '', dave.dir);
    expect(r.code).toBe(0);
    expectSame(await both(['inspect', '--pretty', gun]));
  });

  it('revoke by us; docker sees it; Go notary lists what is left', async () => {
    const r = await runTrust(['revoke', `${gun}:v1`], dave.env, '', dave.dir);
    expect(r.stdout).toBe(`Successfully deleted signature for ${gun}:v1\n`);
    expect(r.code).toBe(0);
    expectSame(await both(['inspect', gun]));
    const list = goNotary(['-s', srv.url, '--tlscacert', srv.caFile, '-d', join(carol.dir, 'trust'), 'list', gun, '-r', 'targets/carol']);
    expect(list).toContain('v1');
  });
});

describe('signer remove, key load', () => {
  it('key load: our key store holds the key docker would (0600 check, role from --name)', async () => {
    const a = config();
    const keyFile = join(a.dir, 'k.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    chmodSync(keyFile, 0o644);
    const b = config();
    const keyB = join(b.dir, 'k.pem');
    writeFileSync(keyB, readFileSync(keyFile));
    chmodSync(keyB, 0o644);
    const dockerBad = await runDocker(['key', 'load', keyFile], a.env, '', a.dir);
    const oursBad = await runTrust(['key', 'load', keyB], b.env, '', b.dir);
    expect(oursBad.code).toBe(dockerBad.code);
    expect(oursBad.stderr.replace(keyB, 'K').replaceAll(keyB, 'K')).toBe(dockerBad.stderr.replaceAll(keyFile, 'K'));
    chmodSync(keyFile, 0o600);
    chmodSync(keyB, 0o600);
    const docker = await runDocker(['key', 'load', '--name', 'erin', keyFile], a.env, '', a.dir);
    const ours = await runTrust(['key', 'load', '--name', 'erin', keyB], b.env, '', b.dir);
    expect(docker.code).toBe(0);
    expect(ours.stdout.replaceAll(keyB, 'K')).toBe(docker.stdout.replaceAll(keyFile, 'K'));
    expect(ours.code).toBe(0);
    const names = (d: string) => readdirSync(join(d, 'trust', 'private'));
    expect(names(b.dir)).toEqual(names(a.dir));
    const header = (d: string) => readFileSync(join(d, 'trust', 'private', names(d)[0]!), 'utf8').split('\n').slice(0, 2).join('\n');
    expect(header(b.dir)).toBe(header(a.dir));
    expect(statSync(join(b.dir, 'trust', 'private', names(b.dir)[0]!)).mode & 0o777).toBe(0o600);
  });

  it('signer remove removes the signer (docker documents it; docker >= 26 does not): docker then inspects it as gone', async () => {
    const gun = 'registry.test:5000/remove/app';
    const a = config();
    const k = await runTrust(['key', 'generate', 'frank', '--dir', a.dir], a.env, '', a.dir);
    expect(k.code).toBe(0);
    await runTrust(['key', 'generate', 'gina', '--dir', a.dir], a.env, '', a.dir);
    expect((await runTrust(['signer', 'add', '--key', join(a.dir, 'frank.pub'), 'frank', gun], a.env, '', a.dir)).code).toBe(0);
    expect((await runTrust(['signer', 'add', '--key', join(a.dir, 'gina.pub'), 'gina', gun], a.env, '', a.dir)).code).toBe(0);
    // As in docker, a signer cannot be removed before anything was released (releases has no signatures).
    const early = await runTrust(['signer', 'remove', '-f', 'gina', gun], a.env, '', a.dir);
    expect(early.stderr).toBe(`all signed tags are currently revoked, use docker trust sign to fix\n\nerror removing signer from: ${gun}\n`);
    addhash(join(a.dir, 'trust'), gun, 'v1', 'd'.repeat(64), 10, 'targets/releases,targets/gina');
    const r = await runTrust(['signer', 'remove', 'gina', gun], a.env, '', a.dir);
    expect(r.stdout).toBe(`Removing signer "gina" from ${gun}...\nSuccessfully removed gina from ${gun}\n\n`);
    expect(r.code).toBe(0);
    const seen = await both(['inspect', gun]);
    expectSame(seen);
    expect(seen.docker.stdout).not.toContain('"gina"');
    expect(seen.docker.stdout).toContain('"frank"');
    const none = await runTrust(['signer', 'remove', 'gina', gun], a.env, '', a.dir);
    expect(none.stderr).toBe(`no signer gina for repository ${gun}\n\nerror removing signer from: ${gun}\n`);
    expect(none.code).toBe(1);
    expect(existsSync(join(a.dir, 'trust'))).toBe(true);
  });
});

describe('revoke and signer remove, side by side with docker on identical repositories', () => {
  /** Two identical histories (one per CLI): signers alice and bob, v1 and v2 released by alice, v1 co-signed by bob. */
  async function twin(gun: string): Promise<{ alice: ReturnType<typeof config>; bob: ReturnType<typeof config> }> {
    const alice = config();
    const bob = config();
    const ok = async (p: Promise<Run>) => {
      const r = await p;
      if (r.code !== 0) throw new Error(`setup failed: ${r.stdout}${r.stderr}`);
    };
    await ok(runDocker(['key', 'generate', 'alice', '--dir', alice.dir], alice.env, '', alice.dir));
    await ok(runDocker(['key', 'generate', 'bob', '--dir', bob.dir], bob.env, '', bob.dir));
    await ok(runDocker(['signer', 'add', '--key', join(alice.dir, 'alice.pub'), 'alice', gun], alice.env, '', alice.dir));
    await ok(runDocker(['signer', 'add', '--key', join(bob.dir, 'bob.pub'), 'bob', gun], alice.env, '', alice.dir));
    addhash(join(alice.dir, 'trust'), gun, 'v1', 'e'.repeat(64), 5, 'targets/releases,targets/alice');
    addhash(join(alice.dir, 'trust'), gun, 'v2', 'f'.repeat(64), 6, 'targets/releases,targets/alice');
    await ok(runDocker(['sign', `${gun}:v1`], bob.env, '', bob.dir));
    return { alice, bob };
  }
  let d: Awaited<ReturnType<typeof twin>>;
  let o: Awaited<ReturnType<typeof twin>>;
  const gd = 'registry.test:5000/twin/docker';
  const go = 'registry.test:5000/twin/ours';
  // The twins have their own keys: key IDs are masked (the digests are all one letter).
  const mask = (t: string) => t.replace(/\b[0-9a-f]{12}(?:[0-9a-f]{52})?\b/g, (m) => (/^(.)\1+$/.test(m) ? m : 'ID'));
  const same = (docker: Run, ours: Run) => {
    expect(mask(ours.stdout.replaceAll(go, gd))).toBe(mask(docker.stdout));
    expect(ours.stderr.replaceAll(go, gd)).toBe(docker.stderr);
    expect(ours.code).toBe(docker.code);
  };

  beforeAll(async () => {
    d = await twin(gd);
    o = await twin(go);
  }, 300_000);

  it('revoke of an unknown repository, an unknown tag, then of a co-signed tag', async () => {
    for (const [args, stdin] of [
      [['revoke', 'registry.test:5000/none/x:v1'], ''],
      [['revoke', '-y', 'registry.test:5000/none/x'], ''],
      [['revoke', 'TAG:never'], ''],
      [['revoke', 'TAG'], 'n\n'],
      [['revoke', 'TAG:v1'], ''],
    ] as const) {
      const docker = await runDocker(args.map((a) => a.replace('TAG', gd)), d.bob.env, stdin, d.bob.dir);
      const ours = await runTrust(args.map((a) => a.replace('TAG', go)), o.bob.env, stdin, o.bob.dir);
      same(docker, ours);
    }
    const docker = await runDocker(['inspect', gd], config().env);
    const ours = await runTrust(['inspect', go], config().env);
    same(docker, ours);
  });

  it('signer remove: unknown signer; the last signer of a release, declined then forced; revoke all', async () => {
    for (const [args, stdin] of [
      [['signer', 'remove', 'nobody', 'TAG'], ''],
      [['signer', 'remove', 'bob', 'TAG', 'registry.test:5000/none/x'], 'n\n'],
    ] as const) {
      const docker = await runDocker(args.map((a) => a.replace('TAG', gd)), d.alice.env, stdin, d.alice.dir);
      const ours = await runTrust(args.map((a) => a.replace('TAG', go)), o.alice.env, stdin, o.alice.dir);
      same(docker, ours);
    }
    const docker = await runDocker(['revoke', '-y', gd], d.alice.env, '', d.alice.dir);
    const ours = await runTrust(['revoke', '-y', go], o.alice.env, '', o.alice.dir);
    same(docker, ours);
    same(await runDocker(['inspect', '--pretty', gd], config().env), await runTrust(['inspect', '--pretty', go], config().env));
    // Where we differ on purpose: docker >= 26 leaves a signer that is not the last one in place (and -f
    // prevents removal); notary-ts removes it, as docker documents.
    const dockerRemove = await runDocker(['signer', 'remove', '-f', 'bob', gd], d.alice.env, '', d.alice.dir);
    expect(dockerRemove).toEqual({ stdout: `Removing signer "bob" from ${gd}...\n`, stderr: '', code: 0 });
    const oursRemove = await runTrust(['signer', 'remove', '-f', 'bob', go], o.alice.env, '', o.alice.dir);
    expect(oursRemove).toEqual({ stdout: `Removing signer "bob" from ${go}...\nSuccessfully removed bob from ${go}\n\n`, stderr: '', code: 0 });
    expect((await runDocker(['inspect', gd], config().env)).stdout).toContain('"bob"');
    const after = await runDocker(['inspect', go], config().env);
    expect(after.stdout).not.toContain('"bob"');
    expect(after.stdout).toContain('"alice"');
  });
});
