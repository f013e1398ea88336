/**
 * The changelist against the real Go `notary`: every staging command writes the bytes we write for the same
 * change, Go lists/resets the files we stage exactly like its own, and we read Go's files back.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toBase64, utf8Decode, utf8Encode } from '../src/core/bytes.js';
import { fileMetaOf } from '../src/core/build.js';
import { NotaryError } from '../src/core/errors.js';
import { canonicalKeyId } from '../src/core/keys.js';
import type { KeyJson } from '../src/core/metadata.js';
import { decodePem } from '../src/core/pem.js';
import { certificateToPem } from '../src/core/x509.js';
import { nodeCryptoBackend as crypto } from '../src/crypto/node.js';
import {
  FileChangelist,
  decodeDelegationData,
  decodeTargetMeta,
  delegationChange,
  delegationDeleteChange,
  delegationPurgeChange,
  parseChange,
  serializeChange,
  targetCreateChange,
  targetDeleteChange,
  witnessChange,
  type Change,
} from '../src/repository/changelist.js';
import { goNotary, tempDir } from './support/go-repo.js';

const GUN = 'example.com/changelist';

interface Step {
  readonly args: string[];
  readonly ours: () => Change[];
}

/** Files Go added to `dir` since `before`, in name order. */
function newFiles(dir: string, before: Set<string>): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  return names.filter((n) => !before.has(n)).sort();
}

