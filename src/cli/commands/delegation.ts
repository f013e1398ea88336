/**
 * `notary delegation add|remove|purge` (Go: cmd/notary/delegations.go, client/delegations.go): the same
 * arguments, output (blank lines included), prompt and changelist entries as Notary 0.7. All three only
 * stage changes (offline) unless `-p` is given. `delegation list` lives with the read commands.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { toBase64, utf8Encode } from '../../core/bytes.js';
import { compareUtf8 } from '../../core/canonical.js';
import { DelegationError } from '../../core/errors.js';
import { canonicalKeyId, publicKeyJson } from '../../core/keys.js';
import type { KeyJson } from '../../core/metadata.js';
import { firstPemBlockIfAny } from '../../core/pem.js';
import { isDelegationName } from '../../core/verify.js';
import { certificateExpiresSoon, certificateToPem, parseCertificate, parseSpki } from '../../core/x509.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { askConfirm } from '../../node/passphrase.js';
import {
  delegationChange,
  delegationDeleteChange,
  delegationPurgeChange,
  type Change,
} from '../../repository/changelist.js';
import { CliError, ExitCode, type Command, type CommandContext } from '../program.js';
import { finishStaging, stage } from '../writer.js';

const AUTO_PUBLISH_HELP = 'Automatically attempt to publish after staging the change. Will also publish existing staged changes.';
const PUBLISH_FLAG = { name: 'publish', short: 'p', type: 'bool', description: AUTO_PUBLISH_HELP } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

function usageError(ctx: CommandContext, message: string): never {
  ctx.usage();
  throw new CliError(message);
}

/** Go's `fmt.Sprintf("%s", []string{…})`. */
function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** Notary's prettyPaths: sorted, `""` shown as `"" <all paths>`. */
function prettyPaths(paths: readonly string[]): string[] {
  return [...paths].sort(compareUtf8).map((p) => (p === '' ? '"" <all paths>' : p));
}

/** Go's ErrInvalidRole for a name that is not a delegation. */
function invalidRole(role: string): DelegationError {
  return new DelegationError('INVALID_DELEGATION_NAME', `tuf: invalid role ${role}. invalid delegation role name`, { where: role });
}

/**
 * Notary's utils.ParsePEMPublicKey: the first PEM block is a CERTIFICATE (parsed and validated: validity
 * window, no SHA-1, RSA ≥ 2048 bits, not expired, NotBefore at most a day ahead; a warning within six months
 * of expiry) giving an `<alg>-x509` key, or a PUBLIC KEY (ECDSA or RSA SPKI) giving an `ecdsa`/`rsa` key.
 */
export function parsePemPublicKey(text: string, now: Date, warn: (message: string) => void): KeyJson {
  const block = firstPemBlockIfAny(text);
  if (!block) throw new Error('no valid public key found');
  switch (block.type) {
    case 'CERTIFICATE': {
      let cert;
      try {
        cert = parseCertificate(block.bytes);
      } catch (err) {
        throw new Error(`could not parse provided certificate: ${(err as Error).message}`);
      }
      const cn = cert.subjectCommonName;
      const invalid = (why: string) => new Error(`invalid certificate: ${why}`);
      if (cert.notBefore.getTime() > cert.notAfter.getTime()) throw invalid('certificate validity window is invalid');
      if (cert.isSha1Signed) throw invalid(`certificate with CN ${cn} uses invalid SHA1 signature algorithm`);
      if (cert.publicKey.kind === 'rsa' && (cert.rsaBits ?? 0) < 2048) throw invalid('RSA bit length is too short');
      if (now.getTime() + DAY_MS < cert.notBefore.getTime() || now.getTime() > cert.notAfter.getTime()) throw invalid(`certificate with CN ${cn} is expired`);
      if (certificateExpiresSoon(cert, now)) warn(`certificate with CN ${cn} is near expiry`);
      const keytype = cert.publicKey.kind === 'rsa' ? 'rsa-x509' : cert.publicKey.kind === 'ecdsa' ? 'ecdsa-x509' : undefined;
      if (!keytype) throw new Error('unknown public key format');
      return publicKeyJson(keytype, toBase64(utf8Encode(certificateToPem(cert.der))));
    }
    case 'PUBLIC KEY': {
      let kind: string;
      try {
        kind = parseSpki(block.bytes).kind;
      } catch (err) {
        // Go parses Ed25519 SPKI (and then refuses it below); anything else it cannot parse is an error.
        if (hasEd25519Oid(block.bytes)) kind = 'ed25519';
        else throw new Error(`unable to parse pem encoded public key: ${(err as Error).message}`);
      }
      if (kind !== 'ecdsa' && kind !== 'rsa') throw new Error('unknown public key format');
      // Notary keeps the SPKI bytes exactly as given.
      return publicKeyJson(kind, toBase64(block.bytes));
    }
    default:
      throw new Error(`unsupported PEM block type ${JSON.stringify(block.type)}, expected CERTIFICATE or PUBLIC KEY`);
  }
}

