/**
 * A key store on a PKCS#11 token (a YubiKey through ykcs11, an HSM, SoftHSM), through the optional native
 * `pkcs11js`.
 *
 * Layout. A key is the objects sharing one CKA_ID: the private key (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
 * CKA_SIGN, CKA_EXTRACTABLE false unless asked), its public key, and a self-signed X.509 certificate with
 * CN = <role>, signed on the token, which is how Go notary's YubiKey store finds keys and their role. Our
 * objects also carry CKA_LABEL `notary <role>[ <gun>]` (role and gun never contain spaces). Keys Go put on a
 * YubiKey (no label) are found by their certificate, as Go finds them. The key ID is Notary's canonical ID:
 * the TUF ID of the bare public key.
 *
 * Signing. Host-side SHA-256 of the canonical bytes, then CKM_ECDSA over the digest: the token answers raw
 * r‖s, which is Notary's `ecdsa` signature. RSA keys sign with CKM_RSA_PKCS_PSS (SHA-256, MGF1-SHA-256, salt
 * 32), Notary's `rsapss`. Every signature is verified in software against the key's public half before it
 * is used (Go does the same), so a faulty token cannot produce metadata that fails later.
 *
 * PIN. Asked once, when the first private-key operation needs it (listing reads only public objects), and
 * tried exactly once: a wrong PIN is TOKEN_PIN_INCORRECT and nothing is retried (a retry loop walks a token
 * into its lockout). A locked PIN is TOKEN_PIN_LOCKED before any attempt. Unlike Go we never try a default
 * PIN first (Go tries "123456", which spends one of the token's attempts when it is wrong). The PIN never
 * reaches a message or a log.
 *
 * Touch. A signature that takes longer than a second prints the `prompt` ("touch the token"), and one that
 * takes longer than `touchTimeoutMs` is TOKEN_TIMEOUT; the store is then unusable (the module still owns the
 * call).
 */
import { createHash } from 'node:crypto';
import type { MetadataSigner } from '../../core/build.js';
import type { CryptoBackend, PrivateKeyMaterial, PublicKeyMaterial, SignatureMethod } from '../../core/crypto.js';
import { KeyError, KeyStoreError, NotaryError, TokenError } from '../../core/errors.js';
import { canonicalKeyId, signingMethodFor, tufKeyId, type PublicKeyLike } from '../../core/keys.js';
import { parseDer, readOctetString } from '../../core/der.js';
import { assembleCertificate, buildNotaryRootTbs, encodeSpki, parseCertificate, parseSpki } from '../../core/x509.js';
import { isDelegationName } from '../../core/verify.js';
import { nodeCryptoBackend } from '../../crypto/node.js';
import { compareKeyInfo, storedGun, type KeyHandle, type KeyInfo, type KeyStore } from '../../node/keystore.js';
import { publicKeyJsonOf } from '../../node/key-handles.js';
import { loadPkcs11js, type Pkcs11Binding } from './loader.js';

type Handle = Buffer;

/** P-256's OID as CKA_EC_PARAMS (DER). */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** PKCS#11 3.0 Ed25519 (not in pkcs11js's constants): CKK_EC_EDWARDS, its key-pair generation and CKM_EDDSA. */
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** id-Ed25519 (1.3.101.112) as CKA_EC_PARAMS. */
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');
/** Go's YubiKey PIV slots in its order of preference (9c, 9e, 9d, 9a). */
const YUBIKEY_SLOT_IDS = [2, 1, 3, 0];
const TOUCH_PROMPT_AFTER_MS = 1000;
const BASE_ROLES = new Set(['root', 'targets', 'snapshot', 'timestamp']);

export type PinSource = (token: { label: string; finalTry: boolean }) => Promise<string>;

export interface Pkcs11KeyStoreOptions {
  readonly module: string;
  readonly token?: string;
  readonly slot?: bigint;
  /** The user PIN (asked when first needed). */
  readonly pin: PinSource;
  readonly crypto?: CryptoBackend;
  readonly touchTimeoutMs?: number;
  /** Where "touch your token" goes (CLI: stdout, as Go prints it). */
  readonly prompt?: (text: string) => void;
  readonly log?: (message: string) => void;
}

