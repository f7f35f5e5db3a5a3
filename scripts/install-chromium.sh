#!/usr/bin/env bash
# Installs Debian's Chromium (package chromium) for the browser tests of internal/web, once:
# nothing happens when /usr/bin/chromium exists. Quiet and non-interactive; uses sudo only when
# not root. Prints the browser's path.
set -euo pipefail
bin="/usr/bin/chromium"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-chromium: not root and no sudo; install the chromium package" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-chromium: apt-get failed" >&2
  exit 1
fi
[[ -x "$bin" ]] || { echo "install-chromium: $bin missing after install" >&2; exit 1; }
echo "$bin"
