/**
 * A malicious (or merely broken) notary-server for attack tests: it speaks the read API the reader uses
 * (`GET /v2/`, `GET /v2/<gun>/_trust/tuf/{timestamp.json, root.json, <N>.root.json, <role>.<sha256>.json,
 * <role>.json}`) and serves, per role, whatever behaviour the test sets: given bytes, an HTTP status, an
 * endless body, headers then silence, a slow drip, or half a body then a reset connection. Checksums in the
 * URL are ignored on purpose (a file is looked up by its role), so an attacker can answer any request with
 * any bytes. The ping (`/v2/`), the key endpoints (`timestamp.key`) and publish/delete (`publish`) can be
 * given behaviours too; any GUN's paths are served; with `tls` it serves HTTPS (test/faults.test.ts).
 *
 * Every request is logged with the bytes the server managed to hand to the socket and whether the client
 * hung up, so a test can prove the client stopped an endless or slow body early.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  /** 200 with these bytes (Content-Length set unless `chunked`). */
  | { readonly kind: 'bytes'; readonly body: Uint8Array; readonly chunked?: boolean }
  /** This status with a small body (404 → the Go client's "trust data unavailable"). */
  | { readonly kind: 'status'; readonly status: number }
  /** 200, no Content-Length (or the given one), then data forever until the client hangs up. */
  | { readonly kind: 'endless'; readonly contentLength?: number }
  /** Nothing at all: no status line, no headers. */
  | { readonly kind: 'hang' }
  /** 200 with headers (optionally the first `prefix` bytes), then nothing, ever. */
  | { readonly kind: 'stall'; readonly prefix?: Uint8Array }
  /** 200, then one byte of `body` every `intervalMs` (endless filler after `body` runs out). */
  | { readonly kind: 'drip'; readonly body?: Uint8Array; readonly intervalMs?: number }
  /** 200 with a Content-Length, the first `prefix` bytes (default: half of `body`), then the connection is reset. */
  | { readonly kind: 'reset'; readonly body: Uint8Array; readonly prefix?: number };

export interface EvilServerOptions {
  /** Serve HTTPS with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The role the file name maps to: `timestamp`, `root`, `2.root`, `snapshot`, `targets/a`, … */
  readonly role: string | undefined;
  /** The checksum in a `<role>.<sha256>.json` name, if any. */
  readonly checksum: string | undefined;
  /** Body bytes handed to the socket. */
  bytesSent: number;
  /** True once the client closed the connection before the server finished. */
  abortedByClient: boolean;
  readonly startedAt: number;
  endedAt: number | undefined;
}

