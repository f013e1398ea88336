/**
 * Notary's on-disk changelist (`<trust_dir>/tuf/<gun>/changelist/`), byte-compatible both ways: the Go
 * client lists, resets and publishes changes we stage, and we read the ones it stages.
 *
 * * One file per change, named `<%020d UnixNano>_<uuid v4>.change`, mode 0600. Changes apply in file-name
 *   order (byte order), i.e. chronologically.
 * * Content: Go's standard encoder over `{action, role, type, path, data}` in that order, HTML escapes
 *   (`<>&` U+2028 U+2029), `data` = base64 of the inner JSON or `null`, no whitespace, no trailing newline.
 * * The inner `data` JSON is also Go's standard encoding: a FileMeta in declaration order
 *   `{"length","hashes","custom"}` (hash map keys sorted, `custom` compacted and HTML-escaped but otherwise as
 *   given), or a TUFDelegation `{"new_name","threshold","add_keys","remove_keys","add_paths","remove_paths",
 *   "clear_paths"}` with omitempty, keys as `{"keytype","keyval":{"public","private":null}}`.
 * * Reset indexes (`notary reset -n`) are 0-based positions in the sorted list of every non-directory file in
 *   the directory; `notary status` numbers the same way from 0 (but skips unreadable files).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fromBase64, toBase64, utf8Decode, utf8Encode } from '../core/bytes.js';
import { compactJson, compareUtf8, goHtmlEscape, goJsonString, parseJson, sortedKeys } from '../core/canonical.js';
import { DelegationError, FormatError, NotaryError } from '../core/errors.js';
import { isBase64, type FileMetaJson, type KeyJson } from '../core/metadata.js';
import { assertDelegationName, isDelegationName, parentRole } from '../core/verify.js';
import { repositoryDir } from '../node/cache.js';
import { removeFileDurable, writeFileAtomic } from '../node/fs-atomic.js';
import { withFileLock, type LockOptions } from '../node/lock.js';

/** Actions and types Notary writes; any other string read from disk is kept (Go lists it, then fails to apply it). */
export type ChangeAction = 'create' | 'update' | 'delete';
export type ChangeType = 'target' | 'delegation' | 'witness' | 'role';

export interface Change {
  action: ChangeAction | (string & {});
  /** The role the change applies to (`role` on disk): `targets`, `targets/x`, `targets/*`, `root`. */
  scope: string;
  type: ChangeType | (string & {});
  /** Target name for target changes, otherwise empty. */
  path: string;
  /** The inner JSON payload, or null (Go's nil []byte). An empty array is written as `""`. */
  data: Uint8Array | null;
}

export interface StoredChange {
  /** File name inside the changelist directory. */
  file: string;
  change: Change;
}

export interface DelegationChangeData {
  /** Go's `new_name` (never written by the CLI and ignored when applying; kept for round trips). */
  newName?: string;
  threshold?: number;
  addKeys?: KeyJson[];
  /** Canonical key IDs (for x509 keys, the ID of the certificate's bare public key). */
  removeKeys?: string[];
  addPaths?: string[];
  removePaths?: string[];
  clearPaths?: boolean;
}

export interface RootRoleChangeData {
  role: string;
  keys: KeyJson[];
}

export const CHANGELIST_DIR = 'changelist';

// ---------------------------------------------------------------------------------------------------
// Go standard-encoder JSON for generic values (custom data given as a parsed value)

function goJsonValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return goJsonString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new FormatError('UNSUPPORTED_VALUE', `json: unsupported value: ${value}`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return '[' + value.map(goJsonValue).join(',') + ']';
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of sortedKeys(obj)) {
        if (obj[k] === undefined) continue;
        parts.push(goJsonString(k) + ':' + goJsonValue(obj[k]));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      throw new FormatError('UNSUPPORTED_VALUE', `json: unsupported type: ${typeof value}`);
  }
}

/** What Go's encoder does to embedded raw JSON (a json.Marshaler's output): validate, compact, HTML-escape. */
function goRawJson(text: string, where: string): string {
  parseJson(text, where); // Go refuses invalid raw JSON when marshalling
  return goHtmlEscape(compactJson(text.trim()));
}

function goStringArray(items: readonly string[]): string {
  return '[' + items.map(goJsonString).join(',') + ']';
}

function goKey(key: KeyJson): string {
  // Go's TUFKey: {"keytype","keyval":{"public","private"}}; public keys always carry private = nil.
  return `{"keytype":${goJsonString(key.keytype)},"keyval":{"public":${goJsonString(key.keyval.public)},"private":null}}`;
}

