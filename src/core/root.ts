/**
 * Root metadata: structure, Notary's x509 root-certificate rules, trust pinning and rotation.
 *
 * A new root R (with the previously trusted root P, if any) is accepted when: R is well formed; R's root
 * keys yield valid leaf certificates for the GUN; if P exists, R carries P's threshold of signatures from
 * P's certificates (their expiry is not checked); the certificates pass trust pinning (certs by TUF key ID,
 * `*` prefixes, a CA check, else TOFU unless disabled); and R carries its own threshold of signatures from
 * the remaining certificates, re-encoded as Notary re-encodes them (leaf + valid intermediates as PEM).
 */
import { toBase64, utf8Decode, utf8Encode } from './bytes.js';
import { verifyCertificateChain } from './chain.js';
import { FormatError, RootTrustError } from './errors.js';
import { keyCertificates, publicKeyJson, tufKeyId, type PublicKeyLike } from './keys.js';
import { BASE_ROLES, ownEntry, type Metadata, type RootSigned } from './metadata.js';
import { checkHashStructure, verifyThreshold, type RoleKeys, type VerifyContext } from './verify.js';
import { certificateProblem, certificateToPem, commonNameMatchesGun, pemToCertificates, type Certificate } from './x509.js';

export interface TrustPinning {
  /** GUN (or `prefix*`) → allowed root certificate TUF key IDs. */
  readonly certs?: Readonly<Record<string, readonly string[]>>;
  /**
   * GUN prefix (plain string prefix, longest wins) → the CA bundle `trust_pinning.ca` names, already read
   * by the IO layer (src/node/config.ts): its PEM text or bytes, or parsed certificates; `null` when the file
   * could not be read ("could not load root cert from CA path" if this prefix is the one that applies).
   * Expired, SHA-1 and short-RSA CA certificates are ignored; none left → "invalid CA certs provided".
   * Root leaf certificates must then chain to one of them (through root.json's intermediates) as Go's
   * `x509.Verify` with default options decides — ServerAuth EKU included (see chain.ts).
   */
  readonly ca?: Readonly<Record<string, CaBundle>>;
  /** Replaces the built-in chain verification for the `ca` mode (tests, custom policies). */
  readonly caCheck?: (gunPrefix: string, leaf: Certificate, intermediates: Certificate[]) => boolean;
  readonly disableTofu?: boolean;
}

/** A `trust_pinning.ca` bundle as loaded: PEM text or bytes, parsed certificates, or null if unreadable. */
export type CaBundle = string | Uint8Array | readonly Certificate[] | null | undefined;

/**
 * The usable CA certificates of a bundle, as Notary's NewTrustPinChecker builds its pool: the bundle must
 * load (every PEM block a CERTIFICATE that parses), and certificates failing Notary's checks at `now`
 * (validity window with a day's leeway, SHA-1, RSA < 2048 bits) are ignored.
 */
export function caPoolFromBundle(bundle: CaBundle, now: Date): Certificate[] {
  const fail = (reason: string) =>
    new RootTrustError('TRUST_PINNING_FAILED', `could not validate the path to a trusted root: ${reason}`, { where: 'root' });
  let certs: readonly Certificate[];
  try {
    if (bundle === null || bundle === undefined) throw new Error('unreadable');
    certs = typeof bundle === 'string' || bundle instanceof Uint8Array ? pemToCertificates(typeof bundle === 'string' ? bundle : utf8Decode(bundle)) : bundle;
    if (certs.length === 0) throw new Error('empty');
  } catch {
    throw fail('could not load root cert from CA path');
  }
  const usable = certs.filter((c) => !certificateProblem(c, now));
  if (usable.length === 0) throw fail('invalid CA certs provided');
  return usable;
}

/** Notary's root structure rule: every base role present, threshold >= 1, every key ID in `keys`. */
export function checkRootStructure(root: Metadata<'Root'>): void {
  const signed = root.signed;
  const fail = (msg: string) => new FormatError('MALFORMED_METADATA', `root type metadata invalid: ${msg}`, { where: 'root' });
  if (signed.version < 1) throw fail('version cannot be less than 1');
  for (const name of BASE_ROLES) {
    const role = signed.roles?.[name];
    if (!role) throw fail(`missing ${name} role specification`);
    if (role.threshold < 1) throw fail(`invalid threshold specified for ${name}: ${role.threshold}`);
    for (const id of role.keyids ?? []) {
      if (!ownEntry(signed.keys, id)) throw fail(`key ID ${id} specified in ${name} without corresponding key`);
    }
  }
}

