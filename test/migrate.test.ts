/**
 * Issue 15: moving a repository made by the real Go notary (delegations, a threshold-2 role, a rotated
 * root) off its notary-server — to a second notary-server and to a directory served by a plain node:http
 * server — and clients that pinned the source following with no action; mirrors and audits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import { MemoryMetadataCache } from '../src/node/cache.js';
import { DirectoryRemote } from '../src/node/directory-remote.js';
import { NotaryRemote } from '../src/node/remote.js';
import { TrustedRepository, type MetadataRemote } from '../src/repository/reader.js';
import { NotaryError } from '../src/core/errors.js';
import { signMetadata } from '../src/core/build.js';
import { canonicalKeyId } from '../src/core/keys.js';
import { Metadata } from '../src/core/metadata.js';
import { formatGoTime, goTimeFromDate } from '../src/core/time.js';
import { FileKeyStore } from '../src/node/keystore.js';
import { envRetriever } from '../src/node/passphrase.js';
import { runNotary, runOurs } from './support/cli.js';
import { PASSPHRASE_ENV, goNotary, makeGoRepository, startServer, tempDir, type Server } from './support/go-repo.js';

// The timestamp key of a directory has no NOTARY_<ROLE>_PASSPHRASE of its own (as in Go): Docker's variable serves.
const ENV = { ...PASSPHRASE_ENV, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'test-timestamp-passphrase' };
const BIN = join(__dirname, '..', 'dist', 'cli', 'main.js');
const temps: string[] = [];
const tmp = (p?: string) => {
  const d = tempDir(p);
  temps.push(d);
  return d;
};

/** A repository made by the Go CLI; its working directory is removed with the others. */
function goRepo(server: Server, g: string): ReturnType<typeof makeGoRepository> {
  const repo = makeGoRepository(server, g);
  temps.push(dirname(repo.trustDir));
  return repo;
}

/** A static file server: GET only, files from `root`, `index.html` for directories, 404 otherwise. */
async function serveStatic(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: HttpServer = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file = join(root, path);
    if (path.endsWith('/')) file = join(file, 'index.html');
    if (req.method !== 'GET' || path.includes('..') || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

function runBin(args: string[], env: Record<string, string> = {}): { code: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH']!, HOME: process.env['HOME']!, TZ: 'UTC', ...ENV, ...env }, encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The Go CLI, without blocking this process (the static server runs in it). */
async function goAsync(args: string[]): Promise<string> {
  const r = await runNotary(args, { env: ENV });
  if (r.code !== 0) throw new Error(`notary ${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A fresh reader's verdict on what `remote` serves: 'ok', or the error code. */
async function freshVerdict(remote: MetadataRemote, gun: string): Promise<string> {
  try {
    const repo = await TrustedRepository.open({ gun, remote, cache: new MemoryMetadataCache(), crypto });
    await repo.loadAll();
    return 'ok';
  } catch (err) {
    return err instanceof NotaryError ? err.code : String(err);
  }
}

let source: Server;
let dest: Server;
const gun = 'example.com/migrate/app';
let owner: string; // the owner's trust dir (Go-made keys)
let ownerCopy: string; // the same, as it was before any migration (the tests below publish with `owner`)
let pinnedOld: string; // a client that cached root v1 (before the root rotation)
let pinned: string; // a client that cached the current source root
let sourceList: string;

beforeAll(async () => {
  [source, dest] = await Promise.all([startServer(), startServer()]);
  const repo = goRepo(source, gun);
  owner = repo.trustDir;
  pinnedOld = tmp();
  goNotary(['-s', source.url, '-d', pinnedOld, 'list', gun]);
  // A threshold-2 delegation (Go's CLI cannot make one; ours can), signed by Go holding both keys.
  const keys = tmp();
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: keys, stdio: 'pipe' });
  for (const k of ['a', 'b']) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${k}-key.pem`]);
    openssl(['pkey', '-in', `${k}-key.pem`, '-pubout', '-out', `${k}.pub.pem`]);
  }
  const added = await runOurs(['-s', source.url, '-d', owner, 'delegation', 'add', gun, 'targets/team', join(keys, 'a.pub.pem'), join(keys, 'b.pub.pem'), '--paths', 'team/', '--threshold', '2', '-p'], { env: ENV });
  expect(added.code, added.stdout + added.stderr).toBe(0);
  for (const k of ['a', 'b']) goNotary(['-d', owner, 'key', 'import', join(keys, `${k}-key.pem`), '--role', 'targets/team']);
  const payload = join(keys, 'team.txt');
  writeFileSync(payload, 'team payload\n');
  goNotary(['-s', source.url, '-d', owner, 'add', gun, 'team/x', payload, '--roles', 'targets/team', '-p']);
  // Rotate the root key once: the chain has two versions, and pinnedOld must walk (or jump) across it.
  goNotary(['-s', source.url, '-d', owner, 'key', 'rotate', gun, 'root'], {}, 'yes\n');
  pinned = tmp();
  sourceList = goNotary(['-s', source.url, '-d', pinned, 'list', gun]);
  expect(sourceList).toContain('team/x');
  expect(sourceList).toContain('targets/team');
  ownerCopy = tmp();
  cpSync(owner, ownerCopy, { recursive: true });
}, 240_000);

