import * as nodeCrypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FormatError, NotaryError } from '../src/core/errors.js';
import { decodePem, encodePem, pemHeader } from '../src/core/pem.js';

// Private key files written by the real Notary 0.7 CLI (`notary init example.com/app`, passphrase
// "testpass123"): a targets key (headers gun + role) and a root key (role only).
const NOTARY_TARGETS_KEY = `-----BEGIN ENCRYPTED PRIVATE KEY-----
gun: example.com/app
role: targets

MIHuMEkGCSqGSIb3DQEFDTA8MBsGCSqGSIb3DQEFDDAOBAj0rjgz4bP7PAICCAAw
HQYJYIZIAWUDBAEqBBBLEqMZhL4KEEMXGjbJyH5NBIGgowjZeqoAbIbKJ8vHrrjo
75t49KLDTpH55OXwcLVIrofOs8AKxKizWYdn4cAwOMEeCiKvZE09CpdmNBn2d9Y1
bRSsazXgvTqOJmyRoTXrPm5aCo15kUWmm5bc6jhYK1uys2WFwg9AezH+8OBihQ5B
ZBeyYBHP9Oji7qSxGnSZdTkIG0nu2opadESMe6og2LW4WFe8hx2D07x/vDNfrnEb
uA==
-----END ENCRYPTED PRIVATE KEY-----
`;
const NOTARY_ROOT_KEY = `-----BEGIN ENCRYPTED PRIVATE KEY-----
role: root

MIHuMEkGCSqGSIb3DQEFDTA8MBsGCSqGSIb3DQEFDDAOBAgYB7mCSNdicgICCAAw
HQYJYIZIAWUDBAEqBBCN6sGJg2miXOQZMd1j3ZM0BIGgLmzNZuNJfmk0Sx0eDSTB
w1JS3O5Uo71mfz4ENOtoqSMN9pTvIJGQuvKaHPVqgePgkpjJiNgX1iLVzdaSdpIz
3GJaiaXpfsEgC0A9OUpizX/0rl7wxhyo9Q5ghUym/iMsjNlBjDseL/7XeVqvYESJ
0yefZEz2Jbf6Z93eV11PcIN0hsR348z+g+qM85BtlfSYLyW9mo/FuCorLSro2oUP
3A==
-----END ENCRYPTED PRIVATE KEY-----
`;

describe('decodePem', () => {
  it('reads Notary key files with headers', () => {
    const [b] = decodePem(NOTARY_TARGETS_KEY);
    expect(b!.type).toBe('ENCRYPTED PRIVATE KEY');
    expect(b!.headers).toEqual([['gun', 'example.com/app'], ['role', 'targets']]);
    expect(pemHeader(b!, 'role')).toBe('targets');
    expect(pemHeader(b!, 'path')).toBeUndefined();
    expect(b!.bytes[0]).toBe(0x30);
  });

  it('tolerates CRLF, trailing whitespace, indentation inside the body and surrounding text', () => {
    const der = nodeCrypto.randomBytes(200);
    const pem = encodePem('THING', der, [['role', 'x']]);
    const messy = 'preamble: not a header\r\n' + pem.replace(/\n/g, ' \t\r\n').replace(/^([A-Za-z0-9+/=]{64})/m, '  $1') + 'trailer\n';
    const blocks = decodePem(messy);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.headers).toEqual([['role', 'x']]);
    expect(Buffer.from(blocks[0]!.bytes).equals(der)).toBe(true);
    expect(decodePem('no pem here')).toEqual([]);
    expect(decodePem('x -----BEGIN A-----\nAAAA\n-----END A-----\n')).toEqual([]); // BEGIN must start a line
  });

  it('reads several blocks in order, including empty ones', () => {
    const text = encodePem('A', Uint8Array.of(1)) + 'junk\n' + encodePem('B', new Uint8Array(0)) + encodePem('C', Uint8Array.of(3, 4));
    expect(decodePem(text).map((b) => [b.type, Array.from(b.bytes)])).toEqual([['A', [1]], ['B', []], ['C', [3, 4]]]);
  });

  it('is strict about base64 and END lines, naming the block', () => {
    const bad = (text: string, re: RegExp) => {
      expect(() => decodePem(text)).toThrow(re);
      try {
        decodePem(text);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        expect((e as NotaryError).code).toBe('MALFORMED_KEY');
      }
    };
    bad('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n', /"CERTIFICATE".*invalid base64/);
    bad('-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n', /invalid base64/);
    bad('-----BEGIN CERTIFICATE-----\nAA==AA==\n-----END CERTIFICATE-----\n', /invalid base64/);
    bad('-----BEGIN CERTIFICATE-----\nAAAA\n', /"CERTIFICATE".*no END line/);
    bad('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PUBLIC KEY-----\n', /mismatched/);
  });

  it('refuses large hostile input with a typed error (its speed is measured by the fuzz campaign, not here)', () => {
    expect(() => decodePem('-----BEGIN X-----\n'.repeat(50_000))).toThrow(/no END line/);
    expect(() => decodePem('-----BEGIN X-----\n' + 'a:b\n'.repeat(200_000))).toThrow(/no END line/);
  });
});

describe('encodePem (Go encoding/pem)', () => {
  it('reproduces Notary key files byte for byte (gun before role, blank line, 64 columns)', () => {
    for (const text of [NOTARY_TARGETS_KEY, NOTARY_ROOT_KEY]) {
      const [b] = decodePem(text);
      expect(encodePem(b!.type, b!.bytes, b!.headers)).toBe(text);
      // header order in the input does not matter: Go sorts
      expect(encodePem(b!.type, b!.bytes, [...b!.headers].reverse())).toBe(text);
      expect(encodePem(b!.type, b!.bytes, Object.fromEntries(b!.headers))).toBe(text);
    }
  });

  it('puts Proc-Type first and sorts the rest bytewise', () => {
    const text = encodePem('RSA PRIVATE KEY', Uint8Array.of(1, 2, 3), [
      ['role', 'root'], ['DEK-Info', 'AES-256-CBC,00'], ['Proc-Type', '4,ENCRYPTED'], ['gun', 'g'], ['Zeta', 'z'],
    ]);
    expect(text).toBe(
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\nZeta: z\ngun: g\nrole: root\n\nAQID\n-----END RSA PRIVATE KEY-----\n',
    );
  });

  it('matches node:crypto PEM output for keys and certificates without headers', () => {
    const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const [type, pem] of [
      ['PRIVATE KEY', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
      ['PUBLIC KEY', publicKey.export({ type: 'spki', format: 'pem' }) as string],
    ] as const) {
      const [b] = decodePem(pem);
      expect(encodePem(type, b!.bytes)).toBe(pem);
    }
  });

  it('line breaks: exact multiples of 48 bytes and empty bodies', () => {
    expect(encodePem('X', new Uint8Array(48))).toBe(`-----BEGIN X-----\n${'A'.repeat(64)}\n-----END X-----\n`);
    expect(encodePem('X', new Uint8Array(0))).toBe('-----BEGIN X-----\n-----END X-----\n');
  });

  it('refuses headers Go would refuse or that would corrupt the block', () => {
    expect(() => encodePem('X', Uint8Array.of(1), [['a:b', 'c']])).toThrow(FormatError);
    expect(() => encodePem('X', Uint8Array.of(1), [['a', 'b\nc']])).toThrow(FormatError);
    expect(() => encodePem('X', Uint8Array.of(1), [['a', '1'], ['a', '2']])).toThrow(/duplicate/);
  });
});
