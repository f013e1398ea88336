// notary-ts: verify and sign Notary/TUF trust data, byte-compatible with Notary 0.7.
// The portable core (any JS runtime, given a CryptoBackend):
export * from './core/index.js';
// Crypto backends: node:crypto (default, native) and pure JS (@noble).
export { nodeCryptoBackend } from './crypto/node.js';
export { nobleCryptoBackend } from './crypto/noble.js';
// Node IO: remote server, cache, config, credentials.
export { NotaryRemote, type NotaryRemoteOptions, type RemoteTlsOptions } from './node/remote.js';
export { ReadLimit } from './node/read-limit.js';
export { proxyFromEnvironment } from './node/proxy.js';
export { FileMetadataCache, MemoryMetadataCache, type MetadataCache } from './node/cache.js';
export { loadClientConfig, type ClientConfig } from './node/config.js';
export { resolveCredentials, type Credentials } from './node/credentials.js';
// The verification API.
export { TrustedRepository, type MetadataRemote, type OpenOptions } from './repository/reader.js';
export { openRepository, type OpenRepositoryOptions } from './repository/open.js';
// Keys: the Notary-compatible trust_dir key store and passphrase sources.
export { FileKeyStore, type KeyStore, type KeyInfo } from './node/keystore.js';
export { envRetriever, constantRetriever, callbackRetriever, notaryRetriever, type PassphraseRetriever } from './node/passphrase.js';
// The signing API.
export { RepositoryWriter, type WriterOptions, type PublishingRemote, type InitOptions, type PublishResult } from './repository/writer.js';
export { DirectoryRemote, type DirectoryRemoteOptions } from './node/directory-remote.js';
export {
  FileChangelist,
  targetCreateChange,
  targetDeleteChange,
  delegationChange,
  delegationDeleteChange,
  delegationPurgeChange,
  witnessChange,
  type Change,
} from './repository/changelist.js';
// Images: Docker's reference grammar and normalisation (pure).
export {
  parseNormalizedNamed,
  tryParseNormalizedNamed,
  parseReference,
  familiarName,
  familiarString,
  referenceString,
  gunOf,
  withTag,
  withDigest,
  trimNamed,
  validateDigest,
  isValidTag,
  indexName,
  isDockerHub,
  isLoopbackLiteral,
  splitHostPort,
  ImageReferenceError,
  REFERENCE_ERRORS,
  type ImageReference,
} from './images/reference.js';
// Images: Docker Content Trust settings (server, TLS dir, trust dir, passphrases) and registry credentials.
export {
  dockerConfigDir,
  trustDirectory,
  trustServer,
  trustCertDirectory,
  trustServerTls,
  readCertsDirectory,
  isInsecureRegistry,
  resolveTrustTarget,
  dockerPassphraseRetriever,
  dockerEnvPassphrase,
  DOCKER_HUB_NOTARY,
  DOI_DEPRECATION_WARNING,
  DOCKER_ALIAS_MAP,
  type TrustTarget,
  type DockerPassphraseOptions,
  type HostLookup,
} from './images/trust-settings.js';
export { resolveRegistryCredentials, registryAuthKey, DOCKER_HUB_AUTH_KEY, type RegistryCredentialOptions } from './node/credentials.js';
// The deploy gate: signing policy, decisions, and the Kubernetes admission webhook.
export { parsePolicy, defaultPolicy, ruleFor, parseDuration, PolicyError, type Policy, type Rule, type Action, type SignerRequirement, type RootTrust } from './policy/policy.js';
export { compileImagePattern, type ImagePattern } from './policy/pattern.js';
export { evaluateRule, pinnedKeyIds, checkPinnedRoot, checkFreshness, type TrustedImage, type ImageSigner, type ImageSubject, type EvaluateOptions } from './policy/evaluate.js';
export { Gate, loadPolicyFile, type Decision, type GateOptions } from './policy/gate.js';
export { startAdmissionServer, type AdmissionServer, type AdmissionServerOptions, type AdmissionMode } from './admission/server.js';
export { parseAdmissionReview, admissionResponse, AdmissionRequestError, type ParsedReview, type ImageSite, type ImageVerdict, type ReviewResponse } from './admission/review.js';
// The trust report (expiry, signers, delegation trees; `notary-ts report`).
export {
  trustReport,
  collectReport,
  buildRepositoryReport,
  unverifiedRepositoryReport,
  assembleReport,
  renderReportHtml,
  renderReportText,
  parseAt,
  parseWindow,
  REPORT_SCHEMA,
  DEFAULT_WARN_WITHIN_MS,
  type TrustReport,
  type TrustReportOptions,
  type RepositoryReport,
  type RoleReport,
  type CertificateReport,
  type DelegationNode,
  type SignedTag as ReportSignedTag,
  type Finding,
  type Severity,
  type RepositoryOpener,
} from './report/index.js';
// Registry client (OCI distribution): tag → manifest digest, size, media type; and image → manifest.
export {
  RegistryClient,
  RegistryError,
  MANIFEST_MEDIA_TYPES,
  MAX_MANIFEST_BYTES,
  DOCKER_HUB_REGISTRY,
  DEFAULT_REGISTRY_TIMEOUTS,
  type RegistryClientOptions,
  type RegistryTimeouts,
  type ManifestDescriptor,
  type ManifestMediaType,
  type ResolveOptions,
} from './registry/client.js';
export { resolveImage, type ResolveImageOptions, type ResolvedImage } from './images/resolve.js';
// Hardware tokens (PKCS#11, through the optional pkcs11js): a key store on the token, and the trust_dir store with a token in front.
export { Pkcs11KeyStore, type Pkcs11KeyStoreOptions, type PinSource } from './tokens/pkcs11/token-store.js';
export { TokenAwareKeyStore, type TokenPolicy } from './tokens/pkcs11/combined.js';
export { resolvePkcs11Settings, GO_YUBIKEY_MODULE_PATHS, type Pkcs11Settings } from './tokens/pkcs11/config.js';
export { pinFromRetriever } from './tokens/pkcs11/pin.js';
// Images: `docker trust` as an API (resolve a tag to its signed digest, sign, revoke, inspect).
export { resolveSignedImage, signImage, revokeImage, inspectImage, type SignedImage, type ResolveSignedImageOptions, type SignImageOptions, type ImageTrustOptions } from './images/trust/api.js';
export { formatInspectJson, formatInspectPretty, type RepositoryTrust, type SignedTag as InspectSignedTag, type Signer } from './images/trust/inspect.js';
export { TrustSession, type TrustSessionOptions } from './images/trust/session.js';
export type { SignOutcome, SignProgress, ImageTarget } from './images/trust/operations.js';
