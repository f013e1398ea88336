/**
 * A tiny docker/distribution-style token issuer for tests (node:http on 127.0.0.1).
 *
 * It generates an EC P-256 key and a self-signed certificate with `openssl` in a temp dir, and issues ES256
 * JWTs as docker/distribution's token access controller expects them:
 *   header  {typ:"JWT", alg:"ES256", kid:<libtrust key ID>, x5c:[<cert DER base64>]}
 *   claims  {iss, sub, aud:<service>, exp, nbf, iat, jti, access:[{type,name,actions}]}
 * notary-server is configured with `rootcertbundle` = the certificate, so it really verifies the chain,
 * the signature, issuer, audience, times and access.
 *
 * Every token request is recorded (`requests`) so tests can assert who asked for what, and whether Basic
 * credentials were sent (the password is checked, never recorded).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequestInfo {
  readonly method: string;
  readonly service: string | null;
  readonly scopes: string[];
  readonly account: string | null;
  /** Username from a Basic Authorization header (null when none was sent). */
  readonly basicUser: string | null;
  /** Whether Basic credentials were sent and matched `users`. */
  readonly authenticated: boolean;
  readonly grantType: string | null;
  readonly granted: AccessEntry[];
}

export interface TokenServerOptions {
  readonly service: string;
  readonly issuer: string;
  /** Known users and passwords. A request with wrong Basic credentials gets 401. */
  readonly users?: Record<string, string>;
  /** Accepted OAuth refresh tokens (identity tokens) and who they belong to. */
  readonly refreshTokens?: Record<string, string>;
  /**
   * Decides what to grant. Default: authenticated users get every requested action, anonymous users
   * only `pull`.
   */
  readonly policy?: (requested: AccessEntry[], info: { user: string | null }) => AccessEntry[];
  /** Field the token is returned in (default `token`). */
  readonly tokenField?: 'token' | 'access_token';
  /** `expires_in` in the response (default 300); the JWT lives as long. */
  readonly expiresIn?: number;
}

export interface TokenServer {
  /** The realm URL to configure in notary-server. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM file with the signing certificate (notary-server `rootcertbundle`). */
  readonly certFile: string;
  readonly requests: TokenRequestInfo[];
  /** Mutable at run time: the response field the token goes in, and `expires_in`. */
  readonly settings: { tokenField: 'token' | 'access_token'; expiresIn: number };
  /** Issues a token directly (for tests that want to present a hand-made token). */
  issue(access: AccessEntry[], subject?: string): string;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** libtrust key ID: SHA-256 of the DER SPKI, first 240 bits, base32, in groups of four separated by ':'. */
function libtrustKeyId(pub: KeyObject): string {
  const digest = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function defaultPolicy(requested: AccessEntry[], info: { user: string | null }): AccessEntry[] {
  if (info.user) return requested;
  return requested.map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') })).filter((a) => a.actions.length > 0);
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'token-server-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-new', '-x509', '-key', keyFile, '-out', certFile, '-days', '7', '-subj', '/CN=notary-ts test token issuer'], {
    stdio: 'pipe',
  });
  const privateKey = createPrivateKey(readFileSync(keyFile));
  const certPem = readFileSync(certFile, 'utf8');
  const certDer = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const kid = libtrustKeyId(createPublicKey(privateKey));
  const settings = { tokenField: options.tokenField ?? ('token' as 'token' | 'access_token'), expiresIn: options.expiresIn ?? 300 };
  const requests: TokenRequestInfo[] = [];

  const issue = (access: AccessEntry[], subject = ''): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', kid, x5c: [certDer.toString('base64')] };
    const claims = {
      iss: options.issuer,
      sub: subject,
      aud: options.service,
      exp: now + settings.expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${b64url(sig)}`;
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (s += c));
      req.on('end', () => resolve(s));
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let params = url.searchParams;
    let grantType: string | null = null;
    let user: string | null = null;
    let basicUser: string | null = null;
    let authenticated = false;
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      grantType = params.get('grant_type');
      const rt = params.get('refresh_token') ?? '';
      const owner = options.refreshTokens?.[rt];
      if (grantType !== 'refresh_token' || owner === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid refresh token"}');
        requests.push({ method: 'POST', service: params.get('service'), scopes: params.getAll('scope'), account: null, basicUser, authenticated, grantType, granted: [] });
        return;
      }
      user = owner;
      authenticated = true;
    } else {
      const auth = req.headers.authorization;
      if (auth?.startsWith('Basic ')) {
        const plain = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const i = plain.indexOf(':');
        basicUser = i >= 0 ? plain.slice(0, i) : plain;
        const password = i >= 0 ? plain.slice(i + 1) : '';
        authenticated = options.users?.[basicUser] !== undefined && options.users[basicUser] === password;
        if (!authenticated) {
          requests.push({ method: 'GET', service: params.get('service'), scopes: params.getAll('scope'), account: params.get('account'), basicUser, authenticated, grantType, granted: [] });
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="token"' }).end('{"error":"bad credentials"}');
          return;
        }
        user = basicUser;
      }
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const requested = scopes.map(parseScope).filter((a): a is AccessEntry => a !== undefined);
    const granted = (options.policy ?? defaultPolicy)(requested, { user });
    requests.push({ method: req.method ?? 'GET', service: params.get('service'), scopes, account: params.get('account'), basicUser, authenticated, grantType, granted });
    const token = issue(granted, user ?? '');
    const body: Record<string, unknown> = { [settings.tokenField]: token, expires_in: settings.expiresIn, issued_at: new Date().toISOString() };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: options.service,
    issuer: options.issuer,
    certFile,
    requests,
    settings,
    issue,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
