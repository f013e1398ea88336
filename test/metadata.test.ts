import { describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../src/core/bytes.js';
import { NotaryError } from '../src/core/errors.js';
import { Metadata, goNormalSigned, serializeCanonicalEnvelope, serializeEnvelope } from '../src/core/metadata.js';
import { canonicalize, canonicalizeToBytes } from '../src/core/canonical.js';
import { newTargetsSigned, signMetadata } from '../src/core/build.js';
import { generateSigningKey } from '../src/core/init.js';
import { nodeCryptoBackend } from '../src/crypto/node.js';
import { notaryFixtureRepos, vectorSets } from './support/fixtures.js';

const repos = [
  ...notaryFixtureRepos().map((r) => ({ name: r.name, files: r.files })),
  ...vectorSets().map((v) => ({ name: v.name, files: v.files })),
];

function roleOf(fileName: string): string {
  // N.root.json files of a rotation chain are roots too.
  return /^\d+\.root$/.test(fileName) ? 'root' : fileName;
}

describe('metadata round trip (Go-written files re-serialise to identical bytes)', () => {
  for (const repo of repos) {
    for (const [name, bytes] of repo.files) {
      it(`${repo.name}/${name}.json`, () => {
        const md = Metadata.fromBytes(bytes, roleOf(name));
        expect(utf8Decode(md.toBytes())).toBe(utf8Decode(bytes));
      });
    }
  }

  it('escapes <>& and U+2028 in the file but signs them raw', () => {
    const signed = {
      _type: 'Targets',
      delegations: { keys: {}, roles: [] },
      expires: '2030-01-01T00:00:00.5Z',
      targets: { 'dir/A<b>&c\u2028': { hashes: {}, length: 1 } },
      version: 1,
    };
    const bytes = serializeEnvelope(goNormalSigned('Targets', signed as never, 'targets'), []);
    const text = utf8Decode(bytes);
    expect(text).toContain('"dir/A\\u003cb\\u003e\\u0026c\\u2028"');
    expect(text.endsWith('"signatures":[]}')).toBe(true);
    const md = Metadata.fromBytes(bytes, 'targets');
    expect(utf8Decode(md.canonicalSigned())).toContain('"dir/A<b>&c\u2028"');
  });

  it('normalises what Go would normalise: times, empty paths, null custom, missing delegations', () => {
    const signed = {
      _type: 'Targets',
      expires: '2030-01-01T00:00:00.500Z',
      targets: { a: { hashes: { sha256: 'AA==' }, length: 1, custom: null } },
      version: 3,
      extra: 'dropped',
    };
    const normal = goNormalSigned('Targets', signed as never, 'targets');
    expect(normal).toEqual({
      _type: 'Targets',
      delegations: { keys: null, roles: null },
      expires: '2030-01-01T00:00:00.5Z',
      targets: { a: { hashes: { sha256: 'AA==' }, length: 1 } },
      version: 3,
    });
    const withPaths = goNormalSigned(
      'Targets',
      { ...signed, delegations: { keys: {}, roles: [{ keyids: [], name: 'targets/a', paths: [], threshold: 1 }] } } as never,
      'targets',
    ) as { delegations: { roles: object[] } };
    expect(withPaths.delegations.roles[0]).toEqual({ keyids: [], name: 'targets/a', threshold: 1 });
  });
});

describe('malformed metadata gives typed errors naming the role', () => {
  const cases: [string, string, string][] = [
    ['not JSON', '{"signed":', 'MALFORMED_JSON'],
    ['not an object', '[1]', 'MALFORMED_METADATA'],
    ['no signed', '{"signatures":[]}', 'MALFORMED_METADATA'],
    ['wrong type', '{"signed":{"_type":"Root","expires":"2030-01-01T00:00:00Z","version":1,"meta":{}},"signatures":[]}', 'MALFORMED_METADATA'],
    ['float version', '{"signed":{"_type":"Timestamp","expires":"2030-01-01T00:00:00Z","version":1.5,"meta":{}},"signatures":[]}', 'MALFORMED_METADATA'],
    ['string version', '{"signed":{"_type":"Timestamp","expires":"2030-01-01T00:00:00Z","version":"1","meta":{}},"signatures":[]}', 'MALFORMED_METADATA'],
    ['bad time', '{"signed":{"_type":"Timestamp","expires":"2030-01-01","version":1,"meta":{}},"signatures":[]}', 'BAD_TIME'],
    ['bad base64 hash', '{"signed":{"_type":"Timestamp","expires":"2030-01-01T00:00:00Z","version":1,"meta":{"snapshot":{"hashes":{"sha256":"***"},"length":1}}},"signatures":[]}', 'MALFORMED_METADATA'],
    ['bad signature object', '{"signed":{"_type":"Timestamp","expires":"2030-01-01T00:00:00Z","version":1,"meta":{}},"signatures":[{"keyid":1}]}', 'MALFORMED_METADATA'],
    ['bad target entry', '{"signed":{"_type":"Targets","expires":"2030-01-01T00:00:00Z","version":1,"targets":{"x":{"length":"1"}}},"signatures":[]}', 'MALFORMED_METADATA'],
  ];
  for (const [label, text, code] of cases) {
    it(label, () => {
      const role = text.includes('Targets') ? 'targets' : 'timestamp';
      try {
        Metadata.fromBytes(utf8Encode(text), role);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(NotaryError);
        expect((err as NotaryError).code).toBe(code);
        expect((err as NotaryError).message).toContain(role);
      }
    });
  }
});

describe('serializeCanonicalEnvelope with the canonical bytes at hand', () => {
  it('writes the same file as the text path: bytes copied, or written around in a frame; with and without characters Go HTML-escapes', () => {
    const sigs = [{ keyid: 'ab', method: 'ECDSA', sig: 'c2ln' }];
    for (const name of ['plain', 'a<b', 'x&y>z', 'line\u2028sep', 'ﬁ😀', 'q"\\']) {
      const value = { targets: { [name]: { hashes: { sha256: 'AA==' }, length: 1 } }, version: 2 };
      const text = canonicalize(value);
      const slow = utf8Decode(serializeCanonicalEnvelope(text, sigs));
      expect(utf8Decode(serializeCanonicalEnvelope(canonicalizeToBytes(value), sigs)), name).toBe(slow);
      const framed = canonicalizeToBytes(value, { before: 10, after: 200 });
      expect(framed.frame, name).toBeDefined();
      const file = serializeCanonicalEnvelope(framed, sigs);
      expect(utf8Decode(file), name).toBe(slow);
      // the canonical bytes are untouched by the envelope written around them
      expect(utf8Decode(framed.bytes), name).toBe(text);
      // a frame too small for the signatures: copied instead, same bytes
      expect(utf8Decode(serializeCanonicalEnvelope(canonicalizeToBytes(value, { before: 10, after: 3 }), sigs)), name).toBe(slow);
    }
  });
});

describe('signMetadata refuses what Notary cannot store', () => {
  it('a raw control character in a target name (the canonical text is not proven, so it is checked)', async () => {
    const key = generateSigningKey(nodeCryptoBackend);
    const ok = newTargetsSigned(new Date('2030-01-01T00:00:00Z'));
    ok.targets = { 'a<b&c': { hashes: { sha256: 'AA==' }, length: 1 } };
    const md = await signMetadata('Targets', ok, 'targets', [key.signer]);
    expect(utf8Decode(md.bytes!)).toContain('a\\u003cb\\u0026c');
    const bad = newTargetsSigned(new Date('2030-01-01T00:00:00Z'));
    bad.targets = { 'tab\there': { hashes: { sha256: 'AA==' }, length: 1 } };
    await expect(signMetadata('Targets', bad, 'targets', [key.signer])).rejects.toMatchObject({ code: 'UNSUPPORTED_VALUE' });
  });
});

describe('a target named __proto__', () => {
  it('survives Go normalisation and canonical encoding', () => {
    const t = newTargetsSigned(new Date('2030-01-01T00:00:00Z'));
    t.targets = JSON.parse('{"__proto__":{"hashes":{"sha256":"AA=="},"length":1},"a":{"hashes":{"sha256":"AA=="},"length":2}}') as NonNullable<typeof t.targets>;
    const text = canonicalize(goNormalSigned('Targets', t, 'targets'));
    expect(text).toContain('"__proto__":{"hashes":{"sha256":"AA=="},"length":1}');
  });
});
