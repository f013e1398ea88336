/**
 * The pure parts of `trust inspect`: docker's natural sort (github.com/fvbommel/sortorder), Go's JSON string
 * encoding (HTML-safe), docker's table writer, and the released-row rule. The byte-for-byte comparison with
 * docker itself is in trust-docker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { dockerTable, goJsonString, naturalLess, releasedRows } from '../src/images/trust/inspect.js';

describe('naturalLess (sortorder.NaturalLess)', () => {
  it.each([
    ['v1', 'v2', true],
    ['v2', 'v10', true],
    ['v10', 'v2', false],
    ['1.9', '1.10', true],
    ['a', 'a1', true],
    ['a01', 'a1', false],
    ['a1', 'a01', true],
    ['1', 'a', true],
    ['a', '1', false],
    ['latest', 'v1', true],
    ['x', 'x', false],
    ['0', '00', true],
  ])('%s < %s is %s', (a, b, want) => {
    expect(naturalLess(a, b)).toBe(want);
  });
});

describe('goJsonString', () => {
  it.each([
    ['plain', '"plain"'],
    ['a<b>&c', '"a\\u003cb\\u003e\\u0026c"'],
    ['q"\\', '"q\\"\\\\"'],
    ['\n\t\r\b\f', '"\\n\\t\\r\\u0008\\u000c"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['é😀', '"é😀"'],
    ['\ud800x', '"\ufffdx"'],
  ])('%j → %s', (input, want) => {
    expect(goJsonString(input)).toBe(want);
  });
});

describe('dockerTable (tabwriter minwidth 10, padding 3)', () => {
  it('pads every column but the last; short columns to 10', () => {
    expect(dockerTable([
      ['SIGNER', 'KEYS'],
      ['alice', 'abc'],
    ])).toBe('SIGNER    KEYS\nalice     abc\n');
    expect(dockerTable([
      ['SIGNED TAG', 'DIGEST', 'SIGNERS'],
      ['v1', 'ff', 'a, b'],
    ])).toBe('SIGNED TAG   DIGEST    SIGNERS\nv1           ff        a, b\n');
  });
});

describe('releasedRows', () => {
  it('rows come from targets and targets/releases; other roles with the same hash are the signers', () => {
    const rows = releasedRows([
      { role: 'targets', name: 'v2', length: 1, sha256: 'bb' },
      { role: 'targets/releases', name: 'v10', length: 1, sha256: 'aa' },
      { role: 'targets/alice', name: 'v10', length: 1, sha256: 'aa' },
      { role: 'targets/bob', name: 'v10', length: 1, sha256: 'cc' },
      { role: 'targets/carol', name: 'unreleased', length: 1, sha256: 'dd' },
    ]);
    expect(rows).toEqual([
      { tag: 'v2', digest: 'bb', signers: [] },
      { tag: 'v10', digest: 'aa', signers: ['alice'] },
    ]);
  });
});