function hasEd25519Oid(der: Uint8Array): boolean {
  // AlgorithmIdentifier { 1.3.101.112 } = 30 05 06 03 2b 65 70
  for (let i = 0; i + 6 < der.length; i++) {
    if (der[i] === 0x30 && der[i + 1] === 0x05 && der[i + 2] === 0x06 && der[i + 3] === 0x03 && der[i + 4] === 0x2b && der[i + 5] === 0x65 && der[i + 6] === 0x70) return true;
  }
  return false;
}

async function ingestPublicKeys(ctx: CommandContext, files: readonly string[]): Promise<KeyJson[]> {
  const keys: KeyJson[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = (await fs.readFile(resolve(ctx.io.cwd, file))).toString('latin1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`file for public key does not exist: ${file}`);
      throw new CliError(`unable to read public key from file: ${file}`);
    }
    try {
      keys.push(parsePemPublicKey(text, new Date(), (m) => ctx.log.warn(m)));
    } catch (err) {
      throw new CliError(`unable to parse valid public key certificate from PEM file ${file}: ${(err as Error).message}`);
    }
  }
  return keys;
}

const delegationAdd: Command = {
  path: ['delegation', 'add'],
  use: 'delegation add [ GUN ] [ Role ] <X509 file path 1> ...',
  short: 'Add a keys to delegation using the provided public key X509 certificates.',
  flags: [
    { name: 'all-paths', type: 'bool', description: 'Add all paths to this delegation' },
    { name: 'paths', type: 'strings', description: 'List of paths to add' },
    PUBLISH_FLAG,
    { name: 'threshold', type: 'int', default: 1, description: 'Signatures needed from distinct keys of a new role (notary-ts extension; co-sign with "cosign")' },
  ],
  async run(ctx) {
    const threshold = Number(ctx.flags['threshold'] ?? 1);
    if (!Number.isInteger(threshold) || threshold < 1) throw new CliError(`invalid threshold ${ctx.flags['threshold']}: it must be at least 1`);
    let paths = ctx.flags['paths'] as string[] | undefined;
    let allPaths = ctx.flags['all-paths'] === true;
    if (ctx.args.length < 2 || (ctx.args.length < 3 && paths === undefined && !allPaths)) {
      usageError(ctx, 'must specify the Global Unique Name and the role of the delegation along with the public key certificate paths and/or a list of paths to add');
    }
    await ctx.config();
    const [gun, role, ...files] = ctx.args as [string, string, ...string[]];
    const keys = await ingestPublicKeys(ctx, files);
    // checkAllPaths: an empty path in --paths means all paths too.
    if (paths?.includes('')) allPaths = true;
    if (allPaths) paths = [''];
    const changes: Change[] = [];
    try {
      if (keys.length > 0) {
        if (!isDelegationName(role)) throw invalidRole(role);
        changes.push(delegationChange('create', role, { threshold, addKeys: keys }));
      }
      if (paths && paths.length > 0) {
        if (!isDelegationName(role)) throw invalidRole(role);
        changes.push(delegationChange('create', role, { addPaths: paths }));
      }
    } catch (err) {
      throw new CliError(`failed to create delegation: ${(err as Error).message}`);
    }
    await stage(ctx, gun, changes);
    const ids = keys.map((k) => canonicalKeyId(k, nodeCryptoBackend));
    let items = '';
    if (ids.length > 0) items += `with keys ${goList(ids)}, `;
    if (paths !== undefined || allPaths) items += `with paths [${prettyPaths(paths ?? []).join('\n')}], `;
    ctx.print(`\nAddition of delegation role ${role} ${items}to repository "${gun}" staged for next publish.\n\n`);
    await finishStaging(ctx, gun, { gun, role, keyIds: ids, paths: paths ?? [], threshold });
  },
};

