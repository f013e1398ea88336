import { Program } from '../program.js';
import { delegationListCommand, listCommand, lookupCommand, verifyCommand } from './read.js';
import { delegationCommands } from './delegation.js';
import { keyCommands } from './key.js';
import { keyRotate } from './rotate.js';
import { cosignCommands } from './cosign.js';
import { versionCommand } from './version.js';
import { writeCommands } from './write.js';

/** Every command group registers here; each lives in its own file. */
export function buildProgram(): Program {
  return new Program().add(versionCommand, listCommand, lookupCommand, verifyCommand, delegationListCommand).add(...keyCommands).add(keyRotate).add(...cosignCommands).add(...writeCommands).add(...delegationCommands);
}
