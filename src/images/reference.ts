/**
 * Docker image references: the grammar and normalisation of distribution/reference (v0.6, as vendored by the
 * docker CLI 28.x), with docker's error wording. Pure: no IO, no Node modules.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] remote-name
 *   domain     := host [":" port]          host: domain-name | "[" IPv6 "]"; domain names may be upper case
 *   remote-name:= path-component ("/" path-component)*   path-component: [a-z0-9]+ (([._]|__|-+)[a-z0-9]+)*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex{32,}   then validated as go-digest does (sha256/384/512, exact length)
 *
 * Normalisation (`parseNormalizedNamed`, docker's `reference.ParseNormalizedNamed`): the first path element is
 * a registry domain when it contains `.` or `:`, is `localhost`, or has upper case; otherwise the domain is
 * `docker.io`; `index.docker.io` becomes `docker.io`; a one-element name on Docker Hub gets `library/`.
 * The normalised repository name (`docker.io/library/alpine`) is the GUN Docker Content Trust uses.
 *
 * Errors are ImageReferenceError (code INVALID_ARGUMENT) whose message is docker's, byte for byte, e.g.
 * `invalid reference format`, `invalid reference format: repository name (library/Alpine) must be lowercase`,
 * `invalid checksum digest format`. These strings were checked against `docker trust inspect` 28.2.2.
 */
import { NotaryError } from '../core/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
/** distribution/reference NameTotalLengthMax, applied (v0.6) to the path without the domain. */
export const NAME_TOTAL_LENGTH_MAX = 255;

