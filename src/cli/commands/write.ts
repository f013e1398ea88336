/**
 * The repository-changing commands of Notary 0.7 (Go: cmd/notary/tuf.go): init, add, addhash, remove,
 * status, reset, publish, witness, delete — same arguments, flags, output, prompts and exit codes.
 *
 * Staging commands only write the changelist (offline). `init` and `publish` need the server; `-p` on a
 * staging command publishes right after staging. `-s file://DIR` publishes into a directory instead.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { fileMetaOf } from '../../core/build.js';
import { KeyStoreError, NotaryError } from '../../core/errors.js';
import { canonicalKeyId, publicKeyJson } from '../../core/keys.js';
import type { KeyJson } from '../../core/metadata.js';
import { firstPemBlockIfAny } from '../../core/pem.js';
import { certificateToPem, parseCertificate } from '../../core/x509.js';
import { fromHex, toBase64, toHex, utf8Encode } from '../../core/bytes.js';
import { hashFile } from '../../node/bigfile/hash-stream.js';
import { progressLine } from '../progress.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { repositoryDir } from '../../node/cache.js';
import { decodeKeyFile } from '../../node/keyfile.js';
import { PASSWORD_INVALID_MESSAGE, type FileKeyStore } from '../../node/keystore.js';
import { targetCreateChange, targetDeleteChange, witnessChange, type Change } from '../../repository/changelist.js';
import { CliError, type Command, type CommandContext } from '../program.js';
import { formatTable } from '../table.js';
import {
  changelistFor,
  finishStaging,
  openErrorText,
  openKeyStore,
  openWriter,
  passphraseRetriever,
  publishingRemote,
  publishStaged,
  readCustom,
  readInputFile,
  stage,
} from '../writer.js';

const AUTO_PUBLISH_HELP = 'Automatically attempt to publish after staging the change. Will also publish existing staged changes.';
const PUBLISH_FLAG = { name: 'publish', short: 'p', type: 'bool', description: AUTO_PUBLISH_HELP } as const;

function usageError(ctx: CommandContext, message: string): never {
  ctx.usage();
  throw new CliError(message);
}

/** `-r/--roles`: one change per role, `targets` by default. */
function rolesOf(ctx: CommandContext): string[] {
  const roles = (ctx.flags['roles'] as string[] | undefined) ?? [];
  return roles.length > 0 ? roles : ['targets'];
}

// ---------------------------------------------------------------------------------------------------
// init

/** Go's readKey for `--rootkey`: the file must hold an encrypted key; it is decrypted with the root passphrase. */
async function importRootKey(ctx: CommandContext, store: FileKeyStore, file: string): Promise<string> {
  let text: string;
  try {
    text = (await fs.readFile(resolve(ctx.io.cwd, file))).toString('latin1');
  } catch (err) {
    throw new CliError(`Error reading input root key file: ${openErrorText(file, err)}`);
  }
  // Go's CheckRootKeyIsEncrypted: the first PEM block is PKCS#8-encrypted or legacy Proc-Type encrypted.
  const block = firstPemBlockIfAny(text);
  if (!block) throw new CliError('no valid private key found');
  const procType = block.headers.find(([k]) => k === 'Proc-Type')?.[1] ?? '';
  if (block.type !== 'ENCRYPTED PRIVATE KEY' && !procType.includes('ENCRYPTED')) throw new CliError('only encrypted root keys may be imported');
  const retriever = passphraseRetriever(ctx);
  let privateKey;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 10) throw new KeyStoreError('BAD_PASSPHRASE', 'maximum number of passphrase attempts exceeded');
    let answer;
    try {
      answer = await retriever({ keyName: '', alias: 'root', createNew: false, attempt });
    } catch {
      throw new KeyStoreError('BAD_PASSPHRASE', PASSWORD_INVALID_MESSAGE);
    }
    if (answer.giveUp) throw new KeyStoreError('BAD_PASSPHRASE', PASSWORD_INVALID_MESSAGE);
    try {
      privateKey = decodeKeyFile(text, answer.passphrase, file);
      break;
    } catch (err) {
      if (err instanceof NotaryError && err.code === 'BAD_PASSPHRASE') continue;
      throw err;
    }
  }
  try {
    return await store.add(privateKey, { role: 'root' });
  } catch (err) {
    throw new CliError(`Error importing key: ${(err as Error).message}`);
  }
}

