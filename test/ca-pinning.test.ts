/**
 * `trust_pinning.ca`: X.509 chain verification (src/core/chain.ts, Go's x509.Verify with default options)
 * on certificates made by openssl, the root validation wired to it (src/core/root.ts), the CA bundle
 * loading (src/node/config.ts), and the real Go CLI against our CLI on repositories whose root certificate
 * is CA-issued (`notary init --rootkey KEY --rootcert CERT`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64, utf8Encode } from '../src/core/bytes.js';
import { CertificateChainError, EXT_KEY_USAGE, verifyCertificateChain } from '../src/core/chain.js';
import { generateSigningKey, initRepositoryMetadata, signingKey, type RepositoryKeys } from '../src/core/init.js';
import { publicKeyJson } from '../src/core/keys.js';
import { decodePem } from '../src/core/pem.js';
import { decodePkcs8 } from '../src/core/pkcs8.js';
import { caPoolFromBundle, type TrustPinning } from '../src/core/root.js';
import { TrustedMetadataSet } from '../src/core/trusted.js';
import { certificateToPem, parseCertificate, pemToCertificates, type Certificate } from '../src/core/x509.js';
import { nodeCryptoBackend } from '../src/crypto/node.js';
import { loadClientConfig, trustPinningOf } from '../src/node/config.js';
import { BACKENDS } from './support/backends.js';
import { runNotary, runOurs } from './support/cli.js';
import { goNotary, startServer, tempDir, type Server } from './support/go-repo.js';

const CA_CNF = `
[ ca ]
default_ca = CA_default
[ CA_default ]
database = db/index.txt
new_certs_dir = db
serial = db/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ v3_ca_codesign ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
extendedKeyUsage = codeSigning
[ v3_ca_nosign ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature
[ not_ca ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
[ leaf_plain ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
[ leaf_codesign ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[ leaf_server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,codeSigning
[ leaf_unknown_critical ]
basicConstraints = critical,CA:FALSE
1.2.3.4.5 = critical,ASN1:NULL
`;

/** A throw-away PKI driven by the openssl CLI. */
class Pki {
  readonly dir = tempDir('pki-');
  constructor() {
    mkdirSync(join(this.dir, 'db'));
    writeFileSync(join(this.dir, 'db', 'index.txt'), '');
    writeFileSync(join(this.dir, 'db', 'serial'), '01\n');
    writeFileSync(join(this.dir, 'ca.cnf'), CA_CNF);
  }
  private ossl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }
  path(name: string): string {
    return join(this.dir, name);
  }
  /** A new key `<name>-key.pem` (unencrypted PKCS#8) and `<name>-key.enc.pem` (Notary-readable). */
  key(name: string, alg: 'ec' | 'rsa' = 'ec'): void {
    this.ossl(alg === 'ec' ? ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}-key.pem`] : ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}-key.pem`]);
    this.ossl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA1', '-in', `${name}-key.pem`, '-out', `${name}-key.enc.pem`, '-passout', 'pass:test-root-passphrase']);
  }
  /** Issues `<name>.crt` for CN `cn`, signed by `issuer` (or self-signed), with an extension section. */
  issue(name: string, cn: string, o: { issuer?: string; ext: string; md?: string; start?: string; end?: string; alg?: 'ec' | 'rsa'; keyOf?: string }): Certificate {
    if (o.keyOf) writeFileSync(this.path(`${name}-key.pem`), readFileSync(this.path(`${o.keyOf}-key.pem`)));
    else this.key(name, o.alg);
    this.ossl(['req', '-new', '-key', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn.replace(/\//g, '\\/')}`]);
    const signer = o.issuer ? ['-cert', `${o.issuer}.crt`, '-keyfile', `${o.issuer}-key.pem`] : ['-selfsign', '-keyfile', `${name}-key.pem`];
    const dates = o.start && o.end ? ['-startdate', o.start, '-enddate', o.end] : ['-days', '365'];
    this.ossl(['ca', '-batch', '-config', 'ca.cnf', ...signer, '-in', `${name}.csr`, '-out', `${name}.crt`, ...dates, '-extensions', o.ext, '-md', o.md ?? 'sha256', '-notext']);
    return this.cert(name);
  }
  cert(name: string): Certificate {
    return pemToCertificates(readFileSync(this.path(`${name}.crt`), 'utf8'))[0]!;
  }
  pem(...names: string[]): string {
    return names.map((n) => certificateToPem(this.cert(n).der)).join('');
  }
}

const GUN_PREFIX = 'example.com/ca/';
const gunFor = (leaf: string) => `${GUN_PREFIX}${leaf}`;

let pki: Pki;
let now: Date;

beforeAll(() => {
  pki = new Pki();
  pki.issue('ca', 'Test Root CA', { ext: 'v3_ca' });
  pki.issue('rsaca', 'Test RSA CA', { ext: 'v3_ca', alg: 'rsa' });
  pki.issue('otherca', 'Other CA', { ext: 'v3_ca' });
  pki.issue('expiredca', 'Expired CA', { ext: 'v3_ca', start: '20200101000000Z', end: '20210101000000Z' });
  // the same CA (subject and key) as `ca`, but expired
  pki.issue('ca-expired', 'Test Root CA', { ext: 'v3_ca', keyOf: 'ca', start: '20200101000000Z', end: '20210101000000Z' });
  pki.issue('codesignca', 'Code Signing CA', { ext: 'v3_ca_codesign' });
  pki.issue('nosignca', 'No Cert Sign CA', { ext: 'v3_ca_nosign' });
  pki.issue('int', 'Test Intermediate CA', { issuer: 'ca', ext: 'v3_ca' });
  pki.issue('notca', 'Not A CA', { issuer: 'ca', ext: 'not_ca' });
  for (const [name, ext] of [
    ['plain', 'leaf_plain'],
    ['codesign', 'leaf_codesign'],
    ['server', 'leaf_server'],
  ] as const) {
    pki.issue(name, gunFor(name), { issuer: 'ca', ext });
  }
  pki.issue('critical', gunFor('critical'), { issuer: 'ca', ext: 'leaf_unknown_critical' });
  pki.issue('viaint', gunFor('viaint'), { issuer: 'int', ext: 'leaf_plain' });
  pki.issue('vianotca', gunFor('vianotca'), { issuer: 'notca', ext: 'leaf_plain' });
  pki.issue('viarsa', gunFor('viarsa'), { issuer: 'rsaca', ext: 'leaf_plain' });
  pki.issue('viacodesignca', gunFor('viacodesignca'), { issuer: 'codesignca', ext: 'leaf_plain' });
  pki.issue('vianosignca', gunFor('vianosignca'), { issuer: 'nosignca', ext: 'leaf_plain' });
  pki.issue('sha384', gunFor('sha384'), { issuer: 'ca', ext: 'leaf_plain', md: 'sha384' });
  pki.issue('future', gunFor('future'), { issuer: 'ca', ext: 'leaf_plain', start: '20990101000000Z', end: '21000101000000Z' });
  // after issuing: Go's Verify has no leeway on notBefore (openssl starts certificates at the current second)
  now = new Date(Date.now() + 2000);
}, 60_000);

for (const [backendName, crypto] of BACKENDS) {
  describe(`verifyCertificateChain as Go's x509.Verify (${backendName})`, () => {
    const verify = (leaf: string, roots: string[], intermediates: string[] = [], keyUsages?: string[]) =>
      verifyCertificateChain(pki.cert(leaf), { roots: roots.map((r) => pki.cert(r)), intermediates: intermediates.map((i) => pki.cert(i)), now, crypto, ...(keyUsages ? { keyUsages } : {}) });
    const failure = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(CertificateChainError);
        return { reason: (err as CertificateChainError).reason, code: (err as CertificateChainError).code };
      }
      throw new Error('expected the chain to be refused');
    };

    it('a leaf without EKU chains to its CA; the chain is leaf → CA', () => {
      const chains = verify('plain', ['ca']);
      expect(chains.map((c) => c.map((x) => x.subjectCommonName))).toEqual([[gunFor('plain'), 'Test Root CA']]);
    });

    it('a leaf with codeSigning EKU (what notary init makes) fails Go\'s default ServerAuth usage', () => {
      expect(failure(() => verify('codesign', ['ca']))).toEqual({ reason: 'IncompatibleUsage', code: 'TRUST_PINNING_FAILED' });
      expect(verify('codesign', ['ca'], [], [EXT_KEY_USAGE.codeSigning])).toHaveLength(1);
      expect(verify('codesign', ['ca'], [], [EXT_KEY_USAGE.any])).toHaveLength(1);
    });

    it('a leaf with serverAuth (and codeSigning) EKU passes', () => {
      expect(verify('server', ['ca'])).toHaveLength(1);
    });

    it('EKU is checked along the whole chain: a codeSigning-only CA makes a plain leaf fail', () => {
      expect(failure(() => verify('viacodesignca', ['codesignca']))).toMatchObject({ reason: 'IncompatibleUsage' });
    });

    it('the wrong CA → unknown authority', () => {
      expect(failure(() => verify('plain', ['otherca']))).toMatchObject({ reason: 'UnknownAuthority' });
      expect(failure(() => verify('plain', []))).toMatchObject({ reason: 'UnknownAuthority' });
    });

    it('the issuing CA, expired → Expired; with a valid copy also in the pool, a chain is found', () => {
      expect(failure(() => verify('plain', ['ca-expired']))).toMatchObject({ reason: 'Expired' });
      expect(verify('plain', ['ca-expired', 'ca'])).toHaveLength(1);
    });

    it('a leaf outside its validity window → Expired', () => {
      expect(failure(() => verify('future', ['ca']))).toMatchObject({ reason: 'Expired' });
    });

    it('through an intermediate given as root.json gives it; not without it', () => {
      expect(verify('viaint', ['ca'], ['int']).map((c) => c.length)).toEqual([3]);
      expect(failure(() => verify('viaint', ['ca']))).toMatchObject({ reason: 'UnknownAuthority' });
      // the intermediate must not be a trust anchor by being in the pool of intermediates only
      expect(failure(() => verify('viaint', [], ['int']))).toMatchObject({ reason: 'UnknownAuthority' });
    });

    it('an issuer that is not a CA (basicConstraints cA false) or may not sign certificates is refused', () => {
      expect(failure(() => verify('vianotca', ['ca'], ['notca']))).toMatchObject({ reason: 'UnknownAuthority' });
      expect(failure(() => verify('vianosignca', ['nosignca']))).toMatchObject({ reason: 'UnknownAuthority' });
    });

    it('an RSA CA (sha256WithRSAEncryption) works', () => {
      expect(verify('viarsa', ['rsaca'])).toHaveLength(1);
    });

    it('SHA-384 signatures are a typed UNSUPPORTED_ALGORITHM (the backend hashes with SHA-256 only)', () => {
      expect(failure(() => verify('sha384', ['ca']))).toEqual({ reason: 'UnknownAuthority', code: 'UNSUPPORTED_ALGORITHM' });
    });

    it('an unhandled critical extension makes the leaf invalid', () => {
      expect(failure(() => verify('critical', ['ca']))).toMatchObject({ reason: 'UnhandledCriticalExtension' });
    });

    it('a leaf that is itself in the pool is a chain of one (subject to the usage check)', () => {
      expect(verify('plain', ['plain'])).toEqual([[pki.cert('plain')]]);
    });
  });
}

