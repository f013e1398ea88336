/**
 * Image patterns: a glob over the normalised repository name (`registry.example.com/team/*`), optionally
 * followed by `:` and a glob over the tag. In names `*` and `?` stay within one path component and `**`
 * crosses them; in tags (which have no `/`) `*` matches anything. Pure, for table tests.
 */
import { NotaryError } from '../core/errors.js';

export interface ImagePattern {
  readonly text: string;
  /** `tag` undefined (a digest-only reference) matches only a pattern without a tag part, or tag `*`. */
  matches(name: string, tag: string | undefined): boolean;
}

function globToRegExp(glob: string, crossSlash: boolean): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += crossSlash ? '.*' : '[^/]*';
    } else if (c === '?') out += crossSlash ? '.' : '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

export function compileImagePattern(text: string): ImagePattern {
  const slash = text.lastIndexOf('/');
  const colon = text.indexOf(':', slash + 1);
  const namePart = colon < 0 ? text : text.slice(0, colon);
  const tagPart = colon < 0 ? undefined : text.slice(colon + 1);
  // A colon belongs to the registry's port, in the first component only.
  if (!/^[a-z0-9._\-/:*?]+$/.test(namePart) || namePart.split('/').slice(1).some((c) => c.includes(':'))) {
    throw new NotaryError('POLICY_INVALID', `invalid image pattern ${JSON.stringify(text)}: names are lower-case letters, digits, . _ - / : and the globs * ** ?`);
  }
  if (tagPart !== undefined && !/^[A-Za-z0-9_.\-*?]+$/.test(tagPart)) {
    throw new NotaryError('POLICY_INVALID', `invalid image pattern ${JSON.stringify(text)}: the tag part may hold letters, digits, _ . - and the globs * ?`);
  }
  const name = new RegExp(`^${globToRegExp(namePart, false)}$`);
  const tag = tagPart === undefined ? undefined : new RegExp(`^${globToRegExp(tagPart, true)}$`);
  return {
    text,
    matches: (n, t) => name.test(n) && (tag === undefined || (t === undefined ? tagPart === '*' : tag.test(t))),
  };
}
