/**
 * Public keys as they appear in metadata, Notary's two key IDs, and the decoding of `keyval.public` into
 * key material a crypto backend can use.
 *
 * - TUF key ID: SHA-256 of canonical `{"keytype","keyval":{"private":null,"public"}}` — used in metadata,
 *   signatures and trust pinning.
 * - Canonical key ID: for `*-x509` keys, the TUF ID of the leaf certificate's bare public key (type `ecdsa`
 *   or `rsa`, SPKI DER); otherwise the TUF ID. Names private key files and appears in CLI output.
 */
import { fromBase64, toBase64, toHex, utf8Decode, utf8Encode } from './bytes.js';
import { canonicalize } from './canonical.js';
import type { CryptoBackend, PublicKeyMaterial, SignatureMethod } from './crypto.js';
import { KeyError } from './errors.js';
import type { KeyJson } from './metadata.js';
import { parseSpki, pemToCertificates, type Certificate } from './x509.js';

export const KEY_TYPES = ['ed25519', 'ecdsa', 'ecdsa-x509', 'rsa', 'rsa-x509'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface PublicKeyLike {
  keytype: string;
  keyval: { public: string };
}

/** A key object in the Go-normal form metadata stores. */
export function publicKeyJson(keytype: string, publicBase64: string): KeyJson {
  return { keytype, keyval: { private: null, public: publicBase64 } };
}

export function tufKeyId(key: PublicKeyLike, crypto: CryptoBackend): string {
  const text = canonicalize({ keytype: key.keytype, keyval: { private: null, public: key.keyval.public } });
  return toHex(crypto.sha256(utf8Encode(text)));
}

function publicBytes(key: PublicKeyLike): Uint8Array {
  const bytes = fromBase64(key.keyval.public);
  if (!bytes) throw new KeyError('MALFORMED_KEY', `${key.keytype} key: public value is not valid base64`);
  return bytes;
}

/** The certificates of an x509 key, leaf first as Notary stores them. */
export function keyCertificates(key: PublicKeyLike): Certificate[] {
  if (!key.keytype.endsWith('-x509')) throw new KeyError('UNSUPPORTED_KEY_TYPE', `${key.keytype} key has no certificate`);
  return pemToCertificates(utf8Decode(publicBytes(key)));
}

export interface DecodedKey {
  readonly keytype: string;
  readonly material: PublicKeyMaterial;
  /** For x509 keys: the certificate the key was taken from (the first PEM block). */
  readonly certificate?: Certificate;
}

/**
 * Decodes a metadata key into backend key material. Like Go, x509 keys use the first certificate in the
 * PEM; `ecdsa`/`rsa` keys hold SPKI DER; `ed25519` holds the raw 32-byte key.
 */
export function decodePublicKey(key: PublicKeyLike): DecodedKey {
  const bytes = publicBytes(key);
  switch (key.keytype) {
    case 'ed25519':
      if (bytes.length !== 32) throw new KeyError('MALFORMED_KEY', `ed25519 public key must be 32 bytes, not ${bytes.length}`);
      return { keytype: key.keytype, material: { kind: 'ed25519', raw: bytes } };
    case 'ecdsa':
    case 'rsa': {
      const material = parseSpki(bytes);
      if (material.kind !== key.keytype) {
        throw new KeyError('MALFORMED_KEY', `${key.keytype} key holds a ${material.kind} public key`);
      }
      return { keytype: key.keytype, material };
    }
    case 'ecdsa-x509':
    case 'rsa-x509': {
      const certs = pemToCertificates(utf8Decode(bytes));
      const certificate = certs[0];
      if (!certificate) throw new KeyError('MALFORMED_CERTIFICATE', `${key.keytype} key holds no certificate`);
      const want = key.keytype === 'ecdsa-x509' ? 'ecdsa' : 'rsa';
      if (certificate.publicKey.kind !== want) {
        throw new KeyError('MALFORMED_KEY', `${key.keytype} certificate holds a ${certificate.publicKey.kind} public key`);
      }
      return { keytype: key.keytype, material: certificate.publicKey, certificate };
    }
    default:
      throw new KeyError('UNSUPPORTED_KEY_TYPE', `unknown key type ${JSON.stringify(key.keytype)}`);
  }
}

export function canonicalKeyId(key: PublicKeyLike, crypto: CryptoBackend, decoded?: DecodedKey): string {
  if (key.keytype === 'ecdsa-x509' || key.keytype === 'rsa-x509') {
    decoded ??= decodePublicKey(key);
    const bare = key.keytype === 'ecdsa-x509' ? 'ecdsa' : 'rsa';
    return tufKeyId(publicKeyJson(bare, toBase64(decoded.certificate!.spki)), crypto);
  }
  return tufKeyId(key, crypto);
}

/** Which signature methods Notary accepts for a key type. */
export function methodFitsKey(method: string, keytype: string): method is SignatureMethod {
  switch (method) {
    case 'ecdsa':
      return keytype === 'ecdsa' || keytype === 'ecdsa-x509';
    case 'eddsa':
      return keytype === 'ed25519';
    case 'rsapss':
    case 'rsapkcs1v15':
      return keytype === 'rsa' || keytype === 'rsa-x509';
    default:
      return false;
  }
}

/** The method Notary signs with for a key type. */
export function signingMethodFor(keytype: string): SignatureMethod {
  if (keytype === 'ed25519') return 'eddsa';
  if (keytype === 'ecdsa' || keytype === 'ecdsa-x509') return 'ecdsa';
  if (keytype === 'rsa' || keytype === 'rsa-x509') return 'rsapss';
  throw new KeyError('UNSUPPORTED_KEY_TYPE', `cannot sign with a ${keytype} key`);
}

/**
 * Caches decoded keys by their JSON identity so a 16k-entry snapshot or many delegations do not re-parse
 * certificates. Keys that fail to decode are cached as failures (a bad key never verifies).
 */
export class KeyCache {
  private readonly decoded = new Map<string, DecodedKey | KeyError>();

  decode(key: PublicKeyLike): DecodedKey | KeyError {
    const cacheKey = key.keytype + '\u0000' + key.keyval.public;
    let hit = this.decoded.get(cacheKey);
    if (hit === undefined) {
      try {
        hit = decodePublicKey(key);
      } catch (err) {
        hit = err instanceof KeyError ? err : new KeyError('MALFORMED_KEY', String(err), { cause: err });
      }
      this.decoded.set(cacheKey, hit);
    }
    return hit;
  }
}
