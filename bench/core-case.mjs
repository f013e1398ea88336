// One core benchmark case in its own process: node bench/core-case.mjs <case> <backend> <dir> <runs>
//   targets  — admit a large targets.json (hash check against the snapshot, parse, signature, structure)
//   snapshot — admit a snapshot with many entries (hash check against the timestamp, parse, signature)
//   collection — the whole load: root, timestamp, snapshot, targets, delegations
// Prints one JSON line: { case, backend, samplesMs, maxRssMiB }.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lib } from './lib.mjs';

const [, , caseName, backendName, dir, runsArg] = process.argv;
const runs = Number(runsArg ?? 7);
const L = await lib();
const crypto = L.backends[backendName];
const manifest = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8'));
const files = new Map();
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.json') && e !== 'bench.json') files.set(relative(dir, p).slice(0, -5), new Uint8Array(readFileSync(p)));
  }
};
walk(dir);
const clock = () => new Date(manifest.now);
const opts = { gun: manifest.gun, crypto, clock };

function prepared() {
  const set = L.TrustedMetadataSet.bootstrap(files.get('root'), opts);
  set.updateTimestamp(files.get('timestamp'));
  return set;
}

async function once() {
  switch (caseName) {
    case 'targets': {
      const set = prepared();
      set.updateSnapshot(files.get('snapshot'));
      const t0 = performance.now();
      set.updateTargets(files.get('targets'));
      return performance.now() - t0;
    }
    case 'snapshot': {
      const set = prepared();
      const t0 = performance.now();
      set.updateSnapshot(files.get('snapshot'));
      return performance.now() - t0;
    }
    case 'collection': {
      const t0 = performance.now();
      const loaded = await L.loadCollection((n) => files.get(n), opts);
      L.listTargets(loaded.set);
      return performance.now() - t0;
    }
    default:
      throw new Error(`unknown case ${caseName}`);
  }
}

await once(); // warm-up: JIT and key caches
const samplesMs = [];
for (let i = 0; i < runs; i++) {
  globalThis.gc?.();
  samplesMs.push(await once());
}
console.log(JSON.stringify({ case: caseName, backend: backendName, samplesMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
