/**
 * The remote store against the real notary-server (Notary 0.7) and the real `notary` CLI, plus a real
 * token issuer (docker/distribution JWTs that notary-server verifies). Fake HTTP servers are used only for
 * what a real server cannot be made to do (endless or stalled bodies, 5xx, canned error bodies).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotaryError } from '../src/core/errors.js';
import { parseNotaryAuth, resolveCredentials } from '../src/node/credentials.js';
import { buildMultipart } from '../src/node/http.js';
import { NotaryRemote, RemoteHttpError, SIZE_LIMITS, type NotaryRemoteOptions } from '../src/node/remote.js';
// @ts-expect-error -- plain JS helper without types
import { freePort, startNotaryServer } from '../scripts/lib/notary-server.mjs';
import { startTokenServer, type AccessEntry, type TokenServer } from './support/token-server.js';

const execFileP = promisify(execFile);

interface NotaryServer {
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

const PASS_ENV = {
  NOTARY_ROOT_PASSPHRASE: 'root-pass-1',
  NOTARY_TARGETS_PASSPHRASE: 'targets-pass-1',
  NOTARY_SNAPSHOT_PASSPHRASE: 'snapshot-pass-1',
  NOTARY_DELEGATION_PASSPHRASE: 'delegation-pass-1',
};

const tmpDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the real notary CLI; returns stdout+stderr. Throws with output on failure. */
async function notary(serverUrl: string, trustDir: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...PASS_ENV, ...extraEnv };
  delete env.NOTARY_AUTH;
  Object.assign(env, extraEnv);
  try {
    const { stdout, stderr } = await execFileP('notary', ['-s', serverUrl, '-d', trustDir, ...args], { env, timeout: 60_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`notary ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function cacheFile(trustDir: string, gun: string, role: string): Uint8Array {
  return new Uint8Array(readFileSync(join(trustDir, 'tuf', gun, 'metadata', `${role}.json`)));
}

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function metaOf(parentBytes: Uint8Array, role: string): { sha256: string; length: number } {
  const parent = JSON.parse(Buffer.from(parentBytes).toString('utf8')) as { signed: { meta: Record<string, { hashes: { sha256: string }; length: number }> } };
  const m = parent.signed.meta[role]!;
  return { sha256: Buffer.from(m.hashes.sha256, 'base64').toString('hex'), length: m.length };
}

async function expectError(p: Promise<unknown>): Promise<NotaryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    return err as NotaryError;
  }
  throw new Error('expected an error');
}

const openRemotes: NotaryRemote[] = [];
function remote(opts: NotaryRemoteOptions): NotaryRemote {
  const r = new NotaryRemote({ retryDelayMs: 20, ...opts });
  openRemotes.push(r);
  return r;
}
afterAll(async () => {
  await Promise.all(openRemotes.map((r) => r.close()));
});

// ---------------------------------------------------------------------------------------------------
// Real notary-server, no auth

describe('against a real notary-server', () => {
  let srv: NotaryServer;
  let trustDir: string;
  const gun = 'example.com/remote/app';

  beforeAll(async () => {
    srv = (await startNotaryServer()) as NotaryServer;
    trustDir = tempDir('remote-trust-');
    await notary(srv.url, trustDir, ['init', gun, '-p']);
    // make the Go client download and cache the timestamp too
    const out = await notary(srv.url, trustDir, ['list', gun]);
    expect(out).toContain('No targets present in this repository.');
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('fetches every role, by current name, checksum and version, byte-identical to the Go client cache', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const ts = await r.getTimestamp();
    expect(Buffer.from(ts).equals(cacheFile(trustDir, gun, 'timestamp'))).toBe(true);

    const snapMeta = metaOf(ts, 'snapshot');
    const snapshot = await r.getRoleByChecksum('snapshot', snapMeta.sha256, snapMeta.length);
    expect(sha256Hex(snapshot)).toBe(snapMeta.sha256);
    expect(Buffer.from(snapshot).equals(cacheFile(trustDir, gun, 'snapshot'))).toBe(true);

    const root = await r.getRoot();
    expect(Buffer.from(root).equals(cacheFile(trustDir, gun, 'root'))).toBe(true);
    const root1 = await r.getRootVersion(1);
    expect(Buffer.from(root1).equals(root)).toBe(true);
    const rootMeta = metaOf(snapshot, 'root');
    expect(Buffer.from(await r.getRoleByChecksum('root', rootMeta.sha256, rootMeta.length)).equals(root)).toBe(true);

    const targetsMeta = metaOf(snapshot, 'targets');
    const targets = await r.getRoleByChecksum('targets', targetsMeta.sha256, targetsMeta.length);
    expect(Buffer.from(targets).equals(cacheFile(trustDir, gun, 'targets'))).toBe(true);
    expect(Buffer.from(await r.getRole('targets', SIZE_LIMITS.root)).equals(targets)).toBe(true);

    // one keep-alive connection served all of it
    const stats = r.stats;
    expect(stats.requests).toBe(7);
    expect(stats.connections).toBe(1);
    expect(stats.retries).toBe(0);
  });

  it('ping answers 200 without auth', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const p = await r.ping();
    expect(p.status).toBe(200);
    expect(p.challenges).toEqual([]);
  });

  it('words 404s as Notary does', async () => {
    const host = new URL(srv.url).host;
    const unknown = remote({ serverUrl: srv.url, gun: 'example.com/does-not-exist' });
    let err = await expectError(unknown.getRoot());
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`${host} does not have trust data for example.com/does-not-exist`);
    err = await expectError(unknown.getRootVersion(1));
    expect(err.message).toBe(`${host} does not have trust data for example.com/does-not-exist`);

    const r = remote({ serverUrl: srv.url, gun });
    err = await expectError(r.getRole('targets/nope', 1000));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('targets/nope trust data unavailable.  Has a notary repository been initialized?');
    // by checksum, the resource is named as the Go client names it (role.<hex>)
    err = await expectError(r.getRoleByChecksum('snapshot', '0'.repeat(64), 1000));
    expect(err.message).toBe(`snapshot.${'0'.repeat(64)} trust data unavailable.  Has a notary repository been initialized?`);
    expect(err.where).toBe('snapshot');
    expect((err as RemoteHttpError).serverCodes).toEqual(['METADATA_NOT_FOUND']);
    // 404s are not retried
    expect(r.stats.retries).toBe(0);
  });

  it('refuses a body longer than the parent says, from Content-Length, before reading', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const ts = await r.getTimestamp();
    const snapMeta = metaOf(ts, 'snapshot');
    const err = await expectError(r.getRoleByChecksum('snapshot', snapMeta.sha256, snapMeta.length - 1));
    expect(err.code).toBe('LENGTH_EXCEEDED');
    expect(err.message).toContain('snapshot');
    expect(err.message).toContain(String(snapMeta.length - 1));
  });

  it('getKey returns the server-held ed25519 timestamp key listed in root', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const key = await r.getKey('timestamp');
    expect(key.keytype).toBe('ed25519');
    expect(key.keyval.private ?? null).toBeNull();
    expect(Buffer.from(key.keyval.public, 'base64')).toHaveLength(32);
    const root = JSON.parse(Buffer.from(await r.getRoot()).toString()) as {
      signed: { keys: Record<string, { keyval: { public: string } }>; roles: Record<string, { keyids: string[] }> };
    };
    const tsKeyId = root.signed.roles.timestamp!.keyids[0]!;
    expect(root.signed.keys[tsKeyId]!.keyval.public).toBe(key.keyval.public);
  });

  it('rotateKey returns a new pending key', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const before = await r.getKey('timestamp');
    const rotated = await r.rotateKey('timestamp');
    expect(rotated.keytype).toBe('ed25519');
    expect(rotated.keyval.public).not.toBe(before.keyval.public);
    // targets keys are never held by the server
    const err = await expectError(r.getKey('targets'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('targets key trust data unavailable.  Has a notary repository been initialized?');
  });

  it('publishes a repository the Go client initialised (multipart), which the Go client then lists', async () => {
    const pubGun = 'example.com/remote/published-by-ts';
    const dir = tempDir('remote-pub-');
    await notary(srv.url, dir, ['init', pubGun]); // no -p: root, targets, snapshot v1 only in the cache
    const files = new Map<string, Uint8Array>();
    for (const role of ['root', 'targets', 'snapshot']) files.set(role, cacheFile(dir, pubGun, role));
    const r = remote({ serverUrl: srv.url, gun: pubGun });
    await expectError(r.getRoot()); // not there yet
    await r.publish(files);
    expect(Buffer.from(await r.getRoot()).equals(files.get('root')!)).toBe(true);

    const out = await notary(srv.url, dir, ['list', pubGun]);
    expect(out).toContain('No targets present in this repository.');
    // and from a fresh trust dir (trust on first use)
    const fresh = tempDir('remote-fresh-');
    expect(await notary(srv.url, fresh, ['list', pubGun])).toContain('No targets present in this repository.');

    // the same versions again: 400 VERSION, which Notary words generically
    const err = await expectError(r.publish(files));
    expect(err.code).toBe('SERVER_ERROR');
    expect(err.message).toBe('trust server rejected operation.');
    expect((err as RemoteHttpError).status).toBe(400);
    expect((err as RemoteHttpError).serverCodes).toEqual(['VERSION']);
  });

  it('words an INVALID_UPDATE from the real server with the validation message', async () => {
    const dir = tempDir('remote-inv-');
    const g = 'example.com/remote/invalid';
    await notary(srv.url, dir, ['init', g]);
    const r = remote({ serverUrl: srv.url, gun: g });
    // targets without a root for a GUN the server does not know
    const err = await expectError(r.publish(new Map([['targets', cacheFile(dir, g, 'targets')]])));
    // (the real server files this one under ErrValidation)
    expect(err.message).toBe('An error occurred during validation: no pre-existing root and no root provided in update.');
    expect((err as RemoteHttpError).serverCodes).toEqual(['INVALID_UPDATE']);
  });

  it('keeps the slash in a delegation part name (targets/releases), which a basename would turn into INVALID_ROLE', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    // a targets/releases part for a repository without that delegation: the server must see the full
    // role name and reject it in validation, not as an unknown role or a missing filename
    const err = await expectError(r.publish(new Map([['targets/releases', cacheFile(trustDir, gun, 'targets')]])));
    expect((err as RemoteHttpError).serverCodes).toEqual(['INVALID_UPDATE']);
    expect(err.message).not.toBe('trust server rejected operation.');
    expect(err.message).toMatch(/^(The targets metadata is invalid|Metadata hierarchy is incomplete|An error occurred during validation): /);

    // the same bytes under the basename "releases" are refused as an invalid role
    const mp = buildMultipart(new Map([['releases', cacheFile(trustDir, gun, 'targets')]]));
    const res = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/`, { method: 'POST', headers: { 'content-type': mp.contentType }, body: new Uint8Array(mp.body) });
    const body = (await res.json()) as { errors: { code: string }[] };
    expect(res.status).toBe(400);
    expect(body.errors[0]!.code).toBe('INVALID_ROLE');
  });

  it("replays the Go client's own publish of a delegation (targets/releases) through our multipart", async () => {
    // a proxy in front of the real server that captures the Go client's publish and answers 503
    let capture = false;
    const captured: { contentType: string; body: Buffer }[] = [];
    const proxy = await startFake(async (req, res) => {
      const body = proxy.bodies[proxy.bodies.length - 1]!;
      if (capture && req.method === 'POST') {
        captured.push({ contentType: String(req.headers['content-type']), body });
        return void res.writeHead(503).end();
      }
      const headers: Record<string, string> = {};
      if (req.headers['content-type']) headers['content-type'] = String(req.headers['content-type']);
      const up = await fetch(`${srv.url}${req.url}`, { method: req.method!, headers, ...(body.length ? { body: new Uint8Array(body) } : {}) });
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await up.arrayBuffer()));
    });
    try {
      const g = 'example.com/remote/delegated';
      const dir = tempDir('remote-dlg-');
      const key = join(dir, 'releases-key.pem');
      const cert = join(dir, 'releases-cert.pem');
      const target = join(dir, 'hello.txt');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=releases', '-keyout', key, '-out', cert, '-days', '30'], { stdio: 'pipe' });
      writeFileSync(target, 'hello\n');
      await notary(proxy.url, dir, ['init', g, '-p']);
      await notary(proxy.url, dir, ['delegation', 'add', g, 'targets/releases', cert, '--all-paths']);
      await notary(proxy.url, dir, ['key', 'import', key, '-r', 'targets/releases']);
      await notary(proxy.url, dir, ['add', g, 'v1', target, '-r', 'targets/releases']);
      capture = true;
      // the Go client's own wording for a 503
      await expect(notary(proxy.url, dir, ['publish', g])).rejects.toThrow('unable to reach trust server at this time: 503.');
      expect(captured).toHaveLength(1);

      // the Go client's multipart looks like ours: field "files", filename = role with its slash
      const goBody = captured[0]!.body.toString('latin1');
      expect(goBody).toContain('Content-Disposition: form-data; name="files"; filename="targets/releases"\r\nContent-Type: application/octet-stream\r\n\r\n');
      const form = await new Response(new Uint8Array(captured[0]!.body), { headers: { 'content-type': captured[0]!.contentType } }).formData();
      const parts = new Map<string, Uint8Array>();
      for (const f of form.getAll('files') as File[]) parts.set(f.name, new Uint8Array(await f.arrayBuffer()));
      expect([...parts.keys()].sort()).toEqual(['snapshot', 'targets', 'targets/releases']);

      // replay those exact bytes with our client, straight to the real server
      const r = remote({ serverUrl: srv.url, gun: g });
      await r.publish(parts);
      const fresh = tempDir('remote-dlg-fresh-');
      const out = await notary(srv.url, fresh, ['list', g]);
      expect(out).toMatch(/v1\s+5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\s+6\s+targets\/releases/);
      // and we fetch the delegation back by checksum, byte-identical
      const ts = await r.getTimestamp();
      const sm = metaOf(ts, 'snapshot');
      const snapshot = await r.getRoleByChecksum('snapshot', sm.sha256, sm.length);
      const rm = metaOf(snapshot, 'targets/releases');
      expect(Buffer.from(await r.getRoleByChecksum('targets/releases', rm.sha256, rm.length)).equals(Buffer.from(parts.get('targets/releases')!))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('deleteRepository removes the GUN', async () => {
    const dir = tempDir('remote-del-');
    const g = 'example.com/remote/deleted';
    await notary(srv.url, dir, ['init', g, '-p']);
    const r = remote({ serverUrl: srv.url, gun: g });
    await r.getRoot();
    await r.deleteRepository();
    const err = await expectError(r.getRoot());
    expect(err.code).toBe('NOT_FOUND');
  });

  it('keeps a path prefix of the server URL', async () => {
    // a fake reverse proxy that serves notary under /notary and rejects everything else
    const fake = await startFake(async (req, res) => {
      if (!req.url?.startsWith('/notary/v2/')) return void res.writeHead(500).end();
      const upstream = await fetch(`${srv.url}${req.url.slice('/notary'.length)}`);
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    try {
      const r = remote({ serverUrl: `${fake.url}/notary/`, gun });
      expect(Buffer.from(await r.getRoot()).equals(cacheFile(trustDir, gun, 'root'))).toBe(true);
      expect((await r.ping()).status).toBe(200);
      expect(fake.paths).toEqual([`/notary/v2/${gun}/_trust/tuf/root.json`, '/notary/v2/']);
    } finally {
      await fake.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Real notary-server with token auth, real JWTs

describe('token auth against a real notary-server', () => {
  let srv: NotaryServer;
  let issuer: TokenServer;
  let policyOverride: ((requested: AccessEntry[], info: { user: string | null }) => AccessEntry[]) | undefined;
  const gun = 'example.com/auth/app';
  const users = { alice: 'alice-secret-pw' };
  const aliceAuth = Buffer.from('alice:alice-secret-pw').toString('base64');
  let trustDir: string;

  beforeAll(async () => {
    issuer = await startTokenServer({
      service: 'notary-test-service',
      issuer: 'notary-test-issuer',
      users,
      refreshTokens: { 'identity-token-for-alice': 'alice' },
      policy: (requested, info) =>
        policyOverride
          ? policyOverride(requested, info)
          : info.user
            ? requested
            : requested.map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') })).filter((a) => a.actions.length > 0),
    });
    srv = (await startNotaryServer({
      auth: { type: 'token', options: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootcertbundle: issuer.certFile } },
    })) as NotaryServer;
    trustDir = tempDir('remote-auth-trust-');
    // the Go client itself goes through our issuer (Basic credentials from NOTARY_AUTH)
    await notary(srv.url, trustDir, ['init', gun, '-p'], { NOTARY_AUTH: aliceAuth });
  });
  afterAll(async () => {
    await srv?.stop();
    await issuer?.close();
  });

  it('the server refuses unauthenticated requests with a Bearer challenge', async () => {
    const res = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/timestamp.json`);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`Bearer realm="${issuer.realm}"`);
    expect(challenge).toContain(`service="${issuer.service}"`);
    expect(challenge).toContain(`scope="repository:${gun}:pull"`);
  });

  it('reads through the challenge flow anonymously, with scope pull, and caches the token', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const ping = await r.ping();
    expect(ping.status).toBe(401);
    expect(ping.challenges[0]?.scheme).toBe('bearer');
    const before = issuer.requests.length;
    const ts = await r.getTimestamp();
    const snapMeta = metaOf(ts, 'snapshot');
    await r.getRoleByChecksum('snapshot', snapMeta.sha256, snapMeta.length);
    await r.getRoot();
    const mine = issuer.requests.slice(before);
    expect(mine).toHaveLength(1); // one token for all three reads
    expect(mine[0]!.scopes).toEqual([`repository:${gun}:pull`]);
    expect(mine[0]!.service).toBe(issuer.service);
    expect(mine[0]!.basicUser).toBeNull();
    expect(mine[0]!.account).toBeNull();
    expect(r.stats).toMatchObject({ requests: 5, tokenRequests: 1, retries: 0 });
  });

  it('without a prior ping, learns the challenge from the 401 and retries', async () => {
    const r = remote({ serverUrl: srv.url, gun });
    const root = await r.getRoot();
    expect(JSON.parse(Buffer.from(root).toString()).signed._type).toBe('Root');
    expect(r.stats).toMatchObject({ requests: 3, tokenRequests: 1 }); // 401, token, 200
  });

  it('accepts the token in access_token too', async () => {
    issuer.settings.tokenField = 'access_token';
    try {
      const r = remote({ serverUrl: srv.url, gun });
      expect(JSON.parse(Buffer.from(await r.getRoot()).toString()).signed._type).toBe('Root');
      expect(r.stats.tokenRequests).toBe(1);
    } finally {
      issuer.settings.tokenField = 'token';
    }
  });

  it('a token for another GUN is refused by the server', async () => {
    const wrong = issuer.issue([{ type: 'repository', name: 'example.com/auth/other', actions: ['pull', 'push', '*'] }]);
    let res = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/root.json`, { headers: { authorization: `Bearer ${wrong}` } });
    expect(res.status).toBe(401);
    const right = issuer.issue([{ type: 'repository', name: gun, actions: ['pull'] }]);
    res = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/root.json`, { headers: { authorization: `Bearer ${right}` } });
    expect(res.status).toBe(200);

    // through our client: the issuer hands out tokens for the wrong GUN, even to alice
    policyOverride = (requested) => requested.map((a) => ({ ...a, name: 'example.com/auth/other' }));
    try {
      const r = remote({ serverUrl: srv.url, gun, credentials: { username: 'alice', password: users.alice } });
      const err = await expectError(r.getRoot());
      expect(err.code).toBe('UNAUTHORIZED');
      expect(err.message).toBe('you are not authorized to perform this operation: server returned 401.');
      expect(err.message).not.toContain(users.alice);
    } finally {
      policyOverride = undefined;
    }
  });

  it('reads retry with credentials when anonymous access is refused', async () => {
    policyOverride = (requested, info) => (info.user ? requested : []);
    try {
      const r = remote({ serverUrl: srv.url, gun, credentials: { username: 'alice', password: users.alice } });
      const before = issuer.requests.length;
      await r.getTimestamp();
      await r.getRoot();
      const mine = issuer.requests.slice(before);
      expect(mine.map((q) => q.basicUser)).toEqual([null, 'alice']); // anonymous first, then alice, then cached
      expect(mine[1]!.account).toBe('alice');
      expect(mine[1]!.scopes).toEqual([`repository:${gun}:pull`]);
    } finally {
      policyOverride = undefined;
    }
  });

  it('writes send Basic credentials to the issuer with scope push,pull; the Go client accepts the result', async () => {
    const g = 'example.com/auth/published-by-ts';
    const dir = tempDir('remote-auth-pub-');
    await notary(srv.url, dir, ['init', g], { NOTARY_AUTH: aliceAuth });
    const files = new Map(['root', 'targets', 'snapshot'].map((role) => [role, cacheFile(dir, g, role)] as const));

    // no credentials: anonymous tokens only carry pull, so the server refuses the write
    const anon = remote({ serverUrl: srv.url, gun: g });
    const err = await expectError(anon.publish(files));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toBe('you are not authorized to perform this operation: server returned 401.');

    const before = issuer.requests.length;
    const r = remote({ serverUrl: srv.url, gun: g, credentials: { username: 'alice', password: users.alice } });
    await r.publish(files);
    const mine = issuer.requests.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ basicUser: 'alice', authenticated: true, account: 'alice', scopes: [`repository:${g}:push,pull`] });
    expect(await notary(srv.url, dir, ['list', g], { NOTARY_AUTH: aliceAuth })).toContain('No targets present in this repository.');

    // key rotation asks for "*"
    const at = issuer.requests.length;
    await r.rotateKey('snapshot');
    expect(issuer.requests.slice(at).map((q) => q.scopes)).toEqual([[`repository:${g}:*`]]);
  });

  it('wrong credentials are refused by the issuer', async () => {
    const r = remote({ serverUrl: srv.url, gun, credentials: { username: 'alice', password: 'not-the-password' } });
    const err = await expectError(r.publish(new Map()));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).not.toContain('not-the-password');
  });

  it('credentials from docker config (auths) and an identity token via a credential helper', async () => {
    const host = new URL(srv.url).host;
    const dockerDir = tempDir('remote-docker-');
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [`https://${host}`]: { auth: aliceAuth } } }));
    const env = { ...process.env, DOCKER_CONFIG: dockerDir, NOTARY_AUTH: '' };
    const r = remote({ serverUrl: srv.url, gun, credentials: () => resolveCredentials(srv.url, { env }) });
    const before = issuer.requests.length;
    expect((await r.getKey('timestamp')).keytype).toBe('ed25519'); // key endpoints need push,pull
    expect(issuer.requests.slice(before)).toMatchObject([{ basicUser: 'alice', authenticated: true, scopes: [`repository:${gun}:push,pull`] }]);

    // identity token (docker's "<token>" username) → OAuth refresh-token grant
    const bin = tempDir('remote-helper-bin-');
    writeHelper(bin, { [host]: { Username: '<token>', Secret: 'identity-token-for-alice' } });
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ credHelpers: { [host]: 'test' } }));
    const env2 = { ...env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    const r2 = remote({ serverUrl: srv.url, gun, credentials: () => resolveCredentials(srv.url, { env: env2 }) });
    const at = issuer.requests.length;
    expect((await r2.getKey('timestamp')).keytype).toBe('ed25519');
    expect(issuer.requests.slice(at)).toMatchObject([{ method: 'POST', grantType: 'refresh_token', authenticated: true, scopes: [`repository:${gun}:push,pull`] }]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Fakes: what a real server cannot be made to do

interface Fake {
  url: string;
  paths: string[];
  bodies: Buffer[];
  close(): Promise<void>;
}

async function startFake(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<Fake> {
  const paths: string[] = [];
  const bodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      Promise.resolve(handler(req, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    bodies,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('hostile and failing servers (fakes)', () => {
  const gun = 'example.com/fake';

  it('stops an endless timestamp at the 1 MiB cap', async () => {
    let written = 0;
    const fake = await startFake((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }); // chunked, no Content-Length
      // 64 KiB every 2 ms (~32 MB/s), so what the fake "managed to write" is not inflated by kernel buffers
      const chunk = Buffer.alloc(64 << 10, 0x61);
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        written += chunk.length;
        res.write(chunk);
      }, 2);
      res.on('close', () => clearInterval(t));
    });
    try {
      const r = remote({ serverUrl: fake.url, gun });
      const t0 = Date.now();
      const err = await expectError(r.getTimestamp());
      expect(err.code).toBe('LENGTH_EXCEEDED');
      expect(err.message).toContain('timestamp');
      expect(err.message).toContain(String(SIZE_LIMITS.timestamp));
      expect(Date.now() - t0).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 100));
      expect(written).toBeGreaterThan(SIZE_LIMITS.timestamp);
      expect(written).toBeLessThan(2 * SIZE_LIMITS.timestamp);
      expect(r.stats.retries).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('refuses a Content-Length over the cap without reading', async () => {
    let wrote = 0;
    const fake = await startFake((_req, res) => {
      res.writeHead(200, { 'content-length': String(50 << 20) });
      const chunk = Buffer.alloc(64 << 10, 0x62);
      const pump = () => {
        while (!res.destroyed && wrote < 50 << 20) {
          wrote += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    try {
      const r = remote({ serverUrl: fake.url, gun });
      const err = await expectError(r.getTimestamp());
      expect(err.code).toBe('LENGTH_EXCEEDED');
      expect(err.message).toContain(`Content-Length ${50 << 20}`);
      const e2 = await expectError(r.getRoleByChecksum('targets/releases', 'ab'.repeat(32), 100));
      expect(e2.code).toBe('LENGTH_EXCEEDED');
      expect(e2.where).toBe('targets/releases');
      expect(fake.paths[1]).toBe(`/v2/${gun}/_trust/tuf/targets/releases.${'ab'.repeat(32)}.json`);
    } finally {
      await fake.close();
    }
  });

  it('times out when headers never come, when the body stalls, and at the overall deadline', async () => {
    const fake = await startFake((req, res) => {
      if (req.url!.includes('timestamp')) return; // never answer
      if (req.url!.includes('root')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('{"signed":'); // then stall
        return;
      }
      // trickle: one byte every 50 ms, forever
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('x')), 50);
      res.on('close', () => clearInterval(t));
    });
    try {
      // undici checks the headers timeout with ~1 s granularity
      const r = remote({ serverUrl: fake.url, gun, timeouts: { headersMs: 300, bodyIdleMs: 300, totalMs: 5000 } });
      let t0 = Date.now();
      let err = await expectError(r.getTimestamp());
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toBe(`GET /v2/${gun}/_trust/tuf/timestamp.json: no response headers within 300 ms`);
      expect(Date.now() - t0).toBeLessThan(2500);

      t0 = Date.now();
      err = await expectError(r.getRoot());
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toBe(`GET /v2/${gun}/_trust/tuf/root.json: no response data for 300 ms`);
      expect(Date.now() - t0).toBeLessThan(2000);

      t0 = Date.now();
      const r2 = remote({ serverUrl: fake.url, gun, timeouts: { bodyIdleMs: 1000, totalMs: 800 } });
      err = await expectError(r2.getRole('targets', 1 << 20));
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toBe(`GET /v2/${gun}/_trust/tuf/targets.json: request did not complete within 800 ms`);
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(r.stats.retries + r2.stats.retries).toBe(0); // timeouts are not retried
    } finally {
      await fake.close();
    }
  });

  it('retries a 503 and succeeds', async () => {
    let n = 0;
    const fake = await startFake((_req, res) => {
      if (n++ === 0) return void res.writeHead(503).end('busy');
      res.writeHead(200).end('{"ok":true}');
    });
    try {
      const r = remote({ serverUrl: fake.url, gun });
      expect(Buffer.from(await r.getTimestamp()).toString()).toBe('{"ok":true}');
      expect(r.stats).toMatchObject({ requests: 2, retries: 1 });
    } finally {
      await fake.close();
    }
  });

  it('gives up on a persistent 500 after the bounded retries, with Notary wording; writes are never retried', async () => {
    const fake = await startFake((_req, res) => void res.writeHead(500).end('{"errors":[{"code":"UNKNOWN"}]}'));
    try {
      const r = remote({ serverUrl: fake.url, gun, retries: 2 });
      const err = await expectError(r.getTimestamp());
      expect(err.code).toBe('SERVER_ERROR');
      expect(err.message).toBe('unable to reach trust server at this time: 500.');
      expect(fake.paths).toHaveLength(3);
      const e2 = await expectError(r.publish(new Map()));
      expect(e2.message).toBe('unable to reach trust server at this time: 500.');
      expect(fake.paths).toHaveLength(4);
    } finally {
      await fake.close();
    }
  });

  it('never retries 4xx; words 400 INVALID_UPDATE and other 400s as Notary does', async () => {
    const invalidUpdate = JSON.stringify({
      errors: [
        {
          code: 'INVALID_UPDATE',
          message: 'Update sent by the client is invalid.',
          detail: { Name: 'ErrBadTargets', Error: { Msg: 'targets/releases has an invalid signature' } },
        },
      ],
    });
    const fake = await startFake((req, res) => {
      if (req.method === 'POST') return void res.writeHead(400, { 'content-type': 'application/json' }).end(invalidUpdate);
      if (req.url!.includes('timestamp')) return void res.writeHead(400).end('{"errors":[{"code":"INVALID_ROLE","detail":"x"}]}');
      if (req.url!.includes('snapshot')) return void res.writeHead(400).end(invalidUpdate.padEnd(2000, ' ') + 'garbage'); // > 1 KiB still parses: first KiB only
      res.writeHead(403).end();
    });
    try {
      const r = remote({ serverUrl: fake.url, gun });
      let err = await expectError(r.publish(new Map([['targets/releases', new Uint8Array([123, 125])]])));
      expect(err.message).toBe('The targets metadata is invalid: targets/releases has an invalid signature');
      expect((err as RemoteHttpError).serverCodes).toEqual(['INVALID_UPDATE']);
      err = await expectError(r.getTimestamp());
      expect(err.message).toBe('trust server rejected operation.');
      err = await expectError(r.getRole('snapshot', 1000));
      expect(err.message).toBe('The targets metadata is invalid: targets/releases has an invalid signature');
      err = await expectError(r.getRoot());
      expect(err.message).toBe('unable to reach trust server at this time: 403.');
      expect(r.stats.retries).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('sends multipart parts named files with the full role name and exact bytes', async () => {
    const fake = await startFake((_req, res) => void res.writeHead(200).end());
    try {
      const r = remote({ serverUrl: fake.url, gun });
      const releases = new Uint8Array([0x7b, 0x22, 0x3c, 0x0d, 0x0a, 0x00, 0xff, 0x7d]);
      await r.publish(new Map([['targets/releases', releases], ['root', new Uint8Array([1, 2, 3])]]));
      const body = fake.bodies[0]!;
      const text = body.toString('latin1');
      expect(text).toContain('Content-Disposition: form-data; name="files"; filename="targets/releases"\r\nContent-Type: application/octet-stream\r\n\r\n');
      expect(body.includes(Buffer.concat([Buffer.from('\r\n\r\n'), Buffer.from(releases), Buffer.from('\r\n--')]))).toBe(true);
      // parse it back with a standard multipart parser
      const boundary = /^--([0-9a-f]+)\r\n/.exec(text)![1]!;
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }).formData();
      const parts = form.getAll('files') as File[];
      expect(parts).toHaveLength(2);
      expect(Buffer.from(await parts[0]!.arrayBuffer()).equals(Buffer.from(releases))).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('Basic auth challenge: retries with credentials', async () => {
    const expected = `Basic ${Buffer.from('bob:b0b-pw').toString('base64')}`;
    const seen: (string | undefined)[] = [];
    const fake = await startFake((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== expected) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="notary"' }).end();
      res.writeHead(200).end('{}');
    });
    try {
      const r = remote({ serverUrl: fake.url, gun, credentials: { username: 'bob', password: 'b0b-pw' } });
      await r.getTimestamp();
      await r.getTimestamp();
      expect(seen).toEqual([undefined, expected, expected]); // learn the challenge, then credentials (remembered)
      const anon = remote({ serverUrl: fake.url, gun });
      const err = await expectError(anon.getTimestamp());
      expect(err.code).toBe('UNAUTHORIZED');
      expect(err.message).toBe('you are not authorized to perform this operation: server returned 401.');
    } finally {
      await fake.close();
    }
  });

  it('network errors are typed, name the path, and are retried; ping goes OFFLINE', async () => {
    const port = (await freePort()) as number;
    const r = remote({ serverUrl: `http://127.0.0.1:${port}`, gun, retries: 2 });
    const err = await expectError(r.getTimestamp());
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain(`GET /v2/${gun}/_trust/tuf/timestamp.json`);
    expect(err.message).toContain('ECONNREFUSED');
    expect(r.stats.retries).toBe(2);
    const p = await expectError(r.ping());
    expect(p.code).toBe('OFFLINE');

    const fake = await startFake((_req, res) => void res.writeHead(502).end());
    try {
      const e = await expectError(remote({ serverUrl: fake.url, gun }).ping());
      expect(e.code).toBe('OFFLINE');
      expect(e.message).toBe(`could not reach ${fake.url}: 502`);
    } finally {
      await fake.close();
    }
  });

  it('rejects bad arguments up front', () => {
    expect(() => new NotaryRemote({ serverUrl: 'ftp://x', gun })).toThrow(NotaryError);
    expect(() => new NotaryRemote({ serverUrl: 'http://x', gun: 'a*b' })).toThrow(NotaryError);
    expect(() => new NotaryRemote({ serverUrl: 'http://x', gun, tls: { cert: 'x' } })).toThrow('either pass both client key and cert, or neither');
  });
});

// ---------------------------------------------------------------------------------------------------
// TLS

describe('TLS', () => {
  it('uses a custom CA, refuses an unknown one, and can skip verification', async () => {
    const dir = tempDir('remote-tls-');
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    const https = await import('node:https');
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => void res.writeHead(200).end('{"tls":true}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = remote({ serverUrl: url, gun: 'g', tls: { ca: readFileSync(cert, 'utf8') } });
      expect(Buffer.from(await ok.getTimestamp()).toString()).toBe('{"tls":true}');
      const bad = remote({ serverUrl: url, gun: 'g', retries: 0 });
      const err = await expectError(bad.getTimestamp());
      expect(err.code).toBe('NETWORK');
      expect(err.message).toContain('/v2/g/_trust/tuf/timestamp.json');
      const skip = remote({ serverUrl: url, gun: 'g', tls: { insecureSkipVerify: true } });
      expect(Buffer.from(await skip.getTimestamp()).toString()).toBe('{"tls":true}');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    // mutual TLS: the server requires a client certificate signed by its CA (here: the same self-signed cert)
    const mtls = https.createServer({ key: readFileSync(key), cert: readFileSync(cert), ca: readFileSync(cert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.writeHead(200).end(JSON.stringify({ client: peer.subject?.CN ?? null }));
    });
    await new Promise<void>((resolve) => mtls.listen(0, '127.0.0.1', resolve));
    const murl = `https://127.0.0.1:${(mtls.address() as AddressInfo).port}`;
    try {
      const withCert = remote({ serverUrl: murl, gun: 'g', tls: { ca: readFileSync(cert), cert: readFileSync(cert), key: readFileSync(key) } });
      expect(Buffer.from(await withCert.getTimestamp()).toString()).toBe('{"client":"127.0.0.1"}');
      const without = remote({ serverUrl: murl, gun: 'g', retries: 0, tls: { ca: readFileSync(cert) } });
      const err = await expectError(without.getTimestamp());
      expect(['NETWORK']).toContain(err.code);
    } finally {
      mtls.closeAllConnections();
      await new Promise<void>((resolve) => mtls.close(() => resolve()));
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Credentials

function writeHelper(binDir: string, entries: Record<string, { Username: string; Secret: string }>): void {
  const cases = Object.entries(entries)
    .map(([server, e]) => `  ${JSON.stringify(server)}) printf '%s' ${shellQuote(JSON.stringify({ ServerURL: server, ...e }))} ;;`)
    .join('\n');
  const script = `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server || true
case "$server" in
${cases}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  const p = join(binDir, 'docker-credential-test');
  writeFileSync(p, script);
  chmodSync(p, 0o755);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

describe('credentials', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('NOTARY_AUTH: base64 user:password, password trimmed, empty user refused', async () => {
    expect(parseNotaryAuth(b64('alice:  pw with spaces \n'))).toEqual({ username: 'alice', password: 'pw with spaces' });
    expect(parseNotaryAuth(b64('alice:a:b'))).toEqual({ username: 'alice', password: 'a:b' });
    expect(() => parseNotaryAuth(b64(':pw'))).toThrow('zero-length username');
    expect(() => parseNotaryAuth(b64('nocolon'))).toThrow(NotaryError);
    expect(() => parseNotaryAuth('!!!')).toThrow('not valid base64');
    const env = { NOTARY_AUTH: b64('carol:pw'), DOCKER_CONFIG: '/nonexistent' };
    expect(await resolveCredentials('https://notary.example:4443', { env })).toEqual({ username: 'carol', password: 'pw' });
    // explicit wins
    expect(await resolveCredentials('https://notary.example:4443', { env, explicit: { username: 'x', password: 'y' } })).toEqual({ username: 'x', password: 'y' });
  });

  it('docker config: auths (with and without scheme), credHelpers, credsStore', async () => {
    const dockerDir = tempDir('remote-docker-cfg-');
    const bin = tempDir('remote-docker-bin-');
    writeHelper(bin, {
      'helper.example:5000': { Username: 'helperuser', Secret: 'helper-secret' },
      'store.example': { Username: 'storeuser', Secret: 'store-secret' },
      'token.example': { Username: '<token>', Secret: 'id-token' },
    });
    const env = { HOME: '/nonexistent', DOCKER_CONFIG: dockerDir, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    const cfg = (c: unknown) => writeFileSync(join(dockerDir, 'config.json'), JSON.stringify(c));

    cfg({ auths: { 'https://plain.example/v1/': { auth: b64('dave:dave-pw') }, 'bare.example:443': { auth: b64('erin:erin-pw') } } });
    expect(await resolveCredentials('https://plain.example', { env })).toEqual({ username: 'dave', password: 'dave-pw' });
    expect(await resolveCredentials('https://bare.example:443/', { env })).toEqual({ username: 'erin', password: 'erin-pw' });
    expect(await resolveCredentials('https://other.example', { env })).toBeUndefined();

    cfg({ credHelpers: { 'helper.example:5000': 'test' }, credsStore: 'test', auths: { 'plain.example': { auth: b64('dave:dave-pw') } } });
    expect(await resolveCredentials('https://helper.example:5000', { env })).toEqual({ username: 'helperuser', password: 'helper-secret' });
    expect(await resolveCredentials('https://store.example', { env })).toEqual({ username: 'storeuser', password: 'store-secret' });
    expect(await resolveCredentials('https://token.example', { env })).toEqual({ username: '', password: '', identityToken: 'id-token' });
    // the store has nothing for plain.example: the auths entry is used
    expect(await resolveCredentials('https://plain.example', { env })).toEqual({ username: 'dave', password: 'dave-pw' });

    cfg({ credsStore: 'missing-helper' });
    await expect(resolveCredentials('https://x.example', { env })).rejects.toThrow('docker-credential-missing-helper not found');
    // no config at all
    expect(await resolveCredentials('https://x.example', { env: { HOME: '/nonexistent', DOCKER_CONFIG: join(dockerDir, 'nope') } })).toBeUndefined();
    expect(existsSync(join(dockerDir, 'nope'))).toBe(false);
    mkdirSync(join(dockerDir, 'nope'));
  });
});