const delegationRemove: Command = {
  path: ['delegation', 'remove'],
  use: 'delegation remove [ GUN ] [ Role ] <KeyID 1> ...',
  short: 'Remove KeyID(s) from the specified Role delegation.',
  flags: [
    { name: 'all-paths', type: 'bool', description: 'Remove all paths from this delegation' },
    { name: 'paths', type: 'strings', description: 'List of paths to remove' },
    PUBLISH_FLAG,
    { name: 'yes', short: 'y', type: 'bool', description: 'Answer yes to the removal question (no confirmation)' },
  ],
  async run(ctx) {
    if (ctx.args.length < 2) {
      usageError(ctx, 'must specify the Global Unique Name and the role of the delegation along with optional keyIDs and/or a list of paths to remove');
    }
    await ctx.config();
    const [gun, role, ...keyIds] = ctx.args as [string, string, ...string[]];
    if (!isDelegationName(role)) throw new CliError(`invalid delegation name ${role}`);
    const allPaths = ctx.flags['all-paths'] === true;
    let paths = ctx.flags['paths'] as string[] | undefined;
    const removeAll = ctx.args.length === 2 && paths === undefined && !allPaths;
    if (allPaths) paths = undefined;

    const changes: Change[] = [];
    if (removeAll) {
      if (ctx.json && ctx.flags['yes'] !== true) {
        throw new CliError(`removing all data of delegation ${role} needs a confirmation: add --yes (-y)`, { code: 'CONFIRMATION_REQUIRED', where: '--yes' });
      }
      ctx.print('\nAre you sure you want to remove all data for this delegation? (yes/no)\n');
      if (ctx.flags['yes'] !== true) {
        if (!(await askConfirm(ctx.io.stdin))) {
          ctx.print('* fatal: Aborting action.\n');
          throw new ExitCode(1);
        }
      } else {
        ctx.print('Confirmed `yes` from flag\n');
      }
      changes.push(delegationDeleteChange(role));
    } else {
      if (allPaths) changes.push(delegationChange('update', role, { clearPaths: true }));
      if (paths && paths.length > 0) changes.push(delegationChange('update', role, { removePaths: paths }));
      if (keyIds.length > 0) changes.push(delegationChange('update', role, { removeKeys: keyIds }));
    }
    await stage(ctx, gun, changes);

    ctx.print('\n');
    if (removeAll) {
      ctx.print(`Forced removal (including all keys and paths) of delegation role ${role} to repository "${gun}" staged for next publish.\n`);
    } else {
      let items = '';
      if (keyIds.length > 0) items += `with keys ${goList(keyIds)}, `;
      if (allPaths) items += 'with all paths, ';
      if (paths !== undefined) items += `with paths [${prettyPaths(paths).join('\n')}], `;
      ctx.print(`Removal of delegation role ${role} ${items}to repository "${gun}" staged for next publish.\n`);
    }
    ctx.print('\n');
    await finishStaging(ctx, gun, { gun, role, removeAll, keyIds, allPaths, paths: paths ?? [] });
  },
};

const delegationPurge: Command = {
  path: ['delegation', 'purge'],
  use: 'delegation purge [ GUN ]',
  short: 'Remove KeyID(s) from all delegation roles in the given GUN.',
  flags: [{ name: 'key', type: 'strings', description: 'Delegation key IDs to be removed from the GUN' }, PUBLISH_FLAG],
  async run(ctx) {
    if (ctx.args.length !== 1) usageError(ctx, 'Please provide a single Global Unique Name as an argument to remove');
    const keyIds = (ctx.flags['key'] as string[] | undefined) ?? [];
    if (keyIds.length === 0) usageError(ctx, 'Please provide at least one key ID to be removed using the --key flag');
    const gun = ctx.args[0]!;
    await ctx.config();
    let change: Change;
    try {
      change = delegationPurgeChange(keyIds);
    } catch (err) {
      throw new CliError(`failed to remove keys from delegations: ${(err as Error).message}`);
    }
    await stage(ctx, gun, [change]);
    ctx.print(`Removal of the following keys from all delegations in ${gun} staged for next publish:\n\t- ${keyIds.join('\n\t- ')}\n`);
    await finishStaging(ctx, gun, { gun, purgedKeyIds: keyIds });
  },
};

export const delegationCommands: readonly Command[] = [delegationAdd, delegationRemove, delegationPurge];
