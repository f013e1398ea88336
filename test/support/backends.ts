import type { CryptoBackend } from '../../src/core/crypto.js';
import { nobleCryptoBackend } from '../../src/crypto/noble.js';
import { nodeCryptoBackend } from '../../src/crypto/node.js';

/** Every suite that verifies runs on both backends: they must agree on every vector. */
export const BACKENDS: readonly [string, CryptoBackend][] = [
  ['node', nodeCryptoBackend],
  ['noble', nobleCryptoBackend],
];
