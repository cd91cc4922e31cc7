#!/usr/bin/env bash
# Regenerates patches/tamago.patch and overlay/ from a working Go tree
# (a git repository whose tag "base" is the pristine official source):
# edited and renamed upstream files go to the patch, new files to overlay/.
# Usage: toolchain/export.sh /path/to/goroot
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tree=${1:?usage: export.sh GOROOT-working-tree}
cd "$tree"
git rev-parse -q --verify base >/dev/null || { echo "export: $tree has no tag 'base'" >&2; exit 1; }
git add -A src
git reset -q -- src/cmd/dist/dist 2>/dev/null || true
git diff --cached -M --diff-filter=MR base -- src > "$here/patches/tamago.patch"
rm -rf "$here/overlay/src"
mkdir -p "$here/overlay/src"
git diff --cached --name-only --diff-filter=A base -- src | while read -r f; do
	case "$f" in src/cmd/dist/dist) continue ;; esac
	mkdir -p "$here/overlay/$(dirname "$f")"
	cp "$f" "$here/overlay/$f"
done
echo "export: $(grep -c '^diff --git' "$here/patches/tamago.patch") patched files, $(find "$here/overlay" -type f | wc -l) new files"
