/**
 * What `docker trust inspect` reports about a repository, computed from verified trust data, and its two
 * renderings (docker's indented JSON and `--pretty`), byte for byte as docker 28 prints them.
 *
 * Docker's rules (cli/command/trust/common.go): a row is a *released* (tag, sha256) pair — one listed in
 * `targets` or `targets/releases`; its signers are the other roles (named without `targets/`) listing the
 * same tag with the same hash, and "Repo Admin" when there are none. Signers are every delegation declared
 * anywhere in the tree except `targets/releases`, with canonical key IDs; the administrative keys are the
 * root role's key IDs as root.json lists them (certificate IDs) and the targets role's.
 */
import { fromBase64, toHex } from '../../core/bytes.js';
import type { CryptoBackend } from '../../core/crypto.js';
import { canonicalKeyId } from '../../core/keys.js';
import { rolesBreadthFirst } from '../../core/collection.js';
import type { TrustedMetadataSet } from '../../core/trusted.js';
import { pathAllowed } from '../../core/verify.js';

/** The role whose signatures make a tag pullable (besides `targets` itself). */
export const RELEASES_ROLE = 'targets/releases';
/** How docker names a tag signed only into `targets`. */
export const REPO_ADMIN = 'Repo Admin';

export interface SignedTag {
  readonly tag: string;
  /** Hex sha256 (no `sha256:` prefix), as docker prints it. */
  readonly digest: string;
  /** Signer names (roles without `targets/`) in the order the roles were walked; empty = Repo Admin. */
  readonly signers: readonly string[];
}

export interface Signer {
  readonly name: string;
  /** Canonical key IDs, in the order the delegation lists them. */
  readonly keys: readonly string[];
}

export interface RepositoryTrust {
  readonly signedTags: readonly SignedTag[];
  /** Delegations other than `targets/releases`, one per name. */
  readonly signers: readonly Signer[];
  /** Root key IDs as root.json lists them (certificate IDs). */
  readonly rootKeys: readonly string[];
  /** The targets ("repository") key IDs. */
  readonly repositoryKeys: readonly string[];
}

/** A target listed by one role (Notary's TargetSignedStruct). */
export interface RoleTarget {
  readonly role: string;
  readonly name: string;
  readonly length: number;
  readonly sha256?: string;
}

const isReleased = (role: string) => role === 'targets' || role === RELEASES_ROLE;
export const signerName = (role: string) => (role.startsWith('targets/') ? role.slice('targets/'.length) : role);

/**
 * Notary's GetAllTargetMetadataByName: every (role, target) pair for `tag` (every target when `tag` is
 * empty), roles breadth-first from `targets`.
 */
export function allTargetsByName(set: TrustedMetadataSet, tag: string): RoleTarget[] {
  const out: RoleTarget[] = [];
  for (const role of rolesBreadthFirst(set)) {
    const files = role.metadata.signed.targets ?? {};
    const add = (name: string) => {
      const meta = files[name]!;
      const b64 = meta.hashes?.['sha256'];
      out.push({ role: role.role.name, name, length: meta.length, ...(b64 !== undefined ? { sha256: toHex(fromBase64(b64) ?? new Uint8Array()) } : {}) });
    };
    if (tag === '') {
      for (const name of Object.keys(files)) add(name);
    } else if (Object.prototype.hasOwnProperty.call(files, tag) && pathAllowed(role.role.paths, tag)) {
      add(tag);
    }
  }
  return out;
}

/** Natural ("human") order as github.com/fvbommel/sortorder's NaturalLess: digit runs compare as numbers. */
export function naturalLess(a: string, b: string): boolean {
  const isDigit = (c: number) => c >= 48 && c <= 57;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = isDigit(ca);
    const db = isDigit(cb);
    if (da !== db) return da; // digits sort before non-digits
    if (!da) {
      if (ca !== cb) return ca < cb;
      i++;
      j++;
      continue;
    }
    // Both digit runs: skip leading zeros, compare by length, then digits, then by number of zeros.
    let za = i;
    while (za < a.length && a.charCodeAt(za) === 48) za++;
    let zb = j;
    while (zb < b.length && b.charCodeAt(zb) === 48) zb++;
    let ea = za;
    while (ea < a.length && isDigit(a.charCodeAt(ea))) ea++;
    let eb = zb;
    while (eb < b.length && isDigit(b.charCodeAt(eb))) eb++;
    const na = a.slice(za, ea);
    const nb = b.slice(zb, eb);
    if (na.length !== nb.length) return na.length < nb.length;
    if (na !== nb) return na < nb;
    if (za !== zb) return za < zb;
    i = ea;
    j = eb;
  }
  return a.length < b.length;
}

const naturalCompare = (a: string, b: string) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0);

/** Docker's matchReleasedSignatures. */
export function releasedRows(targets: readonly RoleTarget[]): SignedTag[] {
  const rows = new Map<string, { tag: string; digest: string; signers: string[] }>();
  const key = (t: RoleTarget) => `${t.name}\u0000${t.sha256 ?? ''}`;
  for (const t of targets) if (isReleased(t.role) && !rows.has(key(t))) rows.set(key(t), { tag: t.name, digest: t.sha256 ?? '', signers: [] });
  for (const t of targets) {
    const row = rows.get(key(t));
    if (row && !isReleased(t.role)) row.signers.push(signerName(t.role));
  }
  return [...rows.values()].sort((a, b) => naturalCompare(a.tag, b.tag));
}

