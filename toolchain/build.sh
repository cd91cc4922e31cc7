#!/usr/bin/env bash
# Builds the GOOS=tamago Go toolchain from the official Go source of the
# version in GO_VERSION plus this directory's patch (patches/*.patch: edits
# to upstream files) and overlay (overlay/src: new files), and prints the
# toolchain's GOROOT on the last line of standard output.
#
# The result is cached under a key of (Go version, patch, overlay, this
# script): a second run with nothing changed returns at once; any change
# rebuilds. Cache root: $PAGESNAP_CACHE, else $XDG_CACHE_HOME/pagesnap, else
# ~/.cache/pagesnap.
#
# With TAMAGO=/path/to/go (an existing tamago-go, or this toolchain built
# elsewhere) nothing is built: the script checks it and prints its GOROOT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf 'toolchain: %s\n' "$*" >&2; }
die() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

check() { # $1 = go binary
	local v
	v=$("$1" version 2>/dev/null) || die "$1 does not run"
	# (no grep -q: under pipefail its early exit would fail the pipeline)
	"$1" tool dist list 2>/dev/null | grep -x 'tamago/amd64' >/dev/null ||
		die "$1 ($v) does not know GOOS=tamago GOARCH=amd64: it is not a tamago toolchain"
}

if [ -n "${TAMAGO:-}" ]; then
	[ -x "$TAMAGO" ] || die "TAMAGO=$TAMAGO is not an executable go binary"
	check "$TAMAGO"
	log "using existing toolchain $TAMAGO ($("$TAMAGO" version))"
	"$TAMAGO" env GOROOT
	exit 0
fi

version=$(tr -d ' \n' < "$here/GO_VERSION")
host_go=${HOST_GO:-go}
command -v "$host_go" >/dev/null || die "a host Go toolchain (go1.24 or later) is needed to bootstrap; install Go or set HOST_GO"

key=$( {
	echo "$version"
	cat "$here/build.sh"
	cat "$here"/patches/*.patch
	(cd "$here/overlay" && find . -type f | LC_ALL=C sort | xargs sha256sum)
} | sha256sum | cut -c1-16)

cache=${PAGESNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pagesnap}/toolchain
dest=$cache/$version-tamago-$key
# One build per key at a time: a second run (another checkout, a parallel
# make) waits here for the first and then finds its result cached.
mkdir -p "$cache"
exec 9>"$dest.lock"
if ! flock -n 9; then
	log "another build of key $key is running: waiting for it"
	flock 9
fi
if [ -f "$dest/.complete" ] && [ -x "$dest/go/bin/go" ]; then
	log "cached: $dest (key $key)"
	echo "$dest/go"
	exit 0
fi

hostos=$("$host_go" env GOHOSTOS)
hostarch=$("$host_go" env GOHOSTARCH)
log "fetching the official $version source through the go command"
GOTOOLCHAIN=$version "$host_go" version >&2 || die "could not download $version (golang.org/toolchain) through the module proxy"
modcache=$("$host_go" env GOMODCACHE)
src=$modcache/golang.org/toolchain@v0.0.1-$version.$hostos-$hostarch
[ -f "$src/VERSION" ] || die "the $version source is not in the module cache at $src"

start=$(date +%s)
rm -rf "$dest"
mkdir -p "$dest"
trap 'rm -rf "$dest"' ERR INT TERM
cp -r "$src" "$dest/go"
chmod -R u+w "$dest/go"
log "applying patches/ and overlay/"
(
	cd "$dest/go"
	# A throw-away repository, so that git apply works on these files
	# and never on an enclosing checkout.
	git init -q . && git apply --whitespace=nowarn "$here"/patches/*.patch
	rm -rf .git
)
cp -r "$here/overlay/src/." "$dest/go/src/"

log "building (make.bash; about 2-5 minutes and 250 MB) into $dest"
bootstrap=$("$host_go" env GOROOT)
(cd "$dest/go/src" && GOROOT_BOOTSTRAP=$bootstrap GOTOOLCHAIN=local GOFLAGS= bash make.bash --no-banner) > "$dest/make.log" 2>&1 ||
	{ tail -40 "$dest/make.log" >&2; die "make.bash failed (log above)"; }
check "$dest/go/bin/go"
touch "$dest/.complete"
trap - ERR INT TERM
log "built in $(( $(date +%s) - start )) s: $dest/go"
echo "$dest/go"
