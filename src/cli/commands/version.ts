import { VERSION, type Command } from '../program.js';

export const versionCommand: Command = {
  path: ['version'],
  use: 'version',
  short: 'Print the version number of notary-ts',
  async run(ctx) {
    ctx.print(`notary-ts\n Version:    ${VERSION}\n Node version: ${process.version}\n`);
    ctx.result({ name: 'notary-ts', version: VERSION, node: process.version });
  },
};
