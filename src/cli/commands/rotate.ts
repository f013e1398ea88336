/**
 * `notary key rotate <gun> <role> [-r] [-k FILE...] [-l N]` as Notary 0.7 (cmd/notary/keys.go keysRotate,
 * client.RotateKey): key files given with `-k` are imported first, a root rotation asks for confirmation,
 * then the rotation is published at once on its own (staged changes stay staged).
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { NotaryError } from '../../core/errors.js';
import type { PrivateKeyMaterial } from '../../core/crypto.js';
import { decodeKeyFile, isEncryptedKeyFile } from '../../node/keyfile.js';
import { askConfirm, type PassphraseRetriever } from '../../node/passphrase.js';
import { CliError, type Command, type CommandContext } from '../program.js';
import { openWriter, passphraseRetriever } from '../writer.js';

/** Go's readKey: root key files must be encrypted; encrypted files are unlocked with the root passphrase. */
async function readKey(ctx: CommandContext, role: string, file: string, retriever: PassphraseRetriever): Promise<PrivateKeyMaterial> {
  let pem: string;
  try {
    pem = await fs.readFile(resolve(ctx.io.cwd, file), 'latin1');
  } catch (err) {
    throw new CliError(`Error reading input root key file: open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  let encrypted: boolean;
  try {
    encrypted = isEncryptedKeyFile(pem, file);
  } catch {
    throw new CliError('no valid private key found');
  }
  if (!encrypted) {
    if (role === 'root') throw new CliError('only encrypted root keys may be imported');
    return decodeKeyFile(pem, '', file);
  }
  for (let attempt = 0; ; attempt++) {
    if (attempt > 10) throw new CliError('maximum number of passphrase attempts exceeded');
    let answer;
    try {
      answer = await retriever({ keyName: '', alias: 'root', createNew: false, attempt });
    } catch {
      throw new CliError('password invalid, operation has failed.');
    }
    try {
      return decodeKeyFile(pem, answer.passphrase, file);
    } catch (err) {
      if (!(err instanceof NotaryError && err.code === 'BAD_PASSPHRASE')) throw err;
      if (answer.giveUp) throw new CliError('password invalid, operation has failed.');
    }
  }
}

export const keyRotate: Command = {
  path: ['key', 'rotate'],
  use: 'key rotate [ GUN ] [ key role ]',
  short: 'Rotate a signing (non-root) key of the given type for the given Globally Unique Name and role.',
  flags: [
    { name: 'key', short: 'k', type: 'strings', description: 'New key(s) to rotate to. If not specified, one will be generated.' },
    { name: 'legacy', short: 'l', type: 'int', default: 0, description: "Number of old version's root roles to sign with to support old clients" },
    {
      name: 'server-managed',
      short: 'r',
      type: 'bool',
      description:
        'Signing and key management will be handled by the remote server (no key will be generated or stored locally). Required for timestamp role, optional for snapshot role',
    },
    { name: 'yes', short: 'y', type: 'bool', description: 'Answer yes to the root rotation question (no confirmation; notary-ts extension, needed with --json)' },
  ],
  async run(ctx) {
    if (ctx.args.length < 2) {
      ctx.usage();
      throw new CliError('Must specify a GUN and a key role to rotate');
    }
    const gun = ctx.args[0]!;
    const role = ctx.args[1]!;
    const { writer, keyStore, close } = await openWriter(ctx, gun, { online: true });
    try {
      const keyIds: string[] = [];
      const files = (ctx.flags['key'] as string[] | undefined) ?? [];
      if (files.length > 0) {
        const retriever = passphraseRetriever(ctx);
        for (const file of files) {
          const privateKey = await readKey(ctx, role, file, retriever);
          try {
            keyIds.push(await keyStore.add(privateKey, { role, gun }));
          } catch (err) {
            throw new CliError(`Error importing key: ${(err as Error).message}`);
          }
        }
      }
      if (role === 'root' && ctx.json && ctx.flags['yes'] !== true) {
        throw new CliError('rotating the root key needs a confirmation: add --yes (-y)', { code: 'CONFIRMATION_REQUIRED', where: '--yes' });
      }
      if (role === 'root' && ctx.flags['yes'] !== true) {
        ctx.print('Warning: you are about to rotate your root key.\n\nYou must use your old key to sign this root rotation.\nAre you sure you want to proceed?  (yes/no)  ');
        if (!(await askConfirm(ctx.io.stdin))) {
          ctx.print('\nAborting action.\n');
          return;
        }
      }
      const legacy = Number(ctx.flags['legacy'] ?? 0);
      const result = await writer.rotateKey(role, {
        serverManaged: ctx.flags['server-managed'] === true,
        ...(keyIds.length > 0 ? { keyIds } : {}),
        ...(legacy !== 0 ? { legacyVersions: legacy } : {}),
      });
      if (ctx.json) {
        ctx.result({ gun, role, roles: [...result.files.keys()], removedKeys: result.removedKeys ?? [] });
        return;
      }
      ctx.print(`Successfully rotated ${role} key for repository ${gun}\n`);
    } finally {
      await close();
    }
  },
};
