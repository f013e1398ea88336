/**
 * The trust report's model: a pure function of what the update workflow trusted (and skipped), the time the
 * report is judged at, and the warning window. No IO: the same input gives the same document, so the JSON,
 * the text and the HTML views are all renderings of it (schema: docs/report.md).
 */
import { fromBase64, toHex } from '../core/bytes.js';
import type { WalkReport } from '../core/collection.js';
import type { CryptoBackend } from '../core/crypto.js';
import { canonicalKeyId, keyCertificates, type PublicKeyLike } from '../core/keys.js';
import type { KeyJson, Metadata, TargetsSigned } from '../core/metadata.js';
import { rootRoleKeys } from '../core/root.js';
import { childRoles, type DelegatedRole } from '../core/targets.js';
import { addMonthsUtc, goTimeToDate } from '../core/time.js';
import type { TrustedMetadataSet } from '../core/trusted.js';
import { newVerifyContext, pathAllowed, verifyThreshold } from '../core/verify.js';

export const REPORT_SCHEMA = 'notary-ts/report/v1';

export type Severity = 'critical' | 'warning' | 'notice';
export type RepositoryStatus = 'clear' | 'findings' | 'unverified';

export type FindingKind =
  | 'unverified'
  | 'refused'
  | 'expired'
  | 'threshold-not-met'
  | 'expires-soon'
  | 'certificate-expired'
  | 'certificate-expires-soon'
  | 'certificate-near-end'
  | 'threshold-unreachable'
  | 'tag-not-in-releases'
  | 'timestamp-renewed-by-server'
  | 'stale-metadata';

export interface Finding {
  readonly severity: Severity;
  readonly kind: FindingKind;
  readonly gun: string;
  readonly role?: string;
  readonly tag?: string;
  /** The moment the finding is about (an expiry), ISO 8601 UTC. */
  readonly when?: string;
  /** Seconds from the report's `at` to `when` (negative: already past). */
  readonly secondsLeft?: number;
  readonly message: string;
}

export interface KeyReport {
  /** TUF key ID, as metadata and signatures name it. */
  readonly id: string;
  /** Notary's canonical key ID (for x509 keys, the leaf's bare public key): what `notary` prints. */
  readonly canonicalId: string;
  readonly type: string;
}

export type RoleState = 'trusted' | 'skipped' | 'unpublished' | 'unreachable';

export interface RoleReport {
  readonly role: string;
  readonly kind: 'root' | 'targets' | 'snapshot' | 'timestamp' | 'delegation';
  readonly state: RoleState;
  readonly version?: number;
  readonly expires?: string;
  readonly secondsLeft?: number;
  readonly expired?: boolean;
  readonly threshold: number;
  readonly keys: readonly KeyReport[];
  /** TUF key IDs whose signatures verified (trusted roles; for skipped roles, those that still verify). */
  readonly signedBy?: readonly string[];
  /** Delegations: the paths as the parent lists them, and as restricted by every ancestor. */
  readonly paths?: readonly string[];
  readonly effectivePaths?: readonly string[];
  readonly parent?: string;
  /** Targets the role lists within its effective paths. */
  readonly targetCount?: number;
  /** Why a delegation was skipped (Notary's walk skips it and its subtree). */
  readonly skipped?: { readonly code: string; readonly message: string };
  /** Timestamps are signed by notary-server, which renews them when served expired. */
  readonly renewedByServer?: boolean;
}

export interface CertificateReport {
  /** The role whose key this certificate is (root, or an x509 delegation key). */
  readonly role: string;
  readonly keyId: string;
  readonly canonicalId: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly secondsLeft: number;
  readonly expired: boolean;
  /** False for an old root certificate kept in root.json's keys after a rotation (not used to verify). */
  readonly active: boolean;
}

export interface DelegationNode {
  readonly role: string;
  readonly state: RoleState;
  readonly threshold: number;
  readonly keyIds: readonly string[];
  readonly paths: readonly string[];
  readonly expires?: string;
  readonly secondsLeft?: number;
  readonly targetCount?: number;
  readonly children: readonly DelegationNode[];
}