export interface TokenKeyInfo extends KeyInfo {
  /** CKA_ID of the key's objects, hex. */
  readonly objectId: string;
  readonly publicKey: PublicKeyMaterial;
}

function isValidRole(role: string): boolean {
  return BASE_ROLES.has(role) || isDelegationName(role);
}

function ckrName(err: unknown): string {
  const m = /CKR_[A-Z_0-9]+/.exec(String((err as Error)?.message ?? err));
  return m ? m[0] : String((err as Error)?.message ?? err);
}

function slotNumber(h: Handle): bigint {
  return BigInt('0x' + (Buffer.from(h).reverse().toString('hex') || '0'));
}

/** CKA_EC_POINT: DER OCTET STRING around the SEC1 point (PKCS#11), or the bare point (some modules). */
function ecPoint(value: Buffer): Uint8Array {
  if (value.length === 65 && value[0] === 0x04) return new Uint8Array(value);
  return readOctetString(parseDer(new Uint8Array(value)));
}

/** The key as a backend verifies it (ECDSA and RSA with their SPKI). */
function withSpki(key: PublicKeyMaterial): PublicKeyMaterial {
  if (key.kind === 'ed25519') return key;
  return { ...key, spki: encodeSpki({ ...key, spki: new Uint8Array(0) } as PublicKeyMaterial) } as PublicKeyMaterial;
}

export class Pkcs11KeyStore implements KeyStore {
  readonly location: string;
  readonly module: string;
  private readonly p11: InstanceType<Pkcs11Binding['PKCS11']>;
  private readonly lib: Pkcs11Binding;
  private readonly session: Handle;
  private readonly crypto: CryptoBackend;
  private readonly options: Pkcs11KeyStoreOptions;
  private loggedIn = false;
  private broken: TokenError | undefined;
  private closed = false;
  private cache: TokenKeyInfo[] | undefined;
  private readonly slot: Handle;

  private constructor(lib: Pkcs11Binding, p11: InstanceType<Pkcs11Binding['PKCS11']>, slot: Handle, session: Handle, label: string, options: Pkcs11KeyStoreOptions) {
    this.lib = lib;
    this.p11 = p11;
    this.slot = slot;
    this.session = session;
    this.location = label;
    this.module = options.module;
    this.options = options;
    this.crypto = options.crypto ?? nodeCryptoBackend;
  }

  /** Loads the module, finds the token (by label, slot, or the first present) and opens a session. */
  static open(options: Pkcs11KeyStoreOptions): Pkcs11KeyStore {
    const lib = loadPkcs11js();
    const p11 = new lib.PKCS11();
    try {
      p11.load(options.module);
    } catch (err) {
      throw new TokenError('TOKEN_UNAVAILABLE', `cannot load the PKCS#11 module ${options.module}: ${(err as Error).message}`, { where: options.module, cause: err });
    }
    let initialized = false;
    try {
      try {
        p11.C_Initialize();
      } catch (err) {
        if (ckrName(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw err;
      }
      initialized = true;
      const slots = p11.C_GetSlotList(true);
      let chosen: { slot: Handle; label: string } | undefined;
      for (const slot of slots) {
        const label = p11.C_GetTokenInfo(slot).label.trim();
        if (options.slot !== undefined && slotNumber(slot) !== options.slot) continue;
        if (options.token !== undefined && label !== options.token) continue;
        chosen = { slot, label };
        break;
      }
      if (!chosen) {
        const which = options.token !== undefined ? `labelled ${JSON.stringify(options.token)}` : options.slot !== undefined ? `in slot ${options.slot}` : 'present';
        throw new TokenError('TOKEN_UNAVAILABLE', `no PKCS#11 token ${which} (module ${options.module})`, { where: options.module });
      }
      const session = p11.C_OpenSession(chosen.slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
      return new Pkcs11KeyStore(lib, p11, chosen.slot, session, chosen.label, options);
    } catch (err) {
      if (initialized) {
        try {
          p11.C_Finalize();
        } catch {
          /* already failing */
        }
      }
      try {
        p11.close();
      } catch {
        /* already failing */
      }
      if (err instanceof NotaryError) throw err;
      throw new TokenError('TOKEN_FAILED', `PKCS#11 module ${options.module}: ${ckrName(err)}`, { where: options.module, cause: err });
    }
  }

  /** Ends the session and unloads the module (keys stay on the token). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // After a timeout the module still runs the abandoned C_Sign on a worker thread: finalizing or unloading
    // it now would pull the code from under that thread. The process exit cleans up instead.
    if (this.broken?.code === 'TOKEN_TIMEOUT') return;
    for (const step of [() => this.p11.C_CloseSession(this.session), () => this.p11.C_Finalize(), () => this.p11.close()]) {
      try {
        step();
      } catch {
        /* best effort: the process may be ending on a token error */
      }
    }
  }

