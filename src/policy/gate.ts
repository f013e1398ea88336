/**
 * The deploy gate: "may this image run, and which digest is it?" — a policy, Notary's full update workflow
 * per repository, and the pure decision (evaluate.ts). Trust data is reused across decisions (a long-running
 * webhook asks for the same repositories again and again): a verified repository is kept for the policy's
 * refresh interval and never past the earliest expiry among its roles, then updated again from the warm
 * trust dir; identical concurrent updates are coalesced. Every call settles with a Decision; failures
 * inside are refusals, never exceptions.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { CryptoBackend } from '../core/crypto.js';
import { NotaryError } from '../core/errors.js';
import type { TrustPinning } from '../core/root.js';
import type { TrustedMetadataSet } from '../core/trusted.js';
import type { WalkReport } from '../core/collection.js';
import { nodeCryptoBackend } from '../crypto/node.js';
import { openRepository } from '../repository/open.js';
import type { ReaderLogger, TrustedRepository } from '../repository/reader.js';
import { parseNormalizedNamed, type ImageReference } from '../images/reference.js';
import { resolveTrustTarget, trustDirectory } from '../images/trust-settings.js';
import type { RemoteTlsOptions } from '../node/remote.js';
import { evaluateRule, pinnedKeyIds, type TrustedImage } from './evaluate.js';
import { parsePolicy, PolicyError, ruleFor, type Action, type Policy, type Rule } from './policy.js';

export interface Decision {
  /** The image as asked. */
  readonly image: string;
  /** Whether it may run (a `warn` rule allows what it could not verify). */
  readonly allowed: boolean;
  readonly rule: string;
  readonly action: Action;
  /** The normalised repository name, when the reference parsed. */
  readonly name?: string;
  /** Present when verification succeeded: the digest and who signed it. */
  readonly verified?: TrustedImage;
  /** `name@sha256:…` to run instead of the tag, when verified. */
  readonly pinned?: string;
  /** Why verification failed (for `deny`/`enforce` the refusal; for `warn` the warning). */
  readonly error?: { readonly code: string; readonly message: string; readonly where?: string };
  /** Whether the trust data came from the gate's in-memory cache. */
  readonly cached: boolean;
}

export interface GateOptions {
  readonly policy: Policy;
  /** Environment for DOCKER_CONFIG / DOCKER_CONTENT_TRUST_SERVER / HOME (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Judge expiry and freshness as of this time (audits); default now. */
  readonly clock?: () => Date;
  readonly crypto?: CryptoBackend;
  readonly log?: ReaderLogger;
  /** Relative paths in the policy resolve against this directory (the policy file's). */
  readonly baseDir?: string;
}

interface CacheEntry {
  readonly repo: TrustedRepository;
  readonly skipped: WalkReport['skipped'];
  readonly validUntil: number;
}