afterAll(async () => {
  await Promise.all([source?.stop(), dest?.stop()]);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('migrate to a directory served by a static file server', () => {
  let site: string;
  let web: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    site = tmp();
    web = await serveStatic(site);
  });
  afterAll(async () => web?.close());

  it('--dry-run prints the plan and the keys it needs, and writes nothing', async () => {
    const r = await runOurs(['-d', owner, 'migrate', gun, '--from', source.url, '--to', `file://${site}`, '--dry-run'], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/keys needed/);
    expect(r.stdout).toMatch(/root: 1 of [0-9a-f]{64}.* held: [0-9a-f]{64}/);
    expect(r.stdout).toMatch(/new root version: 3/);
    expect(r.stdout).toMatch(/timestamp v\d+ \(last/);
    expect(existsSync(join(site, 'v2'))).toBe(false);
  });

  it('killed (-9) part-way, the directory serves nothing or a verified repository; a re-run completes it', async () => {
    const remote = new DirectoryRemote({ dir: site, gun, crypto });
    for (const killAfter of [2, 9, 14, 18]) {
      const r = runBin(['-d', owner, 'migrate', gun, '--from', source.url, '--to', `file://${site}`], { NOTARY_TS_TEST_KILL_AFTER_STEPS: String(killAfter) });
      expect(r.signal, `code ${r.code} ${r.stdout} ${r.stderr}`).toBe('SIGKILL');
      expect(r.stderr).toMatch(/keys needed/); // the plan came before any signing
      // Before timestamp.json exists nothing is published (NOT_FOUND); it is written last.
      expect(['NOT_FOUND']).toContain(await freshVerdict(remote, gun));
    }
    const done = runBin(['-d', owner, 'migrate', gun, '--from', source.url, '--to', `file://${site}`]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Successfully migrated .* root v3/);
    expect(await freshVerdict(remote, gun)).toBe('ok');
    // A second run sees the work done.
    const again = await runOurs(['-d', owner, 'migrate', gun, '--from', source.url, '--to', `file://${site}`], { env: ENV });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already migrated/);
    // Every root version is served byte for byte, and the new one.
    const tuf = join(site, 'v2', ...gun.split('/'), '_trust', 'tuf');
    for (const v of [1, 2, 3]) expect(existsSync(join(tuf, `${v}.root.json`))).toBe(true);
  }, 120_000);

  it('Go clients that pinned the source (current root, and the root before rotation) follow with no action; so do we', async () => {
    for (const dir of [pinned, pinnedOld]) {
      const trust = tmp();
      cpSync(dir, trust, { recursive: true });
      expect(await goAsync(['-s', web.url, '-d', trust, 'list', gun])).toBe(sourceList);
    }
    const trust = tmp();
    cpSync(pinned, trust, { recursive: true });
    const ours = await runOurs(['-s', web.url, '-d', trust, 'list', gun], { env: ENV });
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(sourceList);
    expect(await goAsync(['-s', web.url, '-d', tmp(), 'lookup', gun, 'team/x'])).toMatch(/^team\/x sha256:[0-9a-f]{64} 13\n$/);
  }, 60_000);

  it('tampering at the destination is refused by Go and by us', async () => {
    const copy = tmp();
    cpSync(site, copy, { recursive: true });
    const tuf = join(copy, 'v2', ...gun.split('/'), '_trust', 'tuf');
    // Change a target's length in targets/team.json everywhere it is stored (current name and by checksum).
    for (const f of readdirSync(join(tuf, 'targets'))) {
      if (!f.startsWith('team')) continue;
      const p = join(tuf, 'targets', f);
      writeFileSync(p, readFileSync(p, 'utf8').replace('"length":13', '"length":14'));
    }
    const w = await serveStatic(copy);
    try {
      // A fresh client downloads the tampered role (a pinned one holds the original in its cache, and the
      // snapshot's hash says the cached copy is the right one: it never downloads the tampered bytes).
      await expect(goAsync(['-s', w.url, '-d', tmp(), 'lookup', gun, 'team/x'])).rejects.toThrow(/checksum|hash/i);
      const ours = await runOurs(['-s', w.url, '-d', tmp(), 'lookup', gun, 'team/x'], { env: ENV });
      expect(ours.code).not.toBe(0);
      expect(ours.stdout + ours.stderr).toMatch(/checksum|hash|signature|target/i);
      // A pinned client always downloads the timestamp: one whose signature no longer matches is refused.
      const tsPath = join(tuf, 'timestamp.json');
      const ts = JSON.parse(readFileSync(tsPath, 'utf8'));
      ts.signed.expires = ts.signed.expires.replace(/^\d{4}/, '2099');
      writeFileSync(tsPath, JSON.stringify(ts));
      const trust = tmp();
      cpSync(pinned, trust, { recursive: true });
      await expect(goAsync(['-s', w.url, '-d', trust, 'list', gun])).rejects.toThrow();
      const pinnedOurs = tmp();
      cpSync(pinned, pinnedOurs, { recursive: true });
      const r2 = await runOurs(['-s', w.url, '-d', pinnedOurs, 'list', gun], { env: ENV });
      expect(r2.code).not.toBe(0);
    } finally {
      await w.close();
    }
  }, 60_000);

  it('refresh-timestamp re-signs an expired timestamp after verifying, and clients read on', async () => {
    // Expire the timestamp at once (0 days), then refresh it normally.
    const first = await runOurs(['-d', owner, 'refresh-timestamp', gun, '--to', `file://${site}`, '--expiry-days', '0'], { env: ENV });
    expect(first.code, first.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = tmp();
    cpSync(pinned, expired, { recursive: true });
    await expect(goAsync(['-s', web.url, '-d', expired, 'list', gun])).rejects.toThrow(/expired/i);
    const r = await runOurs(['-d', owner, 'refresh-timestamp', gun, '--to', `file://${site}`], { env: ENV });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/timestamp v\d+ expires/);
    expect(await goAsync(['-s', web.url, '-d', expired, 'list', gun])).toBe(sourceList);
  }, 60_000);

  it('the owner goes on publishing into the directory with notary-ts; Go clients see it', async () => {
    const ownerHere = tmp();
    cpSync(owner, ownerHere, { recursive: true });
    const payload = join(tmp(), 'later.txt');
    writeFileSync(payload, 'later\n');
    const r = await runOurs(['-s', `file://${site}`, '-d', ownerHere, 'add', gun, 'later', payload, '-p'], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const trust = tmp();
    cpSync(pinned, trust, { recursive: true });
    const listed = await goAsync(['-s', web.url, '-d', trust, 'list', gun]);
    expect(listed).toContain('later');
    expect(listed).toContain('team/x');
  }, 60_000);

  it('refresh-timestamp refuses to endorse a tampered directory, and changes nothing', async () => {
    const copy = tmp();
    cpSync(site, copy, { recursive: true });
    const tuf = join(copy, 'v2', ...gun.split('/'), '_trust', 'tuf');
    // targets.json changed under every name it is served by: its hash no longer matches the snapshot.
    const tampered = readFileSync(join(tuf, 'targets.json'), 'utf8').replace('"length":', '"length":1');
    for (const f of readdirSync(tuf)) if (f === 'targets.json' || /^targets\.[0-9a-f]{64}\.json$/.test(f)) writeFileSync(join(tuf, f), tampered);
    const before = readFileSync(join(tuf, 'timestamp.json'));
    const r = await runOurs(['-d', owner, 'refresh-timestamp', gun, '--to', `file://${copy}`], { env: ENV });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/checksum|hash|larger than/i); // one byte longer than the snapshot says
    expect(readFileSync(join(tuf, 'timestamp.json'))).toEqual(before);
  });
});

