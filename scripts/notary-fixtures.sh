#!/usr/bin/env bash
# Print (as the last line of stdout) a directory that contains Notary 0.7's own
# fixtures/compatibility tree (notary0.1, notary0.3, ...), taken from the Debian source
# package golang-github-docker-notary-dev. The fixtures are cached under
# <repo>/node_modules/.cache/notary-fixtures and are never committed.
#
# Usage: dir="$(bash scripts/notary-fixtures.sh | tail -n1)"
#        ls "$dir/notary0.3"
# Needs root (or a pre-filled cache) and access to the Debian package mirror.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${NOTARY_FIXTURES_CACHE:-$REPO_ROOT/node_modules/.cache/notary-fixtures}"
DEST="$CACHE/compatibility"
PKG=golang-github-docker-notary-dev
SUBPATH=usr/share/gocode/src/github.com/theupdateframework/notary/fixtures/compatibility

if [ -d "$DEST/notary0.1" ] && [ -d "$DEST/notary0.3" ]; then
  echo "$DEST"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || { echo "notary-fixtures: '$tool' not found (a Debian-based machine is required)" >&2; exit 1; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/notary-fixtures.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# apt-get download runs as the _apt user when it can: make the directory writable for it.
chmod 0777 "$TMP"
download() { (cd "$TMP" && apt-get download -q "$PKG") >&2; }
if ! download; then
  echo "notary-fixtures: download failed, running apt-get update and retrying" >&2
  apt-get update -q >&2
  download
fi

DEB="$(ls "$TMP"/"$PKG"_*.deb 2>/dev/null | head -n1)"
[ -n "$DEB" ] || { echo "notary-fixtures: no .deb downloaded" >&2; exit 1; }
mkdir "$TMP/x"
dpkg-deb -x "$DEB" "$TMP/x"
[ -d "$TMP/x/$SUBPATH" ] || { echo "notary-fixtures: $SUBPATH not in $DEB" >&2; exit 1; }

mkdir -p "$CACHE"
rm -rf "$DEST.tmp" "$DEST"
cp -a "$TMP/x/$SUBPATH" "$DEST.tmp"
mv "$DEST.tmp" "$DEST"
basename "$DEB" > "$CACHE/source-package.txt"
echo "$DEST"
