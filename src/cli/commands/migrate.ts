/**
 * Life after hosted Notary (notary-ts extensions; src/migrate/):
 *
 *   migrate GUN --from URL --to URL|file://DIR [--dry-run]   move trust data, replacing the server's keys
 *   refresh-timestamp GUN --to file://DIR                      re-sign a static directory's timestamp (cron)
 *   mirror GUN --from URL --to file://DIR                      a verified read-only copy, no keys needed
 *   audit GUN --from file://DIR [TARGET] [--as-of TIME]        verify a mirror as of when it was taken
 *
 * Progress goes to stderr; results to stdout. `migrate` prints its plan (with the keys it will ask for)
 * before any passphrase is asked for.
 */
import { fromBase64, toHex } from '../../core/bytes.js';
import { NotaryError } from '../../core/errors.js';
import { nodeCryptoBackend as crypto } from '../../crypto/node.js';
import { FileMetadataCache } from '../../node/cache.js';
import { trustPinningOf, type ClientConfig } from '../../node/config.js';
import { directoryOfServerUrl } from '../../node/directory-remote.js';
import type { NotaryRemote } from '../../node/remote.js';
import { assertKeysHeld, describePlan, executeMigration, planMigration, type Destination } from '../../migrate/migrate.js';
import { loadVerifiedSource } from '../../migrate/source.js';
import { mirrorRepository, openMirror, refreshTimestamp } from '../../migrate/static.js';
import { CliError, type Command, type CommandContext } from '../program.js';
import { remoteFor } from '../repo.js';
import { formatTable } from '../table.js';
import { openKeyStore, signingKeyStore } from '../writer.js';

function requireGun(ctx: CommandContext, what: string): string {
  if (ctx.args.length < 1) {
    ctx.usage();
    throw new CliError(`Must specify a GUN to ${what}`);
  }
  return ctx.args[0]!;
}

