#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds tests/consumer/project against shws one of two ways and runs it:
#   subproject  shws as a meson subproject (how Mesa would vendor it)
#   pkgconfig   shws installed into a prefix, found through pkg-config
set -eu
mode=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/tests/consumer/project" "$tmp/consumer"

case $mode in
subproject)
	mkdir "$tmp/consumer/subprojects"
	ln -s "$src" "$tmp/consumer/subprojects/shws"
	meson setup "$tmp/build" "$tmp/consumer" --force-fallback-for=shws \
		-Dshws:tests=false -Dshws:tools=false >"$tmp/setup.log" 2>&1 ||
		{ cat "$tmp/setup.log"; exit 1; }
	grep -q "Subproject shws finished" "$tmp/setup.log" ||
		{ echo "shws was not built as a subproject"; cat "$tmp/setup.log"; exit 1; }
	;;
pkgconfig)
	meson setup "$tmp/shws-build" "$src" --prefix="$tmp/prefix" \
		--libdir=lib -Dtests=false -Dtools=false >"$tmp/setup.log" 2>&1 ||
		{ cat "$tmp/setup.log"; exit 1; }
	meson install -C "$tmp/shws-build" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; exit 1; }
	PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" \
		meson setup "$tmp/build" "$tmp/consumer" --wrap-mode=nofallback \
		>"$tmp/setup2.log" 2>&1 || { cat "$tmp/setup2.log"; exit 1; }
	grep -q "Run-time dependency shws found: YES" "$tmp/setup2.log" ||
		{ echo "shws not found through pkg-config"; cat "$tmp/setup2.log"; exit 1; }
	;;
*)
	echo "usage: $0 subproject|pkgconfig SRC" >&2
	exit 2
	;;
esac
ninja -C "$tmp/build" >/dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$tmp/build/consumer"
echo "consumer built and ran ($mode)"
