/**
 * The CLI frame: a command tree, global flags, and Notary's output conventions — everything on stdout
 * (errors as a blank line then `* fatal: <message>`), logs on stderr, exit code 1 on any error. `--json`
 * (ours) makes data commands print JSON and errors print `{"error":{"code","message"}}`.
 */
import { NotaryError } from '../core/errors.js';
import { loadClientConfig, type ClientConfig } from '../node/config.js';
import { flagHelp, parseFlags, UsageError, type FlagSpec, type FlagValues } from './flags.js';
import { explainFailure } from './offline.js';

export interface CliIO {
  readonly stdout: (text: string) => void;
  /** Raw bytes to stdout (verify echoes binary payloads). */
  readonly stdoutBytes: (bytes: Uint8Array) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdinIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
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
  /** Prints the command's usage (as Notary does before some errors). */
  usage(): void;
  print(text: string): void;
}

export interface Command {
  readonly path: readonly string[];
  readonly use: string;
  readonly short: string;
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

/** An error that is printed as `* fatal: <message>` with no code of its own. */
export class CliError extends Error {}

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
  { name: 'json', type: 'bool', description: 'Print results and errors as JSON (notary-ts extension)' },
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
      if (this.groups(path).has(a)) {
        path.push(a);
        continue;
      }
      break;
    }
    rest.push(...argv.slice(i));
    return { path, rest };
  }

  usageText(path: readonly string[]): string {
    const cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    const subs = [...this.groups(path)];
    let text = '';
    if (cmd) {
      text += `Usage:\n  notary-ts ${cmd.use} [flags]\n\n`;
      const own = [...(cmd.flags ?? []), { name: 'help', short: 'h', type: 'bool' as const, description: `help for ${path[path.length - 1]}` }];
      text += `Flags:\n${flagHelp(own)}\n\n`;
    } else {
      text += `Usage:\n  notary-ts ${path.length ? path.join(' ') + ' ' : ''}[command]\n\nAvailable Commands:\n`;
      const width = Math.max(...subs.map((s) => s.length), 4);
      for (const s of subs.sort()) {
        const sub = this.commands.find((c) => c.path.join(' ') === [...path, s].join(' '));
        text += `  ${s.padEnd(width)}   ${sub?.short ?? ''}\n`;
      }
      text += '\n';
    }
    text += `Global Flags:\n${flagHelp(GLOBAL_FLAGS.filter((f) => f.name !== 'help'))}\n`;
    return text;
  }

  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { path, rest } = this.resolve(argv);
    await this.loadLazy(path);
    let cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    if (!cmd) {
      // A group name or help listing: its subcommands' descriptions come from their modules.
      await this.loadLazy();
      cmd = this.commands.find((c) => c.path.join(' ') === path.join(' '));
    }
    const specs = [...GLOBAL_FLAGS, ...(path.length === 0 ? ROOT_ONLY_FLAGS : []), ...(cmd?.flags ?? [])];
    const jsonRequested = argv.includes('--json');
    const fail = (message: string, code = 'INVALID_ARGUMENT'): number => {
      if (jsonRequested) io.stdout(JSON.stringify({ error: { code, message } }) + '\n');
      else io.stdout(`\n* fatal: ${message}\n`);
      return cmd?.failureExitCode ?? 1;
    };
    let parsed: { args: string[]; flags: FlagValues };
    try {
      parsed = cmd?.rawArgs ? { args: rest, flags: {} } : parseFlags(rest, specs);
    } catch (err) {
      if (err instanceof UsageError) return fail(err.message);
      throw err;
    }
    const { flags, args } = parsed;
    if (path.length === 0 && flags['version']) {
      io.stdout(`notary-ts\n Version:    ${VERSION}\n Node version: ${process.version}\n`);
      return 0;
    }
    if (!cmd) {
      if (flags['help'] || args.length === 0) {
        io.stdout(this.usageText(path));
        return 0;
      }
      return fail(`unknown command "${args[0]}" for "${['notary', ...path].join(' ')}"`);
    }
    if (flags['help']) {
      io.stdout(`${cmd.short}\n\n${this.usageText(path)}`);
      return 0;
    }
    const level: LogLevel = flags['debug'] ? 'debug' : flags['verbose'] ? 'info' : 'warning';
    const log = makeLogger(io, level);
    let config: Promise<ClientConfig> | undefined;
    const ctx: CommandContext = {
      io,
      args,
      flags,
      json: flags['json'] === true,
      log,
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
      usage: () => io.stdout(this.usageText(path)),
      print: (text) => io.stdout(text),
    };
    try {
      await cmd.run(ctx);
      return 0;
    } catch (err) {
      if (err instanceof ExitCode) return err.code;
      if (err instanceof NotaryError) {
        const serverUrl = config ? (await config.catch(() => undefined))?.serverUrl : undefined;
        const explained = explainFailure(ctx, err, serverUrl);
        return fail(explained.message, explained.code);
      }
      if (err instanceof CliError || err instanceof UsageError) return fail(err.message);
      // Anything else is a bug in notary-ts: say so without a stack trace unless debugging.
      if (level === 'debug') io.stderr(`${(err as Error).stack ?? String(err)}\n`);
      return fail(`internal error: ${(err as Error).message ?? String(err)}`, 'INTERNAL');
    }
  }
}
