/**
 * `notary-ts trust …`: docker's `docker trust` (28.x) without a daemon — same arguments, flags, stdout,
 * stderr and exit codes (errors on stderr, exit 1; flag errors exit 125), over the same trust dir
 * (`$DOCKER_CONFIG/trust`) and server settings. It parses its own arguments as docker's cobra/pflag does.
 * Run as the `docker-trust` CLI plugin (`trust install-plugin`), messages name `docker` instead of `notary-ts`.
 */
import { promises as fs, realpathSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { NotaryError } from '../../core/errors.js';
import type { KeyJson } from '../../core/metadata.js';
import { publicKeyOf } from '../../core/init.js';
import { readKeyFileInfo, decodeKeyFile, encodeKeyFile, encodePublicKeyPem, isEncryptedKeyFile } from '../../node/keyfile.js';
import { writeFileAtomic } from '../../node/fs-atomic.js';
import { lineReaderFor, askConfirm } from '../../node/passphrase.js';
import { parseNormalizedNamed, type ImageReference } from '../../images/reference.js';
import { formatInspectJson, formatInspectPretty, type RepositoryTrust } from '../../images/trust/inspect.js';
import { addSigner, removeSigner, revoke, signTag } from '../../images/trust/operations.js';
import { dockerRetriever, registryCredentials, TrustSession } from '../../images/trust/session.js';
import { dockerConfigDir } from '../../images/trust-settings.js';
import { resolveImageDigest } from '../../images/trust/registry-digest.js';
import { ExitCode, VERSION, type Command, type CommandContext } from '../program.js';
import { parsePemPublicKey } from './delegation.js';

interface FlagDef {
  readonly name: string;
  readonly short?: string;
  readonly type: 'bool' | 'string' | 'list';
  readonly default?: string;
}

interface Sub {
  readonly path: readonly string[];
  readonly use: string;
  readonly short: string;
  readonly flags: readonly FlagDef[];
  /** The Options section of `--help`, as docker prints it. */
  readonly options: string;
  readonly args: { kind: 'exact' | 'min'; n: number };
  run(t: TrustCtx): Promise<number>;
}

interface TrustCtx {
  readonly ctx: CommandContext;
  readonly prog: string;
  readonly args: string[];
  readonly flags: Record<string, boolean | string | string[]>;
  out(text: string): void;
  err(text: string): void;
}

const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;

function progName(ctx: CommandContext): string {
  return ctx.io.env['NOTARY_TS_DOCKER_PLUGIN'] ? 'docker' : 'notary-ts';
}

/** A message for the user: docker prints the error text on stderr and exits 1. */
class TrustFailure extends Error {}

function errorText(err: unknown): string {
  if (err instanceof TrustFailure || err instanceof NotaryError) return err.message;
  return (err as Error)?.message ?? String(err);
}

function session(t: TrustCtx, ref: ImageReference, prompt = false): TrustSession {
  const env = t.ctx.io.env;
  return new TrustSession(ref, {
    env,
    retriever: dockerRetriever(env, prompt ? { input: t.ctx.io.stdin, output: t.out } : undefined),
    log: { warn: (m) => t.ctx.log.warn(m), debug: (m) => t.ctx.log.debug(m) },
    // docker 28.2 does not print the DOI retirement notice for `docker trust` (observed): debug only.
    notice: (m) => t.ctx.log.debug(m),
  });
}

async function confirm(t: TrustCtx, question: string): Promise<boolean> {
  t.out(`${question} [y/N] `);
  return askConfirm(t.ctx.io.stdin);
}

// ---------------------------------------------------------------------------------------------------------
// inspect

async function inspectOne(t: TrustCtx, remote: string): Promise<RepositoryTrust> {
  const ref = parseNormalizedNamed(remote);
  const tag = ref.digest ? '' : (ref.tag ?? '');
  const s = session(t, ref);
  try {
    void s.serverUrl; // an invalid DOCKER_CONTENT_TRUST_SERVER is reported as such
    try {
      const repo = await s.open();
      const { repositoryTrust } = await import('../../images/trust/inspect.js');
      return repositoryTrust(repo.trusted, tag, s.crypto);
    } catch (err) {
      t.ctx.log.debug(errorText(err));
      throw new TrustFailure(`no signatures or cannot access ${remote}`);
    }
  } finally {
    await s.close();
  }
}

const inspectSub: Sub = {
  path: ['inspect'],
  use: 'inspect IMAGE[:TAG] [IMAGE[:TAG]...]',
  short: 'Return low-level information about keys and signatures',
  flags: [{ name: 'pretty', type: 'bool' }],
  options: '      --pretty   Print the information in a human friendly format\n',
  args: { kind: 'min', n: 1 },
  async run(t) {
    if (t.flags['pretty']) {
      for (let i = 0; i < t.args.length; i++) {
        const remote = t.args[i]!;
        let trust: RepositoryTrust;
        try {
          trust = await inspectOne(t, remote);
        } catch (err) {
          t.err(`${errorText(err)}\n`);
          return 1;
        }
        t.out(formatInspectPretty(remote, trust));
        if (i < t.args.length - 1) t.out('\n\n');
      }
      return 0;
    }
    const elements: { name: string; trust: RepositoryTrust }[] = [];
    const errors: string[] = [];
    for (const remote of t.args) {
      try {
        elements.push({ name: remote, trust: await inspectOne(t, remote) });
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    t.out(formatInspectJson(elements));
    if (errors.length > 0) {
      t.err(`${errors.join('\n')}\n`);
      return 1;
    }
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------------------
// sign

const signSub: Sub = {
  path: ['sign'],
  use: 'sign IMAGE:TAG',
  short: 'Sign an image',
  flags: [{ name: 'local', type: 'bool' }],
  options: '      --local   Sign a locally tagged image\n',
  args: { kind: 'exact', n: 1 },
  async run(t) {
    const imageName = t.args[0]!;
    const ref = parseNormalizedNamed(imageName);
    const tag = ref.tag;
    if (!tag) throw new TrustFailure(ref.digest ? 'cannot use a digest reference for IMAGE:TAG' : `no tag specified for ${imageName}`);
    const s = session(t, ref, true);
    try {
      void s.serverUrl;
      const creds = await registryCredentials(ref, t.ctx.io.env);
      const state: { stage: 'init' | 'sign' } = { stage: 'init' };
      try {
        await signTag(s, tag, () => resolveImageDigest(ref, tag, t.ctx.io.env), {
          ...(creds?.username ? { signer: creds.username } : {}),
          local: t.flags['local'] === true,
          progress: (p) => {
            if (p.kind === 'initialized') {
              t.out(`Created signer: ${p.signer}\nFinished initializing signed repository for ${imageName}\n`);
              return;
            }
            state.stage = 'sign';
            if (p.kind === 'cosign-start') t.out(`Signing and pushing trust metadata for ${imageName}\n`);
            else if (p.kind === 'cosigning') t.out(`Existing signatures for tag ${p.existing.tag} digest ${p.existing.digest} from:\n${[...p.existing.signers].sort().join(', ')}\n`);
            else t.out('Signing and pushing trust metadata\n');
          },
        });
      } catch (err) {
        if (state.stage === 'sign') throw new TrustFailure(`failed to sign ${ref.name}:${tag}: ${errorText(err)}`);
        throw err;
      }
      t.out(`Successfully signed ${ref.name}:${tag}\n`);
      return 0;
    } finally {
      await s.close();
    }
  },
};

// ---------------------------------------------------------------------------------------------------------
// revoke

const revokeSub: Sub = {
  path: ['revoke'],
  use: 'revoke [OPTIONS] IMAGE[:TAG]',
  short: 'Remove trust for an image',
  flags: [{ name: 'yes', short: 'y', type: 'bool' }],
  options: '  -y, --yes   Do not prompt for confirmation\n',
  args: { kind: 'exact', n: 1 },
  async run(t) {
    const remote = t.args[0]!;
    const ref = parseNormalizedNamed(remote);
    if (!ref.tag && ref.digest) throw new TrustFailure('cannot use a digest reference for IMAGE:TAG');
    if (!ref.tag && !t.flags['yes']) {
      // Declining is a cancellation, not an error: docker exits 0 without a message.
      if (!(await confirm(t, `Confirm you would like to delete all signature data for ${remote}?`))) return 0;
    }
    const s = session(t, ref, true);
    try {
      void s.serverUrl;
      try {
        await revoke(s, ref.tag);
      } catch (err) {
        throw new TrustFailure(`could not remove signature for ${remote}: ${errorText(err)}`);
      }
      t.out(`Successfully deleted signature for ${remote}\n`);
      return 0;
    } finally {
      await s.close();
    }
  },
};

// ---------------------------------------------------------------------------------------------------------
// signer add / remove

const VALID_NAME = /^[a-z0-9][a-z0-9_-]*$/;

function openErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
}

async function ingestPublicKeys(t: TrustCtx, files: readonly string[]): Promise<KeyJson[]> {
  const keys: KeyJson[] = [];
  for (const file of files) {
    let text: string;
    try {
      const bytes = await fs.readFile(resolvePath(t.ctx.io.cwd, file));
      text = bytes.subarray(0, 1 << 20).toString('latin1');
    } catch (err) {
      throw new TrustFailure(`unable to read public key from file: open ${file}: ${openErrorReason(err)}`);
    }
    try {
      keys.push(parsePemPublicKey(text, new Date(), (m) => t.ctx.log.warn(m)));
    } catch (err) {
      throw new TrustFailure(`could not parse public key from file: ${file}: ${(err as Error).message}`);
    }
  }
  return keys;
}

const signerAddSub: Sub = {
  path: ['signer', 'add'],
  use: 'add OPTIONS NAME REPOSITORY [REPOSITORY...] ',
  short: 'Add a signer',
  flags: [{ name: 'key', type: 'list' }],
  options: "      --key list   Path to the signer's public key file\n",
  args: { kind: 'min', n: 2 },
  async run(t) {
    const [name, ...repos] = t.args as [string, ...string[]];
    if (!VALID_NAME.test(name)) {
      throw new TrustFailure(`signer name "${name}" must start with lowercase alphanumeric characters and can include "-" or "_" after the first character`);
    }
    if (name === 'releases') throw new TrustFailure('releases is a reserved keyword, use a different signer name');
    const files = (t.flags['key'] as string[] | undefined) ?? [];
    if (files.length === 0) throw new TrustFailure('path to a public key must be provided using the `--key` flag');
    const keys = await ingestPublicKeys(t, files);
    const failed: string[] = [];
    for (const repo of repos) {
      t.out(`Adding signer "${name}" to ${repo}...\n`);
      try {
        const ref = parseNormalizedNamed(repo);
        const s = session(t, ref, true);
        try {
          void s.serverUrl;
          await addSigner(s, name, keys, (p) => t.out(p === 'initializing' ? `Initializing signed repository for ${repo}...\n` : `Successfully initialized ${JSON.stringify(repo)}\n`));
        } finally {
          await s.close();
        }
        t.out(`Successfully added signer: ${name} to ${repo}\n\n`);
      } catch (err) {
        t.err(`${errorText(err)}\n\n`);
        failed.push(repo);
      }
    }
    if (failed.length > 0) throw new TrustFailure(`failed to add signer to: ${failed.join(', ')}`);
    return 0;
  },
};

const signerRemoveSub: Sub = {
  path: ['signer', 'remove'],
  use: 'remove [OPTIONS] NAME REPOSITORY [REPOSITORY...]',
  short: 'Remove a signer',
  flags: [{ name: 'force', short: 'f', type: 'bool' }],
  options: '  -f, --force   Do not prompt for confirmation before removing the most\n                recent signer\n',
  args: { kind: 'min', n: 2 },
  async run(t) {
    const [name, ...repos] = t.args as [string, ...string[]];
    const failed: string[] = [];
    for (const repo of repos) {
      t.out(`Removing signer "${name}" from ${repo}...\n`);
      try {
        const ref = parseNormalizedNamed(repo);
        if (name === 'releases') throw new TrustFailure('releases is a reserved keyword and cannot be removed');
        const s = session(t, ref, true);
        let removed: boolean;
        try {
          void s.serverUrl;
          removed = await removeSigner(s, name, {
            force: t.flags['force'] === true,
            repoName: repo,
            confirm: () =>
              confirm(t, `The signer "${name}" signed the last released version of ${repo}. Removing this signer will make ${repo} unpullable. Are you sure you want to continue?`),
          });
        } finally {
          await s.close();
        }
        // Declined: docker 28 says nothing more.
        if (removed) t.out(`Successfully removed ${name} from ${repo}\n\n`);
      } catch (err) {
        t.err(`${errorText(err)}\n\n`);
        failed.push(repo);
      }
    }
    if (failed.length > 0) throw new TrustFailure(`error removing signer from: ${failed.join(', ')}`);
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------------------
// key generate / load

function keyNameError(name: string): TrustFailure {
  return new TrustFailure(`key name "${name}" must start with lowercase alphanumeric characters and can include "-" or "_" after the first character`);
}

async function trustKeyStore(t: TrustCtx) {
  const env = t.ctx.io.env;
  const { FileKeyStore } = await import('../../node/keystore.js');
  const { nodeCryptoBackend } = await import('../../crypto/node.js');
  return FileKeyStore.open(join(dockerConfigDir(env), 'trust'), {
    retriever: dockerRetriever(env, { input: t.ctx.io.stdin, output: t.out }),
    crypto: nodeCryptoBackend,
    log: (_level, message) => t.ctx.log.warn(message),
  });
}

const keyGenerateSub: Sub = {
  path: ['key', 'generate'],
  use: 'generate NAME',
  short: 'Generate and load a signing key-pair',
  flags: [{ name: 'dir', type: 'string' }],
  options: '      --dir string   Directory to generate key in, defaults to current\n                     directory\n',
  args: { kind: 'exact', n: 1 },
  async run(t) {
    const name = t.args[0]!;
    const dir = (t.flags['dir'] as string | undefined) || t.ctx.io.cwd;
    if (!VALID_NAME.test(name)) throw keyNameError(name);
    const absDir = resolvePath(t.ctx.io.cwd, dir);
    try {
      await fs.stat(absDir);
    } catch {
      throw new TrustFailure(`public key path does not exist: "${dir}"`);
    }
    const pubPath = join(dir, `${name}.pub`);
    const absPub = resolvePath(t.ctx.io.cwd, pubPath);
    if (await fs.stat(absPub).then(() => true, () => false)) throw new TrustFailure(`public key file already exists: "${pubPath}"`);
    t.out(`Generating key for ${name}...\n`);
    const store = await trustKeyStore(t);
    const { nodeCryptoBackend } = await import('../../crypto/node.js');
    const key = nodeCryptoBackend.generateKey('ecdsa');
    try {
      await store.add(key, { role: name });
    } catch (err) {
      t.out(errorText(err));
      throw new TrustFailure(`failed to generate key for ${name}: ${errorText(err)}`);
    }
    try {
      await writeFileAtomic(absPub, encodePublicKeyPem(key, name));
    } catch (err) {
      throw new TrustFailure(`failed to write public key to ${pubPath}: ${errorText(err)}`);
    }
    t.out(`Successfully generated and loaded private key. Corresponding public key available: ${pubPath}\n`);
    return 0;
  },
};

const keyLoadSub: Sub = {
  path: ['key', 'load'],
  use: 'load [OPTIONS] KEYFILE',
  short: 'Load a private key file for signing',
  flags: [{ name: 'name', type: 'string', default: 'signer' }],
  options: '      --name string   Name for the loaded key (default "signer")\n',
  args: { kind: 'exact', n: 1 },
  async run(t) {
    const file = t.args[0]!;
    const name = (t.flags['name'] as string | undefined) ?? 'signer';
    if (name !== '' && !VALID_NAME.test(name)) throw keyNameError(name);
    t.out(`Loading key from "${file}"...\n`);
    const abs = resolvePath(t.ctx.io.cwd, file);
    let text: string;
    try {
      const st = await fs.stat(abs);
      if ((st.mode & 0o077) !== 0) throw new TrustFailure(`private key file ${file} must not be readable or writable by others`);
      text = (await fs.readFile(abs)).toString('latin1');
    } catch (err) {
      const why = err instanceof TrustFailure ? err.message : `${(err as NodeJS.ErrnoException).syscall ?? 'open'} ${file}: ${openErrorReason(err)}`;
      throw new TrustFailure(`refusing to load key from ${file}: ${why}`);
    }
    const unsupported = () => new TrustFailure(`error importing key from ${file}: provided file ${file} is not a supported private key - to add a signer's public key use docker trust signer add`);
    let info;
    try {
      info = readKeyFileInfo(text, file);
    } catch {
      throw unsupported();
    }
    void info;
    const store = await trustKeyStore(t);
    const env = t.ctx.io.env;
    let importText = text;
    const { firstPemBlock } = await import('../../node/keyfile.js');
    const block = firstPemBlock(text, file);
    if (isEncryptedKeyFile(text, file) && !block.headers.some(([k]) => k === 'path')) {
      // docker decrypts such a key and then hands DER to the importer, which imports nothing (docker/cli#1095):
      // we re-wrap the decrypted key as PEM so it is actually stored.
      const retriever = dockerRetriever(env, { input: t.ctx.io.stdin, output: t.out });
      let plain;
      for (let attempt = 0; ; attempt++) {
        let answer;
        try {
          answer = await retriever({ keyName: '', alias: 'encrypted', createNew: false, attempt });
        } catch {
          throw new TrustFailure(`error importing key from ${file}: cannot load key from provided file ${file}: could not decrypt key`);
        }
        try {
          plain = decodeKeyFile(text, answer.passphrase, file);
          break;
        } catch {
          if (answer.giveUp || attempt >= 3) throw new TrustFailure(`error importing key from ${file}: cannot load key from provided file ${file}: could not decrypt key`);
        }
      }
      importText = encodeKeyFile(plain, { role: name, passphrase: '' });
    }
    try {
      await store.importKeys(importText, { fallbackRole: name, source: file });
    } catch (err) {
      throw new TrustFailure(`error importing key from ${file}: ${errorText(err)}`);
    }
    t.out(`Successfully imported key from ${file}\n`);
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------------------
// install-plugin (ours)

/** The `docker-trust` CLI plugin launcher: answers docker's metadata call, runs `notary-ts trust ARGS…`. */
export function pluginLauncher(node: string, bin: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const metadata = JSON.stringify({ SchemaVersion: '0.1.0', Vendor: 'notary-ts', Version: VERSION, ShortDescription: 'Manage trust on Docker images (notary-ts)' });
  return `#!/bin/sh
# docker-trust: Docker CLI plugin installed by \`notary-ts trust install-plugin\`.
# docker runs it as \`docker-trust trust ARGS...\`; it runs \`notary-ts trust ARGS...\`.
if [ "$1" = docker-cli-plugin-metadata ]; then
  printf '%s\\n' ${q(metadata)}
  exit 0
fi
# docker passes the plugin's command name first (\`trust\`, or the name this file was copied to).
name=\${0##*/docker-}
if [ "$1" = trust ] || [ "$1" = "$name" ]; then shift; fi
NOTARY_TS_DOCKER_PLUGIN=1 exec ${q(node)} ${q(bin)} trust "$@"
`;
}

const installPluginSub: Sub = {
  path: ['install-plugin'],
  use: 'install-plugin [OPTIONS]',
  short: 'Install notary-ts as the docker-trust CLI plugin (docker trust on docker >= 29)',
  flags: [{ name: 'dir', type: 'string' }],
  options: '      --dir string   Directory to install the plugin in (default "$DOCKER_CONFIG/cli-plugins")\n',
  args: { kind: 'exact', n: 0 },
  async run(t) {
    const env = t.ctx.io.env;
    const dir = resolvePath(t.ctx.io.cwd, (t.flags['dir'] as string | undefined) || join(dockerConfigDir(env), 'cli-plugins'));
    const binArg = env['NOTARY_TS_BIN'] || process.argv[1];
    if (!binArg) throw new TrustFailure('cannot tell where the notary-ts bin is (set NOTARY_TS_BIN)');
    let bin: string;
    try {
      bin = realpathSync(binArg);
    } catch {
      throw new TrustFailure(`cannot find the notary-ts bin at ${binArg}`);
    }
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    const target = join(dir, 'docker-trust');
    await writeFileAtomic(target, pluginLauncher(process.execPath, bin));
    await fs.chmod(target, 0o755);
    t.out(`Installed docker CLI plugin: ${target}\n`);
    void dirname;
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------------------
// dispatch, flag parsing and docker's usage messages

const SUBS: readonly Sub[] = [inspectSub, revokeSub, signSub, signerAddSub, signerRemoveSub, keyGenerateSub, keyLoadSub, installPluginSub];

const GROUPS: Record<string, { short: string; help: string }> = {
  '': {
    short: 'Manage trust on Docker images',
    help: `Management Commands:
  key         Manage keys for signing Docker images
  signer      Manage entities who can sign Docker images

Commands:
  inspect     Return low-level information about keys and signatures
  install-plugin Install notary-ts as the docker-trust CLI plugin
  revoke      Remove trust for an image
  sign        Sign an image
`,
  },
  key: {
    short: 'Manage keys for signing Docker images',
    help: `Commands:
  generate    Generate and load a signing key-pair
  load        Load a private key file for signing
`,
  },
  signer: {
    short: 'Manage entities who can sign Docker images',
    help: `Commands:
  add         Add a signer
  remove      Remove a signer
`,
  },
};

function subUsage(prog: string, sub: Sub): string {
  const parent = sub.path.length > 1 ? `${sub.path[0]} ` : '';
  return `Usage:  ${prog} trust ${parent}${sub.use}`;
}

function fullPath(prog: string, sub: Sub): string {
  return `${prog} trust ${sub.path.join(' ')}`;
}

class FlagError extends Error {}

function parseArgs(tokens: readonly string[], defs: readonly FlagDef[]): { args: string[]; flags: Record<string, boolean | string | string[]>; help: boolean; shorthandHelp: boolean } {
  const flags: Record<string, boolean | string | string[]> = {};
  for (const d of defs) if (d.default !== undefined) flags[d.name] = d.default;
  const args: string[] = [];
  let help = false;
  let shorthandHelp = false;
  const set = (d: FlagDef, value: string | undefined, next: () => string | undefined, shown: string) => {
    if (d.type === 'bool') {
      if (value === undefined || value === 'true') flags[d.name] = true;
      else if (value === 'false') flags[d.name] = false;
      else throw new FlagError(`invalid argument ${JSON.stringify(value)} for "${shown}" flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
      return;
    }
    const v = value ?? next();
    if (v === undefined) throw new FlagError(`flag needs an argument: ${shown}`);
    if (d.type === 'list') flags[d.name] = [...((flags[d.name] as string[] | undefined) ?? []), v];
    else flags[d.name] = v;
  };
  for (let i = 0; i < tokens.length; i++) {
    const a = tokens[i]!;
    const next = () => (i + 1 < tokens.length ? tokens[++i] : undefined);
    if (a === '--') {
      args.push(...tokens.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      if (name === 'help') {
        help = true;
        continue;
      }
      const d = defs.find((f) => f.name === name);
      if (!d) throw new FlagError(`unknown flag: --${name}`);
      set(d, value, next, `--${name}`);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === 'h') {
          help = true;
          shorthandHelp = true;
          continue;
        }
        const d = defs.find((f) => f.short === c);
        if (!d) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        if (d.type === 'bool') set(d, undefined, next, `-${c}, --${d.name}`);
        else {
          const rest = a.slice(j + 1);
          set(d, rest === '' ? undefined : rest.replace(/^=/, ''), next, `-${c}, --${d.name}`);
          break;
        }
      }
    } else {
      args.push(a);
    }
  }
  return { args, flags, help, shorthandHelp };
}

async function runTrust(ctx: CommandContext): Promise<number> {
  const prog = progName(ctx);
  const out = (s: string) => ctx.io.stdout(s);
  const err = (s: string) => ctx.io.stderr(s);
  const tokens = ctx.args;
  // The subcommand: the first one or two non-flag words.
  const words = tokens.filter((a) => !a.startsWith('-'));
  const group = words[0] === 'key' || words[0] === 'signer' ? words[0] : '';
  const name = group ? words[1] : words[0];
  const sub = SUBS.find((s) => s.path.join(' ') === (group ? `${group} ${name}` : name));
  if (!sub) {
    const g = GROUPS[group]!;
    const groupPath = `${prog} trust${group ? ` ${group}` : ''}`;
    if (name === undefined) {
      // install-plugin is ours: not listed when running as docker's plugin, so `docker trust` reads as docker's.
      const help = prog === 'docker' ? g.help.replace(/^ {2}install-plugin .*\n/m, '') : g.help;
      // docker writes a group's usage to stderr (exit 0), and to stdout only when asked with --help.
      const write = tokens.includes('--help') ? out : err;
      write(`Usage:  ${groupPath} COMMAND\n\n${g.short}\n\n${help}\nRun '${groupPath} COMMAND --help' for more information on a command.\n`);
      return 0;
    }
    err(`${prog}: unknown command: ${groupPath} ${name}\n\nUsage:  ${groupPath}\n\nRun '${groupPath} --help' for more information\n`);
    return 1;
  }
  // Drop the subcommand words (first occurrences) from the tokens.
  const rest = [...tokens];
  for (const w of sub.path) rest.splice(rest.indexOf(w), 1);
  let parsed;
  try {
    parsed = parseArgs(rest, sub.flags);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    err(`${e.message}\n\n${subUsage(prog, sub)}\n\nRun '${fullPath(prog, sub)} --help' for more information\n`);
    return 125;
  }
  if (parsed.help) {
    if (parsed.shorthandHelp) out('Flag shorthand -h has been deprecated, use --help\n');
    out(`${subUsage(prog, sub)}\n\n${sub.short}\n\nOptions:\n${sub.options}`);
    return 0;
  }
  const { n, kind } = sub.args;
  if ((kind === 'exact' && parsed.args.length !== n) || (kind === 'min' && parsed.args.length < n)) {
    const what = kind === 'exact' ? (n === 0 ? 'accepts no arguments' : `requires ${plural(n)}`) : `requires at least ${plural(n)}`;
    const see = kind === 'exact' ? 'Run' : 'See';
    err(`${prog}: '${fullPath(prog, sub)}' ${what}\n\n${subUsage(prog, sub)}\n\n${see} '${fullPath(prog, sub)} --help' for more information\n`);
    return 1;
  }
  const t: TrustCtx = { ctx, prog, args: parsed.args, flags: parsed.flags, out, err };
  try {
    return await sub.run(t);
  } catch (e) {
    if (e instanceof TrustFailure || e instanceof NotaryError) {
      err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export const trustCommand: Command = {
  path: ['trust'],
  use: 'trust COMMAND',
  short: 'Manage trust on Docker images (docker trust, daemonless)',
  rawArgs: true,
  async run(ctx) {
    const code = await runTrust(ctx);
    if (code !== 0) throw new ExitCode(code);
  },
};

void publicKeyOf;
void lineReaderFor;
