/**
 * A live notary-server and repositories made on it by the real Go `notary` CLI, for interop and
 * differential tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error -- plain JS helper shared with scripts/gen-vectors.mjs
import { startNotaryServer } from '../../scripts/lib/notary-server.mjs';

export const PASSPHRASE_ENV = {
  NOTARY_ROOT_PASSPHRASE: 'test-root-passphrase',
  NOTARY_TARGETS_PASSPHRASE: 'test-targets-passphrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'test-snapshot-passphrase',
  NOTARY_DELEGATION_PASSPHRASE: 'test-delegation-passphrase',
};

export interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startServer(options: Record<string, unknown> = {}): Promise<Server> {
  return (await startNotaryServer(options)) as Server;
}

export function tempDir(prefix = 'notary-ts-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the Go CLI, throwing with its output on failure. */
export function goNotary(args: readonly string[], env: Record<string, string> = {}, input?: string): string {
  try {
    return execFileSync('notary', [...args], {
      env: { PATH: process.env['PATH']!, HOME: process.env['HOME']!, TZ: 'UTC', ...PASSPHRASE_ENV, ...env },
      input: input ?? '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`notary ${args.join(' ')} failed: ${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export interface GoRepository {
  readonly gun: string;
  readonly trustDir: string;
  /** Files used as target contents, by target name. */
  readonly payloads: Map<string, string>;
}

/**
 * A repository with tricky target names, a custom-data target and delegations (`targets/releases` with an
 * x509 cert, `targets/qa` with paths), published by the Go CLI.
 */
export function makeGoRepository(server: Server, gun: string): GoRepository {
  const work = tempDir('go-repo-');
  const trustDir = join(work, 'trust');
  const g = (args: string[]) => goNotary(['-s', server.url, '-d', trustDir, ...args]);
  g(['init', gun, '-p']);
  const payloads = new Map<string, string>();
  const add = (name: string, extra: string[] = []) => {
    const file = join(work, `payload-${payloads.size}`);
    const content = `content of ${name}\n`;
    writeFileSync(file, content);
    payloads.set(name, file);
    g(['add', gun, name, file, ...extra]);
  };
  add('plain');
  add('dir/A<b>&c');
  add('café');
  add('ﬁ');
  add('😀');
  add('line\u2028sep');
  writeFileSync(join(work, 'custom.json'), '{"a":1,"b":{"c":[1,2]}}');
  add('withcustom', ['--custom', join(work, 'custom.json')]);
  g(['publish', gun]);

  mkdirSync(join(work, 'keys'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: join(work, 'keys'), stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rel-key.pem', '-out', 'rel.crt', '-days', '365', '-subj', '/CN=releases', '-sha256']);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'qa-key.pem']);
  openssl(['pkey', '-in', 'qa-key.pem', '-pubout', '-out', 'qa.pub.pem']);
  g(['delegation', 'add', gun, 'targets/releases', join(work, 'keys', 'rel.crt'), '--all-paths']);
  g(['delegation', 'add', gun, 'targets/qa', join(work, 'keys', 'qa.pub.pem'), '--paths', 'qa/,shared/']);
  g(['key', 'import', join(work, 'keys', 'rel-key.pem'), '--role', 'targets/releases']);
  g(['key', 'import', join(work, 'keys', 'qa-key.pem'), '--role', 'targets/qa']);
  g(['publish', gun]);
  add('rel/one', ['--roles', 'targets/releases']);
  add('qa/x', ['--roles', 'targets/qa']);
  add('shared/s', ['--roles', 'targets/qa']);
  g(['publish', gun]);
  return { gun, trustDir, payloads };
}