/** Go's importRootCert: the first PEM block, parsed as an X.509 certificate, as an `<alg>-x509` key. */
async function readRootCert(ctx: CommandContext, file: string): Promise<KeyJson> {
  let text: string;
  try {
    text = (await fs.readFile(resolve(ctx.io.cwd, file))).toString('latin1');
  } catch (err) {
    throw new CliError(`error reading certificate file: ${openErrorText(file, err)}`);
  }
  const block = firstPemBlockIfAny(text);
  if (!block) throw new CliError('the provided file does not contain a valid PEM certificate <nil>');
  let cert;
  try {
    cert = parseCertificate(block.bytes);
  } catch (err) {
    throw new CliError(`Parsing certificate PEM bytes to x509 certificate: ${(err as Error).message}`);
  }
  const keytype = cert.publicKey.kind === 'rsa' ? 'rsa-x509' : cert.publicKey.kind === 'ecdsa' ? 'ecdsa-x509' : undefined;
  if (!keytype) throw new CliError(`unsupported certificate key type ${cert.publicKey.kind}`);
  return publicKeyJson(keytype, toBase64(utf8Encode(certificateToPem(cert.der))));
}

const initCommand: Command = {
  path: ['init'],
  use: 'init [ GUN ]',
  short: 'Initializes a local trusted collection.',
  flags: [
    { name: 'rootkey', type: 'string', description: 'Root key to initialize the repository with' },
    { name: 'rootcert', type: 'string', description: 'Root certificate must match root key if a root key is supplied, otherwise it must match a key present in keystore' },
    PUBLISH_FLAG,
  ],
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'Must specify a GUN');
    const gun = ctx.args[0]!;
    const config = await ctx.config();
    const keyStore = await openKeyStore(ctx, config);
    const opened = await openWriter(ctx, gun, { online: true, keyStore });
    let initResult: Record<string, unknown> | undefined;
    try {
      const rootKeyFile = (ctx.flags['rootkey'] as string | undefined) ?? '';
      const rootCertFile = (ctx.flags['rootcert'] as string | undefined) ?? '';
      let rootKeyId: string | undefined;
      if (rootKeyFile !== '') {
        rootKeyId = await importRootKey(ctx, keyStore, rootKeyFile);
      } else {
        rootKeyId = (await opened.store.list()).find((k) => k.role === 'root')?.keyId;
      }
      if (rootKeyId !== undefined) ctx.print(`Root key found, using: ${rootKeyId}\n`);
      let rootCertificate: KeyJson | undefined;
      if (rootCertFile !== '') {
        rootCertificate = await readRootCert(ctx, rootCertFile);
        const certKeyId = canonicalKeyId(rootCertificate, nodeCryptoBackend);
        if (rootKeyFile === '') {
          // The certificate picks the root key among those in the key store.
          const roots = new Set((await opened.store.list()).filter((k) => k.role === 'root').map((k) => k.keyId));
          if (!roots.has(certKeyId)) throw new CliError('error initializing repository with certificate: cannot find matching private key id');
          rootKeyId = certKeyId;
        } else if (certKeyId !== rootKeyId) {
          throw new CliError('could not obtain public key from IDs: private key is not matching public key');
        }
      }
      try {
        await opened.writer.init({ ...(rootKeyId !== undefined ? { rootKeyId } : {}), ...(rootCertificate ? { rootCertificate } : {}) });
      } catch (err) {
        if (err instanceof KeyStoreError && err.code === 'BAD_PASSPHRASE') throw new KeyStoreError('BAD_PASSPHRASE', PASSWORD_INVALID_MESSAGE, { cause: err });
        throw err;
      }
      initResult = { gun, ...(rootKeyId !== undefined ? { rootKeyId } : {}) };
    } finally {
      await opened.close();
    }
    await finishStaging(ctx, gun, initResult ?? { gun });
  },
};

// ---------------------------------------------------------------------------------------------------
// add, addhash, remove