/** The verification data of a base role as a root lists it. */
export function rootRoleKeys(root: RootSigned, name: string): RoleKeys {
  const role = root.roles?.[name];
  const keys = new Map<string, PublicKeyLike>();
  for (const id of role?.keyids ?? []) {
    const key = ownEntry(root.keys, id);
    if (key) keys.set(id, key);
  }
  return { name, keys, threshold: role?.threshold ?? 0 };
}

export interface RootCertificate {
  /** TUF key ID of the key as root.json lists it. */
  readonly keyId: string;
  readonly leaf: Certificate;
  readonly intermediates: Certificate[];
}

/** Leaf and intermediate certificates of a root's `root` role keys, skipping keys Notary would skip. */
export function rootCertificates(root: RootSigned, ctx: VerifyContext): RootCertificate[] {
  const out: RootCertificate[] = [];
  // Each listed key once: a hostile root may list one certificate key 100,000 times (parsing is the cost).
  for (const id of new Set(root.roles?.['root']?.keyids ?? [])) {
    const key = ownEntry(root.keys, id);
    if (!key) continue;
    let certs: Certificate[];
    try {
      certs = keyCertificates(key);
    } catch {
      continue;
    }
    const leaves = certs.filter((c) => !c.isCA);
    if (leaves.length !== 1 || certs[0]!.isCA) continue;
    out.push({ keyId: tufKeyId(key, ctx.crypto), leaf: leaves[0]!, intermediates: certs.filter((c) => c.isCA) });
  }
  return out;
}

/** The key Notary rebuilds from a certificate bundle: leaf then intermediates, Go-exact PEM. */
export function certificateBundleKey(leaf: Certificate, intermediates: readonly Certificate[]): PublicKeyLike {
  const pem = [leaf, ...intermediates].map((c) => certificateToPem(c.der)).join('');
  const keytype = leaf.publicKey.kind === 'rsa' ? 'rsa-x509' : 'ecdsa-x509';
  return publicKeyJson(keytype, toBase64(utf8Encode(pem)));
}

function keysFromCertificates(
  certs: readonly { leaf: Certificate; intermediates: readonly Certificate[] }[],
  ctx: VerifyContext,
): Map<string, PublicKeyLike> {
  const keys = new Map<string, PublicKeyLike>();
  for (const c of certs) {
    const key = certificateBundleKey(c.leaf, c.intermediates);
    keys.set(tufKeyId(key, ctx.crypto), key);
  }
  return keys;
}

type PinCheck = (leaf: Certificate, intermediates: Certificate[]) => boolean;

function trustPinChecker(pinning: TrustPinning, gun: string, firstBootstrap: boolean, now: Date, ctx: VerifyContext): PinCheck {
  const certsFor = (ids: readonly string[]): PinCheck => (leaf, ints) =>
    ids.includes(tufKeyId(certificateBundleKey(leaf, ints), ctx.crypto));
  const exact = pinning.certs?.[gun];
  if (exact) return certsFor(exact);
  let longest = '';
  let wildcardIds: readonly string[] | undefined;
  for (const [prefix, ids] of Object.entries(pinning.certs ?? {})) {
    if (prefix.endsWith('*') && gun.startsWith(prefix.slice(0, -1)) && prefix.length > longest.length) {
      longest = prefix;
      wildcardIds = ids;
    }
  }
  if (wildcardIds) return certsFor(wildcardIds);
  let caPrefix: string | undefined;
  for (const prefix of Object.keys(pinning.ca ?? {})) {
    if (gun.startsWith(prefix) && (caPrefix === undefined || prefix.length >= caPrefix.length)) caPrefix = prefix;
  }
  if (caPrefix !== undefined) {
    const prefix = caPrefix;
    const custom = pinning.caCheck;
    if (custom) return (leaf, ints) => custom(prefix, leaf, ints);
    const roots = caPoolFromBundle(pinning.ca?.[prefix], now);
    return (leaf, ints) => {
      try {
        verifyCertificateChain(leaf, { roots, intermediates: ints, now, crypto: ctx.crypto });
        return true;
      } catch {
        return false; // Notary logs the chain error at debug level and drops the certificate
      }
    };
  }
  if (pinning.disableTofu && firstBootstrap) {
    throw new RootTrustError('TRUST_PINNING_FAILED', 'could not validate the path to a trusted root: invalid trust pinning specified', { where: 'root' });
  }
  return () => true;
}

