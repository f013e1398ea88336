import { describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../src/core/bytes.js';
import { newTargetsSigned } from '../src/core/build.js';
import { canonicalize } from '../src/core/canonical.js';
import { goNormalSigned, type FileMetaJson, type TargetsSigned } from '../src/core/metadata.js';
import { spliceTargetsCanonical } from '../src/core/splice.js';
import { prng } from './support/prng.js';

const margins = { before: 10, after: 100 };
const canonicalOf = (t: TargetsSigned, role = 'targets') => canonicalize(goNormalSigned('Targets', t, role));

describe('spliceTargetsCanonical', () => {
  it('gives exactly the full re-encoding, or declines, for random maps and changes', () => {
    const rand = prng(5);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const plain = ['a', 'b', 'tag-000001', 'tag-000002', 'z', '9', '10', '123', 'ﬁ', '😀', 'ｚ', 'rel/one', 'e\u00e9', '', 'constructor', 'toString'];
    const nasty = ['a<b', 'q"x', 'back\\slash'];
    const meta = (): FileMetaJson => {
      const m: FileMetaJson = { hashes: { sha256: pick(['AA==', 'AAAA', 'qz+E']), ...(rand() < 0.3 ? { sha512: 'AAAA' } : {}) }, length: Math.floor(rand() * 1000) };
      if (rand() < 0.1) m.custom = { note: rand() < 0.8 ? 'x' : 'y<z' };
      return m;
    };
    let spliced = 0;
    for (let round = 0; round < 600; round++) {
      const prev = newTargetsSigned(new Date('2030-01-01T00:00:00Z'), 3);
      prev.targets = {};
      const names = rand() < 0.1 ? [...plain, pick(nasty)] : plain;
      for (const n of names) if (rand() < 0.5) prev.targets[n] = meta();
      if (rand() < 0.05) (prev.targets[pick(names)] as FileMetaJson & { extra?: number }) = { ...meta(), extra: 1 } as FileMetaJson;
      const previous = utf8Encode(canonicalOf(prev));
      // `next` is `prev` changed in place, as applyChanges does, and bumped.
      const next: TargetsSigned = structuredClone(prev);
      const changed = new Set<string>();
      for (let k = Math.floor(rand() * 4); k > 0; k--) {
        const n = pick(names);
        changed.add(n);
        if (rand() < 0.3) delete next.targets![n];
        else next.targets![n] = meta();
      }
      if (rand() < 0.3) changed.add('never-there');
      next.version += 1;
      next.expires = '2031-02-03T04:05:06.5Z';
      if (rand() < 0.2) next.delegations = { keys: {}, roles: [{ name: 'targets/x', keyids: ['k'], threshold: 1, paths: ['p'] }] };
      const got = spliceTargetsCanonical(previous, next, 'targets', changed, margins);
      if (got === undefined) continue;
      spliced++;
      expect(utf8Decode(got.bytes)).toBe(canonicalOf(next));
      expect(got.frame!.buffer.length).toBe(margins.before + got.bytes.length + margins.after);
    }
    expect(spliced).toBeGreaterThan(200);
  });

  it('declines names it cannot write raw, and entries Go would rewrite', () => {
    const prev = newTargetsSigned(new Date('2030-01-01T00:00:00Z'), 1);
    prev.targets = { a: { hashes: { sha256: 'AA==' }, length: 1 } };
    const previous = utf8Encode(canonicalOf(prev));
    const withQuote = structuredClone(prev);
    withQuote.targets!['q"'] = { hashes: { sha256: 'AA==' }, length: 2 };
    expect(spliceTargetsCanonical(previous, withQuote, 'targets', new Set(['q"']), margins)).toBeUndefined();
    const html = structuredClone(prev);
    html.targets!['a<b'] = { hashes: { sha256: 'AA==' }, length: 2 };
    expect(spliceTargetsCanonical(previous, html, 'targets', new Set(['a<b']), margins)).toBeUndefined();
    const unknownField = structuredClone(prev);
    (unknownField.targets!['a'] as FileMetaJson & { extra?: number }).extra = 1;
    unknownField.targets!['b'] = { hashes: { sha256: 'AA==' }, length: 2 };
    expect(spliceTargetsCanonical(previous, unknownField, 'targets', new Set(['b']), margins)).toBeUndefined();
    const ok = structuredClone(prev);
    ok.targets!['b'] = { hashes: { sha256: 'AA==' }, length: 2 };
    expect(utf8Decode(spliceTargetsCanonical(previous, ok, 'targets', new Set(['b']), margins)!.bytes)).toBe(canonicalOf(ok));
  });
});