const addCommand: Command = {
  path: ['add'],
  use: 'add [ GUN ] <target> <file>',
  short: 'Adds the file as a target to the trusted collection.',
  flags: [
    { name: 'custom', type: 'string', description: 'Path to the file containing custom data for this target' },
    PUBLISH_FLAG,
    { name: 'roles', short: 'r', type: 'strings', description: 'Delegation roles to add this target to' },
  ],
  async run(ctx) {
    if (ctx.args.length < 3) usageError(ctx, 'Must specify a GUN, target, and path to target data');
    await ctx.config();
    const [gun, name, file] = ctx.args as [string, string, string];
    const customJson = await readCustom(ctx);
    // Streamed: sha256 and sha512 in one pass, constant memory, any size.
    const progress = progressLine(ctx, `hashing ${file}`);
    let digest;
    try {
      digest = await hashFile(resolve(ctx.io.cwd, file), { onProgress: (n) => progress.update(n) });
    } catch (err) {
      throw new CliError(openErrorText(file, err), { where: file });
    } finally {
      progress.done();
    }
    if (!Number.isSafeInteger(digest.length)) throw new CliError(`${file} is larger than notary-ts can represent exactly (2^53 bytes)`, { where: file });
    const meta = { length: digest.length, hashes: { sha256: toBase64(digest.sha256), sha512: toBase64(digest.sha512) } };
    const options = customJson !== undefined ? { customJson } : {};
    const roles = rolesOf(ctx);
    await stage(ctx, gun, roles.map((role) => targetCreateChange(role, name, meta, options)));
    ctx.print(`Addition of target "${name}" to repository "${gun}" staged for next publish.\n`);
    await finishStaging(ctx, gun, { gun, target: name, roles, length: digest.length, hashes: { sha256: toHex(digest.sha256), sha512: toHex(digest.sha512) } });
  },
};

/** Go's strconv.ParseInt(s, 0, 64): sign, then 0x/0o/0b prefixes or a leading 0 for octal, `_` between digits. */
export function parseGoInt64(s: string): bigint {
  const syntax = () => new CliError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  let body = s;
  let negative = false;
  if (body.startsWith('+') || body.startsWith('-')) {
    negative = body[0] === '-';
    body = body.slice(1);
  }
  if (body === '') throw syntax();
  let base = 10;
  let digits = body;
  let prefixed = false;
  if (body[0] === '0' && body.length > 1) {
    const p = body[1]!.toLowerCase();
    if (p === 'x') [base, digits, prefixed] = [16, body.slice(2), true];
    else if (p === 'o') [base, digits, prefixed] = [8, body.slice(2), true];
    else if (p === 'b') [base, digits, prefixed] = [2, body.slice(2), true];
    else [base, digits, prefixed] = [8, body.slice(1), true];
  }
  // Underscores: only with base 0, each between digits (or after the prefix).
  if (digits.includes('_')) {
    if (!prefixed && base === 10 && digits.startsWith('_')) throw syntax();
    const withPrefix = (prefixed ? '0' : '') + digits;
    if (/__|_$/.test(withPrefix) || (!prefixed && withPrefix.startsWith('_'))) throw syntax();
    digits = digits.replace(/_/g, '');
  }
  if (digits === '') throw syntax();
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) throw syntax();
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const value = BigInt(prefix + digits) * (negative ? -1n : 1n);
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) throw new CliError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return value;
}

/** Go's hex.DecodeString errors. */
function decodeHexGo(hex: string): Uint8Array {
  const bad = /[^0-9a-fA-F]/.exec(hex);
  if (bad) {
    const cp = bad[0].codePointAt(0)!;
    throw new CliError(`encoding/hex: invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(bad[0]).replace(/^"|"$/g, "'")}`);
  }
  return fromHex(hex)!;
}

