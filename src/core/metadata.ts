/**
 * The TUF metadata model as Notary 0.7 writes it.
 *
 * A parsed file keeps `signed` exactly as decoded (unknown fields included): verification re-canonicalises
 * that value, as Go does, so nothing that was signed is lost. Writing goes through `goNormalSigned`, which
 * rebuilds the object with exactly the fields Go's structs have, in the shapes Go would re-serialise
 * (omitted empty `paths`, no `custom: null`, times in Go's format). The server hashes its own
 * re-serialisation of what we upload, so anything we write must already be in that form (facts §1.9).
 */
import { z } from 'zod';
import { canonicalize, goHtmlEscape, goJsonString, hasRawControlCharacter, needsGoHtmlEscape, parseJson, sortedKeys, type CanonicalBytes } from './canonical.js';
import { utf8Decode, utf8Encode } from './bytes.js';
import { canonicalSignedFromFile } from './canonical-scan.js';
import { FormatError } from './errors.js';
import { formatGoTime, parseGoTime, type GoTime } from './time.js';

export const ROOT = 'root';
export const TARGETS = 'targets';
export const SNAPSHOT = 'snapshot';
export const TIMESTAMP = 'timestamp';
export const BASE_ROLES = [ROOT, TARGETS, SNAPSHOT, TIMESTAMP] as const;
export type BaseRoleName = (typeof BASE_ROLES)[number];

export const TYPE_OF_ROLE = { root: 'Root', targets: 'Targets', snapshot: 'Snapshot', timestamp: 'Timestamp' } as const;
export type SignedType = (typeof TYPE_OF_ROLE)[BaseRoleName];

// ---------------------------------------------------------------------------------------------------
// JSON shapes (zod). Loose objects: unknown fields are kept, because they are part of the signed bytes.

/** A non-negative integer that fits Go's int / int64 decode (1.0 and "1" are refused there too). */
const goInt = z.number().int().refine((n) => Math.abs(n) < 2 ** 63, 'integer out of range');
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'invalid base64');

export const keySchema = z.looseObject({
  keytype: z.string(),
  keyval: z.looseObject({
    private: base64.nullable().optional(),
    public: base64,
  }),
});
export type KeyJson = z.infer<typeof keySchema>;

export const roleKeysSchema = z.looseObject({
  keyids: z.array(z.string()).nullable(),
  threshold: goInt,
});
export type RoleKeysJson = z.infer<typeof roleKeysSchema>;

export const hashesSchema = z.record(z.string(), base64).nullable();

export const fileMetaSchema = z.looseObject({
  custom: z.unknown().optional(),
  hashes: hashesSchema,
  length: goInt,
});
export type FileMetaJson = z.infer<typeof fileMetaSchema>;

const commonFields = {
  expires: z.string(),
  version: goInt,
};

export const rootSchema = z.looseObject({
  _type: z.string(),
  consistent_snapshot: z.boolean().nullable().optional(),
  keys: z.record(z.string(), keySchema).nullable(),
  roles: z.record(z.string(), roleKeysSchema.nullable()).nullable(),
  ...commonFields,
});
export type RootSigned = z.infer<typeof rootSchema>;

export const delegationRoleSchema = z.looseObject({
  keyids: z.array(z.string()).nullable(),
  name: z.string(),
  paths: z.array(z.string()).nullable().optional(),
  threshold: goInt,
});
export type DelegationRoleJson = z.infer<typeof delegationRoleSchema>;

export const delegationsSchema = z.looseObject({
  keys: z.record(z.string(), keySchema).nullable().optional(),
  roles: z.array(delegationRoleSchema).nullable().optional(),
});

/**
 * A targets map can hold 100,000 entries; a per-entry zod object parse dominates the cost, so entries are
 * checked by a plain loop (same rules as fileMetaSchema).
 */
const targetsMapSchema = z.custom<Record<string, FileMetaJson> | null>(
  (v) => v === null || v === undefined || (typeof v === 'object' && !Array.isArray(v)),
  'expected an object',
);

export const targetsSchema = z.looseObject({
  _type: z.string(),
  delegations: delegationsSchema.nullable().optional(),
  targets: targetsMapSchema.optional(),
  ...commonFields,
});
export type TargetsSigned = z.infer<typeof targetsSchema>;

const fileMetaMapSchema = z.custom<Record<string, FileMetaJson> | null>(
  (v) => v === null || (typeof v === 'object' && !Array.isArray(v)),
  'expected an object',
);