describe('migrate to another notary-server', () => {
  it('killed (-9) between uploads, the destination always verifies; a re-run completes it; pinned Go clients follow', async () => {
    const destRemote = new NotaryRemote({ serverUrl: dest.url, gun });
    try {
      const dry = await runOurs(['-d', owner, 'migrate', gun, '--from', source.url, '--to', dest.url, '--dry-run'], { env: ENV });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/root versions issued at the destination: 1, 2, 3/);
      for (const killAfter of [1, 3]) {
        const r = runBin(['-d', owner, 'migrate', gun, '--from', source.url, '--to', dest.url], { NOTARY_TS_TEST_KILL_AFTER_STEPS: String(killAfter) });
        expect(r.signal, `code ${r.code} ${r.stdout} ${r.stderr}`).toBe('SIGKILL');
        expect(await freshVerdict(destRemote, gun)).toBe('ok');
      }
      const done = runBin(['-d', owner, 'migrate', gun, '--from', source.url, '--to', dest.url]);
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/Successfully migrated .* root v3/);
      for (const dir of [pinned, pinnedOld]) {
        const trust = tmp();
        cpSync(dir, trust, { recursive: true });
        expect(goNotary(['-s', dest.url, '-d', trust, 'list', gun])).toBe(sourceList);
      }
      const trust = tmp();
      cpSync(pinned, trust, { recursive: true });
      const ours = await runOurs(['-s', dest.url, '-d', trust, 'list', gun], { env: ENV });
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(sourceList);
      // The owner publishes at the destination afterwards with the Go client.
      const payload = join(tmp(), 'after.txt');
      writeFileSync(payload, 'after\n');
      goNotary(['-s', dest.url, '-d', owner, 'add', gun, 'after-migration', payload, '-p']);
      expect(goNotary(['-s', dest.url, '-d', trust, 'list', gun])).toContain('after-migration');
    } finally {
      await destRemote.close();
    }
  }, 180_000);

  it('refuses a destination that holds someone else\'s repository for the GUN', async () => {
    const g = 'example.com/migrate/taken';
    goRepo(dest, g); // a different owner on the destination
    const mine = goRepo(source, g);
    const r = await runOurs(['-d', mine.trustDir, 'migrate', g, '--from', source.url, '--to', dest.url], { env: ENV });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/already holds trust data/);
  }, 120_000);
});

