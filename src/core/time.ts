/**
 * Go's time.Time as Notary writes it in `expires`: RFC 3339 with nanoseconds, trailing fractional zeros
 * trimmed, and the writer's UTC offset kept ("Z" for offset 0). We parse any RFC 3339 value Go accepts,
 * keep the offset so Go-written files re-serialise to identical bytes, and create new times in UTC.
 */
import { FormatError } from './errors.js';

export interface GoTime {
  /** Seconds since the Unix epoch (UTC). */
  readonly unixSeconds: number;
  /** Nanoseconds within the second, 0..999_999_999. */
  readonly nanos: number;
  /** The written offset from UTC in seconds (0 means "Z"). */
  readonly offsetSeconds: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parseGoTime(text: string, where = 'expires'): GoTime {
  const m = RFC3339.exec(text);
  const bad = (why: string) =>
    new FormatError('BAD_TIME', `${where}: cannot parse ${JSON.stringify(text)} as RFC 3339 time: ${why}`, { where });
  if (!m) throw bad('not of the form 2006-01-02T15:04:05Z07:00');
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12) throw bad('month out of range');
  if (day < 1 || day > daysInMonth(year, month)) throw bad('day out of range');
  if (hour > 23) throw bad('hour out of range');
  if (minute > 59) throw bad('minute out of range');
  if (second > 59) throw bad('second out of range');
  let offsetSeconds = 0;
  if (zone !== 'Z') {
    const oh = Number(zone!.slice(1, 3));
    const om = Number(zone!.slice(4, 6));
    if (oh > 23 || om > 59) throw bad('time zone offset out of range');
    offsetSeconds = (zone![0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  // Go reads at most nanosecond precision; extra digits are dropped.
  const nanos = frac === undefined ? 0 : Number(frac.slice(0, 9).padEnd(9, '0'));
  const utcMs = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0..99 to 1900..1999; fix the year explicitly.
  const date = new Date(utcMs);
  date.setUTCFullYear(year, month - 1, day);
  const unixSeconds = date.getTime() / 1000 - offsetSeconds;
  return { unixSeconds, nanos, offsetSeconds };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Go's RFC3339Nano rendering: fraction without trailing zeros, dot omitted when zero. */
export function formatGoTime(t: GoTime): string {
  const local = new Date((t.unixSeconds + t.offsetSeconds) * 1000);
  const year = local.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new FormatError('BAD_TIME', `Time.MarshalJSON: year ${year} outside of range [0,9999]`);
  }
  let text =
    `${pad(year, 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}` +
    `T${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}`;
  if (t.nanos !== 0) text += '.' + pad(t.nanos, 9).replace(/0+$/, '');
  if (t.offsetSeconds === 0) return text + 'Z';
  const sign = t.offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(t.offsetSeconds);
  return `${text}${sign}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor((abs % 3600) / 60), 2)}`;
}

/** A UTC GoTime from a JS Date (millisecond precision) or epoch milliseconds. */
export function goTimeFromDate(date: Date | number): GoTime {
  const ms = typeof date === 'number' ? date : date.getTime();
  const unixSeconds = Math.floor(ms / 1000);
  return { unixSeconds, nanos: (ms - unixSeconds * 1000) * 1_000_000, offsetSeconds: 0 };
}

export function goTimeToDate(t: GoTime): Date {
  return new Date(t.unixSeconds * 1000 + Math.floor(t.nanos / 1_000_000));
}

/** Negative if a is before b, 0 if equal, positive if after. */
export function compareGoTime(a: GoTime, b: GoTime): number {
  return a.unixSeconds !== b.unixSeconds ? a.unixSeconds - b.unixSeconds : a.nanos - b.nanos;
}

/** Notary's rule: a time is expired when it is strictly before now. */
export function isExpired(expires: GoTime, now: Date): boolean {
  return compareGoTime(expires, goTimeFromDate(now)) < 0;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Notary's default lifetimes (client NotaryDefaultExpiries). */
export const DEFAULT_EXPIRY_DAYS = {
  root: 3650,
  targets: 1095,
  snapshot: 1095,
  timestamp: 14,
} as const;

export function expiresAfterDays(now: Date, days: number): string {
  return formatGoTime(goTimeFromDate(now.getTime() + days * DAY_MS));
}

/** Go's "Mon Jan 2 15:04:05 MST 2006" rendering, used in Notary's expiry error messages (in UTC). */
export function formatGoUnixDate(t: GoTime): string {
  const d = new Date(t.unixSeconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return (
    `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${d.getUTCDate()} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)} UTC ${d.getUTCFullYear()}`
  );
}

/** Go's time.AddDate(0, months, 0) in UTC (overflowing days normalise forward, e.g. Aug 31 + 6 → Mar 3). */
export function addMonthsUtc(d: Date, months: number): Date {
  const r = new Date(d.getTime());
  r.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate());
  return r;
}