/** Docker's error strings (distribution/reference and go-digest), exported so callers can compare. */
export const REFERENCE_ERRORS = {
  invalidFormat: 'invalid reference format',
  tagInvalidFormat: 'invalid tag format',
  digestInvalidFormat: 'invalid checksum digest format',
  digestInvalidLength: 'invalid checksum digest length',
  digestUnsupported: 'unsupported digest algorithm',
  nameContainsUppercase: 'repository name must be lowercase',
  nameEmpty: 'repository name must have at least one component',
  nameTooLong: `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
  nameNotCanonical: 'repository name must be canonical',
} as const;

/** A reference that docker would refuse; `message` is docker's wording. */
export class ImageReferenceError extends NotaryError {
  constructor(message: string, readonly input: string) {
    super('INVALID_ARGUMENT', message, { where: input });
  }
}

/** A parsed, normalised image reference. All fields are plain strings so it serialises as JSON. */
export interface ImageReference {
  /** Registry domain with optional port as written (`docker.io`, `localhost:5000`, `[::1]:5000`). */
  readonly domain: string;
  /** Repository path on the registry (`library/alpine`, `team/app`). */
  readonly path: string;
  /** `domain/path`: the fully qualified repository name, which is the Notary GUN. */
  readonly name: string;
  /** The tag, when the reference has one. */
  readonly tag?: string;
  /** The digest (`sha256:<hex>`), when the reference has one. */
  readonly digest?: string;
}

// ---- the grammar, built as distribution/reference builds it -------------------------------------------------

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_TAG_RE = new RegExp(`^${tagPat}$`);
const ANCHORED_DOMAIN_RE = new RegExp(`^${domainAndPort}$`);
const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** go-digest's DigestRegexp, used only to choose between "unsupported" and "invalid format". */
const GO_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Longer input cannot be a valid reference (name ≤ 255, tag ≤ 128, the longest supported digest is sha512);
 * refusing it early keeps the backtracking regular expressions linear in practice.
 */
const MAX_INPUT = 1024;

/** go-digest's `Digest.Validate`: throws docker's message, returns nothing when valid. */
export function validateDigest(digest: string, input: string = digest): void {
  const i = digest.indexOf(':');
  if (i <= 0 || i + 1 === digest.length) throw new ImageReferenceError(REFERENCE_ERRORS.digestInvalidFormat, input);
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  const size = Object.prototype.hasOwnProperty.call(DIGEST_HEX_LENGTH, algorithm) ? DIGEST_HEX_LENGTH[algorithm] : undefined;
  if (size === undefined) {
    throw new ImageReferenceError(GO_DIGEST_RE.test(digest) ? REFERENCE_ERRORS.digestUnsupported : REFERENCE_ERRORS.digestInvalidFormat, input);
  }
  if (encoded.length !== size) throw new ImageReferenceError(REFERENCE_ERRORS.digestInvalidLength, input);
  if (!/^[a-f0-9]+$/.test(encoded)) throw new ImageReferenceError(REFERENCE_ERRORS.digestInvalidFormat, input);
}

function make(domain: string, path: string, tag: string | undefined, digest: string | undefined): ImageReference {
  const ref: { domain: string; path: string; name: string; tag?: string; digest?: string } = {
    domain,
    path,
    name: domain === '' ? path : `${domain}/${path}`,
  };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * distribution/reference `Parse`: the grammar only, no normalisation (`alpine` stays domain '' and path
 * `alpine`). Most callers want `parseNormalizedNamed`.
 */
export function parseReference(s: string): ImageReference {
  const m = s.length <= MAX_INPUT ? REFERENCE_RE.exec(s) : null;
  if (m === null) {
    if (s === '') throw new ImageReferenceError(REFERENCE_ERRORS.nameEmpty, s);
    if (s.length <= MAX_INPUT && REFERENCE_RE.test(s.toLowerCase())) throw new ImageReferenceError(REFERENCE_ERRORS.nameContainsUppercase, s);
    throw new ImageReferenceError(REFERENCE_ERRORS.invalidFormat, s);
  }
  const name = m[1]!;
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm ? nm[2]! : name;
  // v0.6 limits the path (the domain is not counted), whatever the constant's name suggests
  if (path.length > NAME_TOTAL_LENGTH_MAX) throw new ImageReferenceError(REFERENCE_ERRORS.nameTooLong, s);
  const tag = m[2] === undefined || m[2] === '' ? undefined : m[2];
  const digest = m[3] === undefined || m[3] === '' ? undefined : m[3];
  if (digest !== undefined) validateDigest(digest, s);
  return make(domain, path, tag, digest);
}

/** distribution/reference `splitDockerDomain` (v0.6 rules: `localhost` and upper case mark a domain). */
export function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  if (maybeDomain === 'localhost') [domain, remainder] = [maybeDomain, maybeRemote];
  else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) [domain, remainder] = [DEFAULT_DOMAIN, maybeRemote];
  else if (/[.:]/.test(maybeDomain)) [domain, remainder] = [maybeDomain, maybeRemote];
  else if (maybeDomain.toLowerCase() !== maybeDomain) [domain, remainder] = [maybeDomain, maybeRemote];
  else [domain, remainder] = [DEFAULT_DOMAIN, name];
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * docker's `reference.ParseNormalizedNamed`: what `docker pull`, `docker trust …` accept. Returns the
 * normalised reference (domain always set) or throws ImageReferenceError with docker's message.
 */
export function parseNormalizedNamed(s: string): ImageReference {
  if (ANCHORED_IDENTIFIER_RE.test(s)) {
    throw new ImageReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`, s);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new ImageReferenceError(`invalid reference format: repository name (${remote}) must be lowercase`, s);
  }
  try {
    return parseReference(`${domain}/${remainder}`);
  } catch (err) {
    // Same message, but `input` names what the caller gave rather than the normalised string.
    if (err instanceof ImageReferenceError) throw new ImageReferenceError(err.message, s);
    throw err;
  }
}

/** Like parseNormalizedNamed, but returns an error instead of throwing. */
export function tryParseNormalizedNamed(s: string): { ok: true; reference: ImageReference } | { ok: false; error: ImageReferenceError } {
  try {
    return { ok: true, reference: parseNormalizedNamed(s) };
  } catch (err) {
    if (err instanceof ImageReferenceError) return { ok: false, error: err };
    throw err;
  }
}

/** The Notary GUN of a reference: its fully qualified repository name (tag and digest dropped). */
export function gunOf(ref: ImageReference): string {
  return ref.name;
}

