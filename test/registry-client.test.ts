/**
 * The registry client against the real docker-registry (CNCF distribution 2.8), plain and with token auth
 * that the registry really validates; every manifest media type, GET and HEAD, by tag and by digest. A fake
 * registry only for lies a real one will not tell: a wrong Docker-Content-Digest, a body that is not the
 * digest asked for, huge and endless bodies, stalls, resets, an unsupported media type. Faults are also run in
 * a separate `node` process, which must print a typed error and exit on its own.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotaryError } from '../src/core/errors.js';
import { resolveImage } from '../src/images/resolve.js';
import { MANIFEST_MEDIA_TYPES, RegistryClient, RegistryError, type RegistryClientOptions } from '../src/registry/client.js';
import { installCredentialHelper } from './support/credential-helper.js';
import { REPO_ROOT } from './support/fixtures.js';
import { MEDIA_TYPES, pushImage, pushIndex, startRegistry, type PushedManifest, type StartedRegistry } from './support/registry.js';
import type { AccessEntry } from './support/token-server.js';

const dirs: string[] = [];
const temp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<NotaryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    return err as NotaryError;
  }
  throw new Error('expected a NotaryError');
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('plain docker-registry', () => {
  let reg: StartedRegistry;
  const pushed: Record<string, PushedManifest> = {};
  beforeAll(async () => {
    reg = await startRegistry();
    pushed.docker = await pushImage(reg, 'team/app', 'docker', { format: 'docker' });
    pushed.oci = await pushImage(reg, 'team/app', 'oci', { format: 'oci' });
    pushed.list = await pushIndex(reg, 'team/app', 'list', { format: 'docker' });
    pushed.index = await pushIndex(reg, 'team/app', 'index', { format: 'oci' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it.each([
    ['docker', MANIFEST_MEDIA_TYPES.dockerManifest],
    ['oci', MANIFEST_MEDIA_TYPES.ociManifest],
    ['list', MANIFEST_MEDIA_TYPES.dockerManifestList],
    ['index', MANIFEST_MEDIA_TYPES.ociIndex],
  ])('tag %s: GET (verified), HEAD (stated), by digest', async (tag, mediaType) => {
    // loopback = insecure: https is tried first and plain http taken when TLS cannot be spoken, as docker does
    const client = new RegistryClient({ registry: reg.domain, insecure: true });
    try {
      const p = pushed[tag]!;
      const got = await client.resolve('team/app', tag);
      expect(client.baseUrl).toBe(`http://${reg.domain}`);
      expect({ digest: got.digest, size: got.size, mediaType: got.mediaType, verified: got.verified }).toEqual({ digest: p.digest, size: p.size, mediaType, verified: true });
      expect(Buffer.from(got.bytes!).equals(Buffer.from(p.bytes))).toBe(true);
      const head = await client.resolve('team/app', tag, { verify: false });
      expect(head).toEqual({ digest: p.digest, size: p.size, mediaType, verified: false });
      const byDigest = await client.resolve('team/app', p.digest);
      expect(byDigest.digest).toBe(p.digest);
      expect(byDigest.mediaType).toBe(mediaType);
    } finally {
      await client.close();
    }
  });

  it('a multi-platform tag resolves to its index, not to a platform manifest', async () => {
    const idx = await pushIndex(reg, 'team/multi', 'v1', { format: 'oci', platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }, { architecture: 's390x', os: 'linux' }] });
    const r = await resolveImage(`${reg.domain}/team/multi:v1`, { env: { DOCKER_CONFIG: temp('rc-cfg-') } });
    expect(r.manifest.digest).toBe(idx.digest);
    expect(r.manifest.mediaType).toBe(MANIFEST_MEDIA_TYPES.ociIndex);
    expect(idx.manifests.map((m) => m.digest)).not.toContain(r.manifest.digest);
    expect(r.reference.name).toBe(`${reg.domain}/team/multi`);
    expect(r.resolved).toBe('v1');
  });

  it('resolveImage: digest references, a moved tag, no tag', async () => {
    const env = { DOCKER_CONFIG: temp('rc-cfg-') };
    const first = await pushImage(reg, 'team/moving', 'stable');
    expect((await resolveImage(`${reg.domain}/team/moving:stable`, { env })).manifest.digest).toBe(first.digest);
    const second = await pushImage(reg, 'team/moving', 'stable');
    expect(second.digest).not.toBe(first.digest);
    expect((await resolveImage(`${reg.domain}/team/moving:stable`, { env })).manifest.digest).toBe(second.digest);
    // the old manifest is still there by digest; tag and digest together: the digest wins
    expect((await resolveImage(`${reg.domain}/team/moving:stable@${first.digest}`, { env })).manifest.digest).toBe(first.digest);
    const e = await failure(resolveImage(`${reg.domain}/team/moving`, { env }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(`no tag specified for ${reg.domain}/team/moving`);
    expect((await resolveImage(`${reg.domain}/team/moving`, { env, defaultTag: 'stable' })).manifest.digest).toBe(second.digest);
  });

  it('unknown tag, repository and digest: NOT_FOUND with the registry codes', async () => {
    const client = new RegistryClient({ registry: reg.domain, scheme: 'http' });
    try {
      const a = await failure(client.resolve('team/app', 'nope'));
      expect(a).toBeInstanceOf(RegistryError);
      expect(a.code).toBe('NOT_FOUND');
      expect((a as RegistryError).registryCodes).toContain('MANIFEST_UNKNOWN');
      const b = await failure(client.resolve('team/none', 'x'));
      expect(b.code).toBe('NOT_FOUND');
      expect((b as RegistryError).registryCodes.length).toBeGreaterThan(0);
      expect((await failure(client.resolve('team/app', `sha256:${'0'.repeat(64)}`))).code).toBe('NOT_FOUND');
      expect((await failure(client.resolve('team/app', 'nope', { verify: false }))).code).toBe('NOT_FOUND');
      expect((await failure(client.resolve('Team/App', 'x'))).code).toBe('INVALID_ARGUMENT');
      expect((await failure(client.resolve('team/app', 'sha256:abc'))).code).toBe('INVALID_ARGUMENT');
    } finally {
      await client.close();
    }
  });

  it('a secure (non-insecure) client refuses to fall back to plain HTTP', async () => {
    const client = new RegistryClient({ registry: reg.domain, timeouts: { totalMs: 5000 } });
    try {
      const e = await failure(client.resolve('team/app', 'docker'));
      expect(e.code).toBe('NETWORK');
      expect(client.baseUrl).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});

describe('token-auth docker-registry', () => {
  let reg: StartedRegistry;
  let pushed: PushedManifest;
  let privatePolicy = false;
  beforeAll(async () => {
    reg = await startRegistry({
      tokenAuth: {
        users: { alice: 'alice-pw' },
        refreshTokens: { 'refresh-alice': 'alice' },
        // anonymous users may pull only while privatePolicy is off; alice gets what she asks for
        policy: (requested: AccessEntry[], info: { user: string | null }) =>
          info.user ? requested : privatePolicy ? [] : requested.map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') })),
      },
    });
    pushed = await pushIndex(reg, 'team/app', '1.0', { format: 'docker' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('anonymous pull: Bearer challenge, realm, service and scope repository:<path>:pull', async () => {
    privatePolicy = false;
    reg.tokens!.requests.length = 0;
    const r = await resolveImage(`${reg.domain}/team/app:1.0`, { env: { DOCKER_CONFIG: temp('rc-anon-') } });
    expect(r.manifest.digest).toBe(pushed.digest);
    expect(reg.tokens!.requests).toHaveLength(1);
    expect(reg.tokens!.requests[0]).toMatchObject({ method: 'GET', service: 'test-registry', scopes: ['repository:team/app:pull'], basicUser: null });
  });

  it('private repository: no credentials → UNAUTHORIZED; config.json auths → token for alice', async () => {
    privatePolicy = true;
    const noCreds = await failure(resolveImage(`${reg.domain}/team/app:1.0`, { env: { DOCKER_CONFIG: temp('rc-none-') } }));
    expect(noCreds.code).toBe('UNAUTHORIZED');
    const cfg = temp('rc-auths-');
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { [reg.domain]: { auth: b64('alice:alice-pw') } } }));
    reg.tokens!.requests.length = 0;
    const r = await resolveImage(`${reg.domain}/team/app:1.0`, { env: { DOCKER_CONFIG: cfg }, actions: ['pull', 'push'] });
    expect(r.manifest.digest).toBe(pushed.digest);
    expect(reg.tokens!.requests.at(-1)).toMatchObject({ account: 'alice', basicUser: 'alice', authenticated: true, scopes: ['repository:team/app:pull,push'] });
    // a wrong password: the token realm refuses, typed
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { [reg.domain]: { auth: b64('alice:wrong') } } }));
    expect((await failure(resolveImage(`${reg.domain}/team/app:1.0`, { env: { DOCKER_CONFIG: cfg } }))).code).toBe('UNAUTHORIZED');
  });

  it('credsStore helper and an identity token (OAuth refresh, client_id=docker)', async () => {
    privatePolicy = true;
    const helper = installCredentialHelper('rctest', { [reg.domain]: { Username: 'alice', Secret: 'alice-pw' } });
    const tokenHelper = installCredentialHelper('rctoken', { [reg.domain]: { Username: '<token>', Secret: 'refresh-alice' } });
    try {
      const cfg = temp('rc-store-');
      writeFileSync(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'rctest' }));
      const r = await resolveImage(`${reg.domain}/team/app:1.0`, { env: { DOCKER_CONFIG: cfg, PATH: helper.path } });
      expect(r.manifest.digest).toBe(pushed.digest);
      expect(helper.asked()).toEqual([reg.domain]);
      writeFileSync(join(cfg, 'config.json'), JSON.stringify({ credHelpers: { [reg.domain]: 'rctoken' } }));
      reg.tokens!.requests.length = 0;
      const t = await resolveImage(`${reg.domain}/team/app:1.0`, { env: { DOCKER_CONFIG: cfg, PATH: tokenHelper.path } });
      expect(t.manifest.digest).toBe(pushed.digest);
      expect(reg.tokens!.requests.at(-1)).toMatchObject({ method: 'POST', grantType: 'refresh_token', authenticated: true });
    } finally {
      helper.cleanup();
      tokenHelper.cleanup();
    }
  });

  it('tokens are cached per scope: a second resolve asks the realm nothing', async () => {
    privatePolicy = false;
    const client = new RegistryClient({ registry: reg.domain, insecure: true });
    try {
      reg.tokens!.requests.length = 0;
      await client.resolve('team/app', '1.0');
      await client.resolve('team/app', '1.0', { verify: false });
      expect(reg.tokens!.requests).toHaveLength(1);
      await client.resolve('team/app', '1.0', { actions: ['pull', 'push'] }).catch(() => undefined);
      expect(reg.tokens!.requests).toHaveLength(2);
    } finally {
      await client.close();
    }
  });
});

// ---- a lying registry ----------------------------------------------------------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Fake {
  readonly domain: string;
  handler: Handler;
  readonly sockets: Set<Socket>;
  stop(): Promise<void>;
}

async function startFake(): Promise<Fake> {
  const sockets = new Set<Socket>();
  const fake: { handler: Handler } = { handler: (_req, res) => res.end() };
  const server: Server = createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    fake.handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    domain: `127.0.0.1:${port}`,
    sockets,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  });
}

const MANIFEST = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: { mediaType: MEDIA_TYPES.dockerConfig, size: 1, digest: `sha256:${'a'.repeat(64)}` }, layers: [] }));
const digestOf = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('a lying or broken registry', () => {
  let fake: Fake;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake?.stop();
  });
  const client = (o: Partial<RegistryClientOptions> = {}) => new RegistryClient({ registry: fake.domain, scheme: 'http', ...o });
  const run = async (o: Partial<RegistryClientOptions>, ref = 'v1', verify = true) => {
    const c = client(o);
    try {
      return await c.resolve('team/app', ref, { verify });
    } finally {
      await c.close();
    }
  };

  it('honest baseline', async () => {
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'docker-content-digest': digestOf(MANIFEST) }).end(MANIFEST);
    expect((await run({})).digest).toBe(digestOf(MANIFEST));
  });

  it('a Docker-Content-Digest that is not the body’s: HASH_MISMATCH', async () => {
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'docker-content-digest': `sha256:${'1'.repeat(64)}` }).end(MANIFEST);
    const e = await failure(run({}));
    expect(e.code).toBe('HASH_MISMATCH');
    expect(e.message).toContain(digestOf(MANIFEST));
  });

  it('a body that is not the digest asked for (no header to compare): HASH_MISMATCH', async () => {
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest }).end(MANIFEST);
    const e = await failure(run({}, `sha256:${'2'.repeat(64)}`));
    expect(e.code).toBe('HASH_MISMATCH');
    // and HEAD stating another digest than the one asked for
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'docker-content-digest': digestOf(MANIFEST), 'content-length': String(MANIFEST.length) }).end(MANIFEST);
    expect((await failure(run({}, `sha256:${'2'.repeat(64)}`, false))).code).toBe('HASH_MISMATCH');
  });

  it('HEAD without a digest header falls back to GET (and hashes)', async () => {
    const methods: string[] = [];
    fake.handler = (req, res) => {
      methods.push(req.method!);
      res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest }).end(req.method === 'HEAD' ? undefined : MANIFEST);
    };
    const r = await run({}, 'v1', false);
    expect(methods).toEqual(['HEAD', 'GET']);
    expect(r).toMatchObject({ digest: digestOf(MANIFEST), verified: true });
  });

  it('a declared huge body is refused before reading; an endless one is cut at 4 MiB', async () => {
    let sent = 0;
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'content-length': String(64 << 20) });
      res.write(Buffer.alloc(1024));
    };
    expect((await failure(run({}))).code).toBe('LENGTH_EXCEEDED');
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest });
      const chunk = Buffer.alloc(64 << 10, 0x20);
      const pump = () => {
        while (!res.destroyed && sent < 64 << 20) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => undefined);
      pump();
    };
    const e = await failure(run({}));
    expect(e.code).toBe('LENGTH_EXCEEDED');
    expect(sent).toBeLessThan(16 << 20); // stopped early, not after the server's 64 MiB
  });

  it('stalls: no headers, or a body that stops → TIMEOUT', async () => {
    fake.handler = () => undefined; // never answers
    expect((await failure(run({ timeouts: { headersMs: 300 } }))).code).toBe('TIMEOUT');
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'content-length': '1000' });
      res.write('{"schemaVersion"');
    };
    expect((await failure(run({ timeouts: { bodyIdleMs: 300 } }))).code).toBe('TIMEOUT');
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'content-length': '100000' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
    };
    expect((await failure(run({ timeouts: { totalMs: 600 } }))).code).toBe('TIMEOUT');
  });

  it('a caller’s AbortSignal ends its wait at once, typed', async () => {
    fake.handler = () => undefined; // never answers
    const c = client();
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 200);
      const e = await failure(c.resolve('team/app', 'v1', { signal: ac.signal }));
      expect(e.code).toBe('NETWORK');
      expect(e.message).toContain('cancelled');
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await c.close();
    }
  });

  it('a reset connection and a refused port → NETWORK', async () => {
    fake.handler = (req) => req.socket.destroy();
    expect((await failure(run({}))).code).toBe('NETWORK');
    const closed = await startFake();
    const domain = closed.domain;
    await closed.stop();
    const c = new RegistryClient({ registry: domain, insecure: true });
    try {
      expect((await failure(c.resolve('team/app', 'v1'))).code).toBe('NETWORK');
    } finally {
      await c.close();
    }
  });

  it('a schema 1 (or unknown) manifest type is refused; OCI without mediaType is recognised', async () => {
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }).end('{"schemaVersion":1}');
    expect((await failure(run({}))).code).toBe('UNSUPPORTED_VALUE');
    const oci = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(oci);
    expect((await run({})).mediaType).toBe(MANIFEST_MEDIA_TYPES.ociIndex);
  });

  it('redirects are followed (bounded); credentials stay with the registry’s origin', async () => {
    const seen: { path: string; auth: string | undefined }[] = [];
    const other = await startFake();
    try {
      other.handler = (req, res) => {
        seen.push({ path: req.url!, auth: req.headers.authorization });
        res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest }).end(MANIFEST);
      };
      fake.handler = (req, res) => {
        seen.push({ path: req.url!, auth: req.headers.authorization });
        if (req.url!.includes('/manifests/v1')) res.writeHead(307, { location: `http://${other.domain}/elsewhere/v1` }).end();
        else res.writeHead(302, { location: req.url! }).end(); // a loop
      };
      const c = client({ credentials: { username: 'u', password: 'p' } });
      try {
        // a Basic challenge first, so the client has something to send
        const ch = fake.handler;
        let challenged = false;
        fake.handler = (req, res) => {
          if (!challenged) {
            challenged = true;
            res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
            return;
          }
          ch(req, res);
        };
        expect((await c.resolve('team/app', 'v1')).digest).toBe(digestOf(MANIFEST));
        expect(seen.at(-2)!.auth).toMatch(/^Basic /);
        expect(seen.at(-1)).toEqual({ path: '/elsewhere/v1', auth: undefined });
        const loop = await failure(c.resolve('team/app', 'v2'));
        expect(loop.message).toContain('too many redirects');
      } finally {
        await c.close();
      }
    } finally {
      await other.stop();
    }
  });

  it('broken docker config surfaces as a typed error when the registry asks for credentials', async () => {
    const cfg = temp('rc-badcfg-');
    writeFileSync(join(cfg, 'config.json'), '{not json');
    fake.handler = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
    const e = await failure(resolveImage(`${fake.domain}/team/app:v1`, { env: { DOCKER_CONFIG: cfg } }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('not valid JSON');
  });

  it('5xx and 403 are typed with the status', async () => {
    fake.handler = (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"down"}]}');
    const e = await failure(run({}));
    expect(e).toBeInstanceOf(RegistryError);
    expect(e.code).toBe('SERVER_ERROR');
    expect((e as RegistryError).status).toBe(503);
    expect((e as RegistryError).registryCodes).toEqual(['UNAVAILABLE']);
    fake.handler = (_req, res) => res.writeHead(403).end();
    expect((await failure(run({}))).code).toBe('UNAUTHORIZED');
  });

  it('in a separate process every fault settles with a typed error and the process exits by itself', async () => {
    // the child has nothing else keeping it alive: a promise that never settled would end it silently
    const script = `
      import { RegistryClient } from ${JSON.stringify(join(REPO_ROOT, 'dist/registry/client.js'))};
      const c = new RegistryClient({ registry: process.argv[1], scheme: 'http', timeouts: { headersMs: 300, bodyIdleMs: 300, totalMs: 2000 } });
      c.resolve('team/app', 'v1').then((d) => console.log('OK', d.digest), (e) => console.log('ERR', e.code)).finally(() => c.close());
    `;
    const runChild = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', script, fake.domain], { timeout: 20_000 }, (err, stdout) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout.trim() });
        });
      });
    const cases: [Handler, string][] = [
      [() => undefined, 'ERR TIMEOUT'],
      [(_req, res) => void res.writeHead(200, { 'content-length': '500' }).write('{'), 'ERR TIMEOUT'],
      [(req) => req.socket.destroy(), 'ERR NETWORK'],
      [(_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest, 'docker-content-digest': `sha256:${'1'.repeat(64)}` }).end(MANIFEST), 'ERR HASH_MISMATCH'],
      [(_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerManifest }).end(MANIFEST), `OK ${digestOf(MANIFEST)}`],
    ];
    for (const [handler, expected] of cases) {
      fake.handler = handler;
      const r = await runChild();
      expect(r).toEqual({ code: 0, out: expected });
    }
  });
});
