/**
 * A fake `docker-credential-<name>` for tests: a tiny POSIX sh script in a temp bin dir, speaking docker's
 * credential-helper protocol (`get`: server address on stdin, `{"ServerURL","Username","Secret"}` on stdout;
 * "credentials not found in native keychain" and exit 1 for unknown servers).
 *
 * API:
 *   const h = installCredentialHelper('test', { 'localhost:5000': { Username: 'alice', Secret: 'pw' } });
 *   env.PATH = h.path;          // the bin dir first, then the current PATH
 *   h.asked();                  // the server addresses the helper was asked for, in order
 *   h.cleanup();                // removes the temp dir
 * A `<token>` Username makes Secret an identity token, as docker-credential-* do.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface CredentialHelper {
  readonly binDir: string;
  /** PATH with the helper's bin dir first. */
  readonly path: string;
  asked(): string[];
  cleanup(): void;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function installCredentialHelper(name: string, entries: Record<string, { Username: string; Secret: string }>): CredentialHelper {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`bad helper name ${name}`);
  const binDir = mkdtempSync(join(tmpdir(), 'cred-helper-'));
  const log = join(binDir, 'asked.log');
  writeFileSync(log, '');
  const cases = Object.entries(entries)
    .map(([server, e]) => `  ${shellQuote(server)}) printf '%s' ${shellQuote(JSON.stringify({ ServerURL: server, ...e }))} ;;`)
    .join('\n');
  const script = `#!/bin/sh
[ "$1" = get ] || exit 2
IFS= read -r server || true
printf '%s\\n' "$server" >> ${shellQuote(log)}
case "$server" in
${cases}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  const p = join(binDir, `docker-credential-${name}`);
  writeFileSync(p, script);
  chmodSync(p, 0o755);
  return {
    binDir,
    path: `${binDir}${delimiter}${process.env.PATH ?? ''}`,
    asked: () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== ''),
    cleanup: () => rmSync(binDir, { recursive: true, force: true }),
  };
}
