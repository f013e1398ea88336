/** The lazy command table in src/cli/commands/index.ts names exactly the commands each module exports. */
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../src/cli/commands/index.js';
import { runOurs } from './support/cli.js';

describe('command registry', () => {
  it.each(COMMAND_GROUPS.map((g, i) => [i, g] as const))('group %i declares the paths its module provides', async (_i, group) => {
    const commands = await group.load();
    expect(commands.map((c) => c.path.join(' ')).sort()).toEqual(group.paths.map((p) => p.join(' ')).sort());
  });

  it('help lists every top-level command, and group names list their subcommands', async () => {
    const top = await runOurs(['--help']);
    for (const name of ['add', 'addhash', 'cosign', 'delegation', 'delete', 'init', 'key', 'list', 'lookup', 'publish', 'remove', 'reset', 'status', 'verify', 'version', 'witness']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    const key = await runOurs(['key']);
    for (const name of ['export', 'generate', 'import', 'list', 'passwd', 'remove', 'rotate']) expect(key.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });
});
