/**
 * The Kubernetes admission webhook: AdmissionReview over HTTPS, each image decided by the gate (policy +
 * Notary's update workflow, trust data cached across requests), in mutating mode pinned to its verified
 * digest. Fails closed: a review that cannot be decided within its deadline is denied. Also serves
 * /healthz, /readyz and /metrics, writes a JSON-lines audit record per image, reloads the policy file when it
 * changes (a bad new policy keeps the old one and says why), bounds concurrency, and shuts down gracefully.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Gate, loadPolicyFile, type Decision, type GateOptions } from '../policy/gate.js';
import type { Policy } from '../policy/policy.js';
import { AdmissionMetrics } from './metrics.js';
import { admissionResponse, AdmissionRequestError, parseAdmissionReview, type ImageVerdict, type ParsedReview } from './review.js';

export type AdmissionMode = 'mutating' | 'validating';

export interface AdmissionServerOptions {
  readonly policyFile: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly port?: number;
  readonly host?: string;
  /** What `/` does; `/mutate` and `/validate` are always both served. Default mutating. */
  readonly mode?: AdmissionMode;
  /** Reviews decided at once; more wait their turn within their deadline (default 64). */
  readonly maxInFlight?: number;
  /** Upper bound for one review (default 9 s, below the API server's default 10 s); `?timeout=` can lower it. */
  readonly deadlineMs?: number;
  /** Where audit lines go (one JSON object per image decision); default nowhere. */
  readonly audit?: (line: string) => void;
  /** Operational messages (reloads, shutdown). */
  readonly log?: (line: string) => void;
  /** How often the policy file is checked for changes (default 2 s). */
  readonly reloadIntervalMs?: number;
  readonly env?: GateOptions['env'];
  readonly clock?: GateOptions['clock'];
}

export interface AdmissionServer {
  readonly url: string;
  readonly port: number;
  readonly metrics: AdmissionMetrics;
  /** Reloads the policy now; resolves false (keeping the old policy) when the file is bad. */
  reload(): Promise<boolean>;
  /** Stops accepting, lets reviews in flight finish, releases trust data connections. */
  close(): Promise<void>;
}

