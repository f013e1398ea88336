/**
 * Small HTTP helpers for the remote store: the multipart body Notary's publish endpoint expects, and a
 * `WWW-Authenticate` parser. No IO here.
 */
import { randomBytes } from 'node:crypto';
import { joinBytes } from '../core/bytes.js';

const enc = new TextEncoder();

export interface MultipartBody {
  /** The body in pieces (the files' own bytes among them, not copied): sent one after another. */
  readonly parts: readonly Uint8Array[];
  readonly length: number;
  /** The whole body in one buffer (a copy; for callers that need it contiguous). */
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly boundary: string;
}

/** Where `needle` occurs in `haystack` (Node's native search: a 10 MB targets.json in about a millisecond). */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);
}

/** Quotes a Content-Disposition parameter value as Go's mime/multipart does (escapes `\` and `"`). */
function quoteParam(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`);
}

/**
 * Builds `multipart/form-data` with one part per file: field name `files`, filename = the role name with
 * its slashes kept (`targets/releases`), Content-Type `application/octet-stream`, the exact bytes. The
 * boundary is random (30 bytes hex, like Go's) and re-drawn if it occurs in any part.
 */
export function buildMultipart(files: ReadonlyMap<string, Uint8Array>, boundary?: string): MultipartBody {
  for (const name of files.keys()) {
    if (/[\r\n\0]/.test(name)) throw new TypeError(`invalid part name ${JSON.stringify(name)}`);
  }
  for (;;) {
    const b = boundary ?? randomBytes(30).toString('hex');
    const dash = enc.encode(`--${b}`);
    if (boundary === undefined && [...files.values()].some((data) => indexOfBytes(data, dash) >= 0)) continue;
    const chunks: Uint8Array[] = [];
    let first = true;
    for (const [name, data] of files) {
      const head =
        `${first ? '' : '\r\n'}--${b}\r\n` +
        `Content-Disposition: form-data; name="files"; filename="${quoteParam(name)}"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`;
      chunks.push(enc.encode(head), data);
      first = false;
    }
    chunks.push(enc.encode(`${first ? '' : '\r\n'}--${b}--\r\n`));
    let total = 0;
    for (const c of chunks) total += c.length;
    return {
      parts: chunks,
      length: total,
      get body(): Uint8Array {
        return joinBytes(chunks);
      },
      contentType: `multipart/form-data; boundary=${b}`,
      boundary: b,
    };
  }
}

export interface AuthChallenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  readonly scheme: string;
  /** Lower-cased parameter names. */
  readonly params: Readonly<Record<string, string>>;
}

/** The challenge a client answers: Bearer (token from its realm), else Basic. */
export interface ChosenChallenge {
  readonly scheme: 'bearer' | 'basic';
  readonly realm?: string;
  readonly service?: string;
}

/**
 * The strongest usable challenge among those a 401 carried (a Bearer with a realm, else Basic), as docker and
 * Notary choose, and whether it differs from the one answered before (then a retry can help); undefined when
 * none is usable.
 */
export function chooseChallenge(previous: ChosenChallenge | undefined, challenges: readonly AuthChallenge[]): { next: ChosenChallenge; changed: boolean } | undefined {
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
  const next: ChosenChallenge | undefined = bearer
    ? { scheme: 'bearer', realm: bearer.params['realm']!, ...(bearer.params['service'] !== undefined ? { service: bearer.params['service'] } : {}) }
    : challenges.some((c) => c.scheme === 'basic')
      ? { scheme: 'basic' }
      : undefined;
  if (!next) return undefined;
  const changed = !previous || previous.scheme !== next.scheme || previous.realm !== next.realm || previous.service !== next.service;
  return { next, changed };
}

/**
 * Parses one or more `WWW-Authenticate` header values (RFC 7235: `Scheme k=v, k="quoted", ...`, several
 * challenges separated by commas).
 */
export function parseWwwAuthenticate(values: string | readonly string[] | undefined): AuthChallenge[] {
  if (values === undefined) return [];
  const list = typeof values === 'string' ? [values] : values;
  const out: AuthChallenge[] = [];
  for (const value of list) {
    let i = 0;
    const s = value;
    const skipWs = () => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    };
    const token = () => {
      const start = i;
      while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
      return s.slice(start, i);
    };
    let current: { scheme: string; params: Record<string, string> } | undefined;
    while (i < s.length) {
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      const save = i;
      const name = token();
      if (name === '') {
        i++;
        continue;
      }
      skipWs();
      if (s[i] === '=' && current) {
        i++;
        skipWs();
        let v = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i];
            i++;
          }
          i++;
        } else {
          const start = i;
          while (i < s.length && s[i] !== ',') i++;
          v = s.slice(start, i).trim();
        }
        current.params[name.toLowerCase()] = v;
      } else if (s[i] === '=' && !current) {
        // a parameter without a scheme: skip it
        i = save + name.length + 1;
        while (i < s.length && s[i] !== ',') i++;
      } else {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}
