/**
 * `notary key list|generate|import|export|remove|passwd` — arguments, output (byte for byte), prompts and
 * exit codes as Notary 0.7 (Go: cmd/notary/keys.go, prettyprint.go). `key rotate` needs a repository and
 * lives with the repository commands.
 *
 * Every command opens the key store first, which migrates legacy layouts, as Notary does.
 */
import { formatTable, truncateWithEllipsis } from '../table.js';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { encodeKeyFile, encodePublicKeyPem, privateKeyId } from '../../node/keyfile.js';
import { FileKeyStore, compareKeyInfo, storedGun, type KeyInfo, type KeyStore, type UnlockedKey } from '../../node/keystore.js';
import { TokenAwareKeyStore } from '../../tokens/pkcs11/combined.js';
import type { Pkcs11KeyStore } from '../../tokens/pkcs11/token-store.js';
import { decodeKeyFile, readKeyFileInfo } from '../../node/keyfile.js';
import { encodePem } from '../../core/pem.js';
import { encodeSpki } from '../../core/x509.js';
import { askConfirm, type PassphraseRetriever } from '../../node/passphrase.js';
import { cliRetriever } from '../passphrase.js';
import { keyStoreOpened } from '../writer.js';
import { KeyStoreError } from '../../core/errors.js';
import { CliError, type Command, type CommandContext } from '../program.js';

const SHA256_HEX_SIZE = 64;
const MAX_GUN_WIDTH = 25;
const MAX_LOC_WIDTH = 40;

/**
 * Go's text/tabwriter with Notary's settings (minwidth 4, tabwidth 4, padding 4, pad ' ', no flags) for rows
 * whose cells are all tab-terminated except the last: each column is as wide as its widest cell plus the
 * padding (at least minwidth); the last cell is written as is. Widths count code points, as Go counts runes.
 */
/** Notary's table layout and truncation live in ../table.ts; these names are kept for callers. */
export const notaryTable = formatTable;
export { truncateWithEllipsis };

/** `key list` output for these keys (already in Notary's order). */
export function formatKeyList(keys: readonly KeyInfo[]): string {
  if (keys.length === 0) return 'No signing keys found.\n';
  return notaryTable(
    ['ROLE', 'GUN', 'KEY ID', 'LOCATION'],
    keys.map((k) => [k.role, truncateWithEllipsis(k.gun, MAX_GUN_WIDTH, true), k.keyId, truncateWithEllipsis(k.location, MAX_LOC_WIDTH, true)]),
  );
}

function retrieverFor(ctx: CommandContext): PassphraseRetriever {
  return cliRetriever(ctx);
}

async function openStore(ctx: CommandContext, retriever: PassphraseRetriever = retrieverFor(ctx)): Promise<FileKeyStore> {
  const config = await ctx.config();
  return keyStoreOpened(config.trustDir, () =>
    FileKeyStore.open(config.trustDir, {
      retriever,
      log: (level, message) => (level === 'error' ? ctx.log.error(message) : ctx.log.warn(message)),
    }),
  );
}