  private check(): void {
    if (this.closed) throw new TokenError('TOKEN_FAILED', `the session with token ${this.location} is closed`);
    if (this.broken) throw this.broken;
  }

  /** Runs a PKCS#11 call, turning its failure into a TokenError naming the token and the call. */
  private call<T>(what: string, fn: () => T): T {
    this.check();
    try {
      return fn();
    } catch (err) {
      if (err instanceof NotaryError) throw err;
      throw new TokenError('TOKEN_FAILED', `token ${this.location}: ${what} failed: ${ckrName(err)}`, { where: this.location, cause: err });
    }
  }

  private find(template: { type: number; value?: unknown }[]): Handle[] {
    return this.call('C_FindObjects', () => {
      this.p11.C_FindObjectsInit(this.session, template as never);
      try {
        const out: Handle[] = [];
        for (;;) {
          const batch = this.p11.C_FindObjects(this.session, 64);
          if (batch.length === 0) break;
          out.push(...batch);
        }
        return out;
      } finally {
        this.p11.C_FindObjectsFinal(this.session);
      }
    });
  }

  private attrs(obj: Handle, types: number[]): Map<number, Buffer> {
    const out = new Map<number, Buffer>();
    for (const type of types) {
      try {
        const [a] = this.p11.C_GetAttributeValue(this.session, obj, [{ type }]);
        if (a?.value) out.set(type, a.value);
      } catch {
        /* attribute absent or sensitive */
      }
    }
    return out;
  }

  /** Logs in once with the PIN source; a wrong PIN is never retried. */
  private async login(): Promise<void> {
    this.check();
    if (this.loggedIn) return;
    const { lib } = this;
    const info = this.call('C_GetTokenInfo', () => this.p11.C_GetTokenInfo(this.slot));
    if (info.flags & lib.CKF_USER_PIN_LOCKED) {
      throw new TokenError('TOKEN_PIN_LOCKED', `the user PIN of token ${this.location} is locked; unlock it with the token's own tools (nothing was tried)`, { where: this.location });
    }
    const pin = await this.options.pin({ label: this.location, finalTry: (info.flags & lib.CKF_USER_PIN_FINAL_TRY) !== 0 });
    try {
      this.p11.C_Login(this.session, lib.CKU_USER, pin);
    } catch (err) {
      const name = ckrName(err);
      if (name === 'CKR_USER_ALREADY_LOGGED_IN') {
        this.loggedIn = true;
        return;
      }
      if (name === 'CKR_PIN_INCORRECT' || name === 'CKR_PIN_INVALID' || name === 'CKR_PIN_LEN_RANGE') {
        throw new TokenError('TOKEN_PIN_INCORRECT', `incorrect PIN for token ${this.location} (${name}); not retried, so the token's retry counter moved by one at most`, {
          where: this.location,
        });
      }
      if (name === 'CKR_PIN_LOCKED') throw new TokenError('TOKEN_PIN_LOCKED', `the user PIN of token ${this.location} is locked`, { where: this.location });
      throw new TokenError('TOKEN_FAILED', `token ${this.location}: C_Login failed: ${name}`, { where: this.location, cause: err });
    }
    this.loggedIn = true;
  }

  // ----------------------------------------------------------------------------------------------------------
  // Reading (public objects only: no PIN)

