#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds tests/consumer/project against shws one of two ways and runs it:
#   subproject  shws as a meson subproject (how Mesa would vendor it), with
#               -Dshws:tests=true -Dshws:tools=true and no C++ compiler
#               (CXX=false): shws must configure only its library, no test,
#               benchmark or tool target, and no meson test.
#   pkgconfig   shws configured on its own with -Dtests=false -Dtools=false
#               and no C++ compiler, installed into a prefix (with its
#               generated <shws/version.h>), found through pkg-config
set -eu
mode=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/tests/consumer/project" "$tmp/consumer"

fail() {
	echo "$*"
	exit 1
}

# Fails unless every target shws configured in build folder $1 is one of
# the names that follow (introspection lists targets not built by default
# too); prints them.
only_targets() {
	dir=$1
	shift
	meson introspect --targets "$dir" >"$tmp/targets.json"
	python3 - "$tmp/targets.json" "$@" <<'PY'
import json, sys
targets = json.load(open(sys.argv[1]))
allowed = set(sys.argv[2:])
ours = sorted(t['name'] for t in targets if t.get('subproject') in ('shws', None)
              and t['name'] != 'consumer')
extra = [n for n in ours if n not in allowed]
print('shws targets:', ' '.join(ours) or '(none)')
if extra:
    print('targets that must not be configured:', ' '.join(extra))
    sys.exit(1)
if not ours:
    print('no shws target at all: is introspection working?')
    sys.exit(1)
PY
}

# The control: CXX=false really leaves meson without a C++ compiler, so the
# runs below prove that they need none. shws with its tests needs one.
if CXX=false meson setup "$tmp/control" "$src" -Dtests=true \
	>"$tmp/control.log" 2>&1; then
	cat "$tmp/control.log"
	fail "shws with -Dtests=true configured under CXX=false: the C++ check proves nothing"
fi
cpp_line=$(grep -n "^add_languages('cpp'" "$src/tests/meson.build" | cut -d: -f1)
grep -q "tests/meson.build:${cpp_line:-?}:[0-9]*: ERROR" "$tmp/control.log" ||
	{ cat "$tmp/control.log"; fail "the control failed, but not at add_languages('cpp')"; }

case $mode in
subproject)
	mkdir "$tmp/consumer/subprojects"
	ln -s "$src" "$tmp/consumer/subprojects/shws"
	CXX=false meson setup "$tmp/build" "$tmp/consumer" \
		--force-fallback-for=shws -Dshws:tests=true -Dshws:tools=true \
		>"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
	grep -q "Subproject shws finished" "$tmp/setup.log" ||
		{ cat "$tmp/setup.log"; fail "shws was not built as a subproject"; }
	only_targets "$tmp/build" shws
	meson introspect --tests "$tmp/build" >"$tmp/tests.json"
	python3 - "$tmp/tests.json" <<'PY'
import json, sys
names = sorted(t['name'] for t in json.load(open(sys.argv[1])))
print('meson tests:', ' '.join(names))
sys.exit(0 if names == ['consumer'] else 1)
PY
	;;
pkgconfig)
	CXX=false meson setup "$tmp/shws-build" "$src" --prefix="$tmp/prefix" \
		--libdir=lib -Dtests=false -Dtools=false >"$tmp/setup.log" 2>&1 ||
		{ cat "$tmp/setup.log"; exit 1; }
	only_targets "$tmp/shws-build" shws
	meson install -C "$tmp/shws-build" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; exit 1; }
	grep -q "^#define SHWS_VERSION_MAJOR [0-9]" \
		"$tmp/prefix/include/shws/version.h" ||
		fail "no generated shws/version.h installed"
	[ ! -e "$tmp/prefix/include/shws/version.h.in" ] &&
		[ ! -e "$tmp/prefix/include/shws/meson.build" ] ||
		fail "version.h.in or meson.build installed with the headers"
	PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" \
		meson setup "$tmp/build" "$tmp/consumer" --wrap-mode=nofallback \
		>"$tmp/setup2.log" 2>&1 || { cat "$tmp/setup2.log"; exit 1; }
	grep -q "Run-time dependency shws found: YES" "$tmp/setup2.log" ||
		{ cat "$tmp/setup2.log"; fail "shws not found through pkg-config"; }
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