// ---------------------------------------------------------------------------------------------------
// Builders (what the Go client stages for each CLI command)

export interface TargetChangeOptions {
  /**
   * The raw JSON text of the custom data (e.g. the `--custom` file). Go keeps it in input key order,
   * compacted and HTML-escaped; without it `meta.custom` is encoded with sorted keys.
   */
  readonly customJson?: string;
}

/** Encodes a FileMeta the way Go's standard encoder does (declaration order length, hashes, custom). */
export function encodeFileMeta(meta: FileMetaJson, options: TargetChangeOptions = {}): string {
  let hashes = 'null';
  if (meta.hashes) {
    const h = meta.hashes;
    hashes = '{' + sortedKeys(h).map((alg) => goJsonString(alg) + ':' + goJsonString(h[alg]!)).join(',') + '}';
  }
  let text = `{"length":${goJsonValue(meta.length)},"hashes":${hashes}`;
  if (options.customJson !== undefined) text += `,"custom":${goRawJson(options.customJson, 'custom')}`;
  else if (meta.custom !== undefined) text += `,"custom":${goJsonValue(meta.custom)}`;
  return text + '}';
}

/** Go's addChange rule: targets go to `targets`, a delegation, or a wildcard delegation. */
function assertTargetsScope(scope: string): void {
  if (scope !== 'targets' && !isDelegationName(scope) && !isWildDelegationName(scope)) {
    throw new DelegationError('INVALID_DELEGATION_NAME', `tuf: invalid role ${scope}. cannot add targets to this role`, { where: scope });
  }
}

/** `notary add` / `addhash`: stage a target for `scope` (default `targets`). */
export function targetCreateChange(scope: string, name: string, meta: FileMetaJson, options: TargetChangeOptions = {}): Change {
  assertTargetsScope(scope);
  if (!meta.hashes || Object.keys(meta.hashes).length === 0) {
    throw new NotaryError('INVALID_ARGUMENT', `no hashes specified for target "${name}"`, { where: name });
  }
  return { action: 'create', scope, type: 'target', path: name, data: utf8Encode(encodeFileMeta(meta, options)) };
}

/** `notary remove`. */
export function targetDeleteChange(scope: string, name: string): Change {
  assertTargetsScope(scope);
  return { action: 'delete', scope, type: 'target', path: name, data: null };
}

/** Encodes a TUFDelegation exactly as Go does (field order, omitempty). */
export function encodeDelegationData(data: DelegationChangeData): string {
  const parts: string[] = [];
  if (data.newName) parts.push(`"new_name":${goJsonString(data.newName)}`);
  if (data.threshold) parts.push(`"threshold":${goJsonValue(data.threshold)}`);
  if (data.addKeys && data.addKeys.length > 0) parts.push(`"add_keys":[${data.addKeys.map(goKey).join(',')}]`);
  if (data.removeKeys && data.removeKeys.length > 0) parts.push(`"remove_keys":${goStringArray(data.removeKeys)}`);
  if (data.addPaths && data.addPaths.length > 0) parts.push(`"add_paths":${goStringArray(data.addPaths)}`);
  if (data.removePaths && data.removePaths.length > 0) parts.push(`"remove_paths":${goStringArray(data.removePaths)}`);
  if (data.clearPaths) parts.push(`"clear_paths":true`);
  return '{' + parts.join(',') + '}';
}

/**
 * A delegation change. The Go CLI stages one change per step: `delegation add` = create
 * `{threshold:1, addKeys}` (when keys are given) then create `{addPaths}` (when paths are given);
 * `delegation remove` = update `{clearPaths}` (--all-paths), update `{removePaths}`, update `{removeKeys}`.
 * `scope` may be `targets/…/*` only for an update that removes keys (`delegation purge`).
 */
export function delegationChange(action: 'create' | 'update', scope: string, data: DelegationChangeData): Change {
  if (!isDelegationName(scope) && !(action === 'update' && isWildDelegationName(scope))) assertDelegationName(scope);
  return { action, scope, type: 'delegation', path: '', data: utf8Encode(encodeDelegationData(data)) };
}

/** `delegation purge --key ID…`: remove canonical key IDs from every delegation under `scope` (`targets/*`). */
export function delegationPurgeChange(canonicalKeyIds: readonly string[], scope = 'targets/*'): Change {
  if (!isWildDelegationName(scope)) {
    throw new DelegationError('INVALID_DELEGATION_NAME', `tuf: invalid role ${scope}. invalid delegation role name`, { where: scope });
  }
  return delegationChange('update', scope, { removeKeys: [...canonicalKeyIds] });
}

