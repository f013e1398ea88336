/**
 * Repositories for the deploy-gate tests, made by the real Go `notary` on a live notary-server:
 *
 * - `registry.test/team/app` with delegations targets/releases, targets/ci, targets/qa:
 *   `v1` signed by releases, ci and qa (one digest); `v2` by releases and ci (qa missing);
 *   `v3` by ci and qa with different digests; `top` only in targets; `ci-only` only in targets/ci.
 * - `registry.test/team/plain`: no delegations, `v1` in targets.
 *
 * Digests are sha256 hex of small payload files, as a manifest's would be.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goNotary, startServer, tempDir, type Server } from './go-repo.js';

export interface GateRepos {
  readonly server: Server;
  readonly work: string;
  /** Go's trust dir (holds every key). */
  readonly trustDir: string;
  readonly app: string;
  readonly plain: string;
  /** Payload digests (hex) by label. */
  readonly digest: Record<'d1' | 'd2' | 'd3' | 'd4' | 'd5' | 'd6' | 'p1', string>;
  /** The root certificate of `app` (PEM), as its root.json lists it. */
  readonly appRootCertPem: string;
  cleanup(): Promise<void>;
}

export async function makeGateRepos(): Promise<GateRepos> {
  const server = await startServer();
  const work = tempDir('gate-repos-');
  const trustDir = join(work, 'trust');
  const keys = join(work, 'keys');
  mkdirSync(keys);
  const app = 'registry.test/team/app';
  const plain = 'registry.test/team/plain';
  const g = (args: string[]) => goNotary(['-s', server.url, '-d', trustDir, ...args]);
  const digest = {} as Record<string, string>;
  const payload = (label: string) => {
    const file = join(work, `${label}.json`);
    writeFileSync(file, `{"manifest":"${label}"}\n`);
    digest[label] = createHash('sha256').update(readFileSync(file)).digest('hex');
    return file;
  };
  g(['init', app, '-p']);
  for (const role of ['releases', 'ci', 'qa']) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${role}-key.pem`, '-out', `${role}.crt`, '-days', '365', '-subj', `/CN=${role}`, '-sha256'], {
      cwd: keys,
      stdio: 'pipe',
    });
    g(['delegation', 'add', app, `targets/${role}`, join(keys, `${role}.crt`), '--all-paths']);
    g(['key', 'import', join(keys, `${role}-key.pem`), '--role', `targets/${role}`]);
  }
  g(['publish', app]);
  g(['add', app, 'v1', payload('d1'), '--roles', 'targets/releases,targets/ci,targets/qa']);
  g(['add', app, 'v2', payload('d2'), '--roles', 'targets/releases,targets/ci']);
  g(['add', app, 'v3', payload('d3'), '--roles', 'targets/ci']);
  g(['add', app, 'v3', payload('d4'), '--roles', 'targets/qa']);
  g(['add', app, 'top', payload('d5')]);
  g(['add', app, 'ci-only', payload('d6'), '--roles', 'targets/ci']);
  g(['publish', app]);
  g(['init', plain, '-p']);
  g(['add', plain, 'v1', payload('p1')]);
  g(['publish', plain]);
  const root = JSON.parse(readFileSync(join(trustDir, 'tuf', app, 'metadata', 'root.json'), 'utf8'));
  const rootKeyId = root.signed.roles.root.keyids[0];
  const appRootCertPem = Buffer.from(root.signed.keys[rootKeyId].keyval.public, 'base64').toString('utf8');
  return {
    server,
    work,
    trustDir,
    app,
    plain,
    digest: digest as GateRepos['digest'],
    appRootCertPem,
    async cleanup() {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
