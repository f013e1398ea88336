/**
 * HTTP(S)_PROXY as the Go client reads it: the rules (src/node/proxy.ts) against Go's documented ones, and
 * the CLI through a real forward proxy side by side with `notary` (the server is reached by a name only the
 * proxy can resolve), including the shipped bin (its trimmed undici chunk loads ProxyAgent on demand).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyFromEnvironment } from '../src/node/proxy.js';
import { openRepository } from '../src/repository/open.js';
import { expectSameOutcome, runBoth, runOurs } from './support/cli.js';
import { startForwardProxy, type ForwardProxy } from './support/forward-proxy.js';
import { PASSPHRASE_ENV, startServer, tempDir, type Server } from './support/go-repo.js';

describe('proxyFromEnvironment (Go net/http rules)', () => {
  const env = (e: Record<string, string>) => e as NodeJS.ProcessEnv;
  it('picks the variable for the scheme, upper case first, and adds http:// to a bare proxy', () => {
    expect(proxyFromEnvironment('https://notary.example.com', env({ HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://q:1' }))).toBe('http://p:3128');
    expect(proxyFromEnvironment('https://notary.example.com', env({ https_proxy: 'p:3128' }))).toBe('http://p:3128');
    expect(proxyFromEnvironment('https://notary.example.com', env({ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2' }))).toBe('http://a:1');
    expect(proxyFromEnvironment('http://notary.example.com', env({ HTTP_PROXY: 'http://q:1' }))).toBe('http://q:1');
    // HTTP_PROXY is not used for https, nor HTTPS_PROXY for http
    expect(proxyFromEnvironment('https://notary.example.com', env({ HTTP_PROXY: 'http://q:1' }))).toBeUndefined();
    expect(proxyFromEnvironment('http://notary.example.com', env({ HTTPS_PROXY: 'http://p:1' }))).toBeUndefined();
  });

  it('never for localhost or loopback addresses', () => {
    const e = env({ HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://p:3128' });
    for (const url of ['https://localhost:4443', 'http://127.0.0.1:4443', 'http://127.1.2.3', 'https://[::1]:4443']) expect(proxyFromEnvironment(url, e), url).toBeUndefined();
  });

  it('NO_PROXY: *, hosts with their sub-domains, leading dots, ports, IPs and CIDRs', () => {
    const p = (url: string, noProxy: string) => proxyFromEnvironment(url, env({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: noProxy }));
    expect(p('https://a.example.com', '*')).toBeUndefined();
    expect(p('https://example.com', 'example.com')).toBeUndefined();
    expect(p('https://a.example.com', 'example.com')).toBeUndefined();
    expect(p('https://badexample.com', 'example.com')).toBe('http://p:3128');
    expect(p('https://example.com', '.example.com')).toBe('http://p:3128');
    expect(p('https://a.example.com', '.example.com')).toBeUndefined();
    expect(p('https://a.example.com', '*.example.com')).toBeUndefined();
    expect(p('https://example.com:4443', 'example.com:4443')).toBeUndefined();
    expect(p('https://example.com:4443', 'example.com:443')).toBe('http://p:3128');
    expect(p('https://10.1.2.3', '10.0.0.0/8')).toBeUndefined();
    expect(p('https://11.1.2.3', '10.0.0.0/8')).toBe('http://p:3128');
    expect(p('https://10.1.2.3', 'other.com, 10.1.2.3')).toBeUndefined();
    expect(proxyFromEnvironment('https://a.example.com', env({ HTTPS_PROXY: 'http://p:3128', no_proxy: 'example.com' }))).toBeUndefined();
  });
});

let server: Server;
let proxy: ForwardProxy;
const gun = 'example.com/proxy/app';
beforeAll(async () => {
  server = await startServer();
  proxy = await startForwardProxy({ 'notary.invalid': '127.0.0.1' });
  const payload = join(tempDir(), 'payload');
  writeFileSync(payload, 'through a proxy\n');
  const dir = tempDir();
  for (const args of [['init', gun], ['add', gun, 'v1', payload], ['publish', gun]]) {
    const r = await runOurs(['-s', server.url, '-d', dir, ...args], { env: PASSPHRASE_ENV });
    expect(r.code, r.stdout).toBe(0);
  }
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

describe('the CLI through HTTP_PROXY, side by side with notary', () => {
  const viaProxy = () => `http://notary.invalid:${new URL(server.url).port}`;

  it('list and lookup by a name only the proxy resolves: same output, both went through the proxy', async () => {
    for (const args of [['list', gun], ['lookup', gun, 'v1']]) {
      proxy.requests.length = 0;
      const r = await runBoth(['-s', viaProxy(), '-d', tempDir(), ...args], { env: { HTTP_PROXY: proxy.url } });
      expectSameOutcome(r, args.join(' '));
      expect(r.ours.code).toBe(0);
      expect(r.ours.stdout).toContain('v1');
      // Go asks for /v2/ first; both fetched trust data through the proxy
      expect(proxy.requests.filter((x) => x.includes('/_trust/tuf/timestamp.json')).length, proxy.requests.join('\n')).toBe(2);
    }
  });

  it('NO_PROXY naming the server: neither uses the proxy (and neither can resolve the name)', async () => {
    proxy.requests.length = 0;
    const r = await runBoth(['-s', viaProxy(), '-d', tempDir(), 'list', gun], { env: { HTTP_PROXY: proxy.url, NO_PROXY: 'notary.invalid' } });
    expect(r.ours.code).toBe(r.go.code);
    expect(r.ours.code).not.toBe(0);
    expect(proxy.requests).toEqual([]);
  });

  it('the shipped bin (bundle) loads ProxyAgent when a proxy is set', async () => {
    proxy.requests.length = 0;
    const bin = resolve('dist', 'cli', 'main.js');
    const out = await new Promise<{ code: number | null; stdout: string }>((done, reject) => {
      const child = spawn(process.execPath, [bin, '-s', viaProxy(), '-d', tempDir(), 'list', gun], {
        env: { PATH: process.env['PATH'] ?? '', HOME: tempDir(), HTTP_PROXY: proxy.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('error', reject);
      child.on('close', (code) => done({ code, stdout }));
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('v1');
    expect(proxy.requests.length).toBeGreaterThan(0);
  });

  it('openRepository: an explicit proxy option, and proxy: false for none', async () => {
    proxy.requests.length = 0;
    const repo = await openRepository({ gun, server: viaProxy(), trustDir: false, proxy: proxy.url });
    expect((await repo.lookup('v1')).name).toBe('v1');
    expect(proxy.requests.length).toBeGreaterThan(0);
    await expect(openRepository({ gun, server: viaProxy(), trustDir: false, proxy: false })).rejects.toMatchObject({ code: 'OFFLINE', message: expect.stringContaining('no such host') });
  });
});