/** `delegation remove GUN ROLE` with no keys or paths: delete the whole role. */
export function delegationDeleteChange(scope: string): Change {
  assertDelegationName(scope);
  return { action: 'delete', scope, type: 'delegation', path: '', data: null };
}

/** `notary witness GUN ROLE`: re-sign the role on the next publish. Go does not validate the name here. */
export function witnessChange(scope: string): Change {
  return { action: 'update', scope, type: 'witness', path: '', data: null };
}

/** Key rotation's root change (Go keeps it in memory only): replace all keys of a base role. */
export function rootRoleChange(role: string, keys: readonly KeyJson[]): Change {
  const text = `{"keys":[${keys.map(goKey).join(',')}],"role":${goJsonString(role)}}`;
  return { action: 'create', scope: 'root', type: 'role', path: '', data: utf8Encode(text) };
}

/** Go's IsWildDelegation: a clean name ending in `/*` whose parent is `targets` or a delegation. */
export function isWildDelegationName(name: string): boolean {
  if (!name.endsWith('/*') || name.includes('//') || name.includes('/./') || name.includes('/../')) return false;
  const base = parentRole(name);
  return base === 'targets' || isDelegationName(base);
}

// ---------------------------------------------------------------------------------------------------
// Serialisation of a change file

/** The exact bytes Go's `json.Marshal(TUFChange)` writes. */
export function serializeChange(change: Change): Uint8Array {
  const data = change.data === null ? 'null' : `"${toBase64(change.data)}"`;
  const text =
    `{"action":${goJsonString(change.action)},"role":${goJsonString(change.scope)},"type":${goJsonString(change.type)},` +
    `"path":${goJsonString(change.path)},"data":${data}}`;
  return utf8Encode(text);
}

function malformed(where: string, message: string): FormatError {
  return new FormatError('MALFORMED_JSON', `${where}: ${message}`, { where });
}

/**
 * Go's encoding/json field matching: an exact key wins, otherwise a case-insensitive one; among several
 * matches the last one in the document is assigned last (and so wins).
 */
function field(obj: Record<string, unknown>, name: string): unknown {
  let found: unknown = undefined;
  for (const key of Object.keys(obj)) {
    if (key === name || foldKey(key) === name) found = obj[key];
  }
  return found;
}

function foldKey(key: string): string {
  return key.replace(/\u017f/g, 's').toLowerCase();
}

function decodeJsonBytes(bytes: Uint8Array, where: string): unknown {
  if (bytes.length === 0) throw malformed(where, 'unexpected end of JSON input');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw malformed(where, "invalid character 'ï' looking for beginning of value");
  return parseJson(utf8Decode(bytes), where);
}

