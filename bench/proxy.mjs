// A loopback HTTP proxy in front of notary-server that counts requests and connections and can add
// latency per request and per new connection (a slow link), so both clients are measured alike.
import http from 'node:http';
import net from 'node:net';

export async function startProxy(targetUrl, { requestDelayMs = 0, connectionDelayMs = 0 } = {}) {
  const target = new URL(targetUrl);
  const stats = { requests: 0, connections: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    stats.requests++;
    setTimeout(() => {
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    }, requestDelayMs);
  });
  // Delay each new client connection before the server starts reading it (a connection setup cost).
  server.on('connection', (socket) => {
    stats.connections++;
    if (connectionDelayMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), connectionDelayMs);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    reset() {
      stats.requests = 0;
      stats.connections = 0;
    },
    async stop() {
      agent.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
void net;
