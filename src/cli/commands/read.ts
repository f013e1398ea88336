/**
 * The read side: list, lookup, verify, delegation list — Notary 0.7's output byte for byte, plus --json.
 */
import { resolve } from 'node:path';
import { fromBase64, toHex } from '../../core/bytes.js';
import { compareUtf8 } from '../../core/canonical.js';
import type { TargetRecord } from '../../core/collection.js';
import { canonicalKeyId } from '../../core/keys.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { CliError, type Command, type CommandContext } from '../program.js';
import { openForReading } from '../repo.js';
import { formatTable, writeTable } from '../table.js';
import { verifyStreaming } from '../verify-stream.js';

// Hashes were checked as strict base64 when their role was admitted; Node's native decoder is 7x faster
// than a JS one for the 50k digests of a large listing.
function sha256Hex(t: TargetRecord): string {
  const b = t.hashes['sha256'];
  return b === undefined ? '' : Buffer.from(b, 'base64').toString('hex');
}

function hexLengthOfBase64(b64: string | undefined): number {
  if (b64 === undefined) return 0;
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return 2 * ((b64.length / 4) * 3 - padding);
}

function targetJson(t: TargetRecord) {
  return {
    name: t.name,
    digest: sha256Hex(t),
    hashes: Object.fromEntries(Object.entries(t.hashes).map(([alg, b64]) => [alg, toHex(fromBase64(b64) ?? new Uint8Array())])),
    size: t.length,
    role: t.role,
    signers: t.signers,
    signerKeys: t.signerKeys,
    ...(t.custom !== undefined ? { custom: t.custom } : {}),
  };
}

function requireArgs(ctx: CommandContext, n: number, message: string): void {
  if (ctx.args.length < n) {
    ctx.usage();
    throw new CliError(message);
  }
}

async function withRepo<T>(ctx: CommandContext, gun: string, fn: (repo: Awaited<ReturnType<typeof openForReading>>['repo']) => Promise<T>): Promise<T> {
  const { repo, close } = await openForReading(ctx, gun);
  try {
    return await fn(repo);
  } finally {
    await close();
  }
}

export const listCommand: Command = {
  path: ['list'],
  use: 'list [ GUN ]',
  short: 'Lists targets for a remote trusted collection.',
  flags: [{ name: 'roles', short: 'r', type: 'strings', description: 'Delegation roles to list targets for (will shadow targets role)' }],
  async run(ctx) {
    requireArgs(ctx, 1, 'Must specify a GUN');
    const gun = ctx.args[0]!;
    const roles = (ctx.flags['roles'] as string[] | undefined) ?? [];
    // Printed inside withRepo: the cache is written meanwhile, and closing waits for it.
    await withRepo(ctx, gun, async (repo) => printTargets(ctx, await repo.listTargets(roles.length ? roles : ['targets'])));
  },
};

function printTargets(ctx: CommandContext, targets: readonly TargetRecord[]): void {
  if (ctx.json) {
    ctx.result(targets.map(targetJson));
    return;
  }
  if (targets.length === 0) {
    ctx.print('\nNo targets present in this repository.\n\n');
    return;
  }
  // listTargets returns names in Go's (byte) order already.
  const cell = (r: number, c: number): string => {
    const t = targets[r]!;
    return c === 0 ? t.name : c === 1 ? sha256Hex(t) : c === 2 ? String(t.length) : t.role;
  };
  // A digest's width follows from its base64 length (two hex digits per byte): no need to build it.
  const width = (r: number, c: number): number | undefined => (c === 1 ? hexLengthOfBase64(targets[r]!.hashes['sha256']) : undefined);
  writeTable(['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE'], targets.length, cell, (chunk) => ctx.print(chunk), width);
}