describe('a source whose server held the snapshot key too (docker trust repositories)', () => {
  it('gets a new snapshot key at the destination (local for a directory, the server\'s for a server); pinned Go clients follow', async () => {
    const g = 'example.com/migrate/server-snapshot';
    const repo = goRepo(source, g);
    goNotary(['-s', source.url, '-d', repo.trustDir, 'key', 'rotate', g, 'snapshot', '-r']);
    // A few more server-side timestamps and snapshots, so the destination has versions to catch up with.
    for (let i = 0; i < 3; i++) goNotary(['-s', source.url, '-d', repo.trustDir, 'witness', g, 'targets', '-p']);
    const client = tmp();
    const listed = goNotary(['-s', source.url, '-d', client, 'list', g]);
    const site = tmp();
    const dry = await runOurs(['-d', repo.trustDir, 'migrate', g, '--from', source.url, '--to', `file://${site}`, '--dry-run'], { env: ENV });
    expect(dry.stdout).toMatch(/snapshot key: new, local/);
    expect(dry.stdout).not.toMatch(/^ {4}snapshot:/m); // no snapshot passphrase asked for: the key is new
    const toDir = await runOurs(['-d', repo.trustDir, 'migrate', g, '--from', source.url, '--to', `file://${site}`], { env: ENV });
    expect(toDir.code, toDir.stdout + toDir.stderr).toBe(0);
    const toServer = await runOurs(['-d', repo.trustDir, 'migrate', g, '--from', source.url, '--to', dest.url], { env: ENV });
    expect(toServer.code, toServer.stdout + toServer.stderr).toBe(0);
    expect(toServer.stderr).toMatch(/snapshot key: new, generated and held by the destination server/);
    const web = await serveStatic(site);
    try {
      for (const url of [web.url, dest.url]) {
        const trust = tmp();
        cpSync(client, trust, { recursive: true });
        expect(await goAsync(['-s', url, '-d', trust, 'list', g])).toBe(listed);
      }
    } finally {
      await web.close();
    }
  }, 180_000);
});