function asObject(value: unknown, where: string, goType: string): Record<string, unknown> | null {
  if (value === null) return null; // Go: null into a struct leaves it zero
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw malformed(where, `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  }
  return value as Record<string, unknown>;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

function optString(obj: Record<string, unknown>, name: string, where: string, goField: string): string {
  const v = field(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw malformed(where, `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${goField} of type string`);
  return v;
}

/** Go's []byte field: base64 (standard, padded; CR/LF ignored) or null. */
function optBytes(obj: Record<string, unknown>, name: string, where: string): Uint8Array | null {
  const v = field(obj, name);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw malformed(where, `json: cannot unmarshal ${jsonKind(v)} into Go struct field TUFChange.data of type []uint8`);
  const bytes = fromBase64(v.replace(/[\r\n]/g, ''));
  if (!bytes) throw malformed(where, 'illegal base64 data in field "data"');
  return bytes;
}

/** Parses one change file as Go's json.Unmarshal into TUFChange would. */
export function parseChange(bytes: Uint8Array, where: string): Change {
  const obj = asObject(decodeJsonBytes(bytes, where), where, 'changelist.TUFChange') ?? {};
  return {
    action: optString(obj, 'action', where, 'TUFChange.action'),
    scope: optString(obj, 'role', where, 'TUFChange.role'),
    type: optString(obj, 'type', where, 'TUFChange.type'),
    path: optString(obj, 'path', where, 'TUFChange.path'),
    data: optBytes(obj, 'data', where),
  };
}

// ---------------------------------------------------------------------------------------------------
// Decoding payloads

function goInt(value: unknown, where: string, goField: string, goType = 'int'): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) >= 2 ** 63) {
    const shown = typeof value === 'number' ? `number ${value}` : jsonKind(value);
    throw malformed(where, `json: cannot unmarshal ${shown} into Go struct field ${goField} of type ${goType}`);
  }
  return value;
}

function goStrings(value: unknown, where: string, goField: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw malformed(where, `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${goField} of type []string`);
  return value.map((v) => {
    if (v === null) return '';
    if (typeof v !== 'string') throw malformed(where, `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${goField} of type string`);
    return v;
  });
}

function goKeys(value: unknown, where: string): KeyJson[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw malformed(where, `json: cannot unmarshal ${jsonKind(value)} into Go value of type []data.TUFKey`);
  return value.map((k) => {
    const obj = asObject(k, where, 'data.TUFKey') ?? {};
    const keytype = optString(obj, 'keytype', where, 'TUFKey.keytype');
    const keyval = asObject(field(obj, 'keyval') ?? null, where, 'data.KeyPair') ?? {};
    const pub = field(keyval, 'public');
    let publicB64 = '';
    if (pub !== undefined && pub !== null) {
      if (typeof pub !== 'string' || !isBase64(pub.replace(/[\r\n]/g, ''))) throw malformed(where, 'illegal base64 data in key "public"');
      publicB64 = toBase64(fromBase64(pub.replace(/[\r\n]/g, ''))!);
    }
    return { keytype, keyval: { private: null, public: publicB64 } };
  });
}

function changeWhere(change: Change): string {
  return `change ${change.action} ${change.type} ${change.scope}${change.path ? ' ' + change.path : ''}`;
}

/** The FileMeta of a target create change, as Go's json.Unmarshal reads it (custom parsed). */
export function decodeTargetMeta(change: Change): FileMetaJson {
  const where = changeWhere(change);
  const obj = asObject(decodeJsonBytes(change.data ?? new Uint8Array(0), where), where, 'data.FileMeta') ?? {};
  const meta: FileMetaJson = { hashes: null, length: goInt(field(obj, 'length'), where, 'FileMeta.length', 'int64') };
  const hashes = field(obj, 'hashes');
  if (hashes !== undefined && hashes !== null) {
    const h = asObject(hashes, where, 'data.Hashes')!;
    const out: Record<string, string> = {};
    for (const alg of Object.keys(h)) {
      const v = h[alg];
      if (v === null) {
        out[alg] = '';
        continue;
      }
      const bytes = typeof v === 'string' ? fromBase64(v.replace(/[\r\n]/g, '')) : undefined;
      if (!bytes) throw malformed(where, `illegal base64 data in hash ${JSON.stringify(alg)}`);
      out[alg] = toBase64(bytes);
    }
    meta.hashes = out;
  }
  const custom = field(obj, 'custom');
  if (custom !== undefined && custom !== null) meta.custom = custom;
  return meta;
}

/** The TUFDelegation payload of a delegation create/update change. */
export function decodeDelegationData(change: Change): DelegationChangeData {
  const where = changeWhere(change);
  const obj = asObject(decodeJsonBytes(change.data ?? new Uint8Array(0), where), where, 'changelist.TUFDelegation') ?? {};
  const out: DelegationChangeData = {};
  const newName = optString(obj, 'new_name', where, 'TUFDelegation.new_name');
  if (newName) out.newName = newName;
  const threshold = goInt(field(obj, 'threshold'), where, 'TUFDelegation.threshold');
  if (threshold) out.threshold = threshold;
  const addKeys = goKeys(field(obj, 'add_keys'), where);
  if (addKeys) out.addKeys = addKeys;
  const removeKeys = goStrings(field(obj, 'remove_keys'), where, 'TUFDelegation.remove_keys');
  if (removeKeys) out.removeKeys = removeKeys;
  const addPaths = goStrings(field(obj, 'add_paths'), where, 'TUFDelegation.add_paths');
  if (addPaths) out.addPaths = addPaths;
  const removePaths = goStrings(field(obj, 'remove_paths'), where, 'TUFDelegation.remove_paths');
  if (removePaths) out.removePaths = removePaths;
  const clear = field(obj, 'clear_paths');
  if (clear !== undefined && clear !== null && typeof clear !== 'boolean') {
    throw malformed(where, `json: cannot unmarshal ${jsonKind(clear)} into Go struct field TUFDelegation.clear_paths of type bool`);
  }
  if (clear === true) out.clearPaths = true;
  return out;
}

/** The TUFRootData payload of a root role change. */
export function decodeRootRoleData(change: Change): RootRoleChangeData {
  const where = changeWhere(change);
  const obj = asObject(decodeJsonBytes(change.data ?? new Uint8Array(0), where), where, 'changelist.TUFRootData') ?? {};
  return { role: optString(obj, 'role', where, 'TUFRootData.role'), keys: goKeys(field(obj, 'keys'), where) ?? [] };
}

// ---------------------------------------------------------------------------------------------------
// The changelist directory

/** Temporary files of our own atomic writes (`.<name>.<pid>.<hex>.tmp`), never changes. */
const OWN_TEMP_FILE = /^\..*\.tmp$/;

let lastNanos = 0n;


export interface ListOptions {
  /**
   * Skip files that cannot be read as a change instead of failing, as Go's `List()` does (`notary status`
   * warns and goes on; `publish` fails). Each skipped file is reported to `onSkip`.
   */
  readonly skipMalformed?: boolean;
  readonly onSkip?: (file: string, error: NotaryError) => void;
}

export class FileChangelist {
  readonly dir: string;
  private readonly lockPath: string;

  constructor(trustDir: string, gun: string) {
    const repoDir = repositoryDir(trustDir, gun);
    this.dir = join(repoDir, CHANGELIST_DIR);
    this.lockPath = join(repoDir, 'changelist.lock');
  }

  /** Every non-directory entry, sorted by name (byte order): Go's getFileNames, the index space of reset. */
  async files(): Promise<string[]> {
    let entries;
    try {
      entries = await fs.readdir(this.dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw err;
    }
    return entries
      .filter((e) => !e.isDirectory())
      .map((e) => e.name)
      .sort(compareUtf8); // Go compares names as byte strings
  }

  /** The staged changes in application order. Unreadable files fail with a typed error naming the file. */
  async list(options: ListOptions = {}): Promise<StoredChange[]> {
    const out: StoredChange[] = [];
    for (const file of await this.files()) {
      if (OWN_TEMP_FILE.test(file)) continue;
      let change: Change;
      try {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(await fs.readFile(join(this.dir, file)));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') continue; // removed by a concurrent reset/publish
          throw new FormatError('MALFORMED_JSON', `${join(this.dir, file)}: cannot read change: ${(err as Error).message}`, {
            where: join(this.dir, file),
            cause: err,
          });
        }
        change = parseChange(bytes, join(this.dir, file));
      } catch (err) {
        if (options.skipMalformed && err instanceof NotaryError) {
          options.onSkip?.(file, err);
          continue;
        }
        throw err;
      }
      out.push({ file, change });
    }
    return out;
  }

  /**
   * Stages a change: writes `<%020d unixnano>_<uuid v4>.change` atomically with mode 0600 and returns the
   * file name. Names are strictly increasing (after every existing change), so appends apply last even when
   * the clock steps back or two changes fall in one millisecond.
   */
  async add(change: Change, now: Date = new Date()): Promise<string> {
    let nanos = BigInt(now.getTime()) * 1_000_000n;
    if (nanos <= lastNanos) nanos = lastNanos + 1n;
    for (const file of await this.files()) {
      const m = /^(\d{20})_/.exec(file);
      if (m && BigInt(m[1]!) >= nanos) nanos = BigInt(m[1]!) + 1n;
    }
    if (nanos < 0n || nanos >= 10n ** 20n) throw new NotaryError('INVALID_ARGUMENT', `cannot name a change at ${now.toISOString()}`);
    lastNanos = nanos;
    const file = `${nanos.toString().padStart(20, '0')}_${randomUUID()}.change`;
    await writeFileAtomic(join(this.dir, file), serializeChange(change));
    return file;
  }

  /** `notary reset -n`: removes the changes at these 0-based positions of `files()`; others are ignored. */
  async remove(indexes: readonly number[]): Promise<void> {
    const files = await this.files();
    const wanted = new Set(indexes);
    for (let i = 0; i < files.length; i++) {
      if (wanted.has(i)) await removeFileDurable(join(this.dir, files[i]!));
    }
  }

  /**
   * `notary reset --all` / after a successful publish: removes every file, or only `files` when given
   * (publish passes the changes it applied, so a change staged meanwhile survives).
   */
  async clear(files?: readonly string[]): Promise<void> {
    const names = files ?? (await this.files());
    for (const name of names) {
      if (name.includes('/') || name === '.' || name === '..' || name === '') continue;
      await removeFileDurable(join(this.dir, name));
    }
  }

  /** Runs `fn` holding this changelist's lock file (`<repo dir>/changelist.lock`), e.g. for a whole publish. */
  withLock<T>(fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    return withFileLock(this.lockPath, fn, options);
  }

  get location(): string {
    return this.dir;
  }
}

/** The changelist directory of a repository (for callers that only need the path). */
export function changelistDir(trustDir: string, gun: string): string {
  return join(repositoryDir(trustDir, gun), CHANGELIST_DIR);
}

