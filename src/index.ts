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
// Hardware tokens (PKCS#11, through the optional pkcs11js): a key store on the token, and the trust_dir store with a token in front.
export { Pkcs11KeyStore, type Pkcs11KeyStoreOptions, type PinSource } from './tokens/pkcs11/token-store.js';
export { TokenAwareKeyStore, type TokenPolicy } from './tokens/pkcs11/combined.js';
export { resolvePkcs11Settings, GO_YUBIKEY_MODULE_PATHS, type Pkcs11Settings } from './tokens/pkcs11/config.js';
export { pinFromRetriever } from './tokens/pkcs11/pin.js';
