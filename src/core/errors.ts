/**
 * The error hierarchy. Every error the library raises on purpose is a NotaryError with a stable `code`
 * that scripts can switch on; the message is for people and may change. Modelled on python-tuf's small,
 * spec-named hierarchy: a few families (format, signature, freshness, rollback, hashes, delegation,
 * repository, key store) rather than one class per call site.
 */
export type ErrorCode =
  // input that cannot be decoded or does not have the shape Notary requires
  | 'MALFORMED_JSON'
  | 'MALFORMED_METADATA'
  | 'NON_CANONICAL'
  | 'UNSUPPORTED_VALUE'
  | 'BAD_TIME'
  | 'MALFORMED_KEY'
  | 'MALFORMED_CERTIFICATE'
  | 'UNSUPPORTED_KEY_TYPE'
  | 'UNSUPPORTED_ALGORITHM'
  // signatures and keys
  | 'NO_SIGNATURES'
  | 'THRESHOLD_NOT_MET'
  | 'KEY_ID_MISMATCH'
  | 'BAD_SIGNATURE'
  // root certificates and trust
  | 'NO_VALID_ROOT_CERTIFICATES'
  | 'ROOT_ROTATION_FAILED'
  | 'TRUST_PINNING_FAILED'
  // freshness, rollback, consistency
  | 'EXPIRED'
  | 'ROLLBACK'
  | 'BAD_VERSION'
  | 'HASH_MISMATCH'
  | 'LENGTH_EXCEEDED'
  | 'NO_CHECKSUMS'
  | 'WRONG_ROLE_TYPE'
  | 'OUT_OF_ORDER'
  | 'ROLE_NOT_FOUND'
  // delegations
  | 'INVALID_DELEGATION_NAME'
  | 'INVALID_DELEGATION'
  | 'PATH_NOT_ALLOWED'
  // keys, passphrases, trust_dir
  | 'KEY_NOT_FOUND'
  | 'BAD_PASSPHRASE'
  | 'KEY_STORE'
  // remote server / IO
  | 'NETWORK'
  | 'SERVER_ERROR'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'TIMEOUT'
  | 'OFFLINE'
  | 'TARGET_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  // signing policy (the deploy gate)
  | 'POLICY_INVALID'
  | 'POLICY_DENIED'
  | 'SIGNER_MISSING'
  | 'NOT_A_DELEGATION'
  | 'DIGEST_CONFLICT'
  | 'DIGEST_MISMATCH'
  | 'ROOT_KEY_NOT_PINNED'
  | 'EXPIRES_SOON'
  // bounded work and hostile input (issue 9)
  | 'LIMIT_EXCEEDED'
  | 'NESTING_TOO_DEEP'
  | 'BAD_TRUST_DIR'
  | 'SIGNING_FAILED'
  // hardware tokens (PKCS#11)
  | 'TOKEN_UNAVAILABLE'
  | 'TOKEN_PIN_INCORRECT'
  | 'TOKEN_PIN_LOCKED'
  | 'TOKEN_FAILED'
  | 'TOKEN_TIMEOUT'
  | 'KEY_NOT_EXTRACTABLE'
  // a key needs a passphrase and none can be had (no variable, no terminal)
  | 'NO_PASSPHRASE';

export class NotaryError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a role name, a file path, a JSON pointer. */
  readonly where: string | undefined;

  constructor(code: ErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.where = options.where;
    this.name = new.target.name;
  }
}

/** The input could not be decoded, or does not have the shape Notary requires. */
export class FormatError extends NotaryError {}
/** A key, certificate or algorithm is malformed or not supported. */
export class KeyError extends NotaryError {}
/** Signatures are missing, invalid or below threshold. */
export class SignatureError extends NotaryError {}
/** The root of trust cannot be established or rotated. */
export class RootTrustError extends NotaryError {}
/** Metadata is expired (freeze attack or stale repository). */
export class ExpiredError extends NotaryError {}
/** Metadata is older than what is already trusted (rollback attack), or a version rule is broken. */
export class RollbackError extends NotaryError {}
/** Bytes do not match the hashes or length their parent metadata states (mix-and-match, endless data). */
export class HashError extends NotaryError {}
/** A delegation is malformed or a role signs outside its paths. */
export class DelegationError extends NotaryError {}
/** Metadata arrived out of the order the update workflow requires, or names the wrong role. */
export class WorkflowError extends NotaryError {}
/** Key store or passphrase problems. */
export class KeyStoreError extends NotaryError {}
/** The remote server could not be reached or answered with an error. */
export class RemoteError extends NotaryError {}
/** A requested target is not in the trusted collection. */
export class TargetNotFoundError extends NotaryError {}
/** A hardware token (PKCS#11) is missing, refused the PIN, failed or timed out. */
export class TokenError extends NotaryError {}
