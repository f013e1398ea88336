// Start a throw-away notary-server (Notary 0.7, Debian package `notary`) for tests and
// vector generation.
//
//   import { startNotaryServer } from './scripts/lib/notary-server.mjs';
//   const srv = await startNotaryServer();        // { url, port, logFile, configFile, dir, pid, stop }
//   ...
//   await srv.stop();
//
// * plain HTTP, bound to 127.0.0.1 only, on a free port;
// * memory storage backend, "local" trust service (ed25519 timestamp/snapshot keys held by the server);
// * the server runs under a tiny /bin/sh supervisor whose stdin is a pipe from this process: when this
//   process dies for any reason (including SIGKILL) the pipe closes and the supervisor kills the server.
//   On a normal exit the child is also killed synchronously from an 'exit' handler.
//
// Options (all optional):
//   logLevel      'warn' (default) | 'error' | 'info' | 'debug'
//   timeoutMs     how long to wait for /_notary_server/health to answer 200 (default 15000)
//   port          fixed port instead of a free one
//   auth          passed through as the server's "auth" config section, e.g.
//                 { type: 'token', options: { realm, service, issuer, rootcertbundle } }
//   gunPrefixes   array -> "repositories.gun_prefixes"
//   caching       passed through as the "caching" config section
//   tls           { certFile, keyFile }: serve HTTPS with this certificate (url becomes https://); the
//                 health check then trusts `caFile` if given ({ certFile, keyFile, caFile })
//   extraConfig   object shallow-merged into the generated config last
//   binary        path/name of the notary-server binary (default 'notary-server' from PATH)
//   keepDir       do not delete the temp dir (config + log) on stop()
//   env           environment for the server process (default: process.env), e.g. { ...process.env, TZ: 'UTC' }

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter, isAbsolute } from 'node:path';
import net from 'node:net';
import { get as httpsGet } from 'node:https';

const HOST = '127.0.0.1';

function findOnPath(name) {
  if (name.includes('/')) return existsSync(name) ? name : null;
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Ask the kernel for a currently free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Supervisor: $1 = binary, $2 = config file. fd 3 is a dup of our stdin (a pipe from Node); background
// jobs of a non-interactive shell get stdin from /dev/null, so the watchdog reads fd 3 instead.
const SUPERVISOR = `
exec 3<&0
"$1" -config "$2" -logf logfmt </dev/null &
child=$!
( while read -r _ <&3; do :; done; kill "$child" 2>/dev/null ) &
wd=$!
trap 'kill "$child" 2>/dev/null' TERM INT HUP
while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
kill "$wd" 2>/dev/null
exit \${rc:-0}
`;

const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of live) {
      try {
        entry.child.kill('SIGTERM');
      } catch {
        /* already gone */
      }
      if (!entry.keepDir) {
        try {
          rmSync(entry.dir, { recursive: true, force: true });
        } catch {
          /* ignore */
        }
      }
    }
  });
}

async function httpStatus(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status;
}

// The health check only asks whether the TLS server answers; the tests check certificates themselves.
function httpsStatus(url) {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function waitHealthy(url, child, timeoutMs, logFile) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`notary-server exited early (code ${child.exitCode}, signal ${child.signalCode}); log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const status = url.startsWith('https:') ? await httpsStatus(`${url}/_notary_server/health`) : await httpStatus(`${url}/_notary_server/health`);
      if (status === 200) return;
      lastErr = `HTTP ${status}`;
    } catch (e) {
      lastErr = e?.cause?.code || e?.message || String(e);
    }
    await sleep(100);
  }
  throw new Error(`notary-server did not become healthy at ${url} within ${timeoutMs} ms (${lastErr}); log ${logFile}:\n${tail(logFile)}`);
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Start notary-server. Resolves to { url, port, logFile, configFile, dir, pid, stop }.
 */
export async function startNotaryServer(opts = {}) {
  const binary = findOnPath(opts.binary || 'notary-server');
  if (!binary) {
    throw new Error(
      "notary-server not found on PATH. Install Notary 0.7 first (as root: 'apt-get update && apt-get install -y notary'), " +
        'or run scripts/gen-vectors.sh which installs it.',
    );
  }
  const timeoutMs = opts.timeoutMs ?? 15000;
  const attempts = opts.port ? 1 : 3; // a free port can be stolen between probe and bind: retry
  let lastError;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(binary, port, timeoutMs, opts);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

async function startOnce(binary, port, timeoutMs, opts) {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'notary-server-'));
  const configFile = join(dir, 'server-config.json');
  const logFile = join(dir, 'server.log');
  const config = {
    server: { http_addr: `${HOST}:${port}` },
    trust_service: { type: 'local' },
    storage: { backend: 'memory' },
    logging: { level: opts.logLevel || 'warn' },
  };
  if (opts.tls) Object.assign(config.server, { tls_cert_file: opts.tls.certFile, tls_key_file: opts.tls.keyFile });
  if (opts.auth) config.auth = opts.auth;
  if (opts.gunPrefixes) config.repositories = { gun_prefixes: opts.gunPrefixes };
  if (opts.caching) config.caching = opts.caching;
  if (opts.extraConfig) Object.assign(config, opts.extraConfig);
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');

  const logFd = openSync(logFile, 'a');
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'notary-server-supervisor', isAbsolute(binary) ? binary : join(process.cwd(), binary), configFile], {
    stdio: ['pipe', logFd, logFd],
    cwd: dir,
    env: opts.env || process.env,
    detached: false,
  });
  closeSync(logFd);
  // Never keep the event loop alive because of the server; the pipe stays open until we die or stop().
  child.unref();
  child.stdin.on('error', () => {});
  child.stdin.unref?.();
  const entry = { child, dir, keepDir: !!opts.keepDir };
  live.add(entry);

  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopped = false;
  let keepDir = !!opts.keepDir;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end(); // watchdog kills the server
      child.kill('SIGTERM'); // supervisor trap kills the server
      const t = setTimeout(() => {
        try {
          child.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    }
    live.delete(entry);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };

  const url = `${opts.tls ? 'https' : 'http'}://${HOST}:${port}`;
  try {
    await waitHealthy(url, child, timeoutMs, logFile);
  } catch (e) {
    keepDir = true; // keep the log the error message points at
    entry.keepDir = true;
    await stop();
    throw e;
  }
  return { url, port, logFile, configFile, dir, pid: child.pid, stop };
}
