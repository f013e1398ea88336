/**
 * `notary-ts report GUN... [--json] [--html FILE] [--at TIME] [--warn-within DURATION]` (beyond Notary):
 * expiry, signers and delegation trees of each repository, verified with the full update workflow.
 * Exit status: 0 all clear, 1 a finding within the window, 2 a repository could not be verified — and 2
 * for bad arguments too, so that a monitor never reads a broken invocation as "clear" or as "findings".
 */
import { resolve } from 'node:path';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { FileMetadataCache } from '../../node/cache.js';
import { trustPinningOf } from '../../node/config.js';
import { DirectoryRemote, directoryOfServerUrl } from '../../node/directory-remote.js';
import { writeFileAtomic } from '../../node/fs-atomic.js';
import { renderReportHtml } from '../../report/html.js';
import { DEFAULT_WARN_WITHIN_MS, collectReport, type RepositoryOpener } from '../../report/run.js';
import { parseAt, parseWindow } from '../../report/model.js';
import { renderReportText } from '../../report/text.js';
import { TrustedRepository } from '../../repository/reader.js';
import { CliError, ExitCode, type Command } from '../program.js';
import { remoteFor } from '../repo.js';
import { formatTable } from '../table.js';

export const reportCommand: Command = {
  path: ['report'],
  use: 'report [ GUN... ]',
  short: 'Reports expiry, keys, signers and delegations of trusted collections (notary-ts extension).',
  failureExitCode: 2,
  flags: [
    { name: 'html', type: 'string', description: 'Also write the report as a self-contained HTML page to this file' },
    { name: 'at', type: 'string', description: 'Judge as of this time: RFC 3339, YYYY-MM-DD, or +90d / -1y from now (default now)' },
    { name: 'warn-within', type: 'string', description: 'Expiries within this long after --at are findings: 30d, 2w, 720h, 1y (default 30d)' },
  ],
  async run(ctx) {
    if (ctx.args.length === 0) {
      ctx.usage();
      throw new CliError('Must specify at least one GUN');
    }
    const now = new Date();
    const atText = ctx.flags['at'] as string | undefined;
    const at = atText === undefined ? now : parseAt(atText, now);
    if (!at) throw new CliError(`invalid --at ${JSON.stringify(atText)}: use an RFC 3339 time, YYYY-MM-DD, or an offset such as +90d or -1y`);
    const windowText = ctx.flags['warn-within'] as string | undefined;
    const warnWithinMs = windowText === undefined ? DEFAULT_WARN_WITHIN_MS : parseWindow(windowText);
    if (warnWithinMs === undefined) throw new CliError(`invalid --warn-within ${JSON.stringify(windowText)}: use a duration such as 30d, 2w, 720h or 1y`);

    const config = await ctx.config();
    const directory = directoryOfServerUrl(config.serverUrl, ctx.io.cwd);
    const open: RepositoryOpener = async (gun, clock, log) => {
      const remote = directory ? new DirectoryRemote({ dir: directory, gun, crypto: nodeCryptoBackend }) : await remoteFor(ctx, config, gun);
      try {
        const repo = await TrustedRepository.open({
          gun,
          remote,
          cache: new FileMetadataCache(config.trustDir, gun),
          crypto: nodeCryptoBackend,
          trustPinning: trustPinningOf(config),
          clock,
          log: {
            warn: (m) => {
              log.warn(m);
              ctx.log.warn(m);
            },
            debug: (m) => ctx.log.debug(m),
          },
        });
        return { repo, close: () => repo.close() };
      } catch (err) {
        await remote.close?.();
        throw err;
      }
    };
    const report = await collectReport(ctx.args, open, {
      at,
      warnWithinMs,
      now: () => now,
      timestampRenewedByServer: !directory,
      server: config.serverUrl,
    });
    const htmlFile = ctx.flags['html'] as string | undefined;
    if (htmlFile) await writeFileAtomic(resolve(ctx.io.cwd, htmlFile), renderReportHtml(report));
    if (ctx.json) ctx.result(report);
    else ctx.print(renderReportText(report, formatTable));
    throw new ExitCode(report.exitCode);
  },
};
