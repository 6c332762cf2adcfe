# Shared by the scripts: installs what is missing, builds.
# Sourced, not run. Debian 12 (bookworm) as root is the reference machine.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

BUILD_PACKAGES="gcc make autoconf automake pkg-config libjansson-dev libwebsockets-dev
libcurl4-openssl-dev libsqlite3-dev libreadline-dev liblua5.4-dev libcmocka-dev
libuv1-dev libwebsockets-evlib-uv"

# install_packages PKG... : apt-get installs those not installed yet.
install_packages() {
	missing=""
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages:$missing (run as root, or: sudo apt-get install$missing)"
	fi
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# install_command CMD PKG : installs PKG unless CMD is already on PATH (node
# may come from elsewhere than Debian).
install_command() {
	command -v "$1" >/dev/null 2>&1 || install_packages "$2"
}

# bootstrap: generates configure when needed.
bootstrap() {
	if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
	   [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
		say "autoreconf"
		(cd "$top" && autoreconf -fi)
	fi
}

# build DIR CONFIGURE_ARGS... : configures (once per set of arguments) and
# builds in DIR.
build() {
	dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.configure-args" 2>/dev/null)" != "$*" ] ||
	   [ "$top/configure" -nt "$dir/Makefile" ]; then
		say "configure $* (in ${dir#"$top"/})"
		(cd "$dir" && "$top/configure" -q "$@")
		printf '%s' "$*" >"$dir/.configure-args"
	fi
	say "build (in ${dir#"$top"/})"
	make -C "$dir" -s -j"$(nproc)"
}
