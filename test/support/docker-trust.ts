/**
 * The docker CLI (28.x, client only) as the oracle for `notary-ts trust …`: a notary-server over HTTPS with a
 * private CA, and per-signer DOCKER_CONFIG directories holding that CA where docker reads it
 * (`$DOCKER_CONFIG/tls/<host:port>/ca.crt`). Both CLIs get the same environment.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, tempDir, type Server } from './go-repo.js';

export const DOCKER_PASSPHRASES = {
  DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'docker-root-passphrase',
  DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'docker-repo-passphrase',
};

export interface TrustServer {
  readonly server: Server;
  readonly url: string;
  /** `127.0.0.1:<port>`: the directory name under `$DOCKER_CONFIG/tls/`. */
  readonly hostPort: string;
  readonly caFile: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/** A private CA, a server certificate for 127.0.0.1, and notary-server serving HTTPS with it. */
export async function startTrustServer(): Promise<TrustServer> {
  const dir = tempDir('trust-srv-');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=trust test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'ext.cnf']);
  const server = await startServer({ tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } });
  const url = server.url;
  return {
    server,
    url,
    hostPort: new URL(url).host,
    caFile: join(dir, 'ca.crt'),
    dir,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh DOCKER_CONFIG with the server's CA installed, and the environment both CLIs run with. */
export function dockerConfig(srv: TrustServer, extra: { auths?: Record<string, { auth: string }> } = {}): { dir: string; env: Record<string, string> } {
  const dir = tempDir('docker-config-');
  mkdirSync(join(dir, 'tls', srv.hostPort), { recursive: true });
  copyFileSync(srv.caFile, join(dir, 'tls', srv.hostPort, 'ca.crt'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: extra.auths ?? {} }));
  return {
    dir,
    env: {
      DOCKER_CONFIG: dir,
      DOCKER_CONTENT_TRUST_SERVER: srv.url,
      ...DOCKER_PASSPHRASES,
    },
  };
}

export interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

function run(bin: string, args: readonly string[], env: Record<string, string>, stdin = '', cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args], {
      env: { PATH: process.env['PATH']!, HOME: process.env['HOME']!, TZ: 'UTC', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** `docker trust ARGS` (client only). */
export function runDocker(args: readonly string[], env: Record<string, string>, stdin = '', cwd?: string): Promise<Run> {
  return run('docker', ['trust', ...args], env, stdin, cwd);
}

/** `docker ARGS` (a CLI plugin's command, for instance). */
export function runDockerRaw(args: readonly string[], env: Record<string, string>, cwd?: string): Promise<Run> {
  return run('docker', args, env, '', cwd);
}

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

/** `notary-ts trust ARGS` through the built bin, in its own process. */
export function runTrust(args: readonly string[], env: Record<string, string>, stdin = '', cwd?: string): Promise<Run> {
  return run(process.execPath, [BIN, 'trust', ...args], env, stdin, cwd);
}
