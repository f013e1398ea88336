/**
 * X.509 path building and verification as Go's `(*x509.Certificate).Verify` does it (crypto/x509, Go 1.19,
 * the Go Notary 0.7 is built with), for `trust_pinning.ca`: Notary calls
 * `leaf.Verify(x509.VerifyOptions{Roots: caPool, Intermediates: rootJsonIntermediates})`, so:
 *
 * * the leaf itself is checked (validity window at `now`, no unhandled critical extension, path length);
 * * chains are built depth-first from the leaf through the intermediates to a root of the pool, a parent
 *   being any certificate whose raw Subject equals the child's raw Issuer, whose signature over the child
 *   verifies, which is a CA (`CheckSignatureFrom`: a v3 parent needs basicConstraints cA; a keyUsage, if
 *   present, must allow certSign) and which is itself valid (window, critical extensions, intermediates
 *   must be CAs, pathLenConstraint); at most 100 signature checks; no certificate twice in a chain;
 * * a leaf that is itself in the pool is a chain of one;
 * * finally Go's default key-usage rule: ExtKeyUsage ServerAuth, checked along each chain (a certificate
 *   without EKU allows everything, `anyExtendedKeyUsage` too, Netscape/Microsoft SGC count as ServerAuth).
 *   So a leaf with only codeSigning — what `notary init` makes — fails.
 *
 * Signatures go through the `CryptoBackend`, which hashes with SHA-256 only: ecdsa-with-SHA256,
 * sha256WithRSAEncryption and Ed25519 are verified; SHA-384/512 and RSA-PSS certificate signatures are
 * reported as `UNSUPPORTED_ALGORITHM` (Go accepts them: such a chain is refused here, never wrongly
 * accepted); SHA-1 and MD5 are refused as insecure, as Go 1.19 does.
 *
 * Name constraints are not evaluated: a chain where an issuer carries nameConstraints and the leaf has a
 * subjectAltName (the only case where Go applies them) is refused (`NameConstraints`), erring on the safe side.
 *
 * Pure: no IO, the time is a parameter.
 */
import { bytesEqual } from './bytes.js';
import type { CryptoBackend, SignatureMethod } from './crypto.js';
import { RootTrustError, type ErrorCode } from './errors.js';
import { EC_FIELD_BYTES, OID, ecdsaDerToRaw, type Certificate } from './x509.js';

export const EXT_KEY_USAGE = {
  any: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  netscapeServerGatedCrypto: '2.16.840.1.113730.4.1',
  microsoftServerGatedCrypto: '1.3.6.1.4.1.311.10.3.3',
} as const;

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_NAME_CONSTRAINTS = '2.5.29.30';
/** Extensions Go's parser understands; any other one marked critical makes a certificate invalid. */
const HANDLED_EXTENSIONS = new Set([
  OID.keyUsage,
  OID.basicConstraints,
  OID_SUBJECT_ALT_NAME,
  OID_NAME_CONSTRAINTS,
  '2.5.29.31', // CRL distribution points
  '2.5.29.35', // authority key identifier
  OID.extKeyUsage,
  '2.5.29.14', // subject key identifier
  '2.5.29.32', // certificate policies
  '1.3.6.1.5.5.7.1.1', // authority information access
]);

const KEY_USAGE_CERT_SIGN = 32;
const MAX_SIGNATURE_CHECKS = 100;

/** Why a chain was refused, in Go's vocabulary (x509.InvalidReason and friends). */
export type ChainFailure =
  | 'UnknownAuthority'
  | 'Expired'
  | 'NotAuthorizedToSign'
  | 'TooManyIntermediates'
  | 'IncompatibleUsage'
  | 'NameMismatch'
  | 'UnhandledCriticalExtension'
  | 'NameConstraints'
  | 'ConstraintViolation'
  | 'UnsupportedAlgorithm'
  | 'InsecureAlgorithm'
  | 'BadSignature'
  | 'SignatureCheckLimit';

/** A certificate chain could not be verified. `code` is `UNSUPPORTED_ALGORITHM` when that is why. */
export class CertificateChainError extends RootTrustError {
  readonly reason: ChainFailure;
  readonly certificate: Certificate | undefined;