  /** Keys on the token, with role, gun and public key. */
  keys(): TokenKeyInfo[] {
    if (this.cache) return this.cache;
    const { lib } = this;
    const byId = new Map<string, { label?: string; publicKey?: PublicKeyMaterial; certRole?: string; certKey?: PublicKeyMaterial }>();
    const entry = (id: string) => {
      let e = byId.get(id);
      if (!e) byId.set(id, (e = {}));
      return e;
    };
    for (const obj of this.find([{ type: lib.CKA_TOKEN, value: true }, { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY }])) {
      const a = this.attrs(obj, [lib.CKA_ID, lib.CKA_LABEL, lib.CKA_KEY_TYPE, lib.CKA_EC_POINT, lib.CKA_EC_PARAMS, lib.CKA_MODULUS, lib.CKA_PUBLIC_EXPONENT]);
      const id = a.get(lib.CKA_ID);
      if (!id) continue;
      const e = entry(id.toString('hex'));
      const label = a.get(lib.CKA_LABEL)?.toString('utf8');
      if (label !== undefined) e.label = label;
      try {
        const keyType = a.get(lib.CKA_KEY_TYPE)?.readUIntLE(0, Math.min(6, a.get(lib.CKA_KEY_TYPE)!.length));
        if (keyType === lib.CKK_EC && a.get(lib.CKA_EC_PARAMS)?.equals(P256_PARAMS) && a.get(lib.CKA_EC_POINT)) {
          e.publicKey = { kind: 'ecdsa', curve: 'P-256', point: ecPoint(a.get(lib.CKA_EC_POINT)!), spki: new Uint8Array(0) };
        } else if (keyType === CKK_EC_EDWARDS && a.get(lib.CKA_EC_POINT)) {
          const raw = ecPoint(a.get(lib.CKA_EC_POINT)!);
          if (raw.length === 32) e.publicKey = { kind: 'ed25519', raw };
        } else if (keyType === lib.CKK_RSA && a.get(lib.CKA_MODULUS) && a.get(lib.CKA_PUBLIC_EXPONENT)) {
          const strip = (b: Buffer) => new Uint8Array(b.subarray(b.findIndex((x) => x !== 0)));
          e.publicKey = { kind: 'rsa', n: strip(a.get(lib.CKA_MODULUS)!), e: strip(a.get(lib.CKA_PUBLIC_EXPONENT)!), spki: new Uint8Array(0) };
        }
      } catch (err) {
        this.options.log?.(`token ${this.location}: unreadable public key ${id.toString('hex')}: ${(err as Error).message}`);
      }
    }
    for (const obj of this.find([{ type: lib.CKA_TOKEN, value: true }, { type: lib.CKA_CLASS, value: lib.CKO_CERTIFICATE }])) {
      const a = this.attrs(obj, [lib.CKA_ID, lib.CKA_VALUE, lib.CKA_LABEL]);
      const id = a.get(lib.CKA_ID);
      const value = a.get(lib.CKA_VALUE);
      if (!id || !value) continue;
      try {
        const cert = parseCertificate(new Uint8Array(value));
        const e = entry(id.toString('hex'));
        e.certKey = cert.publicKey;
        const cn = cert.subjectCommonName;
        if (isValidRole(cn)) e.certRole = cn;
        const label = a.get(lib.CKA_LABEL)?.toString('utf8');
        if (label !== undefined && e.label === undefined) e.label = label;
      } catch {
        /* not a certificate we can read: not a Notary key (Go skips it too) */
      }
    }
    const out: TokenKeyInfo[] = [];
    for (const [objectId, e] of byId) {
      const m = e.label ? /^notary (\S+)(?: (\S+))?$/.exec(e.label) : null;
      const role = m ? m[1]! : e.certRole;
      const publicKey = e.publicKey ?? e.certKey;
      if (!role || !publicKey) continue;
      const keyId = canonicalKeyId(publicKeyJsonOf(publicKey), this.crypto);
      out.push({ keyId, role, gun: storedGun(role, m?.[2]), location: this.location, objectId, publicKey });
    }
    this.cache = out.sort(compareKeyInfo);
    return this.cache;
  }

  async list(): Promise<KeyInfo[]> {
    return this.keys().map(({ keyId, role, gun, location }) => ({ keyId, role, gun, location }));
  }

