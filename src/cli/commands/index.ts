import { Program } from '../program.js';
import { versionCommand } from './version.js';

/** Every command group registers here; each lives in its own file. */
export function buildProgram(): Program {
  return new Program().add(versionCommand);
}