function flag(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function requireFlag(ctx: CommandContext, name: string): string {
  const v = flag(ctx, name);
  if (!v) {
    ctx.usage();
    throw new CliError(`--${name} is required`);
  }
  return v;
}

const progress = (ctx: CommandContext) => (message: string) => ctx.io.stderr(`${message}\n`);

/** A pinged remote for a server URL, with the config's TLS settings and credentials. */
async function serverRemote(ctx: CommandContext, config: ClientConfig, url: string, gun: string): Promise<NotaryRemote> {
  if (!/^https?:\/\//i.test(url)) throw new CliError(`${url} is not a notary server URL (http:// or https://)`);
  const remote = await remoteFor(ctx, { ...config, serverUrl: url }, gun);
  try {
    await remote.ping();
  } catch (err) {
    await remote.close();
    throw new NotaryError(err instanceof NotaryError ? err.code : 'NETWORK', `${url}: ${(err as Error).message}`, { where: url, cause: err });
  }
  return remote;
}

function directoryOf(ctx: CommandContext, url: string, flagName: string): string {
  const dir = directoryOfServerUrl(url, ctx.io.cwd);
  if (!dir) throw new CliError(`--${flagName} must be a file://DIR URL here, not ${url}`);
  return dir;
}

const migrateCommand: Command = {
  path: ['migrate'],
  use: 'migrate [ GUN ] --from URL --to URL|file://DIR [--gun NEW_GUN] [--dry-run]',
  short: 'Moves a repository to another notary server or a static directory, replacing the keys the old server held (notary-ts extension).',
  flags: [
    { name: 'from', type: 'string', description: 'The notary server the repository is on now' },
    { name: 'to', type: 'string', description: 'The notary server, or file://DIR (a directory any static file server can serve), to move it to' },
    { name: 'gun', type: 'string', description: 'Publish under this GUN instead (the images moved registry): a new root chain for the same root keys' },
    { name: 'dry-run', type: 'bool', description: 'Print the plan (files, keys needed, new versions) and change nothing' },
  ],
  async run(ctx) {
    const gun = requireGun(ctx, 'migrate');
    const from = requireFlag(ctx, 'from');
    const to = requireFlag(ctx, 'to');
    const newGun = flag(ctx, 'gun');
    const config = await ctx.config();
    const say = progress(ctx);
    const sourceRemote = await serverRemote(ctx, config, from, gun);
    const dir = directoryOfServerUrl(to, ctx.io.cwd);
    const destRemote = dir ? undefined : await serverRemote(ctx, config, to, newGun ?? gun);
    try {
      const source = await loadVerifiedSource({
        gun,
        remote: sourceRemote,
        cache: new FileMetadataCache(config.trustDir, gun),
        crypto,
        trustPinning: trustPinningOf(config),
        log: { warn: (m) => ctx.log.warn(m), debug: (m) => ctx.log.debug(m) },
        progress: say,
      });
      const destination: Destination = dir ? { kind: 'directory', url: to, dir } : { kind: 'server', url: to, remote: destRemote! };
      const store = await openKeyStore(ctx, config);
      const keyStore = signingKeyStore(store, (m) => ctx.log.warn(m));
      const options = { source, destination, keyStore, crypto, progress: say, warn: (m: string) => ctx.log.warn(m), env: ctx.io.env, ...(newGun ? { newGun } : {}) };
      const plan = { ...(await planMigration(options)), from };
      if (ctx.flags['dry-run']) {
        if (ctx.json) ctx.result(plan);
        else ctx.print(describePlan(plan));
        return;
      }
      // The plan, with the keys it needs, goes out before any passphrase prompt.
      ctx.io.stderr(describePlan(plan));
      assertKeysHeld(plan);
      const result = await executeMigration(plan, options);
      if (ctx.json) {
        ctx.result({ gun, from, to, rootVersion: result.rootVersion, timestampVersion: result.timestampVersion, snapshotVersion: result.snapshotVersion, alreadyDone: result.alreadyDone });
        return;
      }
      ctx.print(
        result.alreadyDone
          ? `${gun} is already migrated to ${to} (root v${result.rootVersion}); nothing to do\n`
          : `Successfully migrated ${gun} to ${to}${newGun && newGun !== gun ? ` as ${newGun}` : ''}: root v${result.rootVersion}, timestamp v${result.timestampVersion}, snapshot v${result.snapshotVersion}\n`,
      );
      if (dir) ctx.print(`Keep it fresh: notary-ts -d ${config.trustDir} refresh-timestamp ${newGun ?? gun} --to ${to}  (at least every 7 days)\n`);
    } finally {
      await sourceRemote.close();
      await destRemote?.close();
    }
  },
};

const refreshCommand: Command = {
  path: ['refresh-timestamp'],
  use: 'refresh-timestamp [ GUN ] --to file://DIR',
  short: "Re-signs a static directory's timestamp (and its snapshot when due) after verifying it; run it from cron or CI (notary-ts extension).",
  flags: [
    { name: 'to', type: 'string', description: 'The directory (file://DIR) that serves the repository; default: -s' },
    { name: 'snapshot-margin-days', type: 'int', default: 30, description: 'Re-sign the snapshot when it expires within this many days' },
    { name: 'expiry-days', type: 'int', default: 14, description: 'Lifetime of the new timestamp in days' },
  ],
  async run(ctx) {
    const gun = requireGun(ctx, 'refresh');
    const config = await ctx.config();
    const dir = directoryOf(ctx, flag(ctx, 'to') ?? config.serverUrl, 'to');
    const store = await openKeyStore(ctx, config);
    const result = await refreshTimestamp({
      dir,
      gun,
      keyStore: signingKeyStore(store, (m) => ctx.log.warn(m)),
      crypto,
      pinnedRoot: await new FileMetadataCache(config.trustDir, gun).get('root'),
      snapshotMarginDays: Number(ctx.flags['snapshot-margin-days'] ?? 30),
      timestampExpiryDays: Number(ctx.flags['expiry-days'] ?? 14),
      warn: (m) => ctx.log.warn(m),
    });
    if (ctx.json) ctx.result({ gun, ...result });
    else ctx.print(`Refreshed ${gun}: timestamp v${result.timestampVersion} expires ${result.timestampExpires}${result.snapshotResigned ? `; snapshot re-signed as v${result.snapshotVersion}` : ''}\n`);
  },
};

const mirrorCommand: Command = {
  path: ['mirror'],
  use: 'mirror [ GUN ] --from URL --to file://DIR',
  short: 'Keeps a verified read-only copy of a repository in a directory, for consumers without keys (notary-ts extension).',
  flags: [
    { name: 'from', type: 'string', description: 'The notary server to copy from' },
    { name: 'to', type: 'string', description: 'The directory (file://DIR) to keep the copy in' },
  ],
  async run(ctx) {
    const gun = requireGun(ctx, 'mirror');
    const from = requireFlag(ctx, 'from');
    const dir = directoryOf(ctx, requireFlag(ctx, 'to'), 'to');
    const config = await ctx.config();
    const remote = await serverRemote(ctx, config, from, gun);
    try {
      const { record } = await mirrorRepository({
        gun,
        remote,
        dir,
        crypto,
        pinnedRoot: await new FileMetadataCache(config.trustDir, gun).get('root'),
        progress: progress(ctx),
        log: { warn: (m) => ctx.log.warn(m), debug: (m) => ctx.log.debug(m) },
      });
      if (ctx.json) ctx.result(record);
      else ctx.print(`Mirrored ${gun} from ${from} (root v${record.rootVersion}, timestamp v${record.timestampVersion}, verified at ${record.verifiedAt})\n`);
    } finally {
      await remote.close();
    }
  },
};

const auditCommand: Command = {
  path: ['audit'],
  use: 'audit [ GUN ] [ target ] --from file://DIR [--as-of TIME]',
  short: 'Verifies a mirror as of the time it was taken and lists its targets, or looks one up (notary-ts extension).',
  flags: [
    { name: 'from', type: 'string', description: 'The mirror directory (file://DIR)' },
    { name: 'as-of', type: 'string', description: 'Verify as of this time (RFC 3339) instead of when the mirror was taken' },
  ],
  async run(ctx) {
    const gun = requireGun(ctx, 'audit');
    const dir = directoryOf(ctx, requireFlag(ctx, 'from'), 'from');
    const asOfText = flag(ctx, 'as-of');
    const asOf = asOfText ? new Date(asOfText) : undefined;
    if (asOf && Number.isNaN(asOf.getTime())) throw new CliError(`--as-of ${asOfText} is not a time (RFC 3339, e.g. 2026-12-01T00:00:00Z)`);
    const config = await ctx.config();
    const pinnedRoot = await new FileMetadataCache(config.trustDir, gun).get('root');
    const { repo, asOf: at, record, pinUsed } = await openMirror({ dir, gun, crypto, ...(asOf ? { asOf } : {}), ...(pinnedRoot ? { pinnedRoot } : {}) });
    if (!pinUsed) ctx.io.stderr(`WARNING: ${pinnedRoot ? 'your cached root is newer than the mirror' : 'no root of this repository is cached in the trust directory'}; the mirror is verified against its own root (trust on first use)\n`);
    ctx.io.stderr(
      `WARNING: verified as of ${at.toISOString()}${record && !asOf ? ` (when this mirror of ${record.from} was taken)` : ''}, not now: ` +
        'signatures, thresholds and hashes are checked, but expiry is judged at that time, and anything revoked or re-signed since is not known here.\n',
    );
    const hex = (b64: string | undefined) => (b64 === undefined ? '' : toHex(fromBase64(b64) ?? new Uint8Array()));
    if (ctx.args[1] !== undefined) {
      const t = await repo.lookup(ctx.args[1]);
      if (ctx.json) ctx.result({ asOf: at.toISOString(), name: t.name, digest: hex(t.hashes['sha256']), size: t.length, role: t.role });
      else ctx.print(`${t.name} sha256:${hex(t.hashes['sha256'])} ${t.length}\n`);
      return;
    }
    const targets = await repo.listTargets();
    if (ctx.json) {
      ctx.result({ asOf: at.toISOString(), targets: targets.map((t) => ({ name: t.name, digest: hex(t.hashes['sha256']), size: t.length, role: t.role })) });
      return;
    }
    ctx.print(formatTable(['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE'], targets.map((t) => [t.name, hex(t.hashes['sha256']), String(t.length), t.role])));
  },
};

export const migrateCommands: Command[] = [migrateCommand, refreshCommand, mirrorCommand, auditCommand];
