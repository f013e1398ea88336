import { Program } from '../program.js';
import { delegationListCommand, listCommand, lookupCommand, verifyCommand } from './read.js';
import { keyCommands } from './key.js';
import { versionCommand } from './version.js';

/** Every command group registers here; each lives in its own file. */
export function buildProgram(): Program {
  return new Program().add(versionCommand, listCommand, lookupCommand, verifyCommand, delegationListCommand).add(...keyCommands);
}
