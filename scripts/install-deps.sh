#!/usr/bin/env bash
# Installs what building, running and testing Weft needs on Debian 12 (bookworm), and only what
# is missing. Safe to re-run. Usage: scripts/install-deps.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

need_version() { # name have want
  if [ "$(printf '%s\n%s\n' "$3" "$2" | sort -V | head -n1)" != "$3" ]; then
    echo "error: $1 $2 is too old; Weft needs $1 >= $3. $4" >&2
    exit 2
  fi
}
command -v cargo >/dev/null || { echo "error: no Rust toolchain; install one with rustup (https://rustup.rs), Rust >= 1.90" >&2; exit 2; }
need_version rustc "$(rustc --version | cut -d' ' -f2)" 1.90.0 "Run: rustup update stable"
command -v node >/dev/null || { echo "error: no Node.js; install Node.js >= 20.19 (e.g. from NodeSource or nvm)" >&2; exit 2; }
need_version node "$(node --version | tr -d v)" 20.19.0 "Install Node.js 20.19 or newer (Debian 12's own nodejs is 18)."

# Build: WebKitGTK and GTK (tao/wry). Run: the same. Tests: a virtual display, the WebDriver for
# WebKitGTK, a D-Bus session with gnome-keyring (the real Secret Service), Chromium, and xmllint
# (libxml2-utils: weft-eval's test validates its JUnit XML against the Jenkins JUnit schema).
# Run and test: python3, the default interpreter of Python nodes (weft-engine's tests run it).
packages=(build-essential pkg-config file libwebkit2gtk-4.1-dev gnome-keyring dbus-daemon dbus-bin python3)
if [ "$purpose" = test ]; then
  packages+=(xvfb xauth webkit2gtk-driver fonts-dejavu-core chromium imagemagick)
  packages+=(libxml2-utils)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "::: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$purpose" = test ] && ! command -v tauri-driver >/dev/null; then
  echo "::: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

echo "::: npm ci (ui)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error)
if [ "$purpose" = test ]; then
  echo "::: npm ci (tests/e2e)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
