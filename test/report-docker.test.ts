/**
 * The report's signed tags, signers and administrative keys against the oracle they imitate: `docker trust
 * inspect` (docker CLI 28, no daemon) on a repository the Go `notary` made on an HTTPS notary-server —
 * released tags in targets and targets/releases, a tag co-signed by alice, a tag alice signed with another
 * digest, a tag only alice signed (not released).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustReport, type RepositoryReport } from '../src/index.js';
import { goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

const GUN = '127.0.0.1:5000/report/inspect'; // a loopback registry: docker skips TLS verification to notary
let server: Server;
let dir: string;
let ca: string;

beforeAll(async () => {
  dir = tempDir('report-docker-');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'ext.cnf']);
  for (const n of ['alice', 'rel']) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${n}-key.pem`]);
    openssl(['pkey', '-in', `${n}-key.pem`, '-pubout', '-out', `${n}.pub`]);
  }
  ca = join(dir, 'ca.crt');
  server = await startServer({ tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } });
  const g = (args: string[]) => goNotary(['-s', server.url, '--tlscacert', ca, '-d', join(dir, 'trust'), ...args]);
  const file = (name: string) => {
    writeFileSync(join(dir, name), `${name}\n`);
    return join(dir, name);
  };
  g(['init', GUN, '-p']);
  g(['add', GUN, 'adminonly', file('a'), '-p']);
  g(['delegation', 'add', GUN, 'targets/releases', join(dir, 'rel.pub'), '--all-paths']);
  g(['delegation', 'add', GUN, 'targets/alice', join(dir, 'alice.pub'), '--all-paths']);
  g(['key', 'import', join(dir, 'rel-key.pem'), '--role', 'targets/releases']);
  g(['key', 'import', join(dir, 'alice-key.pem'), '--role', 'targets/alice']);
  g(['publish', GUN]);
  g(['add', GUN, 'v1', file('b')]);
  g(['add', GUN, 'v1', join(dir, 'b'), '-r', 'targets/releases']);
  g(['add', GUN, 'v2', file('c'), '-r', 'targets/releases,targets/alice']);
  g(['add', GUN, 'v10', file('d'), '-r', 'targets/alice']);
  g(['add', GUN, 'v3', join(dir, 'd'), '-r', 'targets/alice']);
  g(['add', GUN, 'v3', join(dir, 'c'), '-r', 'targets/releases']);
  g(['publish', GUN]);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('signed tags as docker trust inspect shows them', () => {
  it('same rows (tag, digest, signers), signers and administrative keys', async () => {
    const dockerConfig = join(dir, 'docker');
    mkdirSync(dockerConfig, { recursive: true });
    const inspected = JSON.parse(
      execFileSync('docker', ['trust', 'inspect', GUN], {
        env: { PATH: process.env['PATH']!, HOME: dir, DOCKER_CONFIG: dockerConfig, DOCKER_CONTENT_TRUST_SERVER: server.url },
        encoding: 'utf8',
      }),
    )[0];
    const report = await trustReport({ guns: [GUN], server: server.url, tls: { ca: readFileSync(ca) }, trustDir: join(dir, 'reader'), proxy: false });
    const repo = report.repositories[0] as RepositoryReport;
    expect(repo.verified).toBe(true);
    expect(repo.signedTags.map((t) => ({ SignedTag: t.tag, Digest: t.digest, Signers: t.signers }))).toEqual(inspected.SignedTags);
    expect(inspected.SignedTags.map((t: { SignedTag: string }) => t.SignedTag)).toEqual(['adminonly', 'v1', 'v2', 'v3']);
    const bySigner = (a: { Name: string }, b: { Name: string }) => (a.Name < b.Name ? -1 : 1);
    expect(repo.signers.map((s) => ({ Name: s.name, Keys: s.keys.map((ID) => ({ ID })) })).sort(bySigner)).toEqual([...inspected.Signers].sort(bySigner));
    expect(repo.administrativeKeys.map((k) => ({ Name: k.name, Keys: k.keys.map((ID) => ({ ID })) })).sort(bySigner)).toEqual([...inspected.AdministrativeKeys].sort(bySigner));
    // adminonly is signed in targets only while targets/releases exists.
    expect(repo.findings.map((f) => `${f.kind}:${f.tag ?? ''}`)).toEqual(['tag-not-in-releases:adminonly']);
  }, 60_000);
});