  constructor(reason: ChainFailure, message: string, certificate?: Certificate, options: { code?: ErrorCode; cause?: unknown } = {}) {
    super(options.code ?? (reason === 'UnsupportedAlgorithm' ? 'UNSUPPORTED_ALGORITHM' : 'TRUST_PINNING_FAILED'), `x509: ${message}`, {
      where: certificate?.subjectCommonName ?? 'certificate',
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.reason = reason;
    this.certificate = certificate;
  }
}

export interface ChainOptions {
  /** Trust anchors (the pinned CA bundle, already filtered). */
  readonly roots: readonly Certificate[];
  /** Untrusted certificates that may complete a path (root.json's intermediates). */
  readonly intermediates?: readonly Certificate[];
  readonly now: Date;
  readonly crypto: CryptoBackend;
  /** Acceptable extended key usages; default ServerAuth (Go's default). Include `EXT_KEY_USAGE.any` to skip. */
  readonly keyUsages?: readonly string[];
}

const LEAF = 0;
const INTERMEDIATE = 1;
const ROOT = 2;
type CertType = typeof LEAF | typeof INTERMEDIATE | typeof ROOT;

function describe(cert: Certificate): string {
  return cert.subjectCommonName === '' ? 'certificate' : `certificate with CN ${JSON.stringify(cert.subjectCommonName)}`;
}

/** Go's checkSignature: the child's signature algorithm, verified with the parent's public key. */
export function checkCertificateSignature(child: Certificate, parent: Certificate, crypto: CryptoBackend): void {
  const alg = child.signatureAlgorithm;
  const key = parent.publicKey;
  const fail = (reason: ChainFailure, message: string) => new CertificateChainError(reason, message, child);
  if (alg.hash === 'sha1' || alg.hash === 'md5' || alg.hash === 'md2') {
    throw fail('InsecureAlgorithm', `cannot verify signature: insecure algorithm ${alg.name}`);
  }
  let method: SignatureMethod;
  let signature = child.signature;
  switch (alg.keyKind) {
    case 'ecdsa':
      if (key.kind !== 'ecdsa') throw fail('BadSignature', `signature algorithm ${alg.name} does not match the issuer's ${key.kind} key`);
      method = 'ecdsa';
      try {
        signature = ecdsaDerToRaw(child.signature, EC_FIELD_BYTES[key.curve]);
      } catch (err) {
        throw new CertificateChainError('BadSignature', 'ECDSA verification failure (malformed signature)', child, { cause: err });
      }
      break;
    case 'rsa':
      if (key.kind !== 'rsa') throw fail('BadSignature', `signature algorithm ${alg.name} does not match the issuer's ${key.kind} key`);
      method = 'rsapkcs1v15';
      break;
    case 'ed25519':
      if (key.kind !== 'ed25519') throw fail('BadSignature', `signature algorithm ${alg.name} does not match the issuer's ${key.kind} key`);
      method = 'eddsa';
      break;
    default:
      throw fail('UnsupportedAlgorithm', `cannot verify signature: algorithm ${alg.name} is not supported`);
  }
  if (method !== 'eddsa' && alg.hash !== 'sha256') {
    // The backend hashes with SHA-256 only (see CryptoBackend); Go would accept SHA-384/512 here.
    throw fail('UnsupportedAlgorithm', `cannot verify signature: algorithm ${alg.name} is not supported by this crypto backend`);
  }
  let ok = false;
  try {
    ok = crypto.verify(method, key, child.tbs, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw fail('BadSignature', `${alg.keyKind === 'rsa' ? 'RSA' : alg.keyKind === 'ecdsa' ? 'ECDSA' : 'Ed25519'} verification failure`);
}

/** Go's CheckSignatureFrom: the parent must be allowed to sign certificates, then the signature must verify. */
export function checkSignatureFrom(child: Certificate, parent: Certificate, crypto: CryptoBackend): void {
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) {
    throw new CertificateChainError('ConstraintViolation', `${describe(parent)} is not a CA (basicConstraints)`, parent);
  }
  if (parent.keyUsage !== 0 && (parent.keyUsage & KEY_USAGE_CERT_SIGN) === 0) {
    throw new CertificateChainError('ConstraintViolation', `${describe(parent)} may not sign certificates (keyUsage)`, parent);
  }
  checkCertificateSignature(child, parent, crypto);
}

function extension(cert: Certificate, oid: string) {
  return cert.extensions.find((e) => e.oid === oid);
}

/** Go's isValid for one certificate at a position in a chain under construction. */
function checkValid(cert: Certificate, type: CertType, chain: readonly Certificate[], leaf: Certificate, now: Date): void {
  const critical = cert.extensions.find((e) => e.critical && !HANDLED_EXTENSIONS.has(e.oid));
  if (critical) throw new CertificateChainError('UnhandledCriticalExtension', `unhandled critical extension ${critical.oid}`, cert);
  const child = chain[chain.length - 1];
  if (child && !bytesEqual(child.issuerRaw, cert.subjectRaw)) {
    throw new CertificateChainError('NameMismatch', 'issuer name does not match subject from issuing certificate', cert);
  }
  const t = now.getTime();
  if (t < cert.notBefore.getTime()) {
    throw new CertificateChainError('Expired', `${describe(cert)} is not valid before ${cert.notBefore.toISOString()}`, cert);
  }
  if (t > cert.notAfter.getTime()) {
    throw new CertificateChainError('Expired', `${describe(cert)} has expired (not valid after ${cert.notAfter.toISOString()})`, cert);
  }
  if (type !== LEAF && extension(cert, OID_NAME_CONSTRAINTS) && extension(leaf, OID_SUBJECT_ALT_NAME)) {
    throw new CertificateChainError('NameConstraints', `${describe(cert)} has name constraints, which are not evaluated`, cert);
  }
  if (type === INTERMEDIATE && (!cert.basicConstraintsValid || !cert.isCA)) {
    throw new CertificateChainError('NotAuthorizedToSign', `${describe(cert)} is not authorized to sign other certificates`, cert);
  }
  if (cert.basicConstraintsValid && cert.maxPathLen >= 0 && chain.length - 1 > cert.maxPathLen) {
    throw new CertificateChainError('TooManyIntermediates', `too many intermediates for path length constraint of ${describe(cert)}`, cert);
  }
}

function sameSpki(a: Certificate, b: Certificate): boolean {
  return bytesEqual(a.spki, b.spki);
}

/** Go's alreadyInChain: same subject, same key and same subjectAltName as a certificate already in it. */
function alreadyInChain(candidate: Certificate, chain: readonly Certificate[]): boolean {
  const candidateSan = extension(candidate, OID_SUBJECT_ALT_NAME);
  for (const cert of chain) {
    if (!bytesEqual(candidate.subjectRaw, cert.subjectRaw) || !sameSpki(candidate, cert)) continue;
    const certSan = extension(cert, OID_SUBJECT_ALT_NAME);
    if (!candidateSan && !certSan) return true;
    if (!candidateSan || !certSan) return false;
    if (bytesEqual(candidateSan.value, certSan.value)) return true;
  }
  return false;
}

/** De-duplicated (as Go's CertPool.AddCert) certificates whose subject is `issuer`. */
function potentialParents(pool: readonly Certificate[], child: Certificate): Certificate[] {
  return pool.filter((c) => bytesEqual(c.subjectRaw, child.issuerRaw));
}

function dedupe(certs: readonly Certificate[]): Certificate[] {
  const out: Certificate[] = [];
  for (const c of certs) if (!out.some((o) => bytesEqual(o.der, c.der))) out.push(c);
  return out;
}

interface BuildState {
  readonly roots: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  readonly leaf: Certificate;
  readonly now: Date;
  readonly crypto: CryptoBackend;
  sigChecks: number;
  readonly cache: Map<Certificate, Certificate[][]>;
}

/** Go's buildChains: every chain from `chain`'s last certificate up to a root. */
function buildChains(state: BuildState, chain: readonly Certificate[]): { chains: Certificate[][]; error: CertificateChainError | undefined } {
  const cert = chain[chain.length - 1]!;
  const chains: Certificate[][] = [];
  let hint: CertificateChainError | undefined;
  let error: CertificateChainError | undefined;

  const consider = (type: CertType, candidate: Certificate) => {
    if (alreadyInChain(candidate, chain)) return;
    state.sigChecks++;
    if (state.sigChecks > MAX_SIGNATURE_CHECKS) {
      error = new CertificateChainError('SignatureCheckLimit', 'signature check attempts limit reached while verifying certificate chain', cert);
      return;
    }
    try {
      checkSignatureFrom(cert, candidate, state.crypto);
    } catch (err) {
      hint ??= err instanceof CertificateChainError ? err : new CertificateChainError('BadSignature', String(err), cert, { cause: err });
      return;
    }
    try {
      checkValid(candidate, type, chain, state.leaf, state.now);
    } catch (err) {
      error = err as CertificateChainError;
      return;
    }
    if (type === ROOT) {
      chains.push([...chain, candidate]);
      return;
    }
    let below = state.cache.get(candidate);
    if (!below) {
      const sub = buildChains(state, [...chain, candidate]);
      below = sub.chains;
      if (sub.error) error = sub.error;
      state.cache.set(candidate, below);
    }
    chains.push(...below);
  };

  for (const root of potentialParents(state.roots, cert)) consider(ROOT, root);
  for (const intermediate of potentialParents(state.intermediates, cert)) consider(INTERMEDIATE, intermediate);

  if (chains.length > 0) return { chains, error: undefined };
  if (!error) {
    const code: ErrorCode = hint?.reason === 'UnsupportedAlgorithm' ? 'UNSUPPORTED_ALGORITHM' : 'TRUST_PINNING_FAILED';
    error = new CertificateChainError(
      'UnknownAuthority',
      `certificate signed by unknown authority${hint ? ` (possibly because of "${hint.message.replace(/^x509: /, '')}" while trying to verify candidate authority certificate ${JSON.stringify(hint.certificate?.subjectCommonName ?? '')})` : ''}`,
      cert,
      { code, ...(hint ? { cause: hint } : {}) },
    );
  }
  return { chains, error };
}

/** Go's checkChainForKeyUsage. */
function chainAllowsUsage(chain: readonly Certificate[], keyUsages: readonly string[]): boolean {
  const usages: (string | undefined)[] = [...keyUsages];
  let remaining = usages.length;
  for (let i = chain.length - 1; i >= 0; i--) {
    const cert = chain[i]!;
    if (cert.extKeyUsage.length === 0) continue;
    if (cert.extKeyUsage.includes(EXT_KEY_USAGE.any)) continue;
    for (let j = 0; j < usages.length; j++) {
      const requested = usages[j];
      if (requested === undefined) continue;
      const ok = cert.extKeyUsage.some(
        (u) =>
          u === requested ||
          (requested === EXT_KEY_USAGE.serverAuth && (u === EXT_KEY_USAGE.netscapeServerGatedCrypto || u === EXT_KEY_USAGE.microsoftServerGatedCrypto)),
      );
      if (ok) continue;
      usages[j] = undefined;
      remaining--;
      if (remaining === 0) return false;
    }
  }
  return true;
}

/**
 * Verifies `leaf` up to one of `roots`, as Go's `leaf.Verify(VerifyOptions{Roots, Intermediates})`.
 * Returns every verified chain (leaf first, root last); throws `CertificateChainError` otherwise.
 */
export function verifyCertificateChain(leaf: Certificate, options: ChainOptions): Certificate[][] {
  const roots = dedupe(options.roots);
  const intermediates = dedupe(options.intermediates ?? []);
  checkValid(leaf, LEAF, [], leaf, options.now);
  let candidates: Certificate[][];
  if (roots.some((r) => bytesEqual(r.der, leaf.der))) {
    candidates = [[leaf]];
  } else {
    const state: BuildState = { roots, intermediates, leaf, now: options.now, crypto: options.crypto, sigChecks: 0, cache: new Map() };
    const built = buildChains(state, [leaf]);
    if (built.chains.length === 0) throw built.error!;
    candidates = built.chains;
  }
  const keyUsages = options.keyUsages && options.keyUsages.length > 0 ? options.keyUsages : [EXT_KEY_USAGE.serverAuth];
  if (keyUsages.includes(EXT_KEY_USAGE.any)) return candidates;
  const chains = candidates.filter((c) => chainAllowsUsage(c, keyUsages));
  if (chains.length === 0) {
    throw new CertificateChainError('IncompatibleUsage', `${describe(leaf)}: certificate specifies an incompatible key usage`, leaf);
  }
  return chains;
}
