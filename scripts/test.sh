#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the suites need on a fresh machine, builds,
# runs every vitest suite, and ends with the plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

need=()
command -v notary >/dev/null 2>&1 || need+=(notary)
command -v notary-server >/dev/null 2>&1 || need+=(notary)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v docker >/dev/null 2>&1 || need+=(docker.io)
# pkcs11js (optional dependency, PKCS#11 tokens) builds with node-gyp at npm ci; the token tests compile a shim module.
command -v make >/dev/null 2>&1 || need+=(make)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v zsh >/dev/null 2>&1 || need+=(zsh)    # the completion scripts' syntax (test/cli-help.test.ts)
command -v fish >/dev/null 2>&1 || need+=(fish)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2 || {
    echo "could not install ${need[*]}" >&2
    echo "0 passed, 1 failed"
    exit 1
  }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2 || { echo "npm ci failed" >&2; echo "0 passed, 1 failed"; exit 1; }
fi

# Notary's own fixtures/compatibility, from the Debian source package (cached in node_modules/.cache).
bash scripts/notary-fixtures.sh >/dev/null || { echo "could not fetch Notary fixtures" >&2; echo "0 passed, 1 failed"; exit 1; }

# Type errors fail the run: the build is also what the CLI and demo run.
npm run -s build >&2 || { echo "build (tsc) failed" >&2; echo "0 passed, 1 failed"; exit 1; }
npx tsc -p tsconfig.test.json >&2 || { echo "type errors in the tests" >&2; echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp)
# The run gets a fresh TMPDIR (each test file a directory of its own in it, test/support/temp-per-file.ts);
# whatever is left in it afterwards is a leak, reported and counted as one failure.
run_tmp=$(mktemp -d)
TMPDIR="$run_tmp" npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@"
status=$?
leaks=$(find "$run_tmp" -mindepth 1 -maxdepth 1 | wc -l)
if [ "$leaks" -gt 0 ]; then
  echo "the tests left $leaks entries in their temporary directory:" >&2
  ls -la "$run_tmp" | head -20 >&2
fi
rm -rf "$run_tmp"
EXTRA_FAILED=$([ "$leaks" -gt 0 ] && echo 1 || echo 0) node scripts/summarize-tests.mjs "$results" || status=1
rm -f "$results"
exit $status
