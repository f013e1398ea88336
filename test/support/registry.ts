/**
 * The real CNCF distribution registry (`docker-registry serve CONFIG`, Debian 2.8) for tests, and image
 * pushes with plain HTTP (blob upload + manifest PUT; no daemon).
 *
 * API:
 *   const reg = await startRegistry();                       // plain: anyone may push and pull
 *   const reg = await startRegistry({ tokenAuth: { users: { alice: 'pw' } } });
 *       // token auth: the registry validates ES256 JWTs from a test issuer (./token-server.ts) for real;
 *       // reg.tokens is that issuer (its `requests` record every token request)
 *   reg.domain   '127.0.0.1:<port>'  (use it as an image reference domain: `${reg.domain}/team/app:1`)
 *   reg.url      'http://127.0.0.1:<port>'
 *   reg.authHeader('team/app', ['pull','push'])  // 'Bearer …' for token registries, undefined for plain
 *   await pushImage(reg, 'team/app', '1.0', { format: 'docker' | 'oci', seed: 'x' })
 *       → { digest, size, mediaType, bytes } of the manifest (and `config`, `layers`)
 *   await pushIndex(reg, 'team/app', 'multi', { format: 'docker' | 'oci', platforms: [...] })
 *       → the index's { digest, size, mediaType, bytes } plus `manifests` (each platform's PushedManifest)
 *   await putManifest(reg, name, ref, bytes, mediaType)  // any bytes (e.g. to move a tag)
 *   await reg.stop()   // kills the registry, removes its storage, closes the token issuer
 * The registry runs under a small shell supervisor that kills it when the test process dies.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error -- plain JS helper without types
import { freePort } from '../../scripts/lib/notary-server.mjs';
import { Agent, fetch as undiciFetch } from 'undici';
import { startTokenServer, type AccessEntry, type TokenServer, type TokenServerOptions } from './token-server.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface StartedRegistry {
  readonly domain: string;
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  /** The token issuer when started with tokenAuth. */
  readonly tokens?: TokenServer;
  /** An Authorization header value with the given access, or undefined for a plain registry. */
  authHeader(name: string, actions: string[]): string | undefined;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Token auth with a test issuer; `service` defaults to `test-registry`, `issuer` to `test-issuer`. */
  readonly tokenAuth?: Partial<TokenServerOptions>;
  /** Serve HTTPS with this certificate and key (PEM files); `url` is then https. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly timeoutMs?: number;
}

const SUPERVISOR = `
exec 3<&0
"$1" serve "$2" </dev/null &
child=$!
( while read -r _ <&3; do :; done; kill "$child" 2>/dev/null ) &
wd=$!
trap 'kill "$child" 2>/dev/null' TERM INT HUP
while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
kill "$wd" 2>/dev/null
exit \${rc:-0}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startRegistry(options: RegistryOptions = {}): Promise<StartedRegistry> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(options: RegistryOptions): Promise<StartedRegistry> {
  const port = (await freePort()) as number;
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const logFile = join(dir, 'registry.log');
  let tokens: TokenServer | undefined;
  if (options.tokenAuth) {
    tokens = await startTokenServer({ service: 'test-registry', issuer: 'test-issuer', ...options.tokenAuth });
  }
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true }, cache: {} },
    http: {
      addr: `127.0.0.1:${port}`,
      secret: randomBytes(16).toString('hex'),
      ...(options.tls ? { tls: { certificate: options.tls.certFile, key: options.tls.keyFile } } : {}),
    },
  };
  if (tokens) {
    config.auth = { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.certFile } };
  }
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  const logFd = openSync(logFile, 'a');
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'registry-supervisor', 'docker-registry', configFile], { stdio: ['pipe', logFd, logFd], cwd: dir });
  closeSync(logFd);
  child.unref();
  child.stdin!.on('error', () => {});
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await tokens?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      const log = readFileSync(logFile, 'utf8');
      await stop();
      throw new Error(`docker-registry exited early: ${log.slice(-2000)}`);
    }
    try {
      const status = options.tls ? await httpsStatus(`${url}/v2/`) : await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) }).then(async (r) => (await r.arrayBuffer(), r.status));
      if (status === 200 || status === 401) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start on ${url}`);
    }
    await sleep(100);
  }
  return {
    domain: `127.0.0.1:${port}`,
    url,
    port,
    dir,
    logFile,
    ...(tokens ? { tokens } : {}),
    authHeader: (name, actions) => (tokens ? `Bearer ${tokens.issue([{ type: 'repository', name, actions } as AccessEntry], 'pusher')}` : undefined),
    stop,
  };
}

// ---- pushing -----------------------------------------------------------------------------------------------

export interface PushedBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

export interface PushedManifest extends PushedBlob {
  readonly bytes: Uint8Array;
}

export interface PushedImage extends PushedManifest {
  readonly config: PushedBlob;
  readonly layers: readonly PushedBlob[];
}

export interface PushedIndex extends PushedManifest {
  readonly manifests: readonly (PushedImage & { platform: { architecture: string; os: string } })[];
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

async function call(reg: StartedRegistry, name: string, method: string, url: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  const auth = reg.authHeader(name, ['pull', 'push']);
  // pushes to a test registry with its own certificate: no verification needed for setting things up
  const res = await undiciFetch(url.startsWith('http') ? url : `${reg.url}${url}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...headers },
    ...(body ? { body } : {}),
    ...(reg.url.startsWith('https:') ? { dispatcher: insecureAgent } : {}),
  });
  return res as unknown as Response;
}

export async function pushBlob(reg: StartedRegistry, name: string, data: Uint8Array, mediaType: string): Promise<PushedBlob> {
  const digest = sha256(data);
  const start = await call(reg, name, 'POST', `/v2/${name}/blobs/uploads/`);
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`blob upload start for ${name}: HTTP ${start.status}`);
  const location = new URL(start.headers.get('location')!, reg.url);
  location.searchParams.set('digest', digest);
  const put = await call(reg, name, 'PUT', location.toString(), data, { 'content-type': 'application/octet-stream' });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob upload for ${name}: HTTP ${put.status} ${text}`);
  return { digest, size: data.length, mediaType };
}

export async function putManifest(reg: StartedRegistry, name: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<PushedManifest> {
  const res = await call(reg, name, 'PUT', `/v2/${name}/manifests/${ref}`, bytes, { 'content-type': mediaType });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT ${name}:${ref}: HTTP ${res.status} ${text}`);
  const digest = sha256(bytes);
  if (res.headers.get('docker-content-digest') !== digest) throw new Error(`registry says ${res.headers.get('docker-content-digest')}, we computed ${digest}`);
  return { digest, size: bytes.length, mediaType, bytes };
}

export interface PushOptions {
  readonly format?: 'docker' | 'oci';
  /** Makes the content (and so the digests) unique; default random. */
  readonly seed?: string;
  readonly architecture?: string;
  readonly os?: string;
  /** Pretty-print the manifest (registries keep the bytes: the digest is of exactly these). */
  readonly indent?: number;
}

