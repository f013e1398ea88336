/**
 * TLS against a real notary-server serving HTTPS with a certificate from a private CA: both CLIs list the
 * same repository with `--tlscacert` (and with the config file's `remote_server.root_ca`), and both refuse
 * (go offline: no cache → "client is offline") without the CA.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNotary, runOurs } from './support/cli.js';
import { goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

let server: Server;
let ca: string;
const gun = 'example.com/tls/app';

beforeAll(async () => {
  const dir = tempDir('tls-');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'ext.cnf']);
  ca = join(dir, 'ca.crt');
  server = await startServer({ tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } });
  expect(server.url.startsWith('https://')).toBe(true);
  goNotary(['-s', server.url, '--tlscacert', ca, '-d', tempDir(), 'init', gun, '-p']);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('TLS with a private CA', () => {
  it('--tlscacert: both clients list the repository identically', async () => {
    const args = ['-s', server.url, '--tlscacert', ca, 'list', gun];
    const go = await runNotary(['-d', tempDir(), ...args]);
    const ours = await runOurs(['-d', tempDir(), ...args]);
    expect(go.code).toBe(0);
    expect(ours.stdout).toBe(go.stdout);
    expect(ours.code).toBe(0);
  });

  it('remote_server.root_ca from the config file (relative to the config file)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ remote_server: { url: server.url, root_ca: ca } }));
    const go = await runNotary(['-c', join(dir, 'config.json'), '-d', tempDir(), 'list', gun]);
    const ours = await runOurs(['-c', join(dir, 'config.json'), '-d', tempDir(), 'list', gun]);
    expect(go.code).toBe(0);
    expect(ours.stdout).toBe(go.stdout);
  });

  it('without the CA the server is not trusted: same outcome as Go', async () => {
    const go = await runNotary(['-s', server.url, '-d', tempDir(), 'list', gun]);
    const ours = await runOurs(['-s', server.url, '-d', tempDir(), 'list', gun]);
    expect(go.code).toBe(1);
    expect(ours.code).toBe(1);
    // Go's line, then what Go leaves in its log: the server and the cause (issue 9)
    expect(go.stdout).toBe('\n* fatal: client is offline\n');
    expect(ours.stdout).toMatch(new RegExp(`^\\n\\* fatal: client is offline: could not reach ${server.url.replace(/\./g, '\\.')}: .*x509: certificate signed by unknown authority.*\\n$`));
  });
});
