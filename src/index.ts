// notary-ts: the portable core plus the Node crypto backend (the default where node:crypto exists).
export * from './core/index.js';
export { nodeCryptoBackend } from './crypto/node.js';
export { nobleCryptoBackend } from './crypto/noble.js';
