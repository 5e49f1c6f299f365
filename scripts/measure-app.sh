#!/usr/bin/env bash
# Measures the desktop app: binary size, idle memory of its process tree (the app plus WebKit's
# web and network processes), and the time from launch to the first rendered canvas.
# Run under a display: dbus-run-session -- bash .ci/with-session.sh scripts/measure-app.sh [BINARY]
set -euo pipefail
bin="${1:-target/release/weft-desktop}"
[ -x "$bin" ] || { echo "build it first: cargo build --release -p weft-desktop --features custom-protocol" >&2; exit 2; }
export WEFT_HOME; WEFT_HOME="$(mktemp -d)"
export WEFT_KEYRING_SERVICE="weft-measure-$$"
trap 'kill "$app" 2>/dev/null || true; rm -rf "$WEFT_HOME"' EXIT

echo "binary: $bin, $(stat -c %s "$bin" | numfmt --to=iec-i --suffix=B) ($(stat -c %s "$bin") bytes)"

tree_rss_kib() { # sum of RSS over a process and all its descendants
  local pids=("$1") all=() pid
  while [ "${#pids[@]}" -gt 0 ]; do
    pid="${pids[0]}"; pids=("${pids[@]:1}"); all+=("$pid")
    mapfile -t -O "${#pids[@]}" pids < <(pgrep -P "$pid" || true)
  done
  ps -o rss= -p "$(IFS=,; echo "${all[*]}")" | awk '{s+=$1} END {print s}'
  # PSS splits shared pages (WebKit's libraries) between the processes that map them.
  for pid in "${all[@]}"; do awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup"; done | awk '{s+=$1} END {print s}' >"$WEFT_HOME/pss"
}

for run in 1 2 3; do
  start=$(date +%s%N)
  WEFT_LOG=info "$bin" >"$WEFT_HOME/app-$run.log" 2>&1 &
  app=$!
  # The window title appears when the webview has loaded the UI; the UI marks the canvas ready.
  until xdotool search --name '^Weft$' >/dev/null 2>&1; do sleep 0.01; done
  shown=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 5
  rss=$(tree_rss_kib "$app")
  echo "run $run: window shown after ${shown} ms; idle process tree RSS $((rss / 1024)) MiB, PSS $(( $(cat "$WEFT_HOME/pss") / 1024 )) MiB"
  kill "$app"; wait "$app" 2>/dev/null || true
done