describe('root validation with trust_pinning.ca', () => {
  const crypto = nodeCryptoBackend;

  /** root.json (v1) whose root key is the openssl leaf `leaf` (plus intermediates), signed by its key. */
  async function rootJsonFor(leaf: string, intermediates: string[] = []): Promise<Uint8Array> {
    const der = decodePem(readFileSync(pki.path(`${leaf}-key.pem`), 'utf8'))[0]!.bytes;
    const publicKey = publicKeyJson('ecdsa-x509', toBase64(utf8Encode(pki.pem(leaf, ...intermediates))));
    const timestamp = generateSigningKey(crypto, 'ed25519');
    const keys: RepositoryKeys = {
      root: signingKey(publicKey, decodePkcs8(der), crypto),
      targets: generateSigningKey(crypto),
      snapshot: generateSigningKey(crypto),
      timestamp: { publicKey: timestamp.publicKey, signer: timestamp.signer },
    };
    return (await initRepositoryMetadata(keys, crypto, now)).root.bytes!;
  }
  const bootstrap = (bytes: Uint8Array, gun: string, trustPinning: TrustPinning) => () =>
    TrustedMetadataSet.bootstrap(bytes, { gun, crypto, clock: () => now, trustPinning });
  const ca = (...names: string[]) => ({ ca: { 'example.com/': pki.pem(...names) } });

  it('accepts a CA-issued leaf without EKU; refuses codeSigning, the wrong CA, only-expired CAs', async () => {
    expect(bootstrap(await rootJsonFor('plain'), gunFor('plain'), ca('ca'))).not.toThrow();
    expect(bootstrap(await rootJsonFor('codesign'), gunFor('codesign'), ca('ca'))).toThrowError(
      expect.objectContaining({ code: 'TRUST_PINNING_FAILED', message: 'could not validate the path to a trusted root: unable to match any certificates to trust_pinning config' }),
    );
    expect(bootstrap(await rootJsonFor('plain'), gunFor('plain'), ca('otherca'))).toThrowError(/unable to match any certificates to trust_pinning config/);
    expect(bootstrap(await rootJsonFor('plain'), gunFor('plain'), ca('expiredca'))).toThrowError(
      expect.objectContaining({ message: 'could not validate the path to a trusted root: invalid CA certs provided' }),
    );
    expect(bootstrap(await rootJsonFor('plain'), gunFor('plain'), ca('expiredca', 'ca'))).not.toThrow();
  });

  it('uses root.json intermediates to complete the path', async () => {
    const bytes = await rootJsonFor('viaint', ['int']);
    expect(bootstrap(bytes, gunFor('viaint'), ca('ca'))).not.toThrow();
    expect(bootstrap(await rootJsonFor('viaint'), gunFor('viaint'), ca('ca'))).toThrowError(/unable to match any certificates/);
  });

  it('the longest matching prefix applies; a non-matching prefix means TOFU', async () => {
    const bytes = await rootJsonFor('plain');
    expect(bootstrap(bytes, gunFor('plain'), { ca: { 'example.com/': pki.pem('otherca'), 'example.com/ca/': pki.pem('ca') } })).not.toThrow();
    expect(bootstrap(bytes, gunFor('plain'), { ca: { 'example.com/': pki.pem('ca'), 'example.com/ca/': pki.pem('otherca') } })).toThrowError(/unable to match/);
    expect(bootstrap(bytes, gunFor('plain'), { ca: { 'example.org/': pki.pem('otherca') } })).not.toThrow();
    // certs pinning takes precedence over ca
    expect(bootstrap(bytes, gunFor('plain'), { certs: { [gunFor('plain')]: ['0'.repeat(64)] }, ca: { 'example.com/': pki.pem('ca') } })).toThrowError(/unable to match/);
  });

  it('an unreadable or malformed bundle: "could not load root cert from CA path"', async () => {
    const bytes = await rootJsonFor('plain');
    for (const bundle of [null, 'not a pem', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n']) {
      expect(bootstrap(bytes, gunFor('plain'), { ca: { 'example.com/': bundle } })).toThrowError(
        expect.objectContaining({ code: 'TRUST_PINNING_FAILED', message: 'could not validate the path to a trusted root: could not load root cert from CA path' }),
      );
    }
    expect(() => caPoolFromBundle([parseCertificate(pki.cert('expiredca').der)], now)).toThrowError(/invalid CA certs provided/);
  });

  it('the Node layer reads trust_pinning.ca files relative to the CWD; unreadable files become null', async () => {
    const cfg = join(pki.dir, 'cfg-unit.json');
    writeFileSync(cfg, JSON.stringify({ trust_pinning: { ca: { 'example.com/': 'ca.crt', 'example.org/': 'missing.crt' } } }));
    const config = await loadClientConfig({ configFile: cfg }, { cwd: pki.dir, home: pki.dir });
    const pinning = trustPinningOf(config);
    expect(pinning.ca?.['example.org/']).toBeNull();
    expect(bootstrap(await rootJsonFor('plain'), gunFor('plain'), pinning)).not.toThrow();
  });
});

describe('CA pinning: our CLI against the Go CLI', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startServer();
    for (const leaf of ['plain', 'codesign', 'server']) {
      const trustDir = tempDir('ca-init-');
      goNotary(['-s', server.url, '-d', trustDir, 'init', gunFor(leaf), '--rootkey', pki.path(`${leaf}-key.enc.pem`), '--rootcert', pki.path(`${leaf}.crt`), '-p']);
    }
    writeFileSync(pki.path('bundle-expired-and-good.crt'), pki.pem('expiredca', 'ca'));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  /** `list` from a fresh trust dir by both CLIs, in the PKI dir (CA paths are relative to the CWD). */
  async function listBoth(leaf: string, caFile: string, prefix = 'example.com/ca') {
    const cfg = `cfg-${leaf}-${caFile}.json`;
    writeFileSync(pki.path(cfg), JSON.stringify({ trust_pinning: { ca: { [prefix]: caFile } } }));
    const args = (dir: string) => ['-s', server.url, '-d', dir, '-c', cfg, 'list', gunFor(leaf)];
    const go = await runNotary(args(tempDir('go-')), { cwd: pki.dir });
    const ours = await runOurs(args(tempDir('ours-')), { cwd: pki.dir });
    return { go, ours };
  }

  it.each([
    ['plain', 'ca.crt', 0, /No targets present/],
    ['server', 'ca.crt', 0, /No targets present/],
    ['codesign', 'ca.crt', 1, /unable to match any certificates to trust_pinning config/],
    ['plain', 'otherca.crt', 1, /unable to match any certificates to trust_pinning config/],
    ['plain', 'expiredca.crt', 1, /invalid CA certs provided/],
    ['plain', 'bundle-expired-and-good.crt', 0, /No targets present/],
    ['plain', 'missing.crt', 1, /could not load root cert from CA path/],
  ] as const)('leaf %s, CA bundle %s', async (leaf, caFile, code, output) => {
    const { go, ours } = await listBoth(leaf, caFile);
    expect(go.code).toBe(code);
    expect(go.stdout).toMatch(output);
    expect(ours.stdout).toBe(go.stdout);
    expect(ours.code).toBe(go.code);
  });
});