describe('a delegation that expired at the source', () => {
  it('is re-signed with the owner\'s key at the destination (clients skip it at the source, see it after)', async () => {
    const g = 'example.com/migrate/expiring';
    const repo = goRepo(source, g);
    goNotary(['-s', source.url, '-d', repo.trustDir, 'key', 'rotate', g, 'snapshot', '-r']);
    // targets/qa, re-signed by its own key to expire in a few seconds (the server makes the snapshot).
    const remote = new NotaryRemote({ serverUrl: source.url, gun: g });
    try {
      const qa = Metadata.fromBytes(await remote.getRole('targets/qa', 1 << 20), 'targets/qa');
      const targets = Metadata.fromBytes(await remote.getRole('targets', 1 << 20), 'targets');
      const entry = targets.signed.delegations!.roles!.find((r) => r.name === 'targets/qa')!;
      const pub = targets.signed.delegations!.keys![entry.keyids![0]!]!;
      const store = await FileKeyStore.open(repo.trustDir, { retriever: envRetriever(ENV), crypto });
      const signed = structuredClone(qa.signed);
      signed.version += 1;
      signed.expires = formatGoTime(goTimeFromDate(Date.now() + 6000)); // Go's form: the server re-serialises it
      const md = await signMetadata('Targets', signed, 'targets/qa', [await store.getSigner(canonicalKeyId(pub, crypto), pub)]);
      await remote.publish(new Map([['targets/qa', md.bytes!]]));
    } finally {
      await remote.close();
    }
    await new Promise((r) => setTimeout(r, 7000));
    const atSource = goNotary(['-s', source.url, '-d', tmp(), 'list', g]);
    expect(atSource).not.toContain('qa/x');
    const site = tmp();
    const r = await runOurs(['-d', repo.trustDir, 'migrate', g, '--from', source.url, '--to', `file://${site}`], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/re-signed \(expired\): targets\/qa/);
    expect(r.stderr).toMatch(/targets\/qa: 1 of [0-9a-f]{64} — held/);
    const web = await serveStatic(site);
    try {
      const listed = await goAsync(['-s', web.url, '-d', tmp(), 'list', g]);
      expect(listed).toContain('qa/x');
      expect(listed).toContain('shared/s');
    } finally {
      await web.close();
    }
  }, 120_000);
});

