/**
 * Help for people, through the built bin (dist/cli/main.js) in separate processes: the root help lists every
 * command with a description, each command's --help has a long description and examples, `help [COMMAND]`,
 * cobra's "Did you mean this?", working completion scripts for bash, zsh and fish, `notary-ts` in messages,
 * and Go's wording for a bad server URL and an unusable trust directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../src/cli/commands/index.js';

const BIN = resolve('dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'notary-ts-help-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function bin(args: readonly string[], env: Record<string, string> = {}): { stdout: string; stderr: string; code: number } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: work, ...env }, encoding: 'utf8', input: '' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

const COMMANDS = COMMAND_GROUPS.flatMap((g) => g.paths.map((p) => p.join(' ')));
// `trust` prints docker's help byte for byte (test/trust-docker.test.ts), not ours.
const OUR_HELP = COMMANDS.filter((c) => c !== 'trust');

describe('help', () => {
  it('the root help lists every command and group with a one-line description', () => {
    const r = bin(['--help']);
    expect(r.code).toBe(0);
    const listed = new Map(
      r.stdout
        .slice(r.stdout.indexOf('Available Commands:'))
        .split('\n\n')[0]!
        .split('\n')
        .slice(1)
        .map((l) => [l.trim().split(/\s+/)[0]!, l.trim().split(/\s+/).slice(1).join(' ')] as const),
    );
    const top = new Set([...COMMANDS.map((c) => c.split(' ')[0]!), 'version', 'help', 'completion']);
    expect([...listed.keys()].sort()).toEqual([...top].sort());
    for (const [name, description] of listed) expect(description.length, name).toBeGreaterThan(10);
    expect(r.stdout).toMatch(/^Use "notary-ts \[command\] --help" for more information about a command\.$/m);
  });

  it.each(OUR_HELP)('%s --help: a long description, examples, flags', (command) => {
    const r = bin([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    const [long] = r.stdout.split('\n\nUsage:\n');
    expect(long!.length, `${command}: ${long}`).toBeGreaterThan(60);
    expect(r.stdout).toContain(`Usage:\n  notary-ts ${command}`);
    const examples = r.stdout.split('\nExamples:\n')[1]?.split('\n\n')[0] ?? '';
    expect(examples).toMatch(new RegExp(`^ {2}notary-ts .*${command.split(' ').pop()}`, 'm'));
    // `help COMMAND` is the same text.
    expect(bin(['help', ...command.split(' ')]).stdout).toBe(r.stdout);
  });

  it('what Go\'s help says, said too: verify reads standard input, key generate defaults to root, reset -n takes ints', () => {
    expect(bin(['verify', '--help']).stdout).toMatch(/read from standard input/);
    expect(bin(['key', 'generate', '--help']).stdout).toMatch(/"root" is the default/);
    expect(bin(['reset', '--help']).stdout).toMatch(/^ {2}-n, --number ints /m);
    expect(bin(['help']).stdout).toBe(bin(['--help']).stdout);
    expect(bin(['help', 'key']).stdout).toMatch(/^Operations on private keys/);
  });

  it('a mistyped command: "Did you mean this?", exit 1, the program named notary-ts', () => {
    const r = bin(['lsit']);
    expect(r.stdout).toBe('\n* fatal: unknown command "lsit" for "notary-ts"\n\nDid you mean this?\n\tinit\n\tlist\n\n');
    expect(r.code).toBe(1);
    expect(bin(['key', 'lst']).stdout).toBe('\n* fatal: unknown command "lst" for "notary-ts key"\n\nDid you mean this?\n\tlist\n\n');
    expect(bin(['help', 'verfy']).stdout).toMatch(/unknown command "verfy" for "notary-ts"\n\nDid you mean this\?\n\tverify\n/);
    expect(bin(['zzzzzz']).stdout).toBe('\n* fatal: unknown command "zzzzzz" for "notary-ts"\n');
  });
});

describe('completion', () => {
  const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

  it('bash: the script completes commands, subcommands and flags', () => {
    const script = bin(['completion', 'bash']).stdout;
    const file = join(work, 'c.bash');
    writeFileSync(file, script);
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `source ${file}; COMP_WORDS=(notary-ts ${words.join(' ')}); COMP_CWORD=${words.length}; _notary_ts; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' }).trim();
    expect(complete('ke')).toBe('key');
    expect(complete('key', 'ro')).toBe('rotate');
    expect(complete('delegation', '')).toContain('purge');
    expect(complete('verify', '--qu')).toBe('--quiet');
    expect(complete('--js')).toBe('--json');
  });

  it('zsh and fish: scripts their shells accept (syntax), naming every command', () => {
    for (const shell of ['zsh', 'fish'] as const) {
      const r = bin(['completion', shell]);
      expect(r.code).toBe(0);
      for (const c of ['add', 'verify', 'rotate', 'purge']) expect(r.stdout, shell).toContain(c);
      // scripts/test.sh installs zsh and fish.
      expect(has(shell), `${shell} is not installed`).toBe(true);
      const file = join(work, `c.${shell}`);
      writeFileSync(file, r.stdout);
      expect(spawnSync(shell, ['-n', file]).status, shell).toBe(0);
    }
    // fish can be asked what it would complete.
    const fish = (line: string) => execFileSync('fish', ['-c', `source ${join(work, 'c.fish')}; complete -C '${line}'`], { encoding: 'utf8' });
    expect(fish('notary-ts ke')).toBe('key\n');
    expect(fish('notary-ts key ro')).toMatch(/^rotate/m);
    expect(bin(['completion', 'powershell']).stdout).toBe('\n* fatal: unknown shell "powershell": notary-ts completion supports bash, zsh, fish\n');
    expect(bin(['completion']).stdout).toMatch(/^Generate the autocompletion script for notary-ts/);
  });
});

describe("Go's wording for configuration errors", () => {
  it('a bad server URL keeps "Got: <url>"', () => {
    const r = bin(['-s', 'foo', '-d', join(work, 'trust'), 'list', 'example.com/app']);
    expect(r.stdout).toBe('\n* fatal: Trust server url has to be in the form of http(s)://URL:PORT. Got: foo\n');
    expect(r.code).toBe(1);
  });

  it('a trust directory that cannot be created: one BAD_TRUST_DIR line, no internal error', () => {
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    const r = bin(['-d', join(blocker, 'trust'), 'key', 'list']);
    // (a long path is shortened in the message)
    expect(r.stdout).toMatch(/^\n\* fatal: invalid trust_dir "[^\n]*": a parent of it is not a directory\n$/);
    expect(r.code).toBe(1);
    const j = JSON.parse(bin(['--json', '-d', join(blocker, 'trust'), 'init', 'example.com/app'], { NOTARY_ROOT_PASSPHRASE: 'x'.repeat(10) }).stdout);
    expect(j.error.code).toBe('BAD_TRUST_DIR');
  });
});