export const snapshotSchema = z.looseObject({
  _type: z.string(),
  meta: fileMetaMapSchema,
  ...commonFields,
});
export type SnapshotSigned = z.infer<typeof snapshotSchema>;

export const timestampSchema = z.looseObject({
  _type: z.string(),
  meta: fileMetaMapSchema,
  ...commonFields,
});
export type TimestampSigned = z.infer<typeof timestampSchema>;

export const signatureSchema = z.looseObject({
  keyid: z.string(),
  method: z.string(),
  sig: base64,
});
export type SignatureJson = z.infer<typeof signatureSchema>;

export interface SignedByType {
  Root: RootSigned;
  Targets: TargetsSigned;
  Snapshot: SnapshotSigned;
  Timestamp: TimestampSigned;
}
export type AnySigned = RootSigned | TargetsSigned | SnapshotSigned | TimestampSigned;

const schemaByType = {
  Root: rootSchema,
  Targets: targetsSchema,
  Snapshot: snapshotSchema,
  Timestamp: timestampSchema,
} as const;

// ---------------------------------------------------------------------------------------------------

function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return `${path ? path + ': ' : ''}${issue.message}`;
}

// Indexed by char code; codes >= 256 read undefined, which fails the check like any non-alphabet char.
const BASE64_CHAR = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CHAR[c.charCodeAt(0)] = 1;

/** Standard padded base64 syntax (what Go's StdEncoding accepts), without a regex: 200k hashes per file. */
export function isBase64(s: string): boolean {
  const n = s.length;
  if (n % 4 !== 0) return false;
  let end = n;
  if (n > 0 && s.charCodeAt(n - 1) === 61) end = s.charCodeAt(n - 2) === 61 ? n - 2 : n - 1;
  // Branch-free accumulation: almost every string is valid, so one test at the end.
  let bad = 0;
  for (let i = 0; i < end; i++) bad |= (BASE64_CHAR[s.charCodeAt(i)] as number | undefined ?? 0) ^ 1;
  return bad === 0;
}

/**
 * The FileMeta rule (same as fileMetaSchema) as a plain function: a targets map can hold 100,000 entries
 * and a snapshot 16,000, where a zod parse per entry costs more than everything else together.
 */
function fileMetaProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'expected an object';
  const e = entry as { length?: unknown; hashes?: unknown };
  const length = e.length;
  if (typeof length !== 'number' || !Number.isInteger(length) || Math.abs(length) >= 2 ** 63) return 'length: expected an integer';
  const hashes = e.hashes;
  if (hashes === null) return undefined;
  if (typeof hashes !== 'object' || hashes === undefined || Array.isArray(hashes)) return 'hashes: expected an object';
  // for-in rather than Object.keys: no array per entry (200k entries in a large targets.json).
  for (const alg in hashes) {
    const h = (hashes as Record<string, unknown>)[alg];
    if (typeof h !== 'string' || !isBase64(h)) return `hashes.${alg}: invalid base64`;
  }
  return undefined;
}

function checkFileMetaMap(files: unknown, label: string, where: string): void {
  if (files === null || files === undefined) return;
  if (typeof files !== 'object' || Array.isArray(files)) {
    throw new FormatError('MALFORMED_METADATA', `${where}: ${label}: expected an object`, { where });
  }
  const names = Object.keys(files);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const problem = fileMetaProblem((files as Record<string, unknown>)[name]);
    if (problem) {
      throw new FormatError('MALFORMED_METADATA', `${where}: ${label} ${JSON.stringify(name)}: ${problem}`, { where });
    }
  }
}

function checkOwnEntries(map: unknown, schema: z.ZodType, label: string, where: string): void {
  if (map === null || map === undefined || typeof map !== 'object') return; // the zod parse judged the map itself
  for (const name of Object.keys(map)) {
    const r = schema.safeParse((map as Record<string, unknown>)[name]);
    if (!r.success) {
      throw new FormatError('MALFORMED_METADATA', `${where}: ${label}.${name}: ${describeZodError(r.error)}`, { where });
    }
  }
}

/**
 * An entry of a map parsed from JSON (targets by name, meta by role), as an own property only: a target
 * may be named `__proto__` or `constructor`, which a plain `map[name]` would answer from Object.prototype.
 */