/** `domain/path[:tag][@digest]`, fully qualified (docker's `String()` of a normalised reference). */
export function referenceString(ref: ImageReference): string {
  return ref.name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** docker's `reference.FamiliarName`: `alpine` for `docker.io/library/alpine`, `user/app` for Hub users. */
export function familiarName(ref: Pick<ImageReference, 'domain' | 'path'>): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** docker's `reference.FamiliarString`: the familiar name with tag and digest. */
export function familiarString(ref: ImageReference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** A tag as docker accepts it (`[\w][\w.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag);
}

/** docker's `reference.WithTag`: the same repository with `tag` (any digest kept). */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!isValidTag(tag)) throw new ImageReferenceError(REFERENCE_ERRORS.tagInvalidFormat, tag);
  return make(ref.domain, ref.path, tag, ref.digest);
}

/** docker's `reference.WithDigest`. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  validateDigest(digest);
  if (!new RegExp(`^${digestPat}$`).test(digest)) throw new ImageReferenceError(REFERENCE_ERRORS.digestInvalidFormat, digest);
  return make(ref.domain, ref.path, ref.tag, digest);
}

/** docker's `reference.TrimNamed`: the repository alone. */
export function trimNamed(ref: ImageReference): ImageReference {
  return make(ref.domain, ref.path, undefined, undefined);
}

/** The registry's index name as docker's registry package computes it (`index.docker.io` → `docker.io`). */
export function indexName(domain: string): string {
  return domain === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : domain;
}

/** Whether a registry domain is Docker Hub. */
export function isDockerHub(domain: string): boolean {
  return indexName(domain) === DEFAULT_DOMAIN;
}

/** Whether `domain` is a syntactically valid `host[:port]` for the reference grammar. */
export function isValidDomain(domain: string): boolean {
  return domain.length <= MAX_INPUT && ANCHORED_DOMAIN_RE.test(domain);
}

/**
 * Go's `net.SplitHostPort` for a registry domain: `[::1]:5000` → `::1` and `5000`, `host:443` → `host`,
 * `443`; a domain without a port returns `port` undefined and the host unchanged (brackets stripped).
 */
export function splitHostPort(domain: string): { host: string; port?: string } {
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    if (end < 0) return { host: domain };
    const h = domain.slice(1, end);
    const rest = domain.slice(end + 1);
    return rest.startsWith(':') && rest.length > 1 ? { host: h, port: rest.slice(1) } : { host: h };
  }
  const i = domain.lastIndexOf(':');
  if (i < 0 || domain.indexOf(':') !== i) return { host: domain };
  return { host: domain.slice(0, i), port: domain.slice(i + 1) };
}

/**
 * The loopback fast path of docker's `isInsecure` (cli registry package): `localhost` (any case), any
 * 127.0.0.0/8 literal, and `::1`. A port, and IPv6 brackets, are ignored. Names that would need DNS are not
 * decided here (see `isInsecureRegistry` in trust-settings.ts, which resolves them).
 */
export function isLoopbackLiteral(domain: string): boolean {
  const h = goHost(domain);
  if (h.toLowerCase() === 'localhost') return true;
  const v4 = parseIpv4(h);
  if (v4) return v4[0] === 127;
  return isIpv6Loopback(h);
}

/** Go's `net.SplitHostPort(d)` host, or `d` itself when it fails (no port, `[::1]` without a port, …). */
function goHost(domain: string): string {
  if (domain.startsWith('[')) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(domain);
    return m ? m[1]! : domain;
  }
  const i = domain.indexOf(':');
  if (i < 0 || domain.lastIndexOf(':') !== i) return domain;
  return domain.slice(0, i);
}

/** Go's IPv4 literal rule: four decimal parts ≤ 255, no leading zeros. */
function parseIpv4(h: string): number[] | undefined {
  const parts = h.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(?:0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number);
}

function isIpv6Loopback(h: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(h) || !h.includes(':')) return false;
  // ::1 written any way Go's ParseIP accepts it: zero groups then 1; also ::ffff:127.x.y.z (IPv4-mapped).
  const mapped = /^(?:0{1,4}:){5}ffff:(.+)$|^::ffff:(.+)$/i.exec(h);
  if (mapped) return parseIpv4(mapped[1] ?? mapped[2]!)?.[0] === 127;
  const halves = h.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const all = [...left, ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  if (halves.length === 1 ? all.length !== 8 : all.length > 7) return false;
  const values = all.map((g) => parseInt(g, 16));
  return values.slice(0, -1).every((v) => v === 0) && values[values.length - 1] === 1;
}