export interface SignedTag {
  readonly tag: string;
  /** sha256 of the tag's manifest, lowercase hex without `sha256:`. */
  readonly digest: string;
  /** `docker trust inspect`'s view: the delegations (without `targets/`) that signed this digest, or `Repo Admin`. */
  readonly signers: readonly string[];
  /** Every trusted role that lists this tag with this digest. */
  readonly roles: readonly string[];
}

export interface RepositoryReport {
  readonly gun: string;
  readonly server?: string;
  readonly status: RepositoryStatus;
  readonly verified: boolean;
  /** The clock the update workflow ran with. */
  readonly verifiedAt?: string;
  /** Why the repository could not be verified. */
  readonly error?: { readonly code: string; readonly message: string };
  /** The update workflow's refusal as of `at`, when the repository verifies at `verifiedAt` but not then. */
  readonly refusedAt?: { readonly code: string; readonly message: string };
  readonly roles: readonly RoleReport[];
  readonly certificates: readonly CertificateReport[];
  readonly delegations: DelegationNode | null;
  readonly signedTags: readonly SignedTag[];
  /** `docker trust inspect`'s signers (every delegation but targets/releases) and administrative keys. */
  readonly signers: readonly { readonly name: string; readonly keys: readonly string[] }[];
  readonly administrativeKeys: readonly { readonly name: 'Root' | 'Repository'; readonly keys: readonly string[] }[];
  readonly findings: readonly Finding[];
  /** What the update workflow warned about (e.g. a cached timestamp used because the server was unreachable). */
  readonly warnings: readonly string[];
}

export interface TrustReport {
  readonly schema: typeof REPORT_SCHEMA;
  /** When the report was made (wall clock). */
  readonly generatedAt: string;
  /** The time everything is judged at (`--at`; default: generatedAt). */
  readonly at: string;
  readonly warnWithinSeconds: number;
  /** at + warnWithin: expiries before this are findings. */
  readonly windowEnd: string;
  readonly status: RepositoryStatus;
  /** 0 all clear, 1 a finding within the window, 2 a repository could not be verified. */
  readonly exitCode: 0 | 1 | 2;
  readonly counts: { readonly critical: number; readonly warning: number; readonly notice: number };
  /** Every repository's findings, most urgent first. */
  readonly findings: readonly Finding[];
  readonly repositories: readonly RepositoryReport[];
}

export interface JudgeOptions {
  /** The time expiry is judged at. */
  readonly at: Date;
  readonly warnWithinMs: number;
  /** The server renews the timestamp when it serves it (true for notary-server; false for a static directory). */
  readonly timestampRenewedByServer: boolean;
  readonly crypto: CryptoBackend;
}

/** What the update workflow produced for one repository. */
export interface VerifiedRepository {
  readonly set: TrustedMetadataSet;
  readonly skipped: WalkReport['skipped'];
  readonly verifiedAt: Date;
  readonly warnings?: readonly string[];
  readonly refusedAt?: { readonly code: string; readonly message: string };
}

const RELEASED_ROLES = new Set(['targets', 'targets/releases']);
const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, notice: 2 };

function iso(d: Date): string {
  return d.toISOString();
}

function secondsBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / 1000);
}