  has(keyId: string): boolean {
    return this.keys().some((k) => k.keyId === keyId);
  }

  private key(keyId: string): TokenKeyInfo {
    const k = this.keys().find((x) => x.keyId === keyId);
    if (!k) throw new KeyStoreError('KEY_NOT_FOUND', `signing key not found: ${keyId}`, { where: keyId });
    return k;
  }

  async getPrivateKey(keyId: string): Promise<never> {
    this.key(keyId);
    throw new KeyStoreError('KEY_NOT_EXTRACTABLE', `key ${keyId} is on token ${this.location}: its private key cannot leave the token`, { where: keyId });
  }

  /** Whether the token would let the private key out (CKA_EXTRACTABLE and not CKA_SENSITIVE); needs the PIN. */
  async isExtractable(keyId: string): Promise<boolean> {
    const k = this.key(keyId);
    await this.login();
    const { lib } = this;
    const [priv] = this.find([{ type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY }, { type: lib.CKA_ID, value: Buffer.from(k.objectId, 'hex') }]);
    if (!priv) return false;
    const a = this.attrs(priv, [lib.CKA_EXTRACTABLE, lib.CKA_SENSITIVE]);
    return a.get(lib.CKA_EXTRACTABLE)?.[0] === 1 && a.get(lib.CKA_SENSITIVE)?.[0] !== 1;
  }

  // ----------------------------------------------------------------------------------------------------------
  // Signing

  private privateHandle(k: TokenKeyInfo): Handle {
    const { lib } = this;
    const found = this.find([{ type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY }, { type: lib.CKA_ID, value: Buffer.from(k.objectId, 'hex') }]);
    if (found.length !== 1) {
      throw new TokenError('TOKEN_FAILED', `token ${this.location}: expected one private key for ${k.keyId}, found ${found.length}`, { where: k.keyId });
    }
    return found[0]!;
  }