export const lookupCommand: Command = {
  path: ['lookup'],
  use: 'lookup [ GUN ] <target name>',
  short: 'Looks up a specific target in a remote trusted collection.',
  flags: [{ name: 'roles', short: 'r', type: 'strings', description: 'Delegation roles to look in (notary-ts extension; default: targets and its delegations)' }],
  async run(ctx) {
    requireArgs(ctx, 2, 'Must specify a GUN and target');
    const [gun, name] = ctx.args as [string, string];
    const roles = (ctx.flags['roles'] as string[] | undefined) ?? [];
    const target = await withRepo(ctx, gun, (repo) => repo.lookup(name, roles.length ? roles : ['targets']));
    if (ctx.json) ctx.result(targetJson(target));
    else ctx.print(`${target.name} sha256:${sha256Hex(target)} ${target.length}\n`);
  },
};

export const verifyCommand: Command = {
  path: ['verify'],
  use: 'verify [ GUN ] <target name>',
  short: 'Verifies if the content is included in the remote trusted collection',
  flags: [
    { name: 'input', short: 'i', type: 'string', description: 'Read from a file, instead of STDIN' },
    { name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'No output except for errors' },
  ],
  async run(ctx) {
    requireArgs(ctx, 2, 'Must specify a GUN and target');
    const [gun, name] = ctx.args as [string, string];
    const input = ctx.flags['input'] as string | undefined;
    const output = ctx.flags['output'] as string | undefined;
    // Under --json the content is not echoed (stdout holds the JSON document); -o still writes it.
    const echo = ctx.flags['quiet'] === true ? 'none' : output ? 'file' : ctx.json ? 'none' : 'stdout';
    const target = await withRepo(ctx, gun, async (repo) => {
      try {
        return await repo.lookup(name);
      } catch (err) {
        throw new CliError(`error retrieving target by name:${name}, error:${(err as Error).message}`, { where: name, cause: err });
      }
    });
    const verified = await verifyStreaming(ctx, { name, target, input, echo, ...(output ? { output: resolve(ctx.io.cwd, output) } : {}) });
    ctx.result({ gun, target: name, verified: true, length: verified.length, hashes: { sha256: toHex(verified.sha256), sha512: toHex(verified.sha512) }, role: target.role, ...(output && !ctx.flags['quiet'] ? { output: resolve(ctx.io.cwd, output) } : {}) });
  },
};

export const delegationListCommand: Command = {
  path: ['delegation', 'list'],
  use: 'delegation list [ GUN ]',
  short: 'Lists delegations for the Global Unique Name.',
  async run(ctx) {
    if (ctx.args.length !== 1) {
      ctx.usage();
      throw new CliError('Please provide a Global Unique Name as an argument to list');
    }
    const gun = ctx.args[0]!;
    const rows = await withRepo(ctx, gun, async (repo) => {
      await repo.delegations();
      // Every delegation entry of every trusted targets file, key IDs as canonical IDs (as Notary lists them).
      const out: { name: string; paths: string[]; keyIds: string[]; threshold: number }[] = [];
      for (const trusted of repo.trusted.roles.values()) {
        const d = trusted.metadata.signed.delegations;
        for (const r of d?.roles ?? []) {
          out.push({
            name: r.name,
            paths: [...(r.paths ?? [])],
            keyIds: (r.keyids ?? []).map((id) => {
              const key = d?.keys?.[id];
              return key ? canonicalKeyId(key, nodeCryptoBackend) : id;
            }),
            threshold: r.threshold,
          });
        }
      }
      return out;
    });
    if (ctx.json) {
      ctx.result(rows.map((r) => ({ role: r.name, paths: r.paths, keyIds: r.keyIds, threshold: r.threshold })));
      return;
    }
    if (rows.length === 0) {
      ctx.print('\n\nNo delegations present in this repository.\n\n\n');
      return;
    }
    rows.sort((a, b) => compareUtf8(a.name, b.name));
    const table: string[][] = [];
    for (const r of rows) {
      const paths = [...r.paths].sort(compareUtf8).map((p) => (p === '' ? '"" <all paths>' : p));
      table.push([r.name, paths[0] ?? '', r.keyIds[0] ?? '', String(r.threshold)]);
      for (let i = 1; i < Math.max(paths.length, r.keyIds.length); i++) table.push(['', paths[i] ?? '', r.keyIds[i] ?? '', '']);
    }
    ctx.print('\n' + formatTable(['ROLE', 'PATHS', 'KEY IDS', 'THRESHOLD'], table) + '\n');
  },
};
