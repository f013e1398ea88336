/**
 * The HTTP proxy for a server URL from the environment, by the rules the Go client follows
 * (net/http.ProxyFromEnvironment, golang.org/x/net/http/httpproxy): HTTPS_PROXY for https URLs, HTTP_PROXY
 * for http URLs (upper case first, then lower case), NO_PROXY exclusions, and never for localhost or a
 * loopback address. A proxy given without a scheme is `http://`.
 */

function envAny(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  const h = host.replace(/^\[|\]$/g, '');
  return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./i.test(h);
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Whether NO_PROXY excludes host:port (host lower-cased, brackets removed). */
function excluded(noProxy: string, host: string, port: string): boolean {
  for (const raw of noProxy.split(/[,\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      // CIDR (IPv4 here; an IPv6 CIDR is compared as text by its address only).
      const [net, bitsText] = entry.split('/') as [string, string];
      const bits = Number(bitsText);
      const a = ipv4ToInt(net);
      const b = ipv4ToInt(host);
      if (a !== undefined && b !== undefined && Number.isInteger(bits) && bits >= 0 && bits <= 32) {
        const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
        if ((a & mask) === (b & mask)) return true;
      }
      continue;
    }
    let entryPort = '';
    const portMatch = /^(.*):(\d+)$/.exec(entry);
    if (portMatch && !entry.startsWith('[') && (portMatch[1]!.match(/:/g)?.length ?? 0) === 0) {
      entry = portMatch[1]!;
      entryPort = portMatch[2]!;
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort !== '' && entryPort !== port) continue;
    if (entry === host) return true;
    if (entry.startsWith('*.')) entry = entry.slice(1);
    // ".example.com" matches sub-domains; "example.com" matches itself and its sub-domains.
    if (entry.startsWith('.') ? host.endsWith(entry) : host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy URL for requests to `serverUrl`, or undefined for a direct connection. */
export function proxyFromEnvironment(serverUrl: string, env: NodeJS.ProcessEnv): string | undefined {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return undefined;
  }
  const proxy = url.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : url.protocol === 'http:' ? envAny(env, 'HTTP_PROXY', 'http_proxy') : '';
  if (proxy === '') return undefined;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (isLoopback(host)) return undefined;
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  if (excluded(envAny(env, 'NO_PROXY', 'no_proxy'), host, port)) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}