describe('changelist files: byte-compatible with notary 0.7', () => {
  const work = tempDir('changelist-');
  const goTrust = join(work, 'go-trust');
  const goDir = join(goTrust, 'tuf', ...GUN.split('/'), 'changelist');
  const payload = join(work, 'payload');
  const payloadBytes = utf8Encode('some payload\n');
  writeFileSync(payload, payloadBytes);
  // Spaces, input key order, a float spelled 2.50, HTML-unsafe characters and U+2028: kept as given, compacted and escaped.
  const customText = '{ "z": 1,\n  "a" : [1, 2.50, "<&>\u2028"], "m": {"y": null, "b": true} }\n';
  writeFileSync(join(work, 'custom.json'), customText);
  let certKey: KeyJson;
  let pubKey: KeyJson;
  let certCanonical: string;
  let pubCanonical: string;
  const stagedByGo: { step: Step; files: string[] }[] = [];
  const hexSha256 = Buffer.from(crypto.sha256(payloadBytes)).toString('hex');
  const hexSha512 = Buffer.from(crypto.sha512(payloadBytes)).toString('hex');

  const steps = (): Step[] => [
    { args: ['add', GUN, 'dir/A<b>&c', payload], ours: () => [targetCreateChange('targets', 'dir/A<b>&c', fileMetaOf(payloadBytes, crypto))] },
    {
      args: ['add', GUN, 'line\u2028sep "q" \\ é😀', payload, '-r', 'targets/releases,targets/qa'],
      ours: () =>
        ['targets/releases', 'targets/qa'].map((r) => targetCreateChange(r, 'line\u2028sep "q" \\ é😀', fileMetaOf(payloadBytes, crypto))),
    },
    {
      args: ['add', GUN, 'cust', payload, '--custom', join(work, 'custom.json')],
      ours: () => [targetCreateChange('targets', 'cust', fileMetaOf(payloadBytes, crypto), { customJson: customText })],
    },
    {
      args: ['addhash', GUN, 'hh', '0x10', '--sha256', hexSha256],
      ours: () => [targetCreateChange('targets', 'hh', { hashes: { sha256: toBase64(fromHex(hexSha256)) }, length: 16 })],
    },
    {
      args: ['addhash', GUN, 'hh2', '12', '--sha512', hexSha512, '--sha256', hexSha256, '-r', 'targets/releases'],
      ours: () => [
        targetCreateChange('targets/releases', 'hh2', {
          hashes: { sha512: toBase64(fromHex(hexSha512)), sha256: toBase64(fromHex(hexSha256)) },
          length: 12,
        }),
      ],
    },
    { args: ['remove', GUN, 'dir/A<b>&c'], ours: () => [targetDeleteChange('targets', 'dir/A<b>&c')] },
    { args: ['remove', GUN, 'x', '-r', 'targets/qa'], ours: () => [targetDeleteChange('targets/qa', 'x')] },
    { args: ['witness', GUN, 'targets', 'targets/x', 'snapshot'], ours: () => ['targets', 'targets/x', 'snapshot'].map(witnessChange) },
    {
      args: ['delegation', 'add', GUN, 'targets/releases', join(work, 'rel.crt'), '--all-paths'],
      ours: () => [
        delegationChange('create', 'targets/releases', { threshold: 1, addKeys: [certKey] }),
        delegationChange('create', 'targets/releases', { addPaths: [''] }),
      ],
    },
    {
      args: ['delegation', 'add', GUN, 'targets/qa', join(work, 'qa.pub.pem'), join(work, 'rel.crt'), '--paths', 'qa/,sh<a>red/'],
      ours: () => [
        delegationChange('create', 'targets/qa', { threshold: 1, addKeys: [pubKey, certKey] }),
        delegationChange('create', 'targets/qa', { addPaths: ['qa/', 'sh<a>red/'] }),
      ],
    },
    {
      args: ['delegation', 'add', GUN, 'targets/qa', '--paths', 'x/'],
      ours: () => [delegationChange('create', 'targets/qa', { addPaths: ['x/'] })],
    },
    {
      args: ['delegation', 'remove', GUN, 'targets/qa', 'PUBCANONICAL', '--paths', 'qa/'],
      ours: () => [
        delegationChange('update', 'targets/qa', { removePaths: ['qa/'] }),
        delegationChange('update', 'targets/qa', { removeKeys: [pubCanonical] }),
      ],
    },
    {
      args: ['delegation', 'remove', GUN, 'targets/qa', '--all-paths'],
      ours: () => [delegationChange('update', 'targets/qa', { clearPaths: true })],
    },
    { args: ['delegation', 'remove', GUN, 'targets/qa', '-y'], ours: () => [delegationDeleteChange('targets/qa')] },
    {
      args: ['delegation', 'purge', GUN, '--key', 'PUBCANONICAL', '--key', 'CERTCANONICAL'],
      ours: () => [delegationPurgeChange([pubCanonical, certCanonical])],
    },
  ];

  beforeAll(() => {
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rel-key.pem', '-out', 'rel.crt', '-days', '365', '-subj', '/CN=releases', '-sha256']);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'qa-key.pem']);
    openssl(['pkey', '-in', 'qa-key.pem', '-pubout', '-out', 'qa.pub.pem']);
    const cert = decodePem(readFileSync(join(work, 'rel.crt'), 'utf8'))[0]!;
    certKey = { keytype: 'ecdsa-x509', keyval: { private: null, public: toBase64(utf8Encode(certificateToPem(cert.bytes))) } };
    const pub = decodePem(readFileSync(join(work, 'qa.pub.pem'), 'utf8'))[0]!;
    pubKey = { keytype: 'ecdsa', keyval: { private: null, public: toBase64(pub.bytes) } };
    certCanonical = canonicalKeyId(certKey, crypto);
    pubCanonical = canonicalKeyId(pubKey, crypto);
    for (const step of steps()) {
      const before = new Set(newFiles(goDir, new Set()));
      const args = step.args.map((a) => (a === 'PUBCANONICAL' ? pubCanonical : a === 'CERTCANONICAL' ? certCanonical : a));
      goNotary(['-d', goTrust, ...args]);
      stagedByGo.push({ step, files: newFiles(goDir, before) });
    }
  });

  it('writes the same bytes as the Go client for every staging command', () => {
    let compared = 0;
    for (const { step, files } of stagedByGo) {
      const ours = step.ours();
      expect(files.length, step.args.join(' ')).toBe(ours.length);
      ours.forEach((change, i) => {
        const goBytes = readFileSync(join(goDir, files[i]!));
        expect(utf8Decode(serializeChange(change)), step.args.join(' ')).toBe(goBytes.toString('utf8'));
        compared++;
      });
    }
    expect(compared).toBe(21);
  });

  it('names files <%020d unixnano>_<uuid v4>.change with mode 0600, like Go', () => {
    for (const name of readdirSync(goDir)) expect(name).toMatch(/^\d{20}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.change$/);
    expect(statSync(join(goDir, readdirSync(goDir)[0]!)).mode & 0o777).toBe(0o600);
  });

  it('reads every Go change back (parse → serialize is the identity; payloads decode to what was staged)', async () => {
    const listed = await new FileChangelist(goTrust, GUN).list();
    const expected = stagedByGo.flatMap((s) => s.step.ours());
    expect(listed.map((s) => s.change)).toEqual(expected);
    for (const { file, change } of listed) {
      expect(utf8Decode(serializeChange(change))).toBe(readFileSync(join(goDir, file), 'utf8'));
    }
    const cust = listed.find((s) => s.change.path === 'cust')!.change;
    expect(decodeTargetMeta(cust)).toEqual({ ...fileMetaOf(payloadBytes, crypto), custom: { z: 1, a: [1, 2.5, '<&>\u2028'], m: { y: null, b: true } } });
    const qa = listed
      .filter((s) => s.change.scope === 'targets/qa' && s.change.type === 'delegation' && s.change.action !== 'delete')
      .map((s) => decodeDelegationData(s.change));
    expect(qa).toEqual([
      { threshold: 1, addKeys: [pubKey, certKey] },
      { addPaths: ['qa/', 'sh<a>red/'] },
      { addPaths: ['x/'] },
      { removePaths: ['qa/'] },
      { removeKeys: [pubCanonical] },
      { clearPaths: true },
    ]);
  });

  it('stages changes that `notary status` lists and `notary reset` removes exactly like its own', async () => {
    const ourTrust = join(work, 'our-trust');
    const cl = new FileChangelist(ourTrust, GUN);
    const expected = stagedByGo.flatMap((s) => s.step.ours());
    const when = new Date('2030-01-02T03:04:05.678Z');
    for (const change of expected) await cl.add(change, when); // same instant: names still strictly increase
    const names = readdirSync(cl.dir).sort();
    expect(names).toHaveLength(expected.length);
    for (const n of names) expect(n).toMatch(/^\d{20}_[0-9a-f-]{36}\.change$/);
    expect(BigInt(names[0]!.slice(0, 20))).toBeGreaterThanOrEqual(BigInt(when.getTime()) * 1_000_000n);
    for (const n of names) expect(statSync(join(cl.dir, n)).mode & 0o777).toBe(0o600);
    expect((await cl.list()).map((s) => s.change)).toEqual(expected);

    const status = (trust: string) => goNotary(['-d', trust, 'status', GUN]);
    expect(status(ourTrust)).toBe(status(goTrust));
    expect(status(ourTrust)).toMatch(/^0 +create +targets +target +dir\/A<b>&c$/m);
    expect(status(ourTrust)).toMatch(/^20 +update +targets\/\* +delegation +$/m);

    goNotary(['-d', ourTrust, 'reset', GUN, '-n', '0,2,5']);
    await new FileChangelist(goTrust, GUN).remove([0, 2, 5, 99, -1]);
    expect(status(ourTrust)).toBe(status(goTrust));
    expect((await cl.list()).map((s) => s.change)).toEqual(expected.filter((_, i) => ![0, 2, 5].includes(i)));

    goNotary(['-d', ourTrust, 'reset', GUN, '--all']);
    expect(status(ourTrust)).toBe(`No unpublished changes for ${GUN}\n`);
    expect(await cl.list()).toEqual([]);
  });

  it('refuses the names Go refuses, with its messages', () => {
    let goOut = '';
    try {
      goNotary(['-d', join(work, 'bad'), 'delegation', 'add', GUN, 'targets/NoUpper', join(work, 'qa.pub.pem')]);
    } catch (err) {
      goOut = (err as Error).message;
    }
    expect(goOut).toContain('failed to create delegation: tuf: invalid role targets/NoUpper. invalid delegation role name');
    expect(() => delegationChange('create', 'targets/NoUpper', { threshold: 1, addKeys: [pubKey] })).toThrow(
      expect.objectContaining({ code: 'INVALID_DELEGATION_NAME', message: 'tuf: invalid role targets/NoUpper. invalid delegation role name' }),
    );
    expect(() => targetCreateChange('snapshot', 'x', fileMetaOf(payloadBytes, crypto))).toThrow(
      expect.objectContaining({ code: 'INVALID_DELEGATION_NAME', message: 'tuf: invalid role snapshot. cannot add targets to this role' }),
    );
    expect(() => delegationChange('create', 'targets/*', { addPaths: ['a'] })).toThrow(NotaryError);
    expect(() => targetCreateChange('targets', 'x', { hashes: {}, length: 1 })).toThrow(/no hashes specified for target "x"/);
  });
});