/** A key file named on the command line, as text; a file that cannot be read is Go's `open FILE: …` line. */
async function readKeyFileArgument(ctx: CommandContext, file: string): Promise<string> {
  try {
    return await fs.readFile(resolve(ctx.io.cwd, file), 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

function usageError(ctx: CommandContext, message: string): never {
  ctx.usage();
  throw new CliError(message);
}

const keyList: Command = {
  path: ['key', 'list'],
  use: 'key list',
  short: 'Lists keys.',
  async run(ctx) {
    if (ctx.args.length > 0) usageError(ctx, '');
    const store = await openStore(ctx);
    const token = await tokenFor(ctx, false);
    let keys: KeyInfo[];
    try {
      keys = token ? [...(await token.list()), ...(await store.list())].sort(compareKeyInfo) : await store.list();
    } finally {
      token?.close();
    }
    if (ctx.json) {
      ctx.result(keys.map((k) => ({ role: k.role, gun: k.gun, keyId: k.keyId, location: k.location })));
      return;
    }
    ctx.print('\n' + formatKeyList(keys) + '\n');
  },
};

const keyGenerate: Command = {
  path: ['key', 'generate'],
  use: 'key generate [ algorithm ]',
  short: 'Generates a new key with a given algorithm.',
  flags: [
    { name: 'output', short: 'o', type: 'string', description: 'Filepath to write export output to' },
    { name: 'role', short: 'r', type: 'string', default: 'root', description: 'Role to generate key with, defaulting to "root".' },
    { name: 'pkcs11', type: 'bool', description: 'Generate the key on the configured PKCS#11 token (notary-ts extension); -o then writes only its public key' },
  ],
  async run(ctx) {
    if (ctx.args.length > 1) usageError(ctx, 'Please provide only one Algorithm as an argument to generate (rsa, ecdsa)');
    const algorithm = (ctx.args[0] ?? 'ecdsa').toLowerCase();
    const role = String(ctx.flags['role'] ?? 'root');
    const output = String(ctx.flags['output'] ?? '');
    if (ctx.flags['pkcs11'] === true) {
      if (algorithm !== 'ecdsa' && algorithm !== 'rsa') throw new CliError('Algorithm not allowed, possible values are: ECDSA, RSA');
      await generateOnToken(ctx, algorithm, role, output);
      return;
    }
    if (algorithm !== 'ecdsa') throw new CliError('Algorithm not allowed, possible values are: ECDSA');
    const retriever = retrieverFor(ctx);
    if (output === '') {
      const store = await openStore(ctx, retriever);
      const privateKey = nodeCryptoBackend.generateKey('ecdsa');
      let keyId: string;
      try {
        keyId = await store.add(privateKey, { role, gun: '' });
      } catch (err) {
        throw new CliError(`Failed to create a new ${role} key: ${(err as Error).message}`);
      }
      ctx.print(`Generated new ecdsa ${role} key with keyID: ${keyId}\n`);
      ctx.result({ keyId, role, algorithm: 'ecdsa' });
      return;
    }
    await ctx.config();
    // Notary asks with an empty alias here (so NOTARY_DELEGATION_PASSPHRASE applies, even to root keys).
    const privateKey = nodeCryptoBackend.generateKey('ecdsa');
    const keyId = privateKeyId(privateKey);
    let passphrase: string | undefined;
    for (let attempt = 0; passphrase === undefined; attempt++) {
      try {
        passphrase = (await retriever({ keyName: keyId, alias: '', createNew: true, attempt })).passphrase;
      } catch (err) {
        if (attempt >= 10) throw new KeyStoreError('BAD_PASSPHRASE', 'maximum number of passphrase attempts exceeded', { cause: err });
      }
    }
    if (passphrase === '') throw new CliError('no password provided');
    const base = resolve(ctx.io.cwd, output);
    await fs.writeFile(`${base}-key.pem`, encodeKeyFile(privateKey, { role, gun: storedGun(role, ''), passphrase }), { mode: 0o600 });
    await fs.writeFile(`${base}.pem`, encodePublicKeyPem(privateKey, role), { mode: 0o600 });
    ctx.result({ keyId, role, algorithm: 'ecdsa', privateKeyFile: `${base}-key.pem`, publicKeyFile: `${base}.pem` });
  },
};

const keyImport: Command = {
  path: ['key', 'import'],
  use: 'key import pemfile [ pemfile ... ]',
  short: 'Imports all keys from all provided .pem files',
  flags: [
    { name: 'gun', short: 'g', type: 'string', description: 'Gun to import key with, if a gun is not already given in a PEM header' },
    { name: 'role', short: 'r', type: 'string', description: 'Role to import key with, if a role is not already given in a PEM header' },
    { name: 'pkcs11', type: 'bool', description: 'Import the keys onto the configured PKCS#11 token, non-extractable (notary-ts extension)' },
  ],
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'must specify at least one input file to import keys from');
    if (ctx.flags['pkcs11'] === true) {
      await importOntoToken(ctx);
      return;
    }
    const store = await openStore(ctx);
    const before = new Set((await store.list()).map((k) => k.keyId));
    for (const file of ctx.args) {
      const text = await readKeyFileArgument(ctx, file);
      await store.importKeys(text, {
        fallbackRole: String(ctx.flags['role'] ?? ''),
        fallbackGun: String(ctx.flags['gun'] ?? ''),
        source: file,
      });
    }
    ctx.result({ imported: (await store.list()).filter((k) => !before.has(k.keyId)).map((k) => ({ role: k.role, gun: k.gun, keyId: k.keyId, location: k.location })) });
  },
};

const keyExport: Command = {
  path: ['key', 'export'],
  use: 'key export',
  short: 'Exports all keys from all local keystores. Can be filtered using the --key and --gun flags.',
  flags: [
    { name: 'gun', type: 'strings', description: 'GUNs for which to export keys' },
    { name: 'key', type: 'strings', description: 'Key IDs to export' },
    { name: 'output', short: 'o', type: 'string', description: 'Filepath to write export output to' },
  ],
  async run(ctx) {
    if (ctx.args.length > 0) usageError(ctx, 'export does not take any positional arguments');
    const config = await ctx.config();
    const output = String(ctx.flags['output'] ?? '');
    const outPath = output === '' ? undefined : resolve(ctx.io.cwd, output);
    if (outPath) await fs.writeFile(outPath, '', { mode: 0o600 }); // Go opens O_TRUNC|O_CREATE first
    const store = await keyStoreOpened(config.trustDir, () =>
      FileKeyStore.open(config.trustDir, {
        log: (level, message) => (level === 'error' ? ctx.log.error(message) : ctx.log.warn(message)),
      }),
    );
    const guns = (ctx.flags['gun'] as string[] | undefined) ?? [];
    const ids = (ctx.flags['key'] as string[] | undefined) ?? [];
    let text: string;
    if (guns.length > 0) {
      if (ids.length > 0) throw new CliError('Only the --gun or --key flag may be provided, not a mix of the two flags');
      text = await store.exportKeys({ gun: guns[0]! }); // Notary honours only the first --gun
    } else if (ids.length > 0) {
      await refuseTokenExport(ctx, store, ids);
      text = await store.exportKeys({ keyIds: ids });
    } else {
      text = await store.exportKeys();
    }
    if (outPath) await fs.writeFile(outPath, text, { mode: 0o600 });
    else ctx.print(text);
    ctx.result(outPath ? { file: outPath } : { pem: text });
  },
};

const keyRemove: Command = {
  path: ['key', 'remove'],
  use: 'key remove [ keyID ]',
  short: 'Removes the key with the given keyID.',
  flags: [{ name: 'yes', short: 'y', type: 'bool', description: 'Answer yes to the removal question (no confirmation; notary-ts extension, needed with --json)' }],
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'must specify the key ID of the key to remove');
    const files = await openStore(ctx);
    const keyId = ctx.args[0]!;
    if (Buffer.byteLength(keyId) !== SHA256_HEX_SIZE) throw new CliError(`invalid key ID provided: ${keyId}`);
    const token = await tokenFor(ctx, false);
    try {
      await removeKey(ctx, token ? new TokenAwareKeyStore(files, token, { roles: new Set(), layout: 'token' }) : files, keyId);
    } finally {
      token?.close();
    }
  },
};