describe('migrate --gun (the images moved registry)', () => {
  it('publishes under the new GUN with new certificates for the same root key, to a directory and to a server', async () => {
    const newGun = 'registry.example.com/acme/app';
    const site = tmp();
    const r = await runOurs(['-d', ownerCopy, 'migrate', gun, '--from', source.url, '--to', `file://${site}`, '--gun', newGun], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/as registry\.example\.com\/acme\/app: root v1/);
    expect(r.stderr).toMatch(/new root chain/);
    const tuf = join(site, 'v2', ...newGun.split('/'), '_trust', 'tuf');
    expect(existsSync(join(tuf, '1.root.json'))).toBe(true);
    expect(existsSync(join(tuf, '2.root.json'))).toBe(false);
    const web = await serveStatic(site);
    try {
      expect(await goAsync(['-s', web.url, '-d', tmp(), 'list', newGun])).toBe(sourceList);
    } finally {
      await web.close();
    }
    const s = await runOurs(['-d', ownerCopy, 'migrate', gun, '--from', source.url, '--to', dest.url, '--gun', newGun], { env: ENV });
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(goNotary(['-s', dest.url, '-d', tmp(), 'list', newGun])).toBe(sourceList);
    // The owner goes on publishing there with the Go client and the keys it already has.
    const payload = join(tmp(), 'moved.txt');
    writeFileSync(payload, 'moved\n');
    goNotary(['-s', dest.url, '-d', ownerCopy, 'add', newGun, 'moved', payload, '-p']);
    expect(goNotary(['-s', dest.url, '-d', tmp(), 'list', newGun])).toContain('moved');
  }, 120_000);
});

describe('mirror and audit (consumers without keys)', () => {
  it('mirrors a verified copy that Go reads, and audits it as of the mirror time with a warning', async () => {
    const mirror = tmp();
    const consumer = tmp();
    const r = await runOurs(['-d', consumer, 'mirror', gun, '--from', source.url, '--to', `file://${mirror}`], { env: {} });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Mirrored .* verified at/);
    const web = await serveStatic(mirror);
    try {
      expect(await goAsync(['-s', web.url, '-d', tmp(), 'list', gun])).toBe(sourceList);
    } finally {
      await web.close();
    }
    const audit = await runOurs(['-d', tmp(), 'audit', gun, '--from', `file://${mirror}`], { env: {} });
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stderr).toMatch(/WARNING: verified as of .* not now/);
    expect(audit.stdout).toContain('team/x');
    // A year on, the mirrored timestamp has long expired: "as of" then, it is refused.
    const later = new Date(Date.now() + 365 * 86400_000).toISOString();
    const stale = await runOurs(['-d', tmp(), 'audit', gun, '--from', `file://${mirror}`, '--as-of', later], { env: {} });
    expect(stale.code).not.toBe(0);
    expect(stale.stdout + stale.stderr).toMatch(/expired/i);
    // A tampered mirror is refused.
    const tuf = join(mirror, 'v2', ...gun.split('/'), '_trust', 'tuf');
    for (const f of readdirSync(join(tuf, 'targets'))) {
      if (f.startsWith('team')) writeFileSync(join(tuf, 'targets', f), readFileSync(join(tuf, 'targets', f), 'utf8').replace('"length":13', '"length":12'));
    }
    const bad = await runOurs(['-d', tmp(), 'audit', gun, 'team/x', '--from', `file://${mirror}`], { env: {} });
    expect(bad.code).not.toBe(0);
  }, 60_000);
});
