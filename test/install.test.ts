/**
 * `npm install -g` gives a working `notary-ts`: from a tarball (`npm pack`, dist/ inside) and from a built
 * checkout. (A git URL relies on npm running "prepare" = scripts/prepare.mjs in the clone; npm 11.19 on this
 * machine blocks or breaks that for global installs — npm/cli#8440 — so it is not tested here.)
 * Global installs go to a temporary --prefix; dependencies come from npm's cache when it has them (the test
 * command's `npm ci` filled it). The package names its licence file and ships it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'notary-ts-install-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd = work) =>
  spawnSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });

function works(prefix: string): void {
  const exe = join(prefix, 'bin', 'notary-ts');
  expect(existsSync(exe), `${exe} missing`).toBe(true);
  const version = JSON.parse(execFileSync(exe, ['--json', 'version'], { encoding: 'utf8' }));
  expect(version.name).toBe('notary-ts');
  // A command that loads the code paths a user needs first: parsing, config, the key store, help.
  expect(execFileSync(exe, ['-d', join(prefix, 'trust'), '--json', 'key', 'list'], { encoding: 'utf8' })).toBe('[]\n');
  expect(execFileSync(exe, ['help', 'verify'], { encoding: 'utf8' })).toMatch(/^Verifies/);
  expect(existsSync(join(prefix, 'lib', 'node_modules', 'notary-ts', 'LICENSE'))).toBe(true);
}

describe('npm install -g', () => {
  it('package.json names Apache-2.0 and the LICENSE file is its text', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it('from a tarball made by npm pack', () => {
    // --ignore-scripts: pack the dist/ the test command built (pack would otherwise run prepare again).
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = join(work, pack.stdout.trim().split('\n').pop()!);
    const prefix = join(work, 'from-tarball');
    const r = npm(['install', '-g', '--prefix', prefix, tarball]);
    expect(r.status, r.stderr).toBe(0);
    works(prefix);
  }, 300_000);

  it('from a built checkout (npm install -g DIR links it)', () => {
    const prefix = join(work, 'from-checkout');
    // --ignore-scripts: the checkout is built already; prepare would rebuild dist/ under the other suites.
    const r = npm(['install', '-g', '--ignore-scripts', '--prefix', prefix, ROOT]);
    expect(r.status, r.stderr).toBe(0);
    works(prefix);
  }, 300_000);
});