function errorOf(err: unknown): { code: string; message: string; where?: string } {
  if (err instanceof NotaryError) return { code: err.code, message: err.message, ...(err.where !== undefined ? { where: err.where } : {}) };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export class Gate {
  readonly policy: Policy;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly crypto: CryptoBackend;
  private readonly clock: () => Date;
  private readonly baseDir: string;
  private readonly repos = new Map<string, CacheEntry>();
  private readonly opening = new Map<string, Promise<CacheEntry>>();
  private readonly pins = new Map<Rule, Promise<ReadonlySet<string>>>();
  private readonly files = new Map<string, Promise<Uint8Array>>();
  private closed = false;
  /** Decisions answered from cached trust data, and those that had to update it. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly options: GateOptions) {
    this.policy = options.policy;
    this.env = options.env ?? process.env;
    this.crypto = options.crypto ?? nodeCryptoBackend;
    this.clock = options.clock ?? (() => new Date());
    this.baseDir = options.baseDir ?? process.cwd();
  }

  private path(p: string): string {
    const home = this.env['HOME'] || homedir();
    const expanded = p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
    return isAbsolute(expanded) ? expanded : resolve(this.baseDir, expanded);
  }

  private file(p: string): Promise<Uint8Array> {
    const full = this.path(p);
    let f = this.files.get(full);
    if (!f) {
      f = readFile(full).then(
        (b) => new Uint8Array(b),
        (err: NodeJS.ErrnoException) => {
          throw new PolicyError('POLICY_INVALID', `cannot read ${full}: ${err.code ?? err.message}`, { where: full });
        },
      );
      f.catch(() => {});
      this.files.set(full, f);
    }
    return f;
  }

  private pinned(rule: Rule): Promise<ReadonlySet<string>> | undefined {
    if (rule.root.kind !== 'keys') return undefined;
    let p = this.pins.get(rule);
    if (!p) {
      const keys = rule.root.keys;
      p = Promise.all(keys.map(async (k) => (k.includes('-----BEGIN') || /^[0-9a-f]{64}$/.test(k.trim()) ? k : new TextDecoder().decode(await this.file(k))))).then((texts) =>
        pinnedKeyIds(texts, this.crypto),
      );
      p.catch(() => {});
      this.pins.set(rule, p);
    }
    return p;
  }

  private trustDir(): string {
    return this.policy.trustDir ? this.path(this.policy.trustDir) : trustDirectory(this.env);
  }

  private async trustPinning(rule: Rule): Promise<TrustPinning | undefined> {
    if (rule.root.kind !== 'pinning') return undefined;
    const ca: Record<string, Uint8Array> = {};
    for (const [prefix, file] of Object.entries(rule.root.ca)) ca[prefix] = await this.file(file);
    return { certs: rule.root.certs, ca, disableTofu: true };
  }

  /** The rule's server and TLS settings; without a server, docker's choice for the registry (and its TLS dir). */
  private async endpoint(rule: Rule, ref: ImageReference): Promise<{ server: string; tls?: RemoteTlsOptions }> {
    if (rule.server) {
      if (!rule.tls) return { server: rule.server };
      return {
        server: rule.server,
        tls: {
          ...(rule.tls.ca ? { ca: await this.file(rule.tls.ca) } : {}),
          ...(rule.tls.cert ? { cert: await this.file(rule.tls.cert) } : {}),
          ...(rule.tls.key ? { key: await this.file(rule.tls.key) } : {}),
        },
      };
    }
    const target = await resolveTrustTarget(ref, this.env);
    return { server: target.serverUrl, tls: target.tls };
  }

  private async open(rule: Rule, ref: ImageReference): Promise<{ entry: CacheEntry; cached: boolean }> {
    // Per rule: rules may differ in server, TLS settings and trust pinning for the same repository.
    const key = `${ref.name}\u0000${rule.source}`;
    const now = Date.now();
    const hit = this.repos.get(key);
    if (hit && hit.validUntil > now) {
      this.stats.hits++;
      return { entry: hit, cached: true };
    }
    let pending = this.opening.get(key);
    if (!pending) {
      this.stats.misses++;
      pending = (async () => {
        if (hit) {
          // Due: ask for the timestamp only; the rest is fetched again only if it changed (or expired).
          try {
            const changed = await hit.repo.refresh();
            const skipped = changed ? (await hit.repo.loadAll()).skipped : hit.skipped;
            const entry: CacheEntry = { repo: hit.repo, skipped, validUntil: Math.min(Date.now() + this.policy.refreshMs, earliestExpiry(hit.repo.trusted)) };
            this.repos.set(key, entry);
            return entry;
          } catch (err) {
            this.repos.delete(key);
            await hit.repo.close().catch(() => {});
            throw err;
          }
        }
        const trustPinning = await this.trustPinning(rule);
        const { server, tls } = await this.endpoint(rule, ref);
        const repo = await openRepository({
          gun: ref.name,
          server,
          trustDir: this.trustDir(),
          crypto: this.crypto,
          clock: this.clock,
          ...(trustPinning ? { trustPinning } : {}),
          ...(tls ? { tls } : {}),
          ...(this.options.log ? { log: this.options.log } : {}),
        });
        try {
          const report = await repo.loadAll();
          const entry: CacheEntry = { repo, skipped: report.skipped, validUntil: Math.min(Date.now() + this.policy.refreshMs, earliestExpiry(repo.trusted)) };
          const old = this.repos.get(key);
          this.repos.set(key, entry);
          if (old && old.repo !== repo) void old.repo.close().catch(() => {});
          return entry;
        } catch (err) {
          await repo.close().catch(() => {});
          throw err;
        }
      })();
      this.opening.set(key, pending);
      pending.then(
        () => this.opening.delete(key),
        () => this.opening.delete(key),
      );
    } else {
      this.stats.hits++;
    }
    return { entry: await pending, cached: false };
  }

  /** Decides one image. Never throws: a failure is a refusal (or, under a `warn` rule, a warning). */
  async decide(image: string): Promise<Decision> {
    let ref: ImageReference;
    try {
      if (this.closed) throw new NotaryError('INVALID_ARGUMENT', 'the gate is closed');
      ref = parseNormalizedNamed(image);
    } catch (err) {
      const rule = this.policy.default;
      return { image, allowed: false, rule: rule.name, action: rule.action, error: errorOf(err), cached: false };
    }
    // No tag and no digest means latest, for rule matching as for the lookup.
    const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
    const rule = ruleFor(this.policy, ref.name, tag);
    const base = { image, rule: rule.name, action: rule.action, name: ref.name };
    if (rule.action === 'allow') return { ...base, allowed: true, cached: false };
    if (rule.action === 'deny') {
      return { ...base, allowed: false, cached: false, error: { code: 'POLICY_DENIED', message: `images matching ${rule.name} are denied by policy` } };
    }
    let cached = false;
    try {
      const pinned = await this.pinned(rule);
      const { entry, cached: wasCached } = await this.open(rule, ref);
      cached = wasCached;
      const verified = evaluateRule(
        rule,
        { name: ref.name, ...(tag !== undefined ? { tag } : {}), ...(ref.digest !== undefined ? { digest: ref.digest } : {}) },
        entry.repo.trusted,
        { crypto: this.crypto, at: this.clock(), skipped: entry.skipped, ...(pinned ? { pinnedRootKeys: await pinned } : {}) },
      );
      return { ...base, allowed: true, verified, pinned: `${ref.name}@${verified.digest}`, cached };
    } catch (err) {
      return { ...base, allowed: rule.action === 'warn', error: errorOf(err), cached };
    }
  }

  /** Releases every cached repository's connections. */
  async close(): Promise<void> {
    this.closed = true;
    // Updates still running (a stalled server) are not waited for: each closes its connections when it settles.
    for (const p of this.opening.values()) p.then((e) => e.repo.close(), () => {}).catch(() => {});
    await Promise.allSettled([...this.repos.values()].map((e) => e.repo.close()));
    this.repos.clear();
  }
}

function earliestExpiry(set: TrustedMetadataSet): number {
  return Math.min(...set.files().map(([, md]) => md.expires.unixSeconds * 1000));
}

/** Reads and parses a policy file; errors are PolicyError naming the file. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyError('POLICY_INVALID', `cannot read policy ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { where: file });
  }
  return parsePolicy(text, file);
}