async function removeKey(ctx: CommandContext, store: KeyStore, keyId: string): Promise<void> {
  {
    ctx.print('\n');
    const found = (await store.list()).find((k) => k.keyId === keyId);
    if (!found) {
      ctx.print('\n');
      throw new CliError(`No key with ID ${keyId} found`);
    }
    const description = `${found.keyId} (role ${found.role}) from ${found.location}`;
    if (ctx.json && ctx.flags['yes'] !== true) {
      throw new CliError(`removing key ${keyId} needs a confirmation: add --yes (-y)`, { code: 'CONFIRMATION_REQUIRED', where: '--yes' });
    }
    ctx.print(`Are you sure you want to remove ${description}?  (yes/no)  `);
    if (ctx.flags['yes'] === true) ctx.print('yes (--yes)\n');
    else if (!(await askConfirm(ctx.io.stdin))) {
      ctx.print('\nAborting action.\n\n');
      return;
    }
    await store.remove(keyId);
    ctx.print(`\nDeleted ${description}.\n\n`);
    ctx.result({ keyId, role: found.role, location: found.location, removed: true });
  }
}

const keyPasswd: Command = {
  path: ['key', 'passwd'],
  use: 'key passwd [ keyID ]',
  short: 'Changes the passphrase for the key with the given keyID.',
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'must specify the key ID of the key to change the passphrase of');
    const store = await openStore(ctx);
    const keyId = ctx.args[0]!;
    if (Buffer.byteLength(keyId) !== SHA256_HEX_SIZE) throw new CliError(`invalid key ID provided: ${keyId}`);
    // A second retriever, so the unlocking passphrase is not cached and reused for the new one (as Notary).
    let unlocked: UnlockedKey;
    try {
      unlocked = await store.unlock(keyId);
    } catch (err) {
      ctx.log.debug(`key passwd ${keyId}: ${(err as Error).message}`);
      throw new CliError(`could not retrieve local key for key ID provided: ${keyId}`);
    }
    await store.reencrypt(unlocked, retrieverFor(ctx));
    ctx.print(`\nSuccessfully updated passphrase for key ID: ${keyId}\n`);
    ctx.result({ keyId, passphraseChanged: true });
  },
};

