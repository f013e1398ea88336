// npm run bench: every benchmark, results in bench/results/*.json (summarised in docs/performance.md).
await import('./core.mjs');
await import('./reader.mjs');
await import('./writer.mjs');
await import('./gate.mjs');
