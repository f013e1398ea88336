/**
 * Making a trust report: the update workflow for each repository (as of the report's time), then the pure
 * model (model.ts). A repository that cannot be verified is reported as such — never as clear.
 *
 * Judging "as of" a time the workflow refuses (typically a future date, after the timestamp's 14 days) would
 * leave nothing to report on, so the repository is then verified as of now and judged as of `at`: every
 * expiry before `at` becomes a finding, and a refusal that no expiry explains is one too (`refused`).
 */
import type { CryptoBackend } from '../core/crypto.js';
import { NotaryError } from '../core/errors.js';
import { nodeCryptoBackend } from '../crypto/node.js';
import { openRepository, type OpenRepositoryOptions } from '../repository/open.js';
import type { ReaderLogger, TrustedRepository } from '../repository/reader.js';
import {
  assembleReport,
  buildRepositoryReport,
  unverifiedRepositoryReport,
  type RepositoryReport,
  type TrustReport,
} from './model.js';

/** Opens (runs the update workflow for) one repository with the given clock and logger. */
export type RepositoryOpener = (gun: string, clock: () => Date, log: ReaderLogger) => Promise<{ repo: TrustedRepository; close(): Promise<void> }>;

export const DEFAULT_WARN_WITHIN_MS = 30 * 86_400_000;

export interface CollectOptions {
  /** Judge as of this time; default now. */
  readonly at?: Date;
  /** Expiries within this window after `at` are findings; default 30 days. */
  readonly warnWithinMs?: number;
  /** notary-server renews the timestamp when serving it; a static directory does not. Default true. */
  readonly timestampRenewedByServer?: boolean | ((gun: string) => boolean);
  readonly crypto?: CryptoBackend;
  /** The wall clock (tests); default `new Date()`. */
  readonly now?: () => Date;
  /** Named in each repository's report. */
  readonly server?: string;
  /** Repositories verified at once (default 4). */
  readonly concurrency?: number;
}

function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof NotaryError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) };
}

async function verifyAt(gun: string, open: RepositoryOpener, clock: Date, warnings: string[]) {
  const log: ReaderLogger = { warn: (m) => warnings.push(m), debug: () => {} };
  const { repo, close } = await open(gun, () => clock, log);
  try {
    const walk = await repo.loadAll();
    return { set: repo.trusted, skipped: walk.skipped };
  } finally {
    await close();
  }
}

async function reportOne(gun: string, open: RepositoryOpener, options: CollectOptions, at: Date, now: Date): Promise<RepositoryReport> {
  const crypto = options.crypto ?? nodeCryptoBackend;
  const warnWithinMs = options.warnWithinMs ?? DEFAULT_WARN_WITHIN_MS;
  const renewed = options.timestampRenewedByServer;
  const judge = { at, warnWithinMs, crypto, timestampRenewedByServer: typeof renewed === 'function' ? renewed(gun) : renewed ?? true };
  let warnings: string[] = [];
  try {
    const state = await verifyAt(gun, open, at, warnings);
    return buildRepositoryReport(gun, { ...state, verifiedAt: at, warnings }, judge, options.server);
  } catch (atError) {
    // The same instant (no --at): nothing else to try.
    if (Math.abs(at.getTime() - now.getTime()) < 1000) return unverifiedRepositoryReport(gun, errorInfo(atError), warnings, options.server);
    const refused = errorInfo(atError);
    warnings = [];
    try {
      const state = await verifyAt(gun, open, now, warnings);
      // An expiry as of `at` is reported role by role; any other refusal as such.
      const refusedAt = refused.code === 'EXPIRED' ? undefined : refused;
      return buildRepositoryReport(gun, { ...state, verifiedAt: now, warnings, ...(refusedAt ? { refusedAt } : {}) }, judge, options.server);
    } catch (nowError) {
      return unverifiedRepositoryReport(gun, errorInfo(nowError), warnings, options.server);
    }
  }
}

/** Verifies every repository and assembles the report (never throws for a repository's failure). */
export async function collectReport(guns: readonly string[], open: RepositoryOpener, options: CollectOptions = {}): Promise<TrustReport> {
  const now = (options.now ?? (() => new Date()))();
  const at = options.at ?? now;
  const results: RepositoryReport[] = new Array(guns.length);
  let next = 0;
  const worker = async () => {
    while (next < guns.length) {
      const i = next++;
      results[i] = await reportOne(guns[i]!, open, options, at, now);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, guns.length) }, worker));
  return assembleReport(results, { at, warnWithinMs: options.warnWithinMs ?? DEFAULT_WARN_WITHIN_MS, generatedAt: now });
}

export interface TrustReportOptions extends Omit<OpenRepositoryOptions, 'gun' | 'clock' | 'log'>, Omit<CollectOptions, 'server'> {
  readonly guns: readonly string[];
}

/**
 * The library call behind `notary-ts report`: verifies each repository on `server` (Notary's full update
 * workflow, cache in `trustDir`) and returns the report document (docs/report.md). Resolves for every
 * repository outcome; check `exitCode` / `status`.
 */
export async function trustReport(options: TrustReportOptions): Promise<TrustReport> {
  const { guns, at, warnWithinMs, timestampRenewedByServer, now, concurrency, ...openOptions } = options;
  const open: RepositoryOpener = async (gun, clock, log) => {
    const repo = await openRepository({ ...openOptions, gun, clock, log });
    return { repo, close: () => repo.close() };
  };
  const staticDirectory = openOptions.server?.startsWith('file:') ?? false;
  return collectReport(guns, open, {
    ...(at ? { at } : {}),
    ...(warnWithinMs !== undefined ? { warnWithinMs } : {}),
    timestampRenewedByServer: timestampRenewedByServer ?? !staticDirectory,
    ...(openOptions.crypto ? { crypto: openOptions.crypto } : {}),
    ...(now ? { now } : {}),
    ...(openOptions.server ? { server: openOptions.server } : {}),
    ...(concurrency ? { concurrency } : {}),
  });
}