/** Pushes a tiny one-layer image and tags it (`tag` may also be a digest-less push: pass '' to skip tagging). */
export async function pushImage(reg: StartedRegistry, name: string, tag: string, options: PushOptions = {}): Promise<PushedImage> {
  const oci = options.format === 'oci';
  const seed = options.seed ?? randomBytes(8).toString('hex');
  const architecture = options.architecture ?? 'amd64';
  const os = options.os ?? 'linux';
  const layerBytes = new TextEncoder().encode(`layer ${seed} ${architecture}`);
  const layer = await pushBlob(reg, name, layerBytes, oci ? MEDIA_TYPES.ociLayer : MEDIA_TYPES.dockerLayer);
  const configJson = { architecture, os, rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: { Labels: { seed } } };
  const config = await pushBlob(reg, name, new TextEncoder().encode(JSON.stringify(configJson)), oci ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig);
  const mediaType = oci ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: config.mediaType, size: config.size, digest: config.digest },
    layers: [{ mediaType: layer.mediaType, size: layer.size, digest: layer.digest }],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, options.indent ?? 3));
  const pushed = await putManifest(reg, name, tag === '' ? sha256(bytes) : tag, bytes, mediaType);
  return { ...pushed, config, layers: [layer] };
}

export interface IndexOptions {
  readonly format?: 'docker' | 'oci';
  readonly platforms?: readonly { architecture: string; os: string }[];
  readonly seed?: string;
}

/** Pushes one image per platform (by digest) and a manifest list / OCI index over them, tagged `tag`. */
export async function pushIndex(reg: StartedRegistry, name: string, tag: string, options: IndexOptions = {}): Promise<PushedIndex> {
  const oci = options.format === 'oci';
  const platforms = options.platforms ?? [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux' },
  ];
  const seed = options.seed ?? randomBytes(8).toString('hex');
  const manifests: (PushedImage & { platform: { architecture: string; os: string } })[] = [];
  for (const p of platforms) {
    const img = await pushImage(reg, name, '', { format: options.format ?? 'docker', seed, ...p });
    manifests.push({ ...img, platform: p });
  }
  const mediaType = oci ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerList;
  const index = {
    schemaVersion: 2,
    mediaType,
    manifests: manifests.map((m) => ({ mediaType: m.mediaType, size: m.size, digest: m.digest, platform: m.platform })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(index, null, 3));
  const pushed = await putManifest(reg, name, tag, bytes, mediaType);
  return { ...pushed, manifests };
}
