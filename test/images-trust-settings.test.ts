/**
 * Trust server, TLS directory, trust dir, passphrases and registry credentials as the docker CLI 28.x
 * decides them. Error wording is compared with the real `docker trust inspect` (it fails on these before
 * any network access).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { NotaryError } from '../src/core/errors.js';
import { parseNormalizedNamed } from '../src/images/reference.js';
import {
  DOCKER_HUB_NOTARY,
  DOI_DEPRECATION_WARNING,
  dockerConfigDir,
  dockerPassphraseRetriever,
  isInsecureRegistry,
  readCertsDirectory,
  resolveTrustTarget,
  trustCertDirectory,
  trustDirectory,
  trustServer,
  trustServerTls,
} from '../src/images/trust-settings.js';
import { DOCKER_HUB_AUTH_KEY, registryAuthKey, resolveRegistryCredentials } from '../src/node/credentials.js';
import { installCredentialHelper } from './support/credential-helper.js';

const dirs: string[] = [];
const temp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function docker(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 }, (err, _out, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stderr });
    });
  });
}

function caught(fn: () => unknown): NotaryError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotaryError);
    return err as NotaryError;
  }
  throw new Error('did not throw');
}

describe('directories', () => {
  it('config dir: --config, DOCKER_CONFIG, HOME/.docker', () => {
    expect(dockerConfigDir({ DOCKER_CONFIG: '/a', HOME: '/h' }, { configDir: '/c' })).toBe('/c');
    expect(dockerConfigDir({ DOCKER_CONFIG: '/a', HOME: '/h' })).toBe('/a');
    expect(dockerConfigDir({ DOCKER_CONFIG: '', HOME: '/h' })).toBe('/h/.docker');
    expect(trustDirectory({ HOME: '/h' })).toBe('/h/.docker/trust');
    expect(trustDirectory({ DOCKER_CONFIG: '/a' })).toBe('/a/trust');
  });
});

describe('trust server', () => {
  it.each([
    ['alpine', {}, DOCKER_HUB_NOTARY],
    ['docker.io/user/app', {}, DOCKER_HUB_NOTARY],
    ['index.docker.io/user/app', {}, DOCKER_HUB_NOTARY],
    ['localhost:5000/app', {}, 'https://localhost:5000'],
    ['reg.example.com/ns/app', {}, 'https://reg.example.com'],
    ['reg.example.com:443/ns/app', {}, 'https://reg.example.com:443'],
    ['[::1]:5000/app', {}, 'https://[::1]:5000'],
    ['alpine', { DOCKER_CONTENT_TRUST_SERVER: 'https://notary.corp:4443/' }, 'https://notary.corp:4443/'],
    ['reg.example.com/x', { DOCKER_CONTENT_TRUST_SERVER: 'https://notary.corp:4443' }, 'https://notary.corp:4443'],
    ['reg.example.com/x', { DOCKER_CONTENT_TRUST_SERVER: '' }, 'https://reg.example.com'],
  ] as [string, Record<string, string>, string][])('%s %j → %s', (image, env, expected) => {
    expect(trustServer(parseNormalizedNamed(image), env)).toBe(expected);
  });

  it.each(['https://', 'https:127.0.0.1:1', 'HTTPS://127.0.0.1:1', 'https://127.0.0.1:1/x y?%zz'])('DOCKER_CONTENT_TRUST_SERVER=%j is accepted as docker (Go url.Parse) accepts it', async (value) => {
    expect(trustServer('reg.example:5000', { DOCKER_CONTENT_TRUST_SERVER: value })).toBe(value);
    const cfg = temp('ts-docker-');
    const d = await docker(['trust', 'inspect', 'reg.example:5000/a'], { DOCKER_CONFIG: cfg, HOME: cfg, DOCKER_CONTENT_TRUST_SERVER: value });
    expect(d.stderr).not.toContain('valid https URL required');
  });

  it.each(['http://x', ':bad', 'notary.corp:4443', 'ftp://notary.corp', 'https://a b', 'https://x/%zz', 'https://[::1', ' https://x', 'https://x:port', 'https://x\ty'])('DOCKER_CONTENT_TRUST_SERVER=%j is refused as docker refuses it', async (value) => {
    const e = caught(() => trustServer('reg.example:5000', { DOCKER_CONTENT_TRUST_SERVER: value }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    const cfg = temp('ts-docker-');
    const d = await docker(['trust', 'inspect', 'reg.example:5000/a'], { DOCKER_CONFIG: cfg, HOME: cfg, DOCKER_CONTENT_TRUST_SERVER: value });
    expect(d.code).toBe(1);
    expect(d.stderr.trim()).toBe(e.message);
  });

  it('insecure: loopback literals, names resolving to loopback; nothing else', async () => {
    const lookup = async (h: string) => ({ 'myreg.local': ['127.0.1.1'], 'v6.local': ['::1'], 'far.example': ['10.1.2.3', '2001:db8::1'] })[h] ?? [];
    expect(await isInsecureRegistry('localhost:5000', { lookup })).toBe(true);
    expect(await isInsecureRegistry('127.0.0.1:5000', { lookup })).toBe(true);
    expect(await isInsecureRegistry('[::1]:5000', { lookup })).toBe(true);
    expect(await isInsecureRegistry('myreg.local:5000', { lookup })).toBe(true);
    expect(await isInsecureRegistry('v6.local', { lookup })).toBe(true);
    expect(await isInsecureRegistry('far.example', { lookup })).toBe(false);
    expect(await isInsecureRegistry('nowhere.example', { lookup })).toBe(false);
    expect(await isInsecureRegistry('10.0.0.1:5000', { lookup })).toBe(false);
    expect(await isInsecureRegistry('docker.io', { lookup: async () => { throw new Error('no DNS'); } })).toBe(false);
    // a lookup that never answers means secure, within the timeout
    expect(await isInsecureRegistry('slow.example', { lookup: () => new Promise(() => {}), timeoutMs: 50 })).toBe(false);
    // the real resolver answers (or fails) and settles either way
    expect(typeof (await isInsecureRegistry('nonexistent.invalid', { timeoutMs: 3000 }))).toBe('boolean');
  });
});

describe('TLS directory', () => {
  it('*.crt are CAs added to the system roots; *.cert/*.key pairs are client certs', async () => {
    const cfg = temp('ts-tls-');
    const env = { DOCKER_CONFIG: cfg };
    const server = 'https://notary.example:4443';
    const dir = trustCertDirectory(server, env);
    expect(dir).toBe(join(cfg, 'tls', 'notary.example:4443'));
    expect(await trustServerTls(server, env)).toEqual({});
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ca.crt'), 'CA-ONE');
    writeFileSync(join(dir, 'b.crt'), 'CA-TWO');
    writeFileSync(join(dir, 'client.cert'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    const tls = await trustServerTls(server, env, { insecure: true });
    expect(tls.ca).toEqual([...rootCertificates, 'CA-TWO', 'CA-ONE']);
    expect(tls.cert).toBe('CERT');
    expect(tls.key).toBe('KEY');
    expect(tls.insecureSkipVerify).toBe(true);
    // host taken literally from the URL: no port means no port
    expect(trustCertDirectory('https://notary.example/', env)).toBe(join(cfg, 'tls', 'notary.example'));
  });

  it.each([
    [['client.cert'], 'missing key client.key for client certificate client.cert. CA certificates must use the extension .crt'],
    [['client.key'], 'missing client certificate client.cert for key client.key'],
  ])('unpaired %j: docker’s error', async (files, message) => {
    const cfg = temp('ts-tls-');
    const dir = join(cfg, 'tls', 'reg.example:5000');
    mkdirSync(dir, { recursive: true });
    for (const f of files) writeFileSync(join(dir, f), 'x');
    await expect(readCertsDirectory(dir)).rejects.toThrow(message);
    const d = await docker(['trust', 'inspect', 'reg.example:5000/a'], { DOCKER_CONFIG: cfg, HOME: cfg });
    expect(d.stderr.trim()).toBe(message);
  });

  it('resolveTrustTarget puts it together', async () => {
    const cfg = temp('ts-target-');
    const t = await resolveTrustTarget(parseNormalizedNamed('localhost:5000/team/app:1'), { DOCKER_CONFIG: cfg });
    expect(t).toEqual({ gun: 'localhost:5000/team/app', registry: 'localhost:5000', serverUrl: 'https://localhost:5000', tls: { insecureSkipVerify: true }, insecure: true, trustDir: join(cfg, 'trust'), warnings: [] });
    const hub = await resolveTrustTarget(parseNormalizedNamed('alpine'), { DOCKER_CONFIG: cfg }, { lookup: async () => ['1.2.3.4'] });
    expect(hub.serverUrl).toBe(DOCKER_HUB_NOTARY);
    expect(hub.insecure).toBe(false);
    expect(hub.gun).toBe('docker.io/library/alpine');
    expect(hub.warnings).toEqual([DOI_DEPRECATION_WARNING]);
  });
});

describe('passphrases (docker’s retriever)', () => {
  const env = { DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'root-pw', DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'repo-pw', NOTARY_DELEGATION_PASSPHRASE: 'notary-only' };
  it.each([
    ['root', 'root-pw'],
    ['targets', 'repo-pw'],
    ['snapshot', 'repo-pw'],
    ['timestamp', 'repo-pw'],
    ['targets/releases', 'repo-pw'],
    ['alice', 'repo-pw'],
    ['', 'repo-pw'],
  ])('%j uses %s', async (alias, expected) => {
    const r = dockerPassphraseRetriever({ env });
    expect(await r({ keyName: 'abcdef0123', alias, createNew: false, attempt: 0 })).toEqual({ passphrase: expected, giveUp: false });
    expect(await r({ keyName: 'abcdef0123', alias, createNew: false, attempt: 2 })).toEqual({ passphrase: expected, giveUp: true });
  });

  it('root never falls back to the repository passphrase; without a prompt it fails typed', async () => {
    const r = dockerPassphraseRetriever({ env: { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'repo-pw' } });
    await expect(Promise.resolve().then(() => r({ keyName: 'k', alias: 'root', createNew: false, attempt: 0 }))).rejects.toMatchObject({ code: 'BAD_PASSPHRASE' });
  });

  it('prompts on a non-terminal stdin with docker’s aliases ("repository")', async () => {
    const input = new PassThrough();
    let out = '';
    const r = dockerPassphraseRetriever({ env: {}, prompt: { input, output: (t) => (out += t) } });
    input.write('typed-pass\n');
    expect(await r({ keyName: 'abcdef0123456', alias: 'targets', createNew: false, attempt: 0 })).toEqual({ passphrase: 'typed-pass' });
    expect(out).toBe('Enter passphrase for repository key with ID abcdef0: \n');
    out = '';
    input.write('signer-pass\n');
    expect(await r({ keyName: '0123456789', alias: 'alice', createNew: false, attempt: 0 })).toEqual({ passphrase: 'signer-pass' });
    expect(out).toBe('Enter passphrase for alice key with ID 0123456: \n');
  });
});

describe('registry credentials (docker’s lookup)', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('keys: Docker Hub is https://index.docker.io/v1/, others host[:port]', () => {
    expect(registryAuthKey('docker.io')).toBe(DOCKER_HUB_AUTH_KEY);
    expect(registryAuthKey('index.docker.io')).toBe(DOCKER_HUB_AUTH_KEY);
    expect(registryAuthKey('localhost:5000')).toBe('localhost:5000');
  });

  it('auths (exact and legacy keys), DOCKER_AUTH_CONFIG first, NOTARY_AUTH ignored', async () => {
    const cfg = temp('ts-creds-');
    writeFileSync(
      join(cfg, 'config.json'),
      JSON.stringify({ auths: { [DOCKER_HUB_AUTH_KEY]: { auth: b64('hubuser:hubpw') }, 'https://reg.example:5000/v2/': { auth: b64('legacy:lpw') }, 'localhost:5000': { username: 'u', password: 'p' }, 'id.example': { identitytoken: 'tok' } } }),
    );
    const env = { DOCKER_CONFIG: cfg, NOTARY_AUTH: b64('notary:x') };
    expect(await resolveRegistryCredentials('docker.io', { env })).toEqual({ username: 'hubuser', password: 'hubpw' });
    expect(await resolveRegistryCredentials('reg.example:5000', { env })).toEqual({ username: 'legacy', password: 'lpw' });
    expect(await resolveRegistryCredentials('localhost:5000', { env })).toEqual({ username: 'u', password: 'p' });
    expect(await resolveRegistryCredentials('id.example', { env })).toEqual({ username: '', password: '', identityToken: 'tok' });
    expect(await resolveRegistryCredentials('other.example', { env })).toBeUndefined();
    const inline = JSON.stringify({ auths: { 'localhost:5000': { auth: b64('inline:ipw') } } });
    expect(await resolveRegistryCredentials('localhost:5000', { env: { ...env, DOCKER_AUTH_CONFIG: inline } })).toEqual({ username: 'inline', password: 'ipw' });
    expect(await resolveRegistryCredentials('docker.io', { env: { ...env, DOCKER_AUTH_CONFIG: inline } })).toEqual({ username: 'hubuser', password: 'hubpw' });
    await expect(resolveRegistryCredentials('x', { env: { ...env, DOCKER_AUTH_CONFIG: '{' } })).rejects.toThrow('DOCKER_AUTH_CONFIG is not valid JSON');
    expect(await resolveRegistryCredentials('localhost:5000', { env: { DOCKER_CONFIG: '/nonexistent' }, configDir: cfg })).toEqual({ username: 'u', password: 'p' });
  });

  it('credHelpers[key] before credsStore; the helper is asked for the key exactly; no fallback to auths', async () => {
    const cfg = temp('ts-helpers-');
    const store = installCredentialHelper('teststore', { [DOCKER_HUB_AUTH_KEY]: { Username: 'hub', Secret: 'hub-secret' }, 'reg.example': { Username: '<token>', Secret: 'refresh' } });
    const per = installCredentialHelper('perreg', { 'localhost:5000': { Username: 'local', Secret: 'local-secret' } });
    try {
      writeFileSync(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'teststore', credHelpers: { 'localhost:5000': 'perreg' }, auths: { 'other.example': { auth: b64('file:fpw') } } }));
      const env = { DOCKER_CONFIG: cfg, PATH: `${per.binDir}:${store.path}` };
      expect(await resolveRegistryCredentials('docker.io', { env })).toEqual({ username: 'hub', password: 'hub-secret' });
      expect(await resolveRegistryCredentials('localhost:5000', { env })).toEqual({ username: 'local', password: 'local-secret' });
      expect(await resolveRegistryCredentials('reg.example', { env })).toEqual({ username: '', password: '', identityToken: 'refresh' });
      expect(await resolveRegistryCredentials('other.example', { env })).toBeUndefined();
      expect(store.asked()).toEqual([DOCKER_HUB_AUTH_KEY, 'reg.example', 'other.example']);
      expect(per.asked()).toEqual(['localhost:5000']);
    } finally {
      store.cleanup();
      per.cleanup();
    }
  });
});
