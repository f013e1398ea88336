/**
 * Keys as the writer uses them when the private half may be out of reach (a PKCS#11 token): a handle with
 * the public key and a signing function, from the store's `keyHandle` when it has one, else from the
 * decrypted private key. New keys are made by the store itself when it can (`generateKey`: on the token),
 * else generated here and added.
 */
import { toBase64 } from '../core/bytes.js';
import type { MetadataSigner } from '../core/build.js';
import type { CryptoBackend, PrivateKeyMaterial, PublicKeyMaterial } from '../core/crypto.js';
import { rootCertificateKeyWith } from '../core/init.js';
import { publicKeyJson, signingMethodFor, tufKeyId } from '../core/keys.js';
import type { KeyJson } from '../core/metadata.js';
import { encodeSpki } from '../core/x509.js';
import type { KeyHandle, KeyStore } from './keystore.js';

export async function keyHandleOf(keyStore: KeyStore, keyId: string, crypto: CryptoBackend): Promise<KeyHandle> {
  if (keyStore.keyHandle) return keyStore.keyHandle(keyId);
  const { privateKey, role } = await keyStore.getPrivateKey(keyId);
  return handleOfPrivate(keyId, role, privateKey, crypto);
}

function handleOfPrivate(keyId: string, role: string, privateKey: PrivateKeyMaterial, crypto: CryptoBackend): KeyHandle {
  const publicKey: PublicKeyMaterial =
    privateKey.kind === 'ecdsa'
      ? { kind: 'ecdsa', curve: privateKey.curve, point: privateKey.point, spki: new Uint8Array(0) }
      : privateKey.kind === 'rsa'
        ? { kind: 'rsa', n: privateKey.n, e: privateKey.e, spki: new Uint8Array(0) }
        : { kind: 'ed25519', raw: privateKey.publicKey };
  return { keyId, role, publicKey, sign: async (method, message) => crypto.sign(method, privateKey, message) };
}

/**
 * A new key for `role` in the store (on a token when the store puts that role there), as a handle. A key
 * generated here is used from memory (its passphrase is asked once, to store it).
 */
export async function newKeyHandle(keyStore: KeyStore, crypto: CryptoBackend, info: { role: string; gun?: string }): Promise<KeyHandle> {
  if (keyStore.generateKey) return keyHandleOf(keyStore, await keyStore.generateKey(info), crypto);
  const privateKey = crypto.generateKey('ecdsa');
  return handleOfPrivate(await keyStore.add(privateKey, info), info.role, privateKey, crypto);
}

/** The bare public key as metadata lists it. */
export function publicKeyJsonOf(key: PublicKeyMaterial): KeyJson {
  if (key.kind === 'ed25519') return publicKeyJson('ed25519', toBase64(key.raw));
  return publicKeyJson(key.kind, toBase64(encodeSpki(key.kind === 'ecdsa' ? { ...key, spki: new Uint8Array(0) } : { ...key, spki: new Uint8Array(0) })));
}

/** Notary's root certificate for this key (CN = GUN), signed through the handle. */
export function rootCertificateOf(handle: KeyHandle, gun: string, now: Date, crypto: CryptoBackend): Promise<KeyJson> {
  return rootCertificateKeyWith(handle.publicKey, (tbs) => handle.sign('ecdsa', tbs), gun, now, crypto);
}

export function signerOf(handle: KeyHandle, publicKey: KeyJson, crypto: CryptoBackend): MetadataSigner {
  const method = signingMethodFor(publicKey.keytype);
  return { keyId: tufKeyId(publicKey, crypto), method, sign: (message) => handle.sign(method, message) };
}
