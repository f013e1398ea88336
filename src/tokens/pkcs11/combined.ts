/**
 * The trust_dir key store and a token together, as Go notary stacks its YubiKey store in front of the file
 * store: a key on the token signs there, any other key comes from the files. New keys for the configured
 * roles (default: root) are made on the token; the others in the files. Imports (`key import`, `rotate -k`)
 * go to the files unless the caller asks the token directly (`key import --pkcs11`).
 */
import type { MetadataSigner } from '../../core/build.js';
import type { CryptoBackend, PrivateKeyMaterial } from '../../core/crypto.js';
import type { PublicKeyLike } from '../../core/keys.js';
import { isDelegationName } from '../../core/verify.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { compareKeyInfo, type KeyHandle, type KeyInfo, type KeyStore } from '../../node/keystore.js';
import { keyHandleOf } from '../../node/key-handles.js';
import type { KeyLayout } from './config.js';
import type { Pkcs11KeyStore } from './token-store.js';

export interface TokenPolicy {
  /** Roles whose new keys go on the token (`delegation` stands for every delegation role). */
  readonly roles: ReadonlySet<string>;
  readonly layout: KeyLayout;
}

export function roleGoesToToken(policy: TokenPolicy, role: string): boolean {
  return policy.roles.has(role) || (isDelegationName(role) && policy.roles.has('delegation'));
}

export class TokenAwareKeyStore implements KeyStore {
  readonly location: string;
  private readonly crypto: CryptoBackend;

  constructor(
    readonly files: KeyStore,
    readonly token: Pkcs11KeyStore,
    readonly policy: TokenPolicy,
    crypto: CryptoBackend = nodeCryptoBackend,
  ) {
    this.location = files.location;
    this.crypto = crypto;
  }

  /** Both stores, token keys first where Notary's order ties (Go lists a key once per store holding it). */
  async list(): Promise<KeyInfo[]> {
    return [...(await this.token.list()), ...(await this.files.list())].sort(compareKeyInfo);
  }

  async getPrivateKey(keyId: string): Promise<{ privateKey: PrivateKeyMaterial; role: string }> {
    if (this.token.has(keyId)) {
      // A backup in the files (Go's YubiKey layout) can be read; a token-only key cannot.
      const inFiles = (await this.files.list()).some((k) => k.keyId === keyId);
      if (!inFiles) return this.token.getPrivateKey(keyId);
    }
    return this.files.getPrivateKey(keyId);
  }

  getSigner(keyId: string, publicKey?: PublicKeyLike): Promise<MetadataSigner> {
    return this.token.has(keyId) ? this.token.getSigner(keyId, publicKey) : this.files.getSigner(keyId, publicKey);
  }

  keyHandle(keyId: string): Promise<KeyHandle> {
    return this.token.has(keyId) ? this.token.keyHandle(keyId) : keyHandleOf(this.files, keyId, this.crypto);
  }

  add(privateKey: PrivateKeyMaterial, info: { role: string; gun?: string }): Promise<string> {
    return this.files.add(privateKey, info);
  }

  async generateKey(info: { role: string; gun?: string }): Promise<string> {
    if (!roleGoesToToken(this.policy, info.role)) return this.files.add(this.crypto.generateKey('ecdsa'), info);
    if (this.policy.layout === 'token') return this.token.generateKey(info);
    // Go's YubiKey layout: made in software, imported into a PIV slot, backed up encrypted in the trust dir.
    const privateKey = this.crypto.generateKey('ecdsa');
    const keyId = await this.token.add(privateKey, info, { yubikeySlot: true });
    try {
      await this.files.add(privateKey, info);
    } catch (err) {
      await this.token.remove(keyId).catch(() => false);
      throw err;
    }
    return keyId;
  }

  /** Removes the key from every store holding it (Go's RemoveKey over all stores). */
  async remove(keyId: string): Promise<boolean> {
    const fromToken = this.token.has(keyId) ? await this.token.remove(keyId) : false;
    const fromFiles = await this.files.remove(keyId);
    return fromToken || fromFiles;
  }

  close(): void {
    this.token.close();
  }
}