/** Everything `docker trust inspect` shows for `tag` ('' = every tag) of a verified repository. */
export function repositoryTrust(set: TrustedMetadataSet, tag: string, crypto: CryptoBackend): RepositoryTrust {
  const signers = new Map<string, string[]>();
  for (const role of rolesBreadthFirst(set)) {
    const delegations = role.metadata.signed.delegations;
    for (const d of delegations?.roles ?? []) {
      if (d.name === RELEASES_ROLE) continue;
      const keys = (d.keyids ?? []).map((id) => {
        const key = delegations?.keys?.[id];
        return key ? canonicalKeyId(key, crypto) : id;
      });
      signers.set(signerName(d.name), keys);
    }
  }
  const roles = set.root.signed.roles ?? {};
  return {
    signedTags: releasedRows(allTargetsByName(set, tag)),
    signers: [...signers].map(([name, keys]) => ({ name, keys })),
    rootKeys: [...(roles['root']?.keyids ?? [])],
    repositoryKeys: [...(roles['targets']?.keyids ?? [])],
  };
}

// ------------------------------------------------------------------------------------------------------
// Rendering

/** A string as Go's encoding/json writes it (HTML-safe: <, >, & and U+2028/9 escaped). */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 in Go: written as U+FFFD.
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += ch + s[i + 1]!;
        i++;
      } else out += '\ufffd';
    } else out += ch;
  }
  return out + '"';
}

type GoValue = string | GoValue[] | { [k: string]: GoValue | undefined };

/** json.MarshalIndent(v, "", "    ") for strings, arrays and objects (keys in insertion order). */
function goIndent(v: GoValue, depth: number): string {
  const pad = '    '.repeat(depth + 1);
  const end = '    '.repeat(depth);
  if (typeof v === 'string') return goJsonString(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => pad + goIndent(x, depth + 1)).join(',\n')}\n${end}]`;
  }
  const entries = Object.entries(v).filter((e): e is [string, GoValue] => e[1] !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${pad}${goJsonString(k)}: ${goIndent(x, depth + 1)}`).join(',\n')}\n${end}}`;
}

/** trustSigner / trustKey: `omitempty` on every field. */
function goSigner(name: string, keys: readonly string[]): GoValue {
  return {
    ...(name !== '' ? { Name: name } : {}),
    ...(keys.length > 0 ? { Keys: keys.map((id) => (id !== '' ? { ID: id } : {})) } : {}),
  };
}

/** One element of `docker trust inspect`'s JSON array (docker's trustRepo). */
function inspectElement(name: string, trust: RepositoryTrust): GoValue {
  const admin: [string, readonly string[]][] = [
    ['Root', trust.rootKeys],
    ['Repository', trust.repositoryKeys],
  ];
  return {
    Name: name,
    SignedTags: trust.signedTags.map((r) => ({ SignedTag: r.tag, Digest: r.digest, Signers: r.signers.length > 0 ? [...r.signers] : [REPO_ADMIN] })),
    Signers: [...trust.signers].sort((a, b) => (a.name > b.name ? -1 : a.name < b.name ? 1 : 0)).map((s) => goSigner(s.name, s.keys)),
    AdministrativeKeys: admin.map(([n, keys]) => goSigner(n, keys)),
  };
}

/** `docker trust inspect` without `--pretty`: the elements that could be inspected, `[]` when none. */
export function formatInspectJson(elements: readonly { name: string; trust: RepositoryTrust }[]): string {
  if (elements.length === 0) return '[]\n';
  return goIndent(
    elements.map((e) => inspectElement(e.name, e.trust)),
    0,
  ) + '\n';
}

/** Go's text/tabwriter as docker's formatter sets it up (minwidth 10, padding 3, spaces); the last cell is not padded. */
export function dockerTable(rows: readonly (readonly string[])[]): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const runes = (s: string) => [...s].length;
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) widths[c] = Math.max(10, ...rows.map((r) => runes(r[c] ?? '') + 3));
  return rows
    .map((r) => r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat(widths[c]! - runes(cell)) : cell)).join('') + '\n')
    .join('');
}

const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `docker trust inspect --pretty` for one repository. */
export function formatInspectPretty(name: string, trust: RepositoryTrust): string {
  let out = '';
  if (trust.signedTags.length > 0) {
    out += `\nSignatures for ${name}\n\n`;
    out += dockerTable([
      ['SIGNED TAG', 'DIGEST', 'SIGNERS'],
      ...trust.signedTags.map((r) => [r.tag, r.digest, (r.signers.length > 0 ? [...r.signers].sort(byBytes) : [`(${REPO_ADMIN})`]).join(', ')]),
    ]);
  } else {
    out += `\nNo signatures for ${name}\n\n`;
  }
  if (trust.signers.length > 0) {
    out += `\nList of signers and their keys for ${name}\n\n`;
    const sorted = [...trust.signers].sort((a, b) => naturalCompare(a.name, b.name));
    out += dockerTable([
      ['SIGNER', 'KEYS'],
      ...sorted.map((s) => [s.name, [...s.keys].sort(byBytes).map((k) => k.slice(0, 12)).join(', ')]),
    ]);
  }
  out += `\nAdministrative keys for ${name}\n\n`;
  out += `  Repository Key:\t${[...trust.repositoryKeys].sort(byBytes).join(', ')}\n`;
  out += `  Root Key:\t${[...trust.rootKeys].sort(byBytes).join(', ')}\n`;
  return out;
}