const MAX_BODY = 4 << 20;

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`request body larger than ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

/** Kubernetes appends `?timeout=10s` (or `500ms`, `1m`) to webhook calls. */
export function timeoutFromQuery(url: string | undefined): number | undefined {
  const m = /[?&]timeout=(\d+)(ms|s|m)?(?:&|$)/.exec(url ?? '');
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function verdictOf(d: Decision, site: ImageVerdict['site'], mutate: boolean): ImageVerdict {
  const why = d.error ? `${d.error.code}: ${d.error.message}` : undefined;
  if (!d.allowed) return { site, allowed: false, message: `image ${d.image} denied by rule ${d.rule}${why ? ` (${why})` : ''}` };
  return {
    site,
    allowed: true,
    ...(mutate && d.pinned ? { pinned: d.pinned } : {}),
    ...(d.error ? { warning: `image ${d.image} not verified (rule ${d.rule} is warn-only): ${why}` } : {}),
  };
}

export async function startAdmissionServer(options: AdmissionServerOptions): Promise<AdmissionServer> {
  const policyFile = resolve(options.policyFile);
  const [cert, key] = await Promise.all([readFile(options.tlsCert), readFile(options.tlsKey)]);
  const log = options.log ?? (() => {});
  const metrics = new AdmissionMetrics();
  const gateFor = (policy: Policy) =>
    new Gate({ policy, baseDir: dirname(policyFile), ...(options.env ? { env: options.env } : {}), ...(options.clock ? { clock: options.clock } : {}) });
  let gate = gateFor(await loadPolicyFile(policyFile));
  const semaphore = new Semaphore(options.maxInFlight ?? 64);
  const deadlineMs = options.deadlineMs ?? 9000;
  const defaultMode = options.mode ?? 'mutating';
  let closing = false;
  const inFlight = new Set<Promise<void>>();

  const reload = async (): Promise<boolean> => {
    try {
      const policy = await loadPolicyFile(policyFile);
      const old = gate;
      gate = gateFor(policy);
      metrics.reloads.ok++;
      log(`policy reloaded from ${policyFile} (${policy.rules.length} rules)`);
      // Reviews already holding the old gate finish with it; its connections close afterwards.
      setTimeout(() => void old.close().catch(() => {}), deadlineMs).unref();
      return true;
    } catch (err) {
      metrics.reloads.failed++;
      log(`policy not reloaded, keeping the previous one: ${(err as Error).message}`);
      return false;
    }
  };
  const onChange = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) void reload();
  };
  watchFile(policyFile, { interval: options.reloadIntervalMs ?? 2000, persistent: false }, onChange);

  const review = async (req: IncomingMessage, res: ServerResponse, mutate: boolean): Promise<void> => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let parsed: ParsedReview;
    try {
      const body = await readBody(req);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw new AdmissionRequestError('INVALID_ARGUMENT', 'the body is not valid JSON');
      }
      parsed = parseAdmissionReview(json);
    } catch (err) {
      const status = (err as { status?: number }).status ?? 400;
      send(res, status, JSON.stringify({ error: { code: 'BAD_REQUEST', message: (err as Error).message } }));
      metrics.review(status, undefined, seconds());
      return;
    }
    const limit = Math.min(deadlineMs, Math.max(100, (timeoutFromQuery(req.url) ?? Number.POSITIVE_INFINITY) - 500));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'timeout'>((r) => {
      // Not unref'd: it guards pending work, and the answer must go out when it fires.
      timer = setTimeout(() => r('timeout'), limit);
    });
    const current = gate;
    let release: (() => void) | undefined;
    try {
      const images = [...new Set(parsed.images.map((s) => s.image))];
      const work = (async () => {
        release = await semaphore.acquire();
        const decisions = await Promise.all(images.map((image) => current.decide(image)));
        return new Map(images.map((image, i) => [image, decisions[i]!]));
      })();
      work.catch(() => {});
      const outcome = images.length === 0 ? new Map<string, Decision>() : await Promise.race([work, expired]);
      const verdicts: ImageVerdict[] = [];
      for (const site of parsed.images) {
        let v: ImageVerdict;
        let d: Decision | undefined;
        if (outcome === 'timeout') {
          v = { site, allowed: false, message: `image ${site.image} could not be verified within ${limit} ms (denied: the webhook fails closed)` };
        } else {
          d = outcome.get(site.image)!;
          v = verdictOf(d, site, mutate);
          metrics.decision(!d.allowed ? 'deny' : d.error ? 'warn' : 'allow', d.rule);
          if (d.cached) metrics.cacheHits++;
          else metrics.cacheMisses++;
        }
        if (outcome === 'timeout') metrics.decision('error', 'timeout');
        verdicts.push(v);
        options.audit?.(
          JSON.stringify({
            time: new Date().toISOString(),
            uid: parsed.uid,
            kind: parsed.kind,
            ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
            ...(parsed.name ? { name: parsed.name } : {}),
            operation: parsed.operation,
            container: site.container,
            image: site.image,
            allowed: v.allowed,
            rule: d?.rule ?? null,
            action: d?.action ?? null,
            digest: d?.verified?.digest ?? null,
            signers: d?.verified?.roles ?? [],
            error: outcome === 'timeout' ? { code: 'TIMEOUT', message: v.message } : (d?.error ?? null),
            mutated: v.pinned !== undefined && v.pinned !== site.image,
            cached: d?.cached ?? false,
          }),
        );
      }
      const response = admissionResponse(parsed, verdicts, mutate);
      send(res, 200, JSON.stringify(response));
      metrics.review(200, response.response.allowed, seconds());
    } finally {
      clearTimeout(timer);
      release?.();
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
    if (req.method === 'GET' && path === '/readyz') return send(res, closing ? 503 : 200, closing ? 'shutting down\n' : 'ok\n', 'text/plain');
    if (req.method === 'GET' && path === '/metrics') {
      metrics.inFlight = inFlight.size;
      return send(res, 200, metrics.render(), 'text/plain; version=0.0.4');
    }
    if (req.method === 'POST' && (path === '/' || path === '/mutate' || path === '/validate')) {
      const mutate = path === '/mutate' || (path === '/' && defaultMode === 'mutating');
      const p = review(req, res, mutate).catch((err: unknown) => {
        send(res, 500, JSON.stringify({ error: { code: 'INTERNAL', message: (err as Error).message } }));
        metrics.review(500, undefined, 0);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      return;
    }
    send(res, 404, JSON.stringify({ error: { code: 'NOT_FOUND', message: `no ${req.method} ${path} here; POST /mutate or /validate` } }));
  };

  const server: Server = createServer({ cert, key }, handle);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8443, options.host ?? '0.0.0.0', () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '0.0.0.0';
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    metrics,
    reload,
    async close() {
      if (closing) return;
      closing = true;
      unwatchFile(policyFile, onChange);
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await stopped;
      await gate.close();
    },
  };
}