export interface EvilServer {
  readonly url: string;
  readonly gun: string;
  /**
   * Behaviour per role (`root`, `2.root`, `timestamp`, `snapshot`, `targets`, `targets/x`); a key
   * `<role>.json` overrides the role's behaviour for requests by current name only; the key `/v2/`
   * sets the ping's behaviour (default: 200 `{}`).
   */
  readonly files: Map<string, Behaviour>;
  readonly requests: RequestRecord[];
  /** Serves every file of a repository as plain bytes (replaces all behaviours). */
  serve(files: ReadonlyMap<string, Uint8Array>): void;
  /** Sets one role's behaviour. */
  set(role: string, behaviour: Behaviour): void;
  /** Requests for one role. */
  requestsFor(role: string): RequestRecord[];
  /** Resolves when every response so far has finished (sent or aborted). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const FILLER = new Uint8Array(64 << 10).fill(0x20);

/** `timestamp` → role, checksum; `targets/a.<hex>` → `targets/a`, hex; `2.root` → `2.root`. */
export function parseFileName(name: string): { role: string; checksum: string | undefined } {
  const m = /^(.*)\.([0-9a-f]{64})$/.exec(name);
  if (m) return { role: m[1]!, checksum: m[2]! };
  return { role: name, checksum: undefined };
}

export async function startEvilServer(gun: string, options: EvilServerOptions = {}): Promise<EvilServer> {
  const files = new Map<string, Behaviour>();
  const requests: RequestRecord[] = [];
  const pending = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  // Any GUN's files are served (the repository's own, or the behaviour set): a client creating another GUN
  // meets the same faults.
  const prefixOf = (path: string): string => {
    const at = path.indexOf('/_trust/tuf/');
    return path.startsWith('/v2/') && at >= 0 ? path.slice(0, at + '/_trust/tuf/'.length) : `/v2/${gun}/_trust/tuf/`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, rec: RequestRecord): Promise<void> => {
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    res.once('close', () => {
      if (!res.writableFinished) rec.abortedByClient = true;
      rec.endedAt = Date.now();
    });
    const write = async (chunk: Uint8Array): Promise<boolean> => {
      if (res.destroyed || res.writableEnded) return false;
      const ok = res.write(chunk);
      rec.bytesSent += chunk.length;
      if (!ok) await Promise.race([new Promise<void>((r) => res.once('drain', r)), closed]);
      return !res.destroyed;
    };
    const sleep = (ms: number) =>
      Promise.race([
        new Promise<void>((r) => {
          const t = setTimeout(() => {
            timers.delete(t);
            r();
          }, ms);
          timers.add(t);
        }),
        closed,
      ]);

    const ping = req.url === '/v2/' || req.url === '/v2';
    if (ping && !files.has('/v2/')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    // `<role>.json` set on its own answers only requests by current name (no checksum in the URL).
    const behaviour = ping ? files.get('/v2/') : rec.role === undefined ? undefined : ((rec.checksum === undefined ? files.get(`${rec.role}.json`) : undefined) ?? files.get(rec.role));
    if (req.method !== 'GET' && behaviour?.kind !== 'status' && behaviour?.kind !== 'hang') {
      res.writeHead(405).end();
      return;
    }
    if (!behaviour) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist."}]}');
      return;
    }
    switch (behaviour.kind) {
      case 'bytes': {
        const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
        if (!behaviour.chunked) headers['content-length'] = behaviour.body.length;
        res.writeHead(200, headers);
        await write(behaviour.body);
        res.end();
        return;
      }
      case 'status':
        res.writeHead(behaviour.status, { 'content-type': 'application/json' }).end('{"errors":[]}');
        return;
      case 'endless': {
        res.writeHead(200, behaviour.contentLength !== undefined ? { 'content-length': behaviour.contentLength } : {});
        res.flushHeaders();
        while (await write(FILLER)) {
          /* until the client hangs up */
        }
        return;
      }
      case 'hang':
        await closed;
        return;
      case 'stall': {
        res.writeHead(200, {});
        res.flushHeaders();
        if (behaviour.prefix) await write(behaviour.prefix);
        await closed;
        return;
      }
      case 'reset': {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': behaviour.body.length });
        await write(behaviour.body.subarray(0, behaviour.prefix ?? behaviour.body.length >> 1));
        await sleep(20);
        res.socket?.resetAndDestroy?.() ?? res.destroy();
        return;
      }
      case 'drip': {
        res.writeHead(200, {});
        res.flushHeaders();
        const body = behaviour.body ?? new Uint8Array(0);
        for (let i = 0; ; i++) {
          const byte = i < body.length ? body.subarray(i, i + 1) : FILLER.subarray(0, 1);
          if (!(await write(byte))) return;
          await sleep(behaviour.intervalMs ?? 1000);
          if (res.destroyed) return;
        }
      }
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    const prefix = prefixOf(path);
    let role: string | undefined;
    let checksum: string | undefined;
    if (path.startsWith(prefix) && path.endsWith('.json')) {
      ({ role, checksum } = parseFileName(decodeURI(path.slice(prefix.length, -'.json'.length))));
    } else if (path.startsWith(prefix) && path.endsWith('.key')) {
      role = decodeURI(path.slice(prefix.length)); // `timestamp.key`, `snapshot.key`
    } else if (path === prefix) {
      role = 'publish'; // POST (publish) and DELETE of the whole collection
    }
    const rec: RequestRecord = { method: req.method ?? '', path, role, checksum, bytesSent: 0, abortedByClient: false, startedAt: Date.now(), endedAt: undefined };
    requests.push(rec);
    const p = handle(req, res, rec)
      .catch(() => res.destroy())
      .then(() => (res.writableEnded || res.destroyed ? undefined : new Promise<void>((r) => res.once('close', () => r()))))
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);
  server.on('connection', (s: Socket) => {
    s.on('error', () => {}); // a client that resets the connection
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    gun,
    files,
    requests,
    serve(repo) {
      files.clear();
      for (const [role, body] of repo) files.set(role, { kind: 'bytes', body });
    },
    set(role, behaviour) {
      files.set(role, behaviour);
    },
    requestsFor(role) {
      return requests.filter((r) => r.role === role);
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