const addHashCommand: Command = {
  path: ['addhash'],
  use: 'addhash [ GUN ] <target> <byte size> <hashes>',
  short: 'Adds the byte size and hash(es) as a target to the trusted collection.',
  flags: [
    { name: 'custom', type: 'string', description: 'Path to the file containing custom data for this target' },
    PUBLISH_FLAG,
    { name: 'roles', short: 'r', type: 'strings', description: 'Delegation roles to add this target to' },
    { name: 'sha256', type: 'string', description: 'hex encoded sha256 of the target to add' },
    { name: 'sha512', type: 'string', description: 'hex encoded sha512 of the target to add' },
  ],
  async run(ctx) {
    const sha256 = (ctx.flags['sha256'] as string | undefined) ?? '';
    const sha512 = (ctx.flags['sha512'] as string | undefined) ?? '';
    if (ctx.args.length < 3 || (sha256 === '' && sha512 === '')) usageError(ctx, 'Must specify a GUN, target, byte size of target data, and at least one hash');
    await ctx.config();
    const [gun, name, size] = ctx.args as [string, string, string];
    const customJson = await readCustom(ctx);
    const length = parseGoInt64(size);
    if (!Number.isSafeInteger(Number(length))) throw new CliError(`target size ${size} is beyond what notary-ts can represent exactly (2^53)`);
    const hashes: Record<string, string> = {};
    const used: string[] = [];
    if (sha256 !== '') {
      if (sha256.length !== 64) throw new CliError('invalid sha256 hex contents provided');
      hashes['sha256'] = toBase64(decodeHexGo(sha256));
      used.push('sha256');
    }
    if (sha512 !== '') {
      if (sha512.length !== 128) throw new CliError('invalid sha512 hex contents provided');
      hashes['sha512'] = toBase64(decodeHexGo(sha512));
      used.push('sha512');
    }
    const meta = { length: Number(length), hashes };
    const options = customJson !== undefined ? { customJson } : {};
    await stage(ctx, gun, rolesOf(ctx).map((role) => targetCreateChange(role, name, meta, options)));
    // Go prints the algorithms in map order (random when both are given); we print them in a fixed order.
    ctx.print(`Addition of target "${name}" by ${used.join(', ')} hash to repository "${gun}" staged for next publish.\n`);
    await finishStaging(ctx, gun, { gun, target: name, roles: rolesOf(ctx), length: Number(length), hashes: { ...(sha256 ? { sha256: sha256.toLowerCase() } : {}), ...(sha512 ? { sha512: sha512.toLowerCase() } : {}) } });
  },
};

const removeCommand: Command = {
  path: ['remove'],
  use: 'remove [ GUN ] <target>',
  short: 'Removes a target from a trusted collection.',
  flags: [PUBLISH_FLAG, { name: 'roles', short: 'r', type: 'strings', description: 'Delegation roles to remove this target from' }],
  async run(ctx) {
    if (ctx.args.length < 2) throw new CliError('Must specify a GUN and target'); // no usage, as in Notary
    await ctx.config();
    const [gun, name] = ctx.args as [string, string];
    await stage(ctx, gun, rolesOf(ctx).map((role) => targetDeleteChange(role, name)));
    ctx.print(`Removal of ${name} from ${gun} staged for next publish.\n`);
    await finishStaging(ctx, gun, { gun, target: name, roles: rolesOf(ctx) });
  },
};

// ---------------------------------------------------------------------------------------------------
// status, reset, publish

const statusCommand: Command = {
  path: ['status'],
  use: 'status [ GUN ]',
  short: "Displays status of unpublished changes to the local trusted collection.",
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'Must specify a GUN');
    const gun = ctx.args[0]!;
    const changelist = await changelistFor(ctx, gun);
    // Go's List() warns about unreadable change files and skips them; numbering counts listed changes.
    const changes = await changelist.list({ skipMalformed: true, onSkip: (file, err) => ctx.log.warn(`${file}: ${err.message}`) });
    if (ctx.json) {
      ctx.result(changes.map((c, i) => ({ index: i, action: c.change.action, scope: c.change.scope, type: c.change.type, path: c.change.path, file: c.file })));
      return;
    }
    if (changes.length === 0) {
      ctx.print(`No unpublished changes for ${gun}\n`);
      return;
    }
    ctx.print(`Unpublished changes for ${gun}:\n\n`);
    ctx.print(formatTable(['#', 'ACTION', 'SCOPE', 'TYPE', 'PATH'], changes.map((c, i) => [String(i), c.change.action, c.change.scope, c.change.type, c.change.path])));
  },
};

