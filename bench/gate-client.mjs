// Load client for bench/gate.mjs, in its own process: fires N AdmissionReviews at the webhook with C in
// flight over keep-alive HTTPS and prints {reviews, seconds, reviewsPerSecond, p50Ms, p99Ms} as JSON.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

const [url, caFile, image, countText, concurrencyText] = process.argv.slice(2);
const total = Number(countText);
const concurrency = Number(concurrencyText);
const agent = new Agent({ ca: readFileSync(caFile), keepAlive: true, maxSockets: concurrency });
const body = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'bench', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'bench', object: { spec: { containers: [{ name: 'app', image }] } } },
});

function post() {
  return new Promise((ok, fail) => {
    const req = request(`${url}/mutate`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 && JSON.parse(text).response.allowed ? ok() : fail(new Error(`${res.statusCode} ${text.slice(0, 200)}`))));
    });
    req.on('error', fail);
    req.end(body);
  });
}

// Warm-up: connections open and trust data cached.
await Promise.all(Array.from({ length: concurrency }, post));
const latencies = [];
let next = 0;
const start = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      const t = process.hrtime.bigint();
      await post();
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
latencies.sort((a, b) => a - b);
const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
agent.destroy();
process.stdout.write(JSON.stringify({ reviews: latencies.length, concurrency, seconds, reviewsPerSecond: latencies.length / seconds, p50Ms: at(50), p99Ms: at(99) }) + '\n');
