/**
 * `notary-ts cosign prepare|sign|status|publish <gun> <role> <file>` (notary-ts extension): threshold
 * signing of a targets role through a file passed between signers (src/repository/cosign.ts).
 *
 *   prepare  applies the changes staged for <role> (e.g. `add --roles <role>`), signs with the role keys
 *            held here and writes <file>; those staged changes then leave the changelist (they live in the file)
 *   sign     adds signatures with the role keys held here to <file>
 *   status   shows what <file> changes and how many valid distinct signatures it has of the threshold
 *   publish  uploads <file> (and a new snapshot) once the threshold is met
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../node/fs-atomic.js';
import { FileChangelist } from '../../repository/changelist.js';
import { RoleCoSigner, type PendingRoleStatus } from '../../repository/cosign.js';
import { CliError, type Command, type CommandContext } from '../program.js';
import { openWriter } from '../writer.js';

function args(ctx: CommandContext, verb: string): { gun: string; role: string; file: string } {
  if (ctx.args.length !== 3) {
    ctx.usage();
    throw new CliError(`cosign ${verb} needs a GUN, a role and a file`);
  }
  return { gun: ctx.args[0]!, role: ctx.args[1]!, file: resolve(ctx.io.cwd, ctx.args[2]!) };
}

async function openCoSigner(ctx: CommandContext, gun: string) {
  const opened = await openWriter(ctx, gun, { online: true });
  const config = await ctx.config();
  return { coSigner: RoleCoSigner.fromWriter(opened.writer), trustDir: config.trustDir, close: opened.close };
}

async function readPending(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function describe(status: PendingRoleStatus): string {
  const lines = [
    `Role ${status.role} of ${status.gun}, version ${status.version} (published: ${status.currentVersion}), expires ${status.expires}`,
    `Signatures: ${status.signedBy.length} of ${status.threshold} needed${status.complete ? ' (complete)' : ''}`,
  ];
  for (const id of status.keyIds) lines.push(`\t${status.signedBy.includes(id) ? 'signed ' : 'missing'} ${id}`);
  if (status.ignoredSignatures > 0) lines.push(`Ignored signatures: ${status.ignoredSignatures}`);
  for (const [label, names] of [
    ['Adds', status.added],
    ['Changes', status.changed],
    ['Removes', status.removed],
  ] as const) {
    for (const n of names) lines.push(`${label} target ${JSON.stringify(n)}`);
  }
  return lines.join('\n') + '\n';
}

function output(ctx: CommandContext, status: PendingRoleStatus): void {
  ctx.print(describe(status));
  ctx.result(status);
}

const prepare: Command = {
  path: ['cosign', 'prepare'],
  use: 'cosign prepare [ GUN ] [ role ] [ file ]',
  short: 'Writes the next version of a role with the changes staged for it, signed with the keys held here (notary-ts).',
  async run(ctx) {
    const { gun, role, file } = args(ctx, 'prepare');
    const { coSigner, trustDir, close } = await openCoSigner(ctx, gun);
    try {
      const changelist = new FileChangelist(trustDir, gun);
      await changelist.withLock(async () => {
        const staged = (await changelist.list()).filter((s) => s.change.scope === role);
        if (staged.length === 0) throw new CliError(`no changes staged for ${role} in ${gun}`);
        const pending = await coSigner.prepare(
          role,
          staged.map((s) => s.change),
        );
        await writeFileAtomic(file, pending.bytes);
        await changelist.clear(staged.map((s) => s.file));
        output(ctx, pending.status);
      });
    } finally {
      await close();
    }
  },
};

const sign: Command = {
  path: ['cosign', 'sign'],
  use: 'cosign sign [ GUN ] [ role ] [ file ]',
  short: 'Adds signatures with the role keys held here to a pending role file (notary-ts).',
  async run(ctx) {
    const { gun, role, file } = args(ctx, 'sign');
    const { coSigner, close } = await openCoSigner(ctx, gun);
    try {
      const pending = await coSigner.sign(role, await readPending(file));
      await writeFileAtomic(file, pending.bytes);
      output(ctx, pending.status);
    } finally {
      await close();
    }
  },
};

const status: Command = {
  path: ['cosign', 'status'],
  use: 'cosign status [ GUN ] [ role ] [ file ]',
  short: 'Shows what a pending role file changes and how many of the needed signatures it has (notary-ts).',
  async run(ctx) {
    const { gun, role, file } = args(ctx, 'status');
    const { coSigner, close } = await openCoSigner(ctx, gun);
    try {
      output(ctx, await coSigner.inspect(role, await readPending(file)));
    } finally {
      await close();
    }
  },
};

const publish: Command = {
  path: ['cosign', 'publish'],
  use: 'cosign publish [ GUN ] [ role ] [ file ]',
  short: 'Publishes a pending role file once it meets its threshold (notary-ts).',
  async run(ctx) {
    const { gun, role, file } = args(ctx, 'publish');
    const { coSigner, close } = await openCoSigner(ctx, gun);
    try {
      ctx.print(`Pushing changes to ${gun}\n`);
      await coSigner.publish(role, await readPending(file));
      ctx.print(`Successfully published changes for repository ${gun}\n`);
      ctx.result({ gun, role, published: true });
    } finally {
      await close();
    }
  },
};

export const cosignCommands: readonly Command[] = [prepare, sign, status, publish];