/** pflag's IntSlice element: strconv.Atoi. */
function parseAtoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new CliError(`invalid argument ${JSON.stringify(s)} for "-n, --number" flag: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw new CliError(`invalid argument ${JSON.stringify(s)} for "-n, --number" flag: strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

const resetCommand: Command = {
  path: ['reset'],
  use: 'reset [ GUN ]',
  short: 'Resets unpublished changes for the local trusted collection.',
  flags: [
    { name: 'all', type: 'bool', description: 'Reset all changes shown in the status list' },
    { name: 'number', short: 'n', type: 'strings', valueName: 'ints', description: 'Numbers of specific changes to exclusively reset, as shown in status list' },
  ],
  async run(ctx) {
    const numbers = ((ctx.flags['number'] as string[] | undefined) ?? []).map(parseAtoi);
    const all = ctx.flags['all'] === true;
    if (ctx.args.length < 1) usageError(ctx, 'Must specify a GUN');
    if (!all && numbers.length < 1) usageError(ctx, 'Must specify changes to reset with -n or the --all flag');
    const gun = ctx.args[0]!;
    const changelist = await changelistFor(ctx, gun);
    await changelist.withLock(async () => {
      if (all) await changelist.clear();
      else await changelist.remove(numbers);
    });
    ctx.print(`Successfully reset specified changes for repository ${gun}\n`);
    ctx.result({ gun, reset: all ? 'all' : numbers });
  },
};

const publishCommand: Command = {
  path: ['publish'],
  use: 'publish [ GUN ]',
  short: 'Publishes the local trusted collection.',
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'Must specify a GUN');
    await ctx.config();
    const gun = ctx.args[0]!;
    ctx.print(`Pushing changes to ${gun}\n`);
    await publishStaged(ctx, gun);
    ctx.print(`Successfully published changes for repository ${gun}\n`);
    ctx.result({ gun, published: true });
  },
};

// ---------------------------------------------------------------------------------------------------
// witness, delete

const witnessCommand: Command = {
  path: ['witness'],
  use: 'witness [ GUN ] <role> ...',
  short: "Marks roles to be re-signed the next time they're published",
  flags: [PUBLISH_FLAG],
  async run(ctx) {
    if (ctx.args.length < 2) usageError(ctx, 'Please provide a GUN and at least one role to witness');
    await ctx.config();
    const [gun, ...roles] = ctx.args as [string, ...string[]];
    const changes: Change[] = roles.map((r) => witnessChange(r));
    await stage(ctx, gun, changes);
    ctx.print(`The following roles were successfully marked for witnessing on the next publish:\n\t- ${roles.join('\n\t- ')}\n`);
    await finishStaging(ctx, gun, { gun, witness: roles });
  },
};

const deleteCommand: Command = {
  path: ['delete'],
  use: 'delete [ GUN ]',
  short: 'Deletes all content for a trusted collection',
  flags: [{ name: 'remote', type: 'bool', description: 'Delete remote data for GUN in addition to local cache' }],
  async run(ctx) {
    if (ctx.args.length < 1) usageError(ctx, 'Must specify a GUN');
    const config = await ctx.config();
    const gun = ctx.args[0]!;
    const deleteRemote = ctx.flags['remote'] === true;
    const remote = deleteRemote ? await publishingRemote(ctx, config, gun, await openKeyStore(ctx, config)) : undefined;
    try {
      ctx.print(`Deleting trust data for repository ${gun}\n`);
      // Local metadata and changelist only; private keys stay.
      await fs.rm(repositoryDir(config.trustDir, gun), { recursive: true, force: true });
      if (deleteRemote) {
        if (!remote) throw new NotaryError('OFFLINE', 'client is offline');
        await remote.deleteRepository();
      }
    } finally {
      await remote?.close();
    }
    ctx.print(`Successfully deleted local${deleteRemote ? ' and remote' : ''} trust data for repository ${gun}\n`);
    ctx.result({ gun, deletedLocal: true, deletedRemote: deleteRemote });
  },
};

export const writeCommands: readonly Command[] = [
  initCommand,
  addCommand,
  addHashCommand,
  removeCommand,
  statusCommand,
  resetCommand,
  publishCommand,
  witnessCommand,
  deleteCommand,
];
