import { describe, expect, it } from 'vitest';
import { NotaryError } from '../src/core/errors.js';
import { formatGoTime, formatGoUnixDate, goTimeFromDate, isExpired, parseGoTime } from '../src/core/time.js';

describe('Go time', () => {
  it.each([
    ['2029-11-22T19:43:19.994628759Z', '2029-11-22T19:43:19.994628759Z'],
    ['2026-12-07T19:41:55.77359144Z', '2026-12-07T19:41:55.77359144Z'],
    ['2029-11-22T14:41:55.558655067-05:00', '2029-11-22T14:41:55.558655067-05:00'],
    ['2026-12-07T19:41:55.720Z', '2026-12-07T19:41:55.72Z'],
    ['2026-12-07T19:41:55.000Z', '2026-12-07T19:41:55Z'],
    ['2026-12-07T19:41:55+00:00', '2026-12-07T19:41:55Z'],
    ['2026-12-07T19:41:55.1234567891Z', '2026-12-07T19:41:55.123456789Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'],
  ])('parses %s and writes Go\'s form %s', (input, expected) => {
    expect(formatGoTime(parseGoTime(input))).toBe(expected);
  });

  it('agrees with Date on the instant, whatever the offset', () => {
    const a = parseGoTime('2029-11-22T14:41:55.5-05:00');
    const b = parseGoTime('2029-11-22T19:41:55.5Z');
    expect(a.unixSeconds).toBe(b.unixSeconds);
    expect(a.nanos).toBe(500_000_000);
    expect(a.unixSeconds * 1000).toBe(Date.parse('2029-11-22T19:41:55Z'));
  });

  it.each(['2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00', '2026-01-01t00:00:00Z', '26-01-01T00:00:00Z', ''])(
    'refuses %s with BAD_TIME',
    (input) => {
      try {
        parseGoTime(input);
        expect.unreachable();
      } catch (err) {
        expect((err as NotaryError).code).toBe('BAD_TIME');
      }
    },
  );

  it('formats new times in UTC without trailing zeros (not toISOString)', () => {
    const d = new Date('2026-12-07T19:41:55.720Z');
    expect(d.toISOString()).toBe('2026-12-07T19:41:55.720Z');
    expect(formatGoTime(goTimeFromDate(d))).toBe('2026-12-07T19:41:55.72Z');
  });

  it('is expired only strictly before now', () => {
    const t = parseGoTime('2026-01-01T00:00:00.5Z');
    expect(isExpired(t, new Date('2026-01-01T00:00:00.500Z'))).toBe(false);
    expect(isExpired(t, new Date('2026-01-01T00:00:00.501Z'))).toBe(true);
  });

  it('renders Go\'s UnixDate form for messages', () => {
    expect(formatGoUnixDate(parseGoTime('2006-01-02T15:04:05Z'))).toBe('Mon Jan 2 15:04:05 UTC 2006');
  });
});
