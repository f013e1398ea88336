#!/usr/bin/env bash
# Regenerate test-vectors/ with the real Notary 0.7 CLI and server (see test-vectors/README.md).
#   bash scripts/gen-vectors.sh [--sets basic,delegations,server-snapshot,root-rotation] [--keep-tmp]
# Installs what it needs (notary, openssl, tzdata) with apt-get when missing (needs root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
command -v notary >/dev/null 2>&1 && command -v notary-server >/dev/null 2>&1 || missing+=(notary)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -e /usr/share/zoneinfo/America/New_York ] || missing+=(tzdata)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "gen-vectors: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "gen-vectors: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

node -e 'const [a]=process.versions.node.split(".").map(Number); if (a < 20) { console.error("gen-vectors: Node >= 20 required"); process.exit(1); }'
exec node scripts/gen-vectors.mjs "$@"
