/**
 * The CLI frame: a command tree, global flags, and Notary's output conventions — everything on stdout
 * (errors as a blank line then `* fatal: <message>`), logs on stderr, exit code 1 on any error. `--json`
 * (ours) makes data commands print JSON and errors print `{"error":{"code","message"}}`.
 */
import { NotaryError } from '../core/errors.js';
import { loadClientConfig, type ClientConfig } from '../node/config.js';
import { flagHelp, parseFlags, UsageError, type FlagSpec, type FlagValues } from './flags.js';
import { explainFailure as explainNetworkFailure } from './offline.js';
import { COMMAND_DOCS } from './command-docs.js';
import { completionScript, COMPLETION_SHELLS, suggestionsFor, type CompletionTree } from './help.js';
import { notaryWords } from './error-words.js';
import { explainFailure } from './passphrase.js';

export interface CliIO {
  readonly stdout: (text: string) => void;
  /** Raw bytes to stdout (verify echoes binary payloads). */
  readonly stdoutBytes: (bytes: Uint8Array) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdinIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The file descriptor behind `stdin` (0), so a redirected file can be read without a stream. */
  readonly stdinFd?: number;
  /** stdout as a stream, for large binary output with backpressure (verify); stdoutBytes otherwise. */
  readonly stdoutStream?: NodeJS.WritableStream;
  /** Whether stderr is a terminal (progress lines are drawn only then). */
  readonly stderrIsTTY?: boolean;
}

export type LogLevel = 'error' | 'warning' | 'info' | 'debug';

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export interface CommandContext {
  readonly io: CliIO;
  readonly args: string[];
  readonly flags: FlagValues;
  readonly json: boolean;
  readonly log: Logger;
  /** The resolved client configuration (global flags over the config file). */
  config(): Promise<ClientConfig>;
  /** Prints the command's usage (as Notary does before some errors); nothing under --json. */
  usage(): void;
  /** Human output on stdout; dropped under --json (the command's result() is printed instead). */
  print(text: string): void;
  /** The command's JSON document under --json (docs/cli-json.md); ignored otherwise. The last call wins. */
  result(value: unknown): void;
  /** Whether a progress line may be drawn on stderr (a terminal, not --json, no --no-progress). */
  readonly progress: boolean;
}

export interface Command {
  readonly path: readonly string[];
  readonly use: string;
  readonly short: string;
  /** The long description shown by --help (defaults to `short`). */
  readonly long?: string;
  /** Examples shown by --help, one command line (with an optional `# comment` line above) each. */
  readonly example?: string;
  readonly flags?: readonly FlagSpec[];
  /** The exit code of a usage or runtime error (default 1, as Notary). */
  readonly failureExitCode?: number;
  /** The command parses its own arguments (`trust`, which follows docker's flags and messages): `args` is everything after its path. */
  readonly rawArgs?: boolean;
  run(ctx: CommandContext): Promise<void>;
}

/** Commands whose module is imported only when one of them runs. */
export interface LazyCommands {
  readonly paths: readonly (readonly string[])[];
  load(): Promise<readonly Command[]>;
}

/**
 * An error printed as `* fatal: <message>`. Under --json its code is INVALID_ARGUMENT unless given (e.g.
 * CONFIRMATION_REQUIRED), and `where` names what is wrong (a file, a flag) when known.
 */