describe('FileChangelist on its own', () => {
  it('lists nothing for a repository without a changelist', async () => {
    expect(await new FileChangelist(tempDir(), GUN).list()).toEqual([]);
  });

  it('fails on a malformed file with a typed error naming it, or skips it like `notary status`', async () => {
    const trust = tempDir();
    const cl = new FileChangelist(trust, GUN);
    await cl.add(witnessChange('targets'));
    mkdirSync(join(cl.dir, 'subdir'));
    writeFileSync(join(cl.dir, '00000000000000000001_bad.change'), '{"action":');
    const err = await cl.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotaryError);
    expect((err as NotaryError).code).toBe('MALFORMED_JSON');
    expect((err as NotaryError).message).toContain('00000000000000000001_bad.change');
    const skipped: string[] = [];
    const listed = await cl.list({ skipMalformed: true, onSkip: (f) => skipped.push(f) });
    expect(listed.map((s) => s.change)).toEqual([witnessChange('targets')]);
    expect(skipped).toEqual(['00000000000000000001_bad.change']);
    // Go's status skips it too; reset indexes count it (Go's Remove works on the raw file list).
    expect(goNotary(['-d', trust, 'status', GUN])).toContain('0    update    targets    witness');
    expect(await cl.files()).toHaveLength(2);
    await cl.remove([0]);
    expect(await cl.files()).toHaveLength(1);
    expect((await cl.list()).map((s) => s.change)).toEqual([witnessChange('targets')]);
  });

  it('clear(files) removes only the given changes (a change staged during a publish survives)', async () => {
    const cl = new FileChangelist(tempDir(), GUN);
    const a = await cl.add(witnessChange('targets'));
    const b = await cl.add(witnessChange('targets/a'));
    await cl.clear([a]);
    expect((await cl.list()).map((s) => s.file)).toEqual([b]);
    await cl.clear();
    expect(await cl.list()).toEqual([]);
  });

  it('orders appended changes after existing ones even when the clock goes back', async () => {
    const cl = new FileChangelist(tempDir(), GUN);
    const first = await cl.add(witnessChange('targets/first'), new Date('2040-01-01T00:00:00Z'));
    const second = await cl.add(witnessChange('targets/second'), new Date('2000-01-01T00:00:00Z'));
    expect(second > first).toBe(true);
    expect((await cl.list()).map((s) => s.change.scope)).toEqual(['targets/first', 'targets/second']);
  });

  it('decodes change files the way Go does (field case, null and empty data, unknown fields)', () => {
    const text = '{"ACTION":"delete","Role":"targets","type":"target","path":"a","data":null,"extra":1}';
    expect(parseChange(utf8Encode(text), 'x')).toEqual({ action: 'delete', scope: 'targets', type: 'target', path: 'a', data: null });
    const empty = parseChange(utf8Encode('{"action":"create","data":""}'), 'x');
    expect(empty.data).toEqual(new Uint8Array(0));
    expect(utf8Decode(serializeChange(empty))).toBe('{"action":"create","role":"","type":"","path":"","data":""}');
    expect(parseChange(utf8Encode('null'), 'x')).toEqual({ action: '', scope: '', type: '', path: '', data: null });
    expect(() => parseChange(utf8Encode('{"data":"not base64!"}'), 'x')).toThrow(expect.objectContaining({ code: 'MALFORMED_JSON' }));
    expect(() => parseChange(utf8Encode('{"action":1}'), 'x')).toThrow(expect.objectContaining({ code: 'MALFORMED_JSON' }));
    expect(() => parseChange(utf8Encode('[]'), 'x')).toThrow(expect.objectContaining({ code: 'MALFORMED_JSON' }));
  });
});
