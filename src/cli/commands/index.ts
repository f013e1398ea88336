import { Program, type LazyCommands } from '../program.js';
import { versionCommand } from './version.js';

/**
 * Every command group lives in its own file and is imported only when one of its commands runs (start-up
 * time is most of a small command's run time). The paths here must match the commands each file exports;
 * test/cli-commands.test.ts checks that they do.
 */
export const COMMAND_GROUPS: readonly LazyCommands[] = [
  {
    paths: [['list'], ['lookup'], ['verify'], ['delegation', 'list']],
    load: async () => {
      const m = await import('./read.js');
      return [m.listCommand, m.lookupCommand, m.verifyCommand, m.delegationListCommand];
    },
  },
  {
    paths: [['key', 'list'], ['key', 'generate'], ['key', 'import'], ['key', 'export'], ['key', 'remove'], ['key', 'passwd']],
    load: async () => (await import('./key.js')).keyCommands,
  },
  { paths: [['key', 'rotate']], load: async () => [(await import('./rotate.js')).keyRotate] },
  {
    paths: [['cosign', 'prepare'], ['cosign', 'sign'], ['cosign', 'status'], ['cosign', 'publish']],
    load: async () => (await import('./cosign.js')).cosignCommands,
  },
  {
    paths: [['init'], ['add'], ['addhash'], ['remove'], ['status'], ['reset'], ['publish'], ['witness'], ['delete']],
    load: async () => (await import('./write.js')).writeCommands,
  },
  {
    paths: [['delegation', 'add'], ['delegation', 'remove'], ['delegation', 'purge']],
    load: async () => (await import('./delegation.js')).delegationCommands,
  },
  {
    paths: [['trust', 'verify'], ['admission', 'serve']],
    load: async () => (await import('./gate.js')).gateCommands,
  },
  { paths: [['report']], load: async () => [(await import('./report.js')).reportCommand] },
  {
    paths: [['migrate'], ['refresh-timestamp'], ['mirror'], ['audit']],
    load: async () => (await import('./migrate.js')).migrateCommands,
  },
  { paths: [['trust']], load: async () => [(await import('./trust.js')).trustCommand] },
];

export function buildProgram(): Program {
  const program = new Program().add(versionCommand);
  for (const group of COMMAND_GROUPS) program.addLazy(group);
  return program;
}
