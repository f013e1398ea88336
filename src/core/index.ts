// The portable core: runs in any JS runtime given a CryptoBackend. No Node-only imports below here.
export * from './errors.js';
export * from './bytes.js';
export * from './canonical.js';
export * from './canonical-scan.js';
export * from './time.js';
export type * from './crypto.js';
export * from './metadata.js';
export * from './keys.js';
export * from './x509.js';
export * from './pem.js';
export * from './verify.js';
export * from './root.js';
export * from './targets.js';
export * from './trusted.js';
export * from './collection.js';
export * from './load.js';
export * from './build.js';
export * from './init.js';