  /** One raw signature from the token, with the touch prompt and timeout. */
  private async rawSign(k: TokenKeyInfo, mechanism: { mechanism: number; parameter?: unknown }, data: Buffer, outLength: number): Promise<Uint8Array> {
    await this.login();
    const key = this.privateHandle(k);
    this.call('C_SignInit', () => this.p11.C_SignInit(this.session, mechanism as never, key));
    const timeoutMs = this.options.touchTimeoutMs ?? 30_000;
    let prompted = false;
    const promptTimer = setTimeout(() => {
      prompted = true;
      this.options.prompt?.(`Please touch the token ${this.location} to sign with key ${k.keyId.slice(0, 7)} (waiting up to ${Math.round(timeoutMs / 1000)} s).\n`);
    }, Math.min(TOUCH_PROMPT_AFTER_MS, timeoutMs));
    let timeout: NodeJS.Timeout | undefined;
    try {
      const signing = this.p11.C_SignAsync(this.session, data, Buffer.alloc(outLength));
      const expired = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => {
          this.broken = new TokenError(
            'TOKEN_TIMEOUT',
            `token ${this.location} did not sign within ${Math.round(timeoutMs / 100) / 10} s${prompted ? ' (no touch?)' : ''}; nothing was signed with it`,
            { where: this.location },
          );
          reject(this.broken);
        }, timeoutMs);
      });
      signing.catch(() => undefined); // settles after a timeout too
      return new Uint8Array(await Promise.race([signing, expired]));
    } catch (err) {
      if (err instanceof NotaryError) throw err;
      throw new TokenError('TOKEN_FAILED', `token ${this.location}: C_Sign failed: ${ckrName(err)}`, { where: this.location, cause: err });
    } finally {
      clearTimeout(promptTimer);
      clearTimeout(timeout);
    }
  }

  /** Signs `message` with Notary's `method`; the signature is verified in software before it is returned. */
  async sign(keyId: string, method: SignatureMethod, message: Uint8Array): Promise<Uint8Array> {
    return this.signWith(this.key(keyId), method, message);
  }

  private async signWith(k: TokenKeyInfo, method: SignatureMethod, message: Uint8Array): Promise<Uint8Array> {
    const keyId = k.keyId;
    const digest = createHash('sha256').update(message).digest();
    let sig: Uint8Array;
    if (method === 'ecdsa' && k.publicKey.kind === 'ecdsa') {
      sig = await this.rawSign(k, { mechanism: this.lib.CKM_ECDSA }, digest, 64);
    } else if (method === 'rsapss' && k.publicKey.kind === 'rsa') {
      const parameter = { type: this.lib.CK_PARAMS_RSA_PSS, hashAlg: this.lib.CKM_SHA256, mgf: this.lib.CKG_MGF1_SHA256, saltLen: 32 };
      sig = await this.rawSign(k, { mechanism: this.lib.CKM_RSA_PKCS_PSS, parameter }, digest, k.publicKey.n.length);
    } else if (method === 'eddsa' && k.publicKey.kind === 'ed25519') {
      sig = await this.rawSign(k, { mechanism: CKM_EDDSA }, Buffer.from(message), 64); // pure Ed25519: the message itself
    } else {
      throw new KeyError('UNSUPPORTED_ALGORITHM', `key ${keyId} on token ${this.location} cannot sign with ${method}`, { where: keyId });
    }
    if (!this.crypto.verify(method, withSpki(k.publicKey), message, sig)) {
      throw new TokenError('TOKEN_FAILED', `token ${this.location} returned a signature that does not verify (key ${keyId}); it was not used`, { where: keyId });
    }
    return sig;
  }

  async keyHandle(keyId: string): Promise<KeyHandle> {
    const k = this.key(keyId);
    return { keyId, role: k.role, publicKey: k.publicKey, sign: (method, message) => this.sign(keyId, method, message) };
  }

  async getSigner(keyId: string, publicKey?: PublicKeyLike): Promise<MetadataSigner> {
    const k = this.key(keyId);
    const listed = publicKey ?? publicKeyJsonOf(k.publicKey);
    if (canonicalKeyId(listed, this.crypto) !== keyId) throw new KeyError('KEY_ID_MISMATCH', `key ${keyId} does not belong to the given public key`);
    const method = signingMethodFor(listed.keytype);
    return { keyId: tufKeyId(listed, this.crypto), method, sign: (message) => this.sign(keyId, method, message) };
  }

  // ----------------------------------------------------------------------------------------------------------
  // Writing

  private newObjectId(): Buffer {
    return Buffer.from(this.crypto.randomBytes(16));
  }

  private label(role: string, gun: string | undefined): string {
    const g = storedGun(role, gun);
    return g === '' ? `notary ${role}` : `notary ${role} ${g}`;
  }

  /** Stores the CN=<role> certificate Go's YubiKey store lists keys by, signed on the token. */
  private async storeRoleCertificate(k: TokenKeyInfo, label: string): Promise<void> {
    const now = new Date();
    const serial = BigInt('0x' + Buffer.from(this.crypto.randomBytes(16)).toString('hex'));
    const publicKey = { ...k.publicKey, spki: new Uint8Array(0) } as PublicKeyMaterial;
    const tbs = buildNotaryRootTbs({ gun: k.role, publicKey, notBefore: now, notAfter: new Date(now.getTime() + 3650 * 86_400_000), serialNumber: serial, hash: 'sha256' });
    const sig = k.publicKey.kind === 'ecdsa' ? await this.signWith(k, 'ecdsa', tbs) : await this.signPkcs1(k, tbs);
    const der = assembleCertificate(tbs, publicKey, 'sha256', sig);
    const { lib } = this;
    this.call('C_CreateObject', () =>
      this.p11.C_CreateObject(this.session, [
        { type: lib.CKA_CLASS, value: lib.CKO_CERTIFICATE },
        { type: lib.CKA_CERTIFICATE_TYPE, value: lib.CKC_X_509 },
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_ID, value: Buffer.from(k.objectId, 'hex') },
        { type: lib.CKA_LABEL, value: label },
        { type: lib.CKA_SUBJECT, value: Buffer.from(parseCertificate(der).subjectRaw) },
        { type: lib.CKA_VALUE, value: Buffer.from(der) },
      ] as never),
    );
  }

  /** RSA certificate signatures are PKCS#1 v1.5 with SHA-256 (sha256WithRSAEncryption). */
  private async signPkcs1(k: TokenKeyInfo, tbs: Uint8Array): Promise<Uint8Array> {
    const sig = await this.rawSign(k, { mechanism: this.lib.CKM_SHA256_RSA_PKCS }, Buffer.from(tbs), (k.publicKey as { n: Uint8Array }).n.length);
    if (!this.crypto.verify('rsapkcs1v15', withSpki(k.publicKey), tbs, sig)) {
      throw new TokenError('TOKEN_FAILED', `token ${this.location} returned a certificate signature that does not verify`, { where: k.keyId });
    }
    return sig;
  }

  /** Removes the objects of a key whose certificate could not be made (a failed generate/import leaves nothing). */
  private destroyObjects(objectId: Buffer): void {
    for (const obj of this.find([{ type: this.lib.CKA_ID, value: objectId }])) {
      try {
        this.p11.C_DestroyObject(this.session, obj);
      } catch {
        /* best effort */
      }
    }
  }

  private afterCreate(objectId: Buffer, role: string, gun: string | undefined): TokenKeyInfo {
    this.cache = undefined;
    const k = this.keys().find((x) => x.objectId === objectId.toString('hex'));
    if (!k) throw new TokenError('TOKEN_FAILED', `token ${this.location}: the new ${role} key cannot be read back`, { where: this.location });
    void gun;
    return k;
  }

  /**
   * Generates a key pair on the token: ECDSA P-256 (default) or RSA 2048, private key non-extractable unless
   * `extractable`. Returns the canonical key ID.
   */
  async generateKey(info: { role: string; gun?: string; algorithm?: 'ecdsa' | 'rsa' | 'ed25519'; extractable?: boolean }): Promise<string> {
    await this.login();
    const { lib } = this;
    const objectId = this.newObjectId();
    const label = this.label(info.role, info.gun);
    const common = [
      { type: lib.CKA_TOKEN, value: true },
      { type: lib.CKA_ID, value: objectId },
      { type: lib.CKA_LABEL, value: label },
    ];
    const rsa = info.algorithm === 'rsa';
    const ed25519 = info.algorithm === 'ed25519';
    const publicTemplate = rsa
      ? [...common, { type: lib.CKA_VERIFY, value: true }, { type: lib.CKA_MODULUS_BITS, value: 2048 }, { type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }]
      : [...common, { type: lib.CKA_VERIFY, value: true }, { type: lib.CKA_EC_PARAMS, value: ed25519 ? ED25519_PARAMS : P256_PARAMS }];
    const mechanism = rsa ? lib.CKM_RSA_PKCS_KEY_PAIR_GEN : ed25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN : lib.CKM_EC_KEY_PAIR_GEN;
    if (ed25519 && !this.call('C_GetMechanismList', () => this.p11.C_GetMechanismList(this.slot)).includes(CKM_EDDSA)) {
      throw new KeyError('UNSUPPORTED_ALGORITHM', `token ${this.location} does not support Ed25519 (CKM_EDDSA)`, { where: this.location });
    }
    const privateTemplate = [
      ...common,
      { type: lib.CKA_PRIVATE, value: true },
      { type: lib.CKA_SIGN, value: true },
      { type: lib.CKA_SENSITIVE, value: info.extractable !== true },
      { type: lib.CKA_EXTRACTABLE, value: info.extractable === true },
    ];
    this.call('C_GenerateKeyPair', () =>
      this.p11.C_GenerateKeyPair(this.session, { mechanism }, publicTemplate as never, privateTemplate as never),
    );
    try {
      const k = this.afterCreate(objectId, info.role, info.gun);
      // No X.509 certificate can be made for Ed25519 here (nor does Go list such keys): the label names the role.
      if (k.publicKey.kind !== 'ed25519') await this.storeRoleCertificate(k, label);
      this.cache = undefined;
      return k.keyId;
    } catch (err) {
      this.destroyObjects(objectId);
      this.cache = undefined;
      throw err;
    }
  }

  /**
   * Imports a software key onto the token (non-extractable), with its public key and CN=<role> certificate.
   * `yubikeySlot`: Go's layout, CKA_ID = the first free PIV slot in Go's order (one byte), no label.
   */
  async add(privateKey: PrivateKeyMaterial, info: { role: string; gun?: string }, options: { yubikeySlot?: boolean } = {}): Promise<string> {
    if (privateKey.kind !== 'ecdsa' || privateKey.curve !== 'P-256') {
      throw new KeyError('UNSUPPORTED_KEY_TYPE', `only ECDSA P-256 keys can be imported onto token ${this.location}, not ${privateKey.kind}`);
    }
    await this.login();
    const { lib } = this;
    const keyId = canonicalKeyId(publicKeyJsonOf({ kind: 'ecdsa', curve: 'P-256', point: privateKey.point, spki: new Uint8Array(0) }), this.crypto);
    if (this.has(keyId)) return keyId;
    let objectId = this.newObjectId();
    if (options.yubikeySlot) {
      const taken = new Set<number>();
      for (const obj of this.find([{ type: lib.CKA_TOKEN, value: true }])) {
        const id = this.attrs(obj, [lib.CKA_ID]).get(lib.CKA_ID);
        if (id && id.length >= 1 && id[0]! < 4) taken.add(id[0]!);
      }
      const free = YUBIKEY_SLOT_IDS.find((s) => !taken.has(s));
      if (free === undefined) throw new TokenError('TOKEN_FAILED', `token ${this.location} has no free YubiKey slot`, { where: this.location });
      objectId = Buffer.from([free]);
    }
    const label = this.label(info.role, info.gun);
    const point = Buffer.from(privateKey.point);
    const ecPointDer = Buffer.concat([Buffer.from([0x04, point.length]), point]);
    this.call('C_CreateObject', () =>
      this.p11.C_CreateObject(this.session, [
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_PRIVATE, value: true },
        { type: lib.CKA_SENSITIVE, value: true },
        { type: lib.CKA_EXTRACTABLE, value: false },
        { type: lib.CKA_SIGN, value: true },
        { type: lib.CKA_ID, value: objectId },
        ...(options.yubikeySlot ? [] : [{ type: lib.CKA_LABEL, value: label }]),
        { type: lib.CKA_EC_PARAMS, value: P256_PARAMS },
        { type: lib.CKA_VALUE, value: Buffer.from(privateKey.d) },
      ] as never),
    );
    try {
      this.call('C_CreateObject', () =>
        this.p11.C_CreateObject(this.session, [
          { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
          { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
          { type: lib.CKA_TOKEN, value: true },
          { type: lib.CKA_VERIFY, value: true },
          { type: lib.CKA_ID, value: objectId },
          ...(options.yubikeySlot ? [] : [{ type: lib.CKA_LABEL, value: label }]),
          { type: lib.CKA_EC_PARAMS, value: P256_PARAMS },
          { type: lib.CKA_EC_POINT, value: ecPointDer },
        ] as never),
      );
      // Read from what we wrote: in Go's layout the objects carry no label, and the role comes with the certificate.
      const publicKey: PublicKeyMaterial = { kind: 'ecdsa', curve: 'P-256', point: privateKey.point, spki: new Uint8Array(0) };
      const k: TokenKeyInfo = { keyId, role: info.role, gun: storedGun(info.role, info.gun), location: this.location, objectId: objectId.toString('hex'), publicKey };
      await this.storeRoleCertificate(k, options.yubikeySlot ? info.role : label);
      this.cache = undefined;
      return keyId;
    } catch (err) {
      this.destroyObjects(objectId);
      this.cache = undefined;
      throw err;
    }
  }

  /** Destroys the key's objects (private key, public key, certificate). Needs the PIN. */
  async remove(keyId: string): Promise<boolean> {
    const k = this.keys().find((x) => x.keyId === keyId);
    if (!k) return false;
    await this.login();
    const objs = this.find([{ type: this.lib.CKA_ID, value: Buffer.from(k.objectId, 'hex') }]);
    for (const obj of objs) this.call('C_DestroyObject', () => this.p11.C_DestroyObject(this.session, obj));
    this.cache = undefined;
    return true;
  }
}