export class CliError extends Error {
  readonly code: string;
  readonly where: string | undefined;
  constructor(message: string, options: { code?: string; where?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'INVALID_ARGUMENT';
    this.where = options.where;
  }
}

/** Ends the command with this exit code and no further output (the command printed what Notary prints). */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'configFile', short: 'c', type: 'string', description: 'Path to the configuration file to use' },
  { name: 'debug', short: 'D', type: 'bool', description: 'Debug output' },
  { name: 'server', short: 's', type: 'string', description: 'Remote trust server location' },
  { name: 'tlscacert', type: 'string', description: 'Trust certs signed only by this CA' },
  { name: 'tlscert', type: 'string', description: 'Path to TLS certificate file' },
  { name: 'tlskey', type: 'string', description: 'Path to TLS key file' },
  { name: 'trustDir', short: 'd', type: 'string', description: 'Directory where the trust data is persisted to' },
  { name: 'verbose', short: 'v', type: 'bool', description: 'Verbose output' },
  { name: 'json', type: 'bool', description: 'Print exactly one JSON document (result or error) on stdout; never prompt (notary-ts extension)' },
  { name: 'no-progress', type: 'bool', description: 'No progress line on stderr while hashing large files (notary-ts extension)' },
  { name: 'pkcs11-module', type: 'string', description: 'PKCS#11 module of a hardware token holding keys (notary-ts extension)' },
  { name: 'pkcs11-token', type: 'string', description: 'Label of the PKCS#11 token to use (notary-ts extension)' },
  { name: 'pkcs11-slot', type: 'string', description: 'Slot ID of the PKCS#11 token to use (notary-ts extension)' },
  { name: 'help', short: 'h', type: 'bool', description: 'Help for this command' },
];

const ROOT_ONLY_FLAGS: readonly FlagSpec[] = [{ name: 'version', type: 'bool', description: 'Print the version number of notary-ts' }];

export const VERSION = '0.1.0';

function makeLogger(io: CliIO, level: LogLevel): Logger {
  const order: LogLevel[] = ['error', 'warning', 'info', 'debug'];
  const enabled = (l: LogLevel) => order.indexOf(l) <= order.indexOf(level);
  const write = (l: LogLevel, msg: string) => {
    if (enabled(l)) io.stderr(`time="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" level=${l} msg=${JSON.stringify(msg)}\n`);
  };
  return {
    error: (m) => write('error', m),
    warn: (m) => write('warning', m),
    info: (m) => write('info', m),
    debug: (m) => write('debug', m),
  };
}

/** The program's name in usage and messages. */
export const PROGRAM = 'notary-ts';

const ROOT_LONG = `notary-ts signs and verifies collections of targets (files, image digests) with Notary/TUF, as the Go
\`notary\` client does, against any Notary server (or a directory with -s file://DIR). Commands, flags, output
and the trust directory (~/.notary) are Notary's; --json (one JSON document on stdout, never a prompt) and the
cosign commands are notary-ts extensions.`;

const ROOT_EXAMPLE = `# list the signed targets of a collection
notary-ts -s https://notary.example.com:4443 list example.com/app
# sign a file into it and publish at once (passphrases from NOTARY_*_PASSPHRASE)
notary-ts -s https://notary.example.com:4443 add -p example.com/app v1.2 ./app.tar.gz
# the same, for a script: one JSON document on stdout
notary-ts --json -s https://notary.example.com:4443 lookup example.com/app v1.2`;

/** Descriptions of the command groups (they have no command of their own). */
const GROUPS: Record<string, { short: string; long: string }> = {
  key: {
    short: 'Operates on keys.',
    long: 'Operations on private keys: list, generate, import, export, remove, change the passphrase of, and rotate the keys of the trust directory (~/.notary/private).',
  },
  delegation: {
    short: 'Operates on delegations.',
    long: 'Operations on delegations: list, add or remove delegated roles (targets/NAME) with their keys and paths, and purge a key from every delegation. Changes are staged until published (or -p).',
  },
  admission: {
    short: 'Kubernetes admission webhook enforcing a signing policy (notary-ts).',
    long: 'The deploy gate as a Kubernetes admission webhook: serve answers AdmissionReviews, denying images the signing policy refuses and pinning the rest to their verified digests (notary-ts extension; see docs/deploy-gate.md).',
  },
  cosign: {
    short: 'Co-signs a role that needs several signatures (notary-ts).',
    long: 'Threshold signing of a targets role through a file passed between signers: prepare writes the next version of the role with the staged changes, sign adds signatures, status shows them, publish uploads once the threshold is met (notary-ts extension).',
  },
};

const HELP_LONG = 'Help provides help for any command in the application. Simply type notary-ts help [path to command] for full details.';

function makeLoggerFor(io: CliIO, level: LogLevel): Logger {
  return makeLogger(io, level);
}

export class Program {
  private readonly commands: Command[] = [];
  private lazy: LazyCommands[] = [];

  add(...commands: Command[]): this {
    this.commands.push(...commands);
    return this;
  }

