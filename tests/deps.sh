# SPDX-License-Identifier: MIT
# Sourced by the test scripts: installs missing Debian packages by name.
# Nothing is installed when everything is already there, so a machine set up
# once runs offline. Root uses apt-get directly, others through sudo.

shws_apt() {
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get "$@"
	else
		sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
	fi
}

shws_apt_updated=
shws_apt_update() {
	[ -n "$shws_apt_updated" ] && return 0
	shws_apt update -qq || return 1
	shws_apt_updated=1
}

# shws_need_pkgs PKG... : install those not yet installed.
shws_need_pkgs() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "shws: installing Debian packages:$missing" >&2
	shws_apt_update || return 1
	# shellcheck disable=SC2086
	shws_apt install -y -qq --no-install-recommends $missing >&2
}

# What building and running the host tests needs.
SHWS_BUILD_PKGS="meson ninja-build pkg-config gcc g++ libdrm-dev python3 binutils"
# What the VM runner needs on top.
SHWS_VM_PKGS="qemu-system-x86 busybox-static cpio kmod xz-utils apt"
# What the piglit profile needs on top (piglit-profiles/run; about 2 GB).
SHWS_PIGLIT_PKGS="piglit"
# What the bo fuzzer needs on top (tests/fuzz/): clang, and libFuzzer
# (libclang_rt.fuzzer, shipped by libclang-rt-14-dev on Debian 12).
SHWS_FUZZ_PKGS="clang libclang-rt-14-dev"
# What tests/mesa/build-mesa needs on top to build Mesa 25.0.7 (llvmpipe,
# softpipe, lavapipe, the VA frontend, GBM, EGL). Its meson (>= 1.1) comes
# from bookworm-backports, unpacked into the cache, not from this list.
SHWS_MESA_PKGS="dpkg-dev patch ccache python3-mako python3-yaml bison flex
	libexpat1-dev zlib1g-dev llvm-15-dev glslang-tools libva-dev xz-utils"
# What tests/mesa/run needs on top to run the Mesa suite in the VM.
SHWS_MESA_RUN_PKGS="piglit glmark2-es2-drm"