export interface ValidateRootOptions {
  readonly gun: string;
  readonly now: Date;
  readonly previous?: Metadata<'Root'>;
  readonly trustPinning?: TrustPinning;
}

/**
 * Validates a root against the GUN, the previously trusted root and trust pinning. Returns the TUF key IDs
 * of the root certificates whose signatures verified. Version and expiry are the caller's rules.
 */
export function validateRoot(root: Metadata<'Root'>, options: ValidateRootOptions, ctx: VerifyContext): string[] {
  checkRootStructure(root);
  const { gun, now } = options;
  const fail = (code: 'NO_VALID_ROOT_CERTIFICATES' | 'TRUST_PINNING_FAILED', reason: string) =>
    new RootTrustError(code, `could not validate the path to a trusted root: ${reason}`, { where: 'root' });

  const all = rootCertificates(root.signed, ctx);
  const valid = all.filter((c) => commonNameMatchesGun(c.leaf.subjectCommonName, gun) && !certificateProblem(c.leaf, now));
  if (valid.length === 0) throw fail('NO_VALID_ROOT_CERTIFICATES', 'unable to retrieve valid leaf certificates');
  const withValidIntermediates = valid.map((c) => ({
    ...c,
    intermediates: c.intermediates.filter((i) => !certificateProblem(i, now)),
  }));

  if (options.previous) {
    const trusted = rootCertificates(options.previous.signed, ctx).filter(
      (c) => commonNameMatchesGun(c.leaf.subjectCommonName, gun) && !certificateProblem(c.leaf, undefined),
    );
    if (trusted.length === 0) {
      throw fail('NO_VALID_ROOT_CERTIFICATES', 'could not retrieve trusted certs from previous root role data');
    }
    const previousThreshold = options.previous.signed.roles?.['root']?.threshold ?? 0;
    try {
      verifyThreshold(root, { name: 'root', keys: keysFromCertificates(trusted, ctx), threshold: previousThreshold }, ctx);
    } catch (err) {
      throw new RootTrustError(
        'ROOT_ROTATION_FAILED',
        'could not rotate trust to a new trusted root: failed to validate data with current trusted certificates',
        { where: 'root', cause: err },
      );
    }
  }

  const pinCheck = trustPinChecker(options.trustPinning ?? {}, gun, !options.previous, now, ctx);
  const pinned = withValidIntermediates.filter((c) => pinCheck(c.leaf, c.intermediates));
  if (pinned.length === 0) throw fail('TRUST_PINNING_FAILED', 'unable to match any certificates to trust_pinning config');

  const threshold = root.signed.roles?.['root']?.threshold ?? 0;
  try {
    return verifyThreshold(root, { name: 'root', keys: keysFromCertificates(pinned, ctx), threshold }, ctx);
  } catch (err) {
    throw new RootTrustError('THRESHOLD_NOT_MET', 'could not validate the path to a trusted root: failed to validate integrity of roots', {
      where: 'root',
      cause: err,
    });
  }
}

/** Snapshot and timestamp structure rules (sha256 of root/targets resp. snapshot must be listed). */
export function checkSnapshotStructure(snapshot: Metadata<'Snapshot'>): void {
  const fail = (msg: string) => new FormatError('MALFORMED_METADATA', `snapshot type metadata invalid: ${msg}`, { where: 'snapshot' });
  if (snapshot.version < 1) throw fail('version cannot be less than one');
  for (const role of ['root', 'targets']) {
    const meta = snapshot.signed.meta?.[role];
    if (!meta?.hashes?.['sha256']) throw fail(`missing ${role} sha256 checksum information`);
    checkHashStructure(meta.hashes, `snapshot meta ${role}`);
  }
}

export function checkTimestampStructure(timestamp: Metadata<'Timestamp'>): void {
  const fail = (msg: string) => new FormatError('MALFORMED_METADATA', `timestamp type metadata invalid: ${msg}`, { where: 'timestamp' });
  if (timestamp.version < 1) throw fail('version cannot be less than one');
  const meta = timestamp.signed.meta?.['snapshot'];
  if (!meta?.hashes?.['sha256']) throw fail('missing snapshot sha256 checksum information');
  checkHashStructure(meta.hashes, 'timestamp meta snapshot');
}
