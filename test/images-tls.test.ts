/**
 * TLS as docker trust does it, against a real notary-server over HTTPS with a private CA and the real
 * docker CLI as the oracle: the CA in `$DOCKER_CONFIG/tls/<host:port>/ca.crt` makes the server trusted for
 * a non-loopback registry name (never dialled); without it neither docker nor we get the data; a loopback
 * registry name skips verification entirely. And the registry client over HTTPS: a loopback registry with a
 * certificate nobody trusts is "insecure" (verification skipped, https kept); a non-insecure client needs
 * the CA.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotaryError } from '../src/core/errors.js';
import { parseNormalizedNamed } from '../src/images/reference.js';
import { resolveTrustTarget } from '../src/images/trust-settings.js';
import { NotaryRemote } from '../src/node/remote.js';
import { RegistryClient } from '../src/registry/client.js';
import { goNotary, startServer, tempDir, type Server } from './support/go-repo.js';
import { pushImage, startRegistry, type StartedRegistry } from './support/registry.js';
import { rmSync } from 'node:fs';

let server: Server;
let pki: string;
const created: string[] = [];
const temp = (p: string) => {
  const d = tempDir(p);
  created.push(d);
  return d;
};
const SECURE_GUN = 'reg.example.com/tls/app';
const LOOPBACK_GUN = 'localhost:5000/tls/app';

beforeAll(async () => {
  pki = temp('images-tls-');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(pki, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'ext.cnf']);
  server = await startServer({ tls: { certFile: join(pki, 'server.crt'), keyFile: join(pki, 'server.key') } });
  const trust = temp('images-tls-trust-');
  const payload = join(trust, 'payload');
  writeFileSync(payload, 'manifest bytes\n');
  for (const gun of [SECURE_GUN, LOOPBACK_GUN]) {
    const g = (args: string[]) => goNotary(['-s', server.url, '--tlscacert', join(pki, 'ca.crt'), '-d', trust, ...args]);
    g(['init', gun, '-p']);
    g(['add', gun, '1.0', payload, '-p']);
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

function dockerInspect(image: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', ['trust', 'inspect', image], { env: { PATH: process.env.PATH!, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
  });
}

/** What we can read with the settings docker would use: the timestamp, fetched for real. */
async function ourFetch(image: string, env: Record<string, string>): Promise<Uint8Array> {
  const ref = parseNormalizedNamed(image);
  const target = await resolveTrustTarget(ref, env);
  const remote = new NotaryRemote({ serverUrl: target.serverUrl, gun: target.gun, tls: target.tls, retries: 0 });
  try {
    return await remote.getTimestamp();
  } finally {
    await remote.close();
  }
}

function dockerConfigWithCa(withCa: boolean): string {
  const cfg = temp('images-tls-cfg-');
  if (withCa) {
    const dir = join(cfg, 'tls', new URL(server.url).host);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(pki, 'ca.crt'), join(dir, 'ca.crt'));
  }
  return cfg;
}

describe('trust server TLS, docker side by side', () => {
  it('CA in $DOCKER_CONFIG/tls/<host:port>/: both trust the server for a non-loopback registry', async () => {
    const cfg = dockerConfigWithCa(true);
    const env = { DOCKER_CONFIG: cfg, HOME: cfg, DOCKER_CONTENT_TRUST_SERVER: server.url };
    const d = await dockerInspect(SECURE_GUN, env);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('"SignedTag": "1.0"');
    expect((await ourFetch(SECURE_GUN, env)).length).toBeGreaterThan(0);
  });

  it('without the CA neither gets the data', async () => {
    const cfg = dockerConfigWithCa(false);
    const env = { DOCKER_CONFIG: cfg, HOME: cfg, DOCKER_CONTENT_TRUST_SERVER: server.url };
    const d = await dockerInspect(SECURE_GUN, env);
    expect(d.stdout).not.toContain('1.0');
    let err: unknown;
    await ourFetch(SECURE_GUN, env).catch((e: unknown) => (err = e));
    expect(err).toBeInstanceOf(NotaryError);
    expect((err as NotaryError).code).toBe('NETWORK');
  });

  it('a loopback registry name: verification skipped by both, no CA needed', async () => {
    const cfg = dockerConfigWithCa(false);
    const env = { DOCKER_CONFIG: cfg, HOME: cfg, DOCKER_CONTENT_TRUST_SERVER: server.url };
    const d = await dockerInspect(LOOPBACK_GUN, env);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('"SignedTag": "1.0"');
    expect((await ourFetch(LOOPBACK_GUN, env)).length).toBeGreaterThan(0);
  });
});

describe('registry over HTTPS', () => {
  let reg: StartedRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ tls: { certFile: join(pki, 'server.crt'), keyFile: join(pki, 'server.key') } });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('insecure (loopback): https kept, certificate not verified; secure: needs the CA', async () => {
    const img = await pushImage(reg, 'team/app', '1');
    const insecure = new RegistryClient({ registry: reg.domain, insecure: true });
    try {
      expect((await insecure.resolve('team/app', '1')).digest).toBe(img.digest);
      expect(insecure.baseUrl).toBe(`https://${reg.domain}`);
    } finally {
      await insecure.close();
    }
    const untrusted = new RegistryClient({ registry: reg.domain });
    try {
      let err: unknown;
      await untrusted.resolve('team/app', '1').catch((e: unknown) => (err = e));
      expect((err as NotaryError).code).toBe('NETWORK');
    } finally {
      await untrusted.close();
    }
    const trusted = new RegistryClient({ registry: reg.domain, tls: { ca: readFileSync(join(pki, 'ca.crt'), 'utf8') } });
    try {
      expect((await trusted.resolve('team/app', '1')).digest).toBe(img.digest);
    } finally {
      await trusted.close();
    }
  });
});
