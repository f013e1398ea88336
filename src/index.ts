// notary-ts: verify and sign Notary/TUF trust data, byte-compatible with Notary 0.7.
// The portable core (any JS runtime, given a CryptoBackend):
export * from './core/index.js';
// Crypto backends: node:crypto (default, native) and pure JS (@noble).
export { nodeCryptoBackend } from './crypto/node.js';
export { nobleCryptoBackend } from './crypto/noble.js';
// Node IO: remote server, cache, config, credentials.
export { NotaryRemote, type NotaryRemoteOptions, type RemoteTlsOptions } from './node/remote.js';
export { FileMetadataCache, MemoryMetadataCache, type MetadataCache } from './node/cache.js';
export { loadClientConfig, type ClientConfig } from './node/config.js';
export { resolveCredentials, type Credentials } from './node/credentials.js';
// The verification API.
export { TrustedRepository, type MetadataRemote, type OpenOptions } from './repository/reader.js';
export { openRepository, type OpenRepositoryOptions } from './repository/open.js';
