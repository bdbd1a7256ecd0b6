# SPDX-License-Identifier: MIT
# Sourced by tests/run-all and tests/main-job: installs what the build and
# the VM need, then configures and builds shws into $1 (created if missing).
# shellcheck source=deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/deps.sh"

shws_build() {
	local dir=$1
	shift
	shws_need_pkgs $SHWS_BUILD_PKGS $SHWS_VM_PKGS || return 1
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
	else
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
	fi || { cat "$dir.setup.log"; return 1; }
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -n 60 "$dir.ninja.log"; return 1; }
}