export const keyCommands: readonly Command[] = [keyList, keyGenerate, keyImport, keyExport, keyRemove, keyPasswd];

// ---------------------------------------------------------------------------------------------------
// PKCS#11 tokens (notary-ts extension; Go shows YubiKey keys with location `yubikey`)

async function tokenFor(ctx: CommandContext, required: boolean): Promise<Pkcs11KeyStore | undefined> {
  const { openToken } = await import('../pkcs11.js');
  return openToken(ctx, await ctx.config(), required)?.token;
}

/** `key generate [ecdsa|rsa] --pkcs11 --role R [-o PREFIX]`: made on the token, non-extractable. */
async function generateOnToken(ctx: CommandContext, algorithm: 'ecdsa' | 'rsa', role: string, output: string): Promise<void> {
  const { openToken } = await import('../pkcs11.js');
  const { token, settings } = openToken(ctx, await ctx.config(), true)!;
  try {
    let keyId: string;
    if (settings.layout === 'yubikey') {
      // Go's YubiKey layout: made in software, imported into a PIV slot, an encrypted backup in the trust dir.
      if (algorithm !== 'ecdsa') throw new CliError('the yubikey layout holds ECDSA keys only');
      const files = await openStore(ctx);
      keyId = await new TokenAwareKeyStore(files, token, { roles: new Set([role]), layout: 'yubikey' }).generateKey({ role, gun: '' });
    } else {
      keyId = await token.generateKey({ role, gun: '', algorithm });
    }
    if (output !== '') {
      const handle = await token.keyHandle(keyId);
      const spki = encodeSpki({ ...handle.publicKey, spki: new Uint8Array(0) } as typeof handle.publicKey);
      await fs.writeFile(`${resolve(ctx.io.cwd, output)}.pem`, encodePem('PUBLIC KEY', spki, { role }), { mode: 0o600 });
    }
    ctx.print(`Generated new ${algorithm} ${role} key with keyID: ${keyId} on token ${token.location}\n`);
  } finally {
    token.close();
  }
}

/** `key import --pkcs11 FILE...`: each key decrypted (its role's passphrase) and stored on the token. */
async function importOntoToken(ctx: CommandContext): Promise<void> {
  const retriever = retrieverFor(ctx);
  const keys: Array<{ file: string; privateKey: ReturnType<typeof decodeKeyFile>; role: string; gun: string }> = [];
  for (const file of ctx.args) {
    const text = await readKeyFileArgument(ctx, file);
    const info = readKeyFileInfo(text, file);
    const role = info.role || String(ctx.flags['role'] ?? '') || 'delegation';
    const gun = info.gun || String(ctx.flags['gun'] ?? '');
    let privateKey: ReturnType<typeof decodeKeyFile> | undefined;
    if (!info.encrypted) privateKey = decodeKeyFile(text, '', file);
    for (let attempt = 0; privateKey === undefined; attempt++) {
      const answer = await retriever({ keyName: file, alias: role, createNew: false, attempt });
      try {
        privateKey = decodeKeyFile(text, answer.passphrase, file);
      } catch (err) {
        if (answer.giveUp || attempt >= 2) throw err;
      }
    }
    keys.push({ file, privateKey, role, gun });
  }
  const token = (await tokenFor(ctx, true))!;
  try {
    for (const k of keys) {
      const keyId = await token.add(k.privateKey, { role: k.role, gun: k.gun });
      ctx.log.info(`imported ${k.file} onto token ${token.location} as ${k.role} key ${keyId}`);
    }
  } finally {
    token.close();
  }
}

/** `key export --key ID` of a key that lives only on the token: refused, it cannot leave the token. */
async function refuseTokenExport(ctx: CommandContext, files: FileKeyStore, ids: readonly string[]): Promise<void> {
  const token = await tokenFor(ctx, false);
  if (!token) return;
  try {
    const inFiles = new Set((await files.list()).map((k) => k.keyId));
    for (const id of ids) {
      if (!inFiles.has(id) && token.has(id)) {
        throw new KeyStoreError('KEY_NOT_EXTRACTABLE', `key ${id} is on token ${token.location} and is not extractable: it cannot be exported`, { where: id });
      }
    }
  } finally {
    token.close();
  }
}