  addLazy(group: LazyCommands): this {
    this.lazy.push(group);
    return this;
  }

  /** Imports the groups that hold `path` (or every group, for help listings). */
  private async loadLazy(path?: readonly string[]): Promise<void> {
    const wanted = this.lazy.filter((g) => !path || g.paths.some((p) => p.join(' ') === path.join(' ')));
    this.lazy = this.lazy.filter((g) => !wanted.includes(g));
    for (const group of wanted) this.commands.push(...(await group.load()));
  }

  private allPaths(): (readonly string[])[] {
    return [...this.commands.map((c) => c.path), ...this.lazy.flatMap((g) => g.paths)];
  }

  private groups(prefix: readonly string[]): Set<string> {
    const names = new Set<string>();
    for (const path of this.allPaths()) {
      if (path.length > prefix.length && prefix.every((p, i) => path[i] === p)) names.add(path[prefix.length]!);
    }
    if (prefix.length === 0) {
      names.add('help');
      names.add('completion');
    }
    return names;
  }

  /** Finds the command path among the non-flag tokens, skipping values of global flags that take one. */
  private resolve(argv: readonly string[]): { path: string[]; rest: string[] } {
    const valueFlags = new Set(GLOBAL_FLAGS.filter((f) => f.type !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]));
    const path: string[] = [];
    const rest: string[] = [];
    let i = 0;
    for (; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--') break;
      if (a.startsWith('-')) {
        rest.push(a);
        if (valueFlags.has(a) && i + 1 < argv.length) rest.push(argv[++i]!);
        continue;
      }
      if (this.groups(path).has(a) && !(path.length === 1 && (path[0] === 'help' || path[0] === 'completion'))) {
        path.push(a);
        continue;
      }
      break;
    }
    rest.push(...argv.slice(i));
    return { path, rest };
  }

  private shortOf(path: readonly string[]): string {
    const name = path.join(' ');
    if (name === 'help') return 'Help about any command';
    if (name === 'completion') return 'Generate the autocompletion script for the specified shell';
    return this.commands.find((c) => c.path.join(' ') === name)?.short ?? GROUPS[name]?.short ?? '';
  }

  usageText(path: readonly string[]): string {
    const cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    const subs = [...this.groups(path)];
    let text = '';
    if (cmd) {
      text += `Usage:\n  ${PROGRAM} ${cmd.use} [flags]\n\n`;
      const example = cmd.example ?? COMMAND_DOCS[path.join(' ')]?.example;
      if (example) text += `Examples:\n${indent(example)}\n\n`;
      const own = [...(cmd.flags ?? []), { name: 'help', short: 'h', type: 'bool' as const, description: `help for ${path[path.length - 1]}` }];
      text += `Flags:\n${flagHelp(own)}\n\n`;
    } else {
      text += path.length === 0 ? `Usage:\n  ${PROGRAM} [flags]\n  ${PROGRAM} [command]\n\n` : `Usage:\n  ${PROGRAM} ${path.join(' ')} [command]\n\n`;
      if (path.length === 0) text += `Examples:\n${indent(ROOT_EXAMPLE)}\n\n`;
      text += 'Available Commands:\n';
      const width = Math.max(...subs.map((s) => s.length), 10);
      for (const s of subs.sort()) text += `  ${s.padEnd(width)}  ${this.shortOf([...path, s])}\n`;
      text += '\n';
      if (path.length === 0) text += `Flags:\n${flagHelp([...ROOT_ONLY_FLAGS, { name: 'help', short: 'h', type: 'bool', description: `help for ${PROGRAM}` }])}\n\n`;
    }
    text += `Global Flags:\n${flagHelp(GLOBAL_FLAGS.filter((f) => f.name !== 'help'))}\n`;
    if (!cmd) text += `\nUse "${[PROGRAM, ...path].join(' ')} [command] --help" for more information about a command.\n`;
    return text;
  }

  /** `--help` text: the long description, then the usage. */
  helpText(path: readonly string[]): string {
    const cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    const long = path.length === 0 ? ROOT_LONG : cmd ? (cmd.long ?? COMMAND_DOCS[path.join(' ')]?.long ?? cmd.short) : (GROUPS[path.join(' ')]?.long ?? '');
    return `${long}\n\n${this.usageText(path)}`;
  }

  /** Every command path and its flags, for the completion scripts. */
  private completionTree(): CompletionTree {
    const globals = GLOBAL_FLAGS.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
    const tree: CompletionTree = { globals, nodes: {} };
    const add = (prefix: string, word: string) => {
      const node = (tree.nodes[prefix] ??= { words: [], flags: [] });
      if (!node.words.includes(word)) node.words.push(word);
    };
    for (const c of this.commands) {
      for (let i = 0; i < c.path.length; i++) add(c.path.slice(0, i).join(' '), c.path[i]!);
      const node = (tree.nodes[c.path.join(' ')] ??= { words: [], flags: [] });
      node.flags.push(...(c.flags ?? []).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]));
    }
    add('', 'help');
    add('', 'completion');
    tree.nodes['completion'] = { words: [...COMPLETION_SHELLS], flags: [] };
    for (const n of Object.values(tree.nodes)) n.words.sort();
    return tree;
  }

  async run(argv: readonly string[], io: CliIO): Promise<number> {
    let { path, rest } = this.resolve(argv);
    let cmd: Command | undefined;
    const jsonRequested = argv.includes('--json') || argv.includes('--json=true');
    // With --json, stdout carries exactly one JSON document: the command's result or the error.
    const emit = (value: unknown) => io.stdout(JSON.stringify(value) + '\n');
    const fail = (message: string, code = 'INVALID_ARGUMENT', where?: string): number => {
      if (jsonRequested) emit({ error: { code, message, where: where ?? null } });
      else io.stdout(`\n* fatal: ${message}\n`);
      // A command may name its own failure exit code (report: 2 when it could not verify); 1 otherwise, as Notary.
      return cmd?.failureExitCode ?? 1;
    };
    // `notary-ts help [command…]` is `notary-ts [command…] --help`.
    let helpRequested = false;
    if (path.length === 1 && path[0] === 'help') {
      helpRequested = true;
      const words = rest.filter((a) => !a.startsWith('-'));
      const flagsOnly = rest.filter((a) => a.startsWith('-'));
      ({ path, rest } = this.resolve([...words, ...flagsOnly]));
      const unknown = rest.find((a) => !a.startsWith('-'));
      if (unknown !== undefined) return fail(this.unknownCommand(unknown, path), 'INVALID_ARGUMENT', unknown);
    }
    await this.loadLazy(path);
    cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    if (!cmd) {
      // A group name or help listing: its subcommands' descriptions come from their modules.
      await this.loadLazy();
      cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    }
    const specs = [...GLOBAL_FLAGS, ...(path.length === 0 ? ROOT_ONLY_FLAGS : []), ...(cmd?.flags ?? [])];
    let parsed: { args: string[]; flags: FlagValues };
    try {
      parsed = cmd?.rawArgs ? { args: rest, flags: {} } : parseFlags(rest, specs);
    } catch (err) {
      if (err instanceof UsageError) return fail(err.message, 'INVALID_ARGUMENT', /--?[\w-]+|'.'/.exec(err.message)?.[0]?.replace(/'/g, '-'));
      throw err;
    }
    const { flags, args } = parsed;
    const json = flags['json'] === true;
    if (path.length === 0 && flags['version']) {
      if (json) emit({ name: PROGRAM, version: VERSION, node: process.version });
      else io.stdout(`${PROGRAM}\n Version:    ${VERSION}\n Node version: ${process.version}\n`);
      return 0;
    }
    const showHelp = (text: string): number => {
      if (json) emit({ help: text });
      else io.stdout(text);
      return 0;
    };
    if (path.length === 1 && path[0] === 'completion') {
      if (flags['help'] || helpRequested || args.length === 0) {
        return showHelp(`Generate the autocompletion script for ${PROGRAM} for the specified shell: ${COMPLETION_SHELLS.join(', ')}.

Usage:
  ${PROGRAM} completion bash|zsh|fish

Examples:
  # bash, this shell only
  source <(${PROGRAM} completion bash)
  # bash, every new shell
  ${PROGRAM} completion bash > /etc/bash_completion.d/${PROGRAM}
  # zsh (compinit enabled)
  ${PROGRAM} completion zsh > "\${fpath[1]}/_${PROGRAM}"
  # fish
  ${PROGRAM} completion fish > ~/.config/fish/completions/${PROGRAM}.fish
`);
      }
      const shell = args[0]!;
      const script = completionScript(shell, PROGRAM, this.completionTree());
      if (script === undefined) return fail(`unknown shell "${shell}": ${PROGRAM} completion supports ${COMPLETION_SHELLS.join(', ')}`, 'INVALID_ARGUMENT', shell);
      if (json) emit({ shell, script });
      else io.stdout(script);
      return 0;
    }
    if (!cmd) {
      if (flags['help'] || helpRequested || args.length === 0) return showHelp(this.helpText(path));
      return fail(this.unknownCommand(args[0]!, path), 'INVALID_ARGUMENT', args[0]);
    }
    if (flags['help'] || helpRequested) return showHelp(this.helpText(path));
    const level: LogLevel = flags['debug'] ? 'debug' : flags['verbose'] ? 'info' : 'warning';
    const log = makeLoggerFor(io, level);
    let config: Promise<ClientConfig> | undefined;
    let result: { value: unknown } | undefined;
    const ctx: CommandContext = {
      io,
      args,
      flags,
      json,
      log,
      progress: !json && flags['no-progress'] !== true && io.stderrIsTTY === true,
      config: () =>
        (config ??= loadClientConfig(
          {
            ...(flags['configFile'] ? { configFile: flags['configFile'] as string } : {}),
            ...(flags['trustDir'] ? { trustDir: flags['trustDir'] as string } : {}),
            ...(flags['server'] ? { server: flags['server'] as string } : {}),
            ...(flags['tlscacert'] ? { tlsCaCert: flags['tlscacert'] as string } : {}),
            ...(flags['tlscert'] ? { tlsCert: flags['tlscert'] as string } : {}),
            ...(flags['tlskey'] ? { tlsKey: flags['tlskey'] as string } : {}),
          },
          { cwd: io.cwd, ...(io.env['HOME'] ? { home: io.env['HOME'] } : {}) },
        )),
      usage: () => {
        if (!json) io.stdout(this.usageText(path));
      },
      print: (text) => {
        if (!json) io.stdout(text);
      },
      result: (value) => {
        result = { value };
      },
    };
    try {
      await cmd.run(ctx);
      if (json) emit(result ? result.value : { ok: true });
      return 0;
    } catch (err) {
      if (err instanceof ExitCode) {
        // A command that wrote its document and chose its exit code (report, trust verify): that document.
        if (json) emit(result ? result.value : { error: { code: 'ABORTED', message: `exit ${err.code}`, where: null } });
        return err.code;
      }
      const explained = explainFailure(ctx, err);
      if (explained) return fail(explained.message, explained.code, explained.where);
      if (err instanceof NotaryError) {
        // A network failure names the server and the cause (src/cli/offline.ts), after Go's own words.
        const serverUrl = config ? (await config.catch(() => undefined))?.serverUrl : undefined;
        const net = explainNetworkFailure(ctx, err, serverUrl);
        return fail(notaryWords(net), net.code, net.where);
      }
      if (err instanceof CliError) return fail(err.message, err.code, err.where);
      if (err instanceof UsageError) return fail(err.message);
      // Anything else is a bug in notary-ts: say so without a stack trace unless debugging.
      if (level === 'debug') io.stderr(`${(err as Error).stack ?? String(err)}\n`);
      return fail(`internal error: ${(err as Error).message ?? String(err)}`, 'INTERNAL');
    }
  }

  /** Cobra's wording, with its "Did you mean this?" suggestions. */
  private unknownCommand(word: string, path: readonly string[]): string {
    const suggestions = suggestionsFor(word, [...this.groups(path)]);
    const base = `unknown command "${word}" for "${[PROGRAM, ...path].join(' ')}"`;
    return suggestions.length ? `${base}\n\nDid you mean this?\n${suggestions.map((s) => `\t${s}\n`).join('')}` : base;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
