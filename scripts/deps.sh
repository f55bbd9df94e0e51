#!/usr/bin/env bash
# Installs what healthbot needs on Debian 12, from Debian's packages only.
#   scripts/deps.sh          build and run
#   scripts/deps.sh --test   also everything the test suite uses
set -euo pipefail
# libwebsockets-evlib-ev: the event loop lws loads at run time (bot/loop.c)
# libolm-dev: end-to-end encryption in the Matrix channel (bot/matrix/crypto*.c)
build=(meson ninja-build pkg-config gcc libwebsockets-dev libwebsockets-evlib-ev
	libev-dev libcjson-dev libpcre2-dev libolm-dev)
test=(clang libcmocka-dev valgrind python3 python3-venv chromium
	libclang-rt-14-dev debhelper dpkg-dev tmux build-essential systemd procps)
want=("${build[@]}")
if [ "${1:-}" = "--test" ]; then
	want+=("${test[@]}")
	# Node.js and npm from Debian, unless a Node.js with npm is already
	# there (a NodeSource build ships its own npm and conflicts with
	# Debian's package)
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		want+=(nodejs npm)
	fi
fi
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