export function ownEntry<V>(map: Readonly<Record<string, V>> | null | undefined, key: string): V | undefined {
  return map != null && Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

/** Sets an own entry (plain assignment to `__proto__` would replace the map's prototype instead). */
export function setOwnEntry<V>(map: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A signed metadata file: its typed `signed` value, its signatures, and (when read) its exact bytes. */
export class Metadata<T extends SignedType = SignedType> {
  readonly type: T;
  readonly signed: SignedByType[T];
  readonly signatures: SignatureJson[];
  /** The exact file bytes this was parsed from; hashes in parent metadata are over these. */
  readonly bytes: Uint8Array | undefined;
  /** Role name this was read as (for delegations `targets/x`); used in messages. */
  readonly role: string;
  private canonicalCache: Uint8Array | undefined;
  /** Set when the decoded text has U+FFFD: the bytes may hold invalid UTF-8 that Go would replace. */
  private maybeInvalidUtf8 = false;
  private expiresCache: GoTime | undefined;

  constructor(type: T, signed: SignedByType[T], signatures: SignatureJson[], role: string, bytes?: Uint8Array) {
    this.type = type;
    this.signed = signed;
    this.signatures = signatures;
    this.role = role;
    this.bytes = bytes;
  }

  get version(): number {
    return this.signed.version;
  }

  get expires(): GoTime {
    this.expiresCache ??= parseGoTime(this.signed.expires, `${this.role}.expires`);
    return this.expiresCache;
  }

  /** The canonical bytes if already known (verified or signed), without computing them from `signed`. */
  knownCanonicalSigned(): Uint8Array | undefined {
    return this.canonicalCache;
  }

  /** The bytes signatures are checked over: Notary canonical JSON of the decoded `signed` value. */
  canonicalSigned(): Uint8Array {
    // Go-written files usually prove their own canonical bytes in one linear scan (canonical-scan.ts).
    this.canonicalCache ??= (this.bytes && canonicalSignedFromFile(this.bytes, this.maybeInvalidUtf8)) || utf8Encode(canonicalize(this.signed));
    return this.canonicalCache;
  }

  /**
   * Parses a metadata file. `role` is the role it is expected to be (`root`, `targets/releases`, ...);
   * the `_type` must match Notary's type for that role.
   */
  static fromBytes<R extends string>(bytes: Uint8Array, role: R): Metadata<TypeForRole<R>> {
    const text = utf8Decode(bytes);
    const where = role;
    const doc = parseJson(text, where);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new FormatError('MALFORMED_METADATA', `${where}: metadata is not a JSON object`, { where });
    }
    const envelope = doc as Record<string, unknown>;
    const signedValue = envelope['signed'];
    if (typeof signedValue !== 'object' || signedValue === null || Array.isArray(signedValue)) {
      throw new FormatError('MALFORMED_METADATA', `${where}: "signed" is missing or not an object`, { where });
    }
    const sigs = envelope['signatures'] ?? null;
    const sigResult = z.array(signatureSchema).nullable().safeParse(sigs);
    if (!sigResult.success) {
      throw new FormatError('MALFORMED_METADATA', `${where}: signatures: ${describeZodError(sigResult.error)}`, { where });
    }
    const type = typeForRole(role);
    const schema = schemaByType[type];
    const result = schema.safeParse(signedValue);
    if (!result.success) {
      throw new FormatError('MALFORMED_METADATA', `${where}: ${describeZodError(result.error)}`, { where });
    }
    // z.record skips a `__proto__` entry (and zod copies are not what we keep), so every own entry of the
    // key and role maps is checked here: a key named like an Object.prototype member is validated like any.
    if (type === 'Root') {
      checkOwnEntries((signedValue as { keys?: unknown }).keys, keySchema, 'keys', where);
      checkOwnEntries((signedValue as { roles?: unknown }).roles, roleKeysSchema.nullable(), 'roles', where);
    } else if (type === 'Targets') {
      const d = (signedValue as { delegations?: { keys?: unknown } | null }).delegations;
      if (d) checkOwnEntries(d.keys, keySchema, 'delegations.keys', where);
    }
    if (type === 'Targets') checkFileMetaMap((signedValue as { targets?: unknown }).targets, 'target', where);
    else if (type !== 'Root') checkFileMetaMap((signedValue as { meta?: unknown }).meta, 'meta', where);
    // Keep the decoded object itself, not zod's copy: it is what was signed, unknown fields included.
    const md = new Metadata(type, signedValue as SignedByType[typeof type], sigResult.data ?? [], role, bytes);
    md.maybeInvalidUtf8 = text.includes('\uFFFD');
    if (md.signed._type !== type) {
      throw new FormatError('MALFORMED_METADATA', `${where}: expected type ${type}, not ${md.signed._type}`, { where });
    }
    md.expires; // parse now so a bad time is a format error at load, not later
    return md as unknown as Metadata<TypeForRole<R>>;
  }

  /**
   * Metadata we just produced ourselves: `signed` is the Go-normal object, `canonical` its signed bytes and
   * `bytes` the file. Nothing to re-parse: the object is what parsing `bytes` would give.
   */
  static fromOwnOutput<T extends SignedType>(type: T, signed: SignedByType[T], signatures: SignatureJson[], role: string, bytes: Uint8Array, canonical: Uint8Array): Metadata<T> {
    const md = new Metadata(type, signed, signatures, role, bytes);
    md.canonicalCache = canonical;
    md.expires; // parse the time now, as fromBytes does
    return md;
  }

  /** The Go-normal file bytes of this metadata (what Go would write for the same content). */
  toBytes(): Uint8Array {
    return serializeEnvelope(goNormalSigned(this.type, this.signed, this.role), this.signatures);
  }
}

export type TypeForRole<R extends string> = R extends 'root'
  ? 'Root'
  : R extends 'snapshot'
    ? 'Snapshot'
    : R extends 'timestamp'
      ? 'Timestamp'
      : 'Targets';

export function typeForRole(role: string): SignedType {
  switch (role) {
    case ROOT:
      return 'Root';
    case SNAPSHOT:
      return 'Snapshot';
    case TIMESTAMP:
      return 'Timestamp';
    default:
      return 'Targets';
  }
}

// ---------------------------------------------------------------------------------------------------
// Go-normal form

/** A copy of a map with its keys inserted in canonical (UTF-8 byte) order, so JSON.stringify is canonical. */
function sortedRecord<V>(record: Record<string, V>, map: (v: V) => V): Record<string, V> {
  const out: Record<string, V> = {};
  for (const key of sortedKeys(record)) {
    if (key === '__proto__') setOwnEntry(out, key, map(record[key]!));
    else out[key] = map(record[key]!);
  }
  return out;
}

function normalKey(k: KeyJson): KeyJson {
  return { keytype: k.keytype, keyval: { private: k.keyval.private ?? null, public: k.keyval.public } };
}

function normalKeys(keys: Record<string, KeyJson> | null | undefined): Record<string, KeyJson> | null {
  if (keys === null || keys === undefined) return null;
  return sortedRecord(keys, normalKey);
}

function identity<V>(v: V): V {
  return v;
}

/**
 * Whether an entry already is what normalFileMeta would build: exactly (custom,) hashes, length in that
 * order, hashes in order. Entries parsed from a canonical file are, so a 50k-target re-sign reuses them
 * instead of rebuilding 100k objects. (Whether the result is canonical is still proven by the scan.)
 */
export function isNormalFileMeta(f: FileMetaJson): boolean {
  let state = 0; // 0: custom or hashes next, 1: hashes next, 2: length next, 3: complete
  for (const key in f) {
    if (key === 'custom' && state === 0) {
      if (f.custom === null || f.custom === undefined) return false;
      state = 1;
    } else if (key === 'hashes' && state <= 1) state = 2;
    else if (key === 'length' && state === 2) state = 3;
    else return false;
  }
  if (state !== 3) return false;
  const hashes = f.hashes;
  if (hashes === null) return true;
  if (hashes === undefined || typeof hashes !== 'object') return false;
  let previous: string | undefined;
  for (const alg in hashes) {
    if (previous !== undefined && !(previous < alg)) return false;
    for (let i = 0; i < alg.length; i++) if (alg.charCodeAt(i) >= 0xd800) return false;
    previous = alg;
  }
  return true;
}

export function normalFileMeta(f: FileMetaJson): FileMetaJson {
  if (isNormalFileMeta(f)) return f;
  // Fields in canonical order (custom, hashes, length). Go keeps custom as raw JSON and omits it when
  // absent or null.
  const out = {} as FileMetaJson;
  if (f.custom !== undefined && f.custom !== null) out.custom = f.custom;
  out.hashes = f.hashes === undefined || f.hashes === null ? null : sortedRecord(f.hashes, identity);
  out.length = f.length;
  return out;
}

function normalFiles(files: Record<string, FileMetaJson> | null | undefined): Record<string, FileMetaJson> | null {
  if (files === null || files === undefined) return null;
  return sortedRecord(files, normalFileMeta);
}

function normalTime(expires: string, role: string): string {
  return formatGoTime(parseGoTime(expires, `${role}.expires`));
}

/** Rebuilds `signed` with exactly Go's struct fields and zero values. */
export function goNormalSigned(type: SignedType, signed: AnySigned, role: string): AnySigned {
  switch (type) {
    case 'Root': {
      const r = signed as RootSigned;
      const roles: Record<string, RoleKeysJson | null> | null =
        r.roles === null || r.roles === undefined
          ? null
          : sortedRecord(r.roles, (role) => (role ? { keyids: role.keyids ?? null, threshold: role.threshold } : null));
      return {
        _type: 'Root',
        consistent_snapshot: r.consistent_snapshot ?? false,
        expires: normalTime(r.expires, role),
        keys: normalKeys(r.keys),
        roles,
        version: r.version,
      };
    }
    case 'Targets': {
      const t = signed as TargetsSigned;
      const d = t.delegations ?? {};
      return {
        _type: 'Targets',
        delegations: {
          keys: normalKeys(d.keys),
          roles:
            d.roles === null || d.roles === undefined
              ? null
              : d.roles.map((dr) => {
                  const out = { keyids: dr.keyids ?? null, name: dr.name } as DelegationRoleJson;
                  if (dr.paths && dr.paths.length > 0) out.paths = dr.paths; // omitempty
                  out.threshold = dr.threshold;
                  return out;
                }),
        },
        expires: normalTime(t.expires, role),
        targets: normalFiles(t.targets),
        version: t.version,
      };
    }
    case 'Snapshot':
    case 'Timestamp': {
      const s = signed as SnapshotSigned;
      return { _type: type, expires: normalTime(s.expires, role), meta: normalFiles(s.meta), version: s.version };
    }
  }
}

/**
 * The file bytes: `{"signed":<canonical, HTML-escaped>,"signatures":[...]}`, no whitespace, no newline.
 * Go refuses raw control characters inside the embedded canonical text, so we do too.
 */
export function serializeEnvelope(signed: AnySigned, signatures: readonly SignatureJson[]): Uint8Array {
  return serializeCanonicalEnvelope(canonicalize(signed), signatures);
}

/** What the file's bytes put around the canonical text: `{"signed":` … `,"signatures":[…]}`. */
export const ENVELOPE_HEAD = '{"signed":';

/**
 * The file bytes from the canonical form of `signed` (text, or text and bytes from canonicalizeToBytes).
 * With the bytes too, and nothing for Go to HTML-escape, the file is those bytes between two short
 * pieces: written into the frame's margins when canonicalizeToBytes left room (no copy of a 10 MB text),
 * else copied once — never re-encoded.
 */
export function serializeCanonicalEnvelope(canonical: string | CanonicalBytes, signatures: readonly SignatureJson[]): Uint8Array {
  const c: CanonicalBytes | { text: string; proven: false; htmlSafe?: undefined } = typeof canonical === 'string' ? { text: canonical, proven: false } : canonical;
  // A proven text has no raw control character (the byte scan refuses them): a 10 MB regex saved.
  if (!c.proven && c.text !== undefined && hasRawControlCharacter(c.text)) {
    throw new FormatError('UNSUPPORTED_VALUE', 'metadata contains a control character in a string; Notary cannot store it');
  }
  const sigs = signatures
    .map((s) => `{"keyid":${goJsonString(s.keyid)},"method":${goJsonString(s.method.toLowerCase())},"sig":${goJsonString(s.sig)}}`)
    .join(',');
  const tail = `,"signatures":[${sigs}]}`;
  if ('bytes' in c && (c.htmlSafe === true || (c.text !== undefined && !needsGoHtmlEscape(c.text)))) {
    const head = utf8Encode(ENVELOPE_HEAD);
    const end = utf8Encode(tail);
    const n = c.bytes.length;
    const frame = c.frame;
    if (frame && frame.before === head.length && frame.after >= end.length) {
      frame.buffer.set(head, 0);
      frame.buffer.set(end, head.length + n);
      return frame.buffer.subarray(0, head.length + n + end.length);
    }
    const out = new Uint8Array(head.length + n + end.length);
    out.set(head, 0);
    out.set(c.bytes, head.length);
    out.set(end, head.length + n);
    return out;
  }
  if (c.text === undefined) throw new TypeError('serializeCanonicalEnvelope: bytes without text must be htmlSafe');
  return utf8Encode(`${ENVELOPE_HEAD}${goHtmlEscape(c.text)}${tail}`);
}
