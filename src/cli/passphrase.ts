/**
 * Passphrases in the CLI, for people and for CI. Environment variables first (src/node/passphrase.ts), then
 * the terminal prompt; with no terminal (a CI job) or under --json (which never prompts), a key without its
 * variable fails with NO_PASSPHRASE naming the variables read for that role — not Notary's bare "password
 * invalid, operation has failed.".
 *
 * The key store and the writer turn a refused passphrase into "key missing" on the way up (a refused key
 * counts as unavailable for signing, as in Notary), so the retriever notes what happened per command run
 * and explainFailure() reports the passphrase problem — NO_PASSPHRASE or BAD_PASSPHRASE, as the library says
 * — instead of KEY_NOT_FOUND.
 */
import { KeyStoreError, NotaryError } from '../core/errors.js';
import { envPassphrase, promptRetriever, type PassphraseRetriever } from '../node/passphrase.js';
import type { CommandContext } from './program.js';

interface Trouble {
  /** Roles whose passphrase was needed and could not be had. */
  readonly missing: Set<string>;
  /** Roles for which a passphrase was given and refused. */
  readonly refused: Set<string>;
}

const troubles = new WeakMap<object, Trouble>();

function troubleOf(ctx: CommandContext): Trouble {
  let t = troubles.get(ctx);
  if (!t) troubles.set(ctx, (t = { missing: new Set(), refused: new Set() }));
  return t;
}

/** The variables read for a key of this role, in the order they are tried. */
export function passphraseVariables(role: string): string[] {
  switch (role) {
    case 'root':
      return ['NOTARY_ROOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE'];
    case 'targets':
      return ['NOTARY_TARGETS_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
    case 'snapshot':
      return ['NOTARY_SNAPSHOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
    case 'timestamp':
      return ['DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
    default:
      return ['NOTARY_DELEGATION_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
  }
}

function roleName(alias: string): string {
  return alias === '' ? 'exported' : alias === 'delegation' || (alias !== 'root' && alias !== 'targets' && alias !== 'snapshot' && alias !== 'timestamp') ? `delegation (${alias || 'any'})` : alias;
}

export function missingPassphraseMessage(roles: Iterable<string>, json: boolean): string {
  const parts = [...roles].map((r) => `the ${roleName(r)} key: ${passphraseVariables(r).join(' or ')}`);
  const why = json ? '--json never prompts' : 'no terminal to ask on';
  return `no passphrase for ${parts.join('; for ')} (${why}; set the variable, see "Signing in CI" in the README)`;
}

/** The CLI's retriever: environment, then the prompt on a terminal (not under --json), else NO_PASSPHRASE. */
export function cliRetriever(ctx: CommandContext): PassphraseRetriever {
  const trouble = troubleOf(ctx);
  const prompt = ctx.io.stdinIsTTY && !ctx.json ? promptRetriever({ input: ctx.io.stdin, output: ctx.io.stdout, isTTY: true }) : undefined;
  return async (req) => {
    const v = envPassphrase(req.alias, ctx.io.env);
    if (v !== undefined) {
      if (req.attempt > 0 && !req.createNew) trouble.refused.add(req.alias);
      return { passphrase: v, giveUp: req.attempt > 1 };
    }
    if (prompt) {
      if (req.attempt > 0 && !req.createNew) trouble.refused.add(req.alias);
      return prompt(req);
    }
    trouble.missing.add(req.alias);
    throw new KeyStoreError('NO_PASSPHRASE', missingPassphraseMessage([req.alias], ctx.json), { where: req.alias });
  };
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e !== undefined && out.length < 10; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/** The passphrase problem behind a failed command, if there was one. */
export function explainFailure(ctx: CommandContext, err: unknown): { code: string; message: string; where?: string } | undefined {
  const trouble = troubles.get(ctx);
  if (!trouble) return undefined;
  const chain = causes(err);
  const keyish = chain.some((e) => e instanceof NotaryError && (e.code === 'BAD_PASSPHRASE' || e.code === 'KEY_NOT_FOUND' || e.code === 'NO_PASSPHRASE')) || !(err instanceof NotaryError);
  if (!keyish) return undefined;
  if (trouble.missing.size > 0) {
    const roles = [...trouble.missing];
    return { code: 'NO_PASSPHRASE', message: missingPassphraseMessage(roles, ctx.json), where: roles[0]! };
  }
  if (trouble.refused.size > 0 && !(err instanceof NotaryError && err.code === 'BAD_PASSPHRASE')) {
    const roles = [...trouble.refused];
    const detail = err instanceof Error ? err.message : String(err);
    return { code: 'BAD_PASSPHRASE', message: `passphrase refused for the ${roles.map(roleName).join(', ')} key: ${detail}`, where: roles[0]! };
  }
  return undefined;
}