/** "12 days", "3 hours", "2 years": the larger unit, rounded down; for people, not for parsing. */
export function humanDuration(seconds: number): string {
  const s = Math.abs(seconds);
  const units: [number, string][] = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${s} second${s === 1 ? '' : 's'}`;
}

/** "in 12 days" / "12 days ago". */
export function timeLeftText(seconds: number): string {
  return seconds < 0 ? `expired ${humanDuration(seconds)} ago` : `${humanDuration(seconds)} left`;
}

export function compareFindings(a: Finding, b: Finding): number {
  const bySeverity = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  if (bySeverity !== 0) return bySeverity;
  // Nothing about a repository that cannot be verified can be trusted: that comes before any expiry.
  const whole = (f: Finding) => (f.kind === 'unverified' ? 0 : f.kind === 'refused' ? 1 : 2);
  if (whole(a) !== whole(b)) return whole(a) - whole(b);
  const al = a.secondsLeft ?? Number.POSITIVE_INFINITY;
  const bl = b.secondsLeft ?? Number.POSITIVE_INFINITY;
  if (al !== bl) return al < bl ? -1 : 1;
  if (a.gun !== b.gun) return a.gun < b.gun ? -1 : 1;
  const ar = a.role ?? '';
  const br = b.role ?? '';
  if (ar !== br) return ar < br ? -1 : 1;
  return (a.tag ?? '') < (b.tag ?? '') ? -1 : (a.tag ?? '') > (b.tag ?? '') ? 1 : 0;
}

/** Docker sorts tags in natural order (digit runs compared as numbers). */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function keyReports(ids: readonly string[], keys: Readonly<Record<string, KeyJson>> | ReadonlyMap<string, PublicKeyLike> | null | undefined, crypto: CryptoBackend): KeyReport[] {
  const get = (id: string): PublicKeyLike | undefined =>
    keys instanceof Map ? keys.get(id) : (keys as Readonly<Record<string, KeyJson>> | null | undefined)?.[id];
  return ids.map((id) => {
    const key = get(id);
    let canonicalId = id;
    if (key) {
      try {
        canonicalId = canonicalKeyId(key, crypto);
      } catch {
        canonicalId = id; // a key Notary cannot decode keeps its TUF ID
      }
    }
    return { id, canonicalId, type: key?.keytype ?? 'unknown' };
  });
}

function countTargets(signed: TargetsSigned, paths: readonly string[]): number {
  let n = 0;
  for (const name in signed.targets ?? {}) if (pathAllowed(paths, name)) n++;
  return n;
}

function sha256HexOf(hashes: Readonly<Record<string, string>> | null | undefined): string | undefined {
  const b64 = hashes?.['sha256'];
  const bytes = b64 === undefined ? undefined : fromBase64(b64);
  return bytes ? toHex(bytes) : undefined;
}

interface Expiry {
  readonly expires: string;
  readonly secondsLeft: number;
  readonly expired: boolean;
}

function expiryOf(md: Metadata, at: Date): Expiry {
  const date = goTimeToDate(md.expires);
  const secondsLeft = secondsBetween(at, date);
  return { expires: iso(date), secondsLeft, expired: date.getTime() < at.getTime() };
}

/** Builds one repository's report from what the workflow trusted. Pure. */
export function buildRepositoryReport(gun: string, verified: VerifiedRepository, options: JudgeOptions, server?: string): RepositoryReport {
  const { at, crypto } = options;
  const windowEnd = new Date(at.getTime() + options.warnWithinMs);
  const set = verified.set;
  const ctx = newVerifyContext(crypto);
  const root = set.root;
  const findings: Finding[] = [];
  const roles: RoleReport[] = [];
  const add = (f: Omit<Finding, 'gun'>) => findings.push({ gun, ...f });

  const judgeExpiry = (role: string, e: Expiry, renewedByServer = false) => {
    const base = { role, when: e.expires, secondsLeft: e.secondsLeft };
    if (renewedByServer) {
      if (e.expired) add({ severity: 'notice', kind: 'timestamp-renewed-by-server', ...base, message: `${role} expired ${humanDuration(e.secondsLeft)} before ${iso(at)}; notary-server signs a new one when it is requested` });
      return;
    }
    if (e.expired) add({ severity: 'critical', kind: 'expired', ...base, message: `${role} expired at ${e.expires}: clients refuse it` });
    else if (new Date(e.expires).getTime() < windowEnd.getTime()) add({ severity: 'warning', kind: 'expires-soon', ...base, message: `${role} expires at ${e.expires} (${humanDuration(e.secondsLeft)} left)` });
  };

  // Top-level roles.
  const topLevel = (name: 'root' | 'targets' | 'snapshot' | 'timestamp', md: Metadata | undefined, signedBy: readonly string[] | undefined) => {
    const keys = rootRoleKeys(root.signed, name);
    const ids = root.signed.roles?.[name]?.keyids ?? [];
    const e = md ? expiryOf(md, at) : undefined;
    const renewed = name === 'timestamp' && options.timestampRenewedByServer;
    roles.push({
      role: name,
      kind: name,
      state: md ? 'trusted' : 'unpublished',
      ...(md ? { version: md.version } : {}),
      ...(e ?? {}),
      threshold: keys.threshold,
      keys: keyReports(ids, root.signed.keys, crypto),
      ...(signedBy ? { signedBy: [...signedBy].sort() } : {}),
      ...(name === 'timestamp' ? { renewedByServer: renewed } : {}),
    });
    if (e) judgeExpiry(name, e, renewed);
  };
  const signersOf = (md: Metadata | undefined, name: string): string[] | undefined => {
    if (!md) return undefined;
    try {
      return verifyThreshold(md, rootRoleKeys(root.signed, name), ctx);
    } catch {
      return undefined;
    }
  };
  topLevel('root', root, set.rootSigners);
  topLevel('targets', set.targets?.metadata, set.targets?.signers);
  topLevel('snapshot', set.snapshot, signersOf(set.snapshot, 'snapshot'));
  topLevel('timestamp', set.timestamp, signersOf(set.timestamp, 'timestamp'));

  // Certificates: root's (active ones judged as Notary does), and those of x509 delegation keys.
  const certificates: CertificateReport[] = [];
  const activeRootIds = new Set(root.signed.roles?.['root']?.keyids ?? []);
  const certOf = (role: string, id: string, key: PublicKeyLike, active: boolean) => {
    if (!key.keytype.endsWith('-x509')) return;
    let leaf;
    try {
      leaf = keyCertificates(key)[0];
    } catch {
      return;
    }
    if (!leaf) return;
    const secondsLeft = secondsBetween(at, leaf.notAfter);
    certificates.push({
      role,
      keyId: id,
      canonicalId: keyReports([id], new Map([[id, key]]), crypto)[0]!.canonicalId,
      subject: leaf.subjectCommonName,
      issuer: leaf.issuerCommonName,
      notBefore: iso(leaf.notBefore),
      notAfter: iso(leaf.notAfter),
      secondsLeft,
      expired: leaf.notAfter.getTime() < at.getTime(),
      active,
    });
  };
  for (const [id, key] of Object.entries(root.signed.keys ?? {})) {
    const isRootKey = activeRootIds.has(id) || !Object.values(root.signed.roles ?? {}).some((r) => r?.keyids?.includes(id));
    if (isRootKey) certOf('root', id, key, activeRootIds.has(id));
  }

  // Delegations: the tree as the trusted (and skipped) files describe it.
  const skippedByRole = new Map(verified.skipped.map((s) => [s.role, s]));
  const nodeFor = (role: DelegatedRole, rawPaths: readonly string[] | undefined, parent: string, parentState: RoleState, ids: readonly string[], parentSigned: TargetsSigned): DelegationNode => {
    const trusted = set.roles.get(role.name);
    const skipped = skippedByRole.get(role.name);
    const state: RoleState = parentState === 'skipped' || parentState === 'unreachable' ? 'unreachable' : trusted ? 'trusted' : skipped ? 'skipped' : 'unpublished';
    const md = trusted?.metadata ?? skipped?.metadata;
    const e = md ? expiryOf(md, at) : undefined;
    const keys = keyReports(ids, parentSigned.delegations?.keys, crypto);
    for (const k of ids) {
      const key = parentSigned.delegations?.keys?.[k];
      if (key) certOf(role.name, k, key, true);
    }
    let signedBy: string[] | undefined = trusted ? [...trusted.signers] : undefined;
    if (!trusted && skipped?.metadata) {
      // Which keys still sign it: shows how far below the threshold a skipped role is.
      const valid: string[] = [];
      for (const [id, key] of role.keys) {
        try {
          verifyThreshold(skipped.metadata, { name: role.name, keys: new Map([[id, key]]), threshold: 1 }, ctx);
          valid.push(id);
        } catch {
          /* not this key */
        }
      }
      signedBy = valid;
    }
    const targetCount = md ? countTargets(md.signed, role.paths) : undefined;
    roles.push({
      role: role.name,
      kind: 'delegation',
      state,
      ...(md ? { version: md.version } : {}),
      ...(e ?? {}),
      threshold: role.threshold,
      keys,
      ...(signedBy ? { signedBy: signedBy.sort() } : {}),
      paths: [...(rawPaths ?? [])],
      effectivePaths: [...role.paths],
      parent,
      ...(targetCount !== undefined ? { targetCount } : {}),
      ...(skipped ? { skipped: { code: skipped.error.code, message: skipped.error.message } } : {}),
    });
    if (state === 'trusted' && e) judgeExpiry(role.name, e);
    if (state === 'skipped' && skipped) {
      const expiredSkip = skipped.error.code === 'EXPIRED';
      add({
        severity: 'critical',
        kind: expiredSkip ? 'expired' : 'threshold-not-met',
        role: role.name,
        ...(e ? { when: e.expires, secondsLeft: e.secondsLeft } : {}),
        message: expiredSkip
          ? `${role.name} expired at ${e?.expires ?? '?'}: skipped with its subtree, its targets are not trusted`
          : `${role.name} is signed by ${signedBy?.length ?? 0} of the ${role.threshold} keys it needs: skipped with its subtree, its targets are not trusted`,
      });
    }
    if (state === 'unpublished' && role.threshold > role.keys.size) {
      add({ severity: 'warning', kind: 'threshold-unreachable', role: role.name, message: `${role.name} needs ${role.threshold} signatures but lists ${role.keys.size} key(s): it can never be signed` });
    }
    const children: DelegationNode[] = [];
    if (md) {
      const rawByName = new Map((md.signed.delegations?.roles ?? []).map((r) => [r.name, r]));
      for (const child of childRoles(role, md.signed)) {
        const raw = rawByName.get(child.name);
        children.push(nodeFor(child, raw?.paths ?? undefined, role.name, state, raw?.keyids ?? [], md.signed));
      }
    }
    return {
      role: role.name,
      state,
      threshold: role.threshold,
      keyIds: keys.map((k) => k.canonicalId),
      paths: [...role.paths],
      ...(e ? { expires: e.expires, secondsLeft: e.secondsLeft } : {}),
      ...(targetCount !== undefined ? { targetCount } : {}),
      children,
    };
  };
  let delegations: DelegationNode | null = null;
  const top = set.targets;
  if (top) {
    const rawByName = new Map((top.metadata.signed.delegations?.roles ?? []).map((r) => [r.name, r]));
    const children = childRoles(top.role, top.metadata.signed).map((c) => {
      const raw = rawByName.get(c.name);
      return nodeFor(c, raw?.paths ?? undefined, 'targets', 'trusted', raw?.keyids ?? [], top.metadata.signed);
    });
    const e = expiryOf(top.metadata, at);
    delegations = {
      role: 'targets',
      state: 'trusted',
      threshold: top.role.threshold,
      keyIds: keyReports(root.signed.roles?.['targets']?.keyids ?? [], root.signed.keys, crypto).map((k) => k.canonicalId),
      paths: [''],
      expires: e.expires,
      secondsLeft: e.secondsLeft,
      targetCount: countTargets(top.metadata.signed, ['']),
      children,
    };
  }

  // Root certificates: Notary refuses an expired one, and warns when one ends within six months.
  const sixMonths = addMonthsUtc(at, 6);
  for (const c of certificates) {
    const base = { role: c.role, when: c.notAfter, secondsLeft: c.secondsLeft };
    const rootCert = c.role === 'root';
    if (rootCert && !c.active) continue; // kept after a rotation, verifies nothing
    const what = rootCert ? `root certificate ${c.keyId.slice(0, 12)} (CN ${c.subject})` : `${c.role} key certificate ${c.canonicalId.slice(0, 12)} (CN ${c.subject})`;
    const notAfter = new Date(c.notAfter).getTime();
    if (c.expired) {
      add(rootCert
        ? { severity: 'critical', kind: 'certificate-expired', ...base, message: `${what} expired at ${c.notAfter}: Notary no longer accepts it to sign root` }
        : { severity: 'notice', kind: 'certificate-expired', ...base, message: `${what} expired at ${c.notAfter} (Notary does not check delegation certificate dates)` });
    } else if (notAfter < windowEnd.getTime()) {
      add({ severity: rootCert ? 'warning' : 'notice', kind: 'certificate-expires-soon', ...base, message: `${what} expires at ${c.notAfter} (${humanDuration(c.secondsLeft)} left)` });
    } else if (rootCert && notAfter < sixMonths.getTime()) {
      add({ severity: 'notice', kind: 'certificate-near-end', ...base, message: `${what} expires at ${c.notAfter}, within six months (Notary warns from now on)` });
    }
  }

  // Signed tags, as `docker trust inspect` matches them: released (tag, digest) pairs in targets or
  // targets/releases, signed by the other roles that list the same pair.
  const byPair = new Map<string, { tag: string; digest: string; roles: string[] }>();
  for (const trusted of set.roles.values()) {
    const name = trusted.role.name;
    for (const tag in trusted.metadata.signed.targets ?? {}) {
      if (!pathAllowed(trusted.role.paths, tag)) continue;
      const digest = sha256HexOf(trusted.metadata.signed.targets![tag]!.hashes);
      if (digest === undefined) continue;
      const key = `${tag}\u0000${digest}`;
      let entry = byPair.get(key);
      if (!entry) byPair.set(key, (entry = { tag, digest, roles: [] }));
      entry.roles.push(name);
    }
  }
  const signedTags: SignedTag[] = [];
  for (const entry of byPair.values()) {
    if (!entry.roles.some((r) => RELEASED_ROLES.has(r))) continue;
    const signers = [...new Set(entry.roles.filter((r) => !RELEASED_ROLES.has(r)).map((r) => r.slice('targets/'.length)))].sort();
    signedTags.push({ tag: entry.tag, digest: entry.digest, signers: signers.length ? signers : ['Repo Admin'], roles: [...entry.roles].sort() });
  }
  signedTags.sort((a, b) => naturalCompare(a.tag, b.tag) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  if (set.roles.has('targets/releases')) {
    const inReleases = new Set(signedTags.filter((t) => t.roles.includes('targets/releases')).map((t) => `${t.tag}\u0000${t.digest}`));
    for (const t of signedTags) {
      if (t.roles.includes('targets') && !inReleases.has(`${t.tag}\u0000${t.digest}`)) {
        add({ severity: 'warning', kind: 'tag-not-in-releases', role: 'targets', tag: t.tag, message: `tag ${t.tag} (sha256:${t.digest.slice(0, 12)}) is signed in targets but not in targets/releases: only the repository key vouches for it` });
      }
    }
  }

  const delegationRoles = roles.filter((r) => r.kind === 'delegation');
  const signers = delegationRoles
    .filter((r) => r.role !== 'targets/releases')
    .map((r) => ({ name: r.role.slice('targets/'.length), keys: [...new Set(r.keys.map((k) => k.canonicalId))].sort() }))
    .sort((a, b) => naturalCompare(a.name, b.name));
  const administrativeKeys = [
    { name: 'Root' as const, keys: [...(root.signed.roles?.['root']?.keyids ?? [])].sort() },
    { name: 'Repository' as const, keys: keyReports(root.signed.roles?.['targets']?.keyids ?? [], root.signed.keys, crypto).map((k) => k.canonicalId).sort() },
  ];

  const warnings = [...(verified.warnings ?? [])];
  if (warnings.some((w) => w.includes('using cached timestamp'))) {
    add({ severity: 'notice', kind: 'stale-metadata', message: 'the server could not be reached: the cached timestamp was used, newer trust data may exist' });
  }
  if (verified.refusedAt) {
    add({ severity: 'critical', kind: 'refused', message: `as of ${iso(at)} the update workflow refuses this repository: ${verified.refusedAt.message}` });
  }
  findings.sort(compareFindings);
  const status: RepositoryStatus = findings.some((f) => f.severity !== 'notice') ? 'findings' : 'clear';
  return {
    gun,
    ...(server ? { server } : {}),
    status,
    verified: true,
    verifiedAt: iso(verified.verifiedAt),
    ...(verified.refusedAt ? { refusedAt: verified.refusedAt } : {}),
    roles,
    certificates,
    delegations,
    signedTags,
    signers,
    administrativeKeys,
    findings,
    warnings,
  };
}

/** A repository the update workflow refused: reported as such, never as clear. */
export function unverifiedRepositoryReport(gun: string, error: { code: string; message: string }, warnings: readonly string[] = [], server?: string): RepositoryReport {
  return {
    gun,
    ...(server ? { server } : {}),
    status: 'unverified',
    verified: false,
    error: { code: error.code, message: error.message },
    roles: [],
    certificates: [],
    delegations: null,
    signedTags: [],
    signers: [],
    administrativeKeys: [],
    findings: [{ severity: 'critical', kind: 'unverified', gun, message: `could not verify ${gun}: ${error.message}` }],
    warnings: [...warnings],
  };
}

/** The whole document: repositories in the order given, findings merged and ranked, the exit code. */
export function assembleReport(repositories: readonly RepositoryReport[], options: { at: Date; warnWithinMs: number; generatedAt: Date }): TrustReport {
  const findings = repositories.flatMap((r) => r.findings).sort(compareFindings);
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const status: RepositoryStatus = repositories.some((r) => r.status === 'unverified') ? 'unverified' : repositories.some((r) => r.status === 'findings') ? 'findings' : 'clear';
  return {
    schema: REPORT_SCHEMA,
    generatedAt: iso(options.generatedAt),
    at: iso(options.at),
    warnWithinSeconds: Math.floor(options.warnWithinMs / 1000),
    windowEnd: iso(new Date(options.at.getTime() + options.warnWithinMs)),
    status,
    exitCode: status === 'unverified' ? 2 : status === 'findings' ? 1 : 0,
    counts: { critical: count('critical'), warning: count('warning'), notice: count('notice') },
    findings,
    repositories,
  };
}

/**
 * `--warn-within`: Go durations (`720h`, `1h30m`) plus days, weeks and years (`30d`, `2w`, `1y` = 365 days).
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseWindow(text: string): number | undefined {
  const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(s|m|h|d|w|y))+$/.test(t)) return t === '0' ? 0 : undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(s|m|h|d|w|y)/g)) ms += Number(m[1]) * units[m[2]!]!;
  return Math.round(ms);
}

/**
 * `--at`: an RFC 3339 time (`2027-01-01T00:00:00Z`), a date (`2027-01-01`, midnight UTC), or an offset from
 * now (`+90d`, `-1y`, units as parseWindow). Undefined when unreadable.
 */
export function parseAt(text: string, now: Date): Date | undefined {
  const t = text.trim();
  const rel = /^([+-])(.+)$/.exec(t);
  if (rel) {
    const ms = parseWindow(rel[2]!);
    return ms === undefined ? undefined : new Date(now.getTime() + (rel[1] === '-' ? -ms : ms));
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const d = new Date(`${t}T00:00:00Z`);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(t)) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
