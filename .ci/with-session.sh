#!/usr/bin/env bash
# Runs "$@" the way a desktop session would: under `dbus-run-session`, with an unlocked
# gnome-keyring (the real Secret Service) in a throwaway keyring folder, and an Xvfb display.
# Usage: dbus-run-session -- bash .ci/with-session.sh COMMAND...
set -euo pipefail
: "${LOGDIR:=$(mktemp -d)}"
export XDG_DATA_HOME; XDG_DATA_HOME="$(mktemp -d)"   # never a user's real login keyring
displayfile="$(mktemp)"
cleanup() {
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$XDG_DATA_HOME" "$displayfile"
}
trap cleanup EXIT

# --unlock reads the password from stdin and creates an unlocked `login` collection as default.
echo -n "weft-ci" | gnome-keyring-daemon --unlock --components=secrets >/dev/null

Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$displayfile" 2>"$LOGDIR/xvfb.log" &
xvfb_pid=$!
# Up to 30 s: on a loaded 2-core machine Xvfb has taken more than 10 s to open its display.
for _ in $(seq 300); do
  [ -s "$displayfile" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.1
done
[ -s "$displayfile" ] || { echo "Xvfb did not start; see $LOGDIR/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(head -n1 "$displayfile")"
export WEFT_REQUIRE_KEYCHAIN=1
"$@"
