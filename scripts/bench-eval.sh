#!/usr/bin/env bash
# The eval benchmark of issue 15: an eval of 1,000 rows of examples/chat.weft.yaml (one chat node,
# one icontains assertion), first live against the chat fake on 127.0.0.1
# (crates/weft-testkit/src/limited.rs through the `fake-endpoint` binary) at a fixed 200 ms per
# call, recording a cassette, then replayed from that cassette with the fake stopped (--strict:
# a call the cassette lacks fails its row). Both at --concurrency 32 (live ideal: 6.25 s).
# Per run: wall time and the peak RSS of the `weft` process; then the medians and replay ÷ live.
# A script you run by hand, not a timed test. It needs the keychain session:
#   dbus-run-session -- bash .ci/with-session.sh scripts/bench-eval.sh
# Environment: RUNS=N (default 3), ROWS=N (default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000}
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_init eval

seq 1 "$ROWS" | awk '{printf "{\"question\":\"Question number %d?\"}\n", $1}' >"$work/rows.jsonl"
cat >"$work/bench.eval.yaml" <<YAML
name: Bench
flow: $PWD/examples/chat.weft.yaml
data: rows.jsonl
column_mapping: { question: "\${data.question}" }
assert:
  - { output: answer, type: icontains, value: "hello from" }
YAML

start_fake --latency-ms 0
connect_fake

# One eval run: label, cassette flags… Prints: seconds peak-RSS-MB rows-passed replayed recorded
eval_case() {
  local code=0 started ended; started=$(now_ms)
  /usr/bin/time -f "%M" -o "$work/rss" "$WEFT" eval run "$work/bench.eval.yaml" --concurrency 32 --json "$@" \
    >"$work/report.json" 2>"$work/stderr" || code=$?
  ended=$(now_ms)
  if [[ $code -ne 0 ]]; then echo "weft eval run exited with $code:" >&2; tail -5 "$work/stderr" >&2; return 1; fi
  local passed; passed=$(jq -r '.variants[0].passed' "$work/report.json")
  [[ $passed == "$ROWS" ]] || { echo "only $passed of $ROWS rows passed" >&2; return 1; }
  awk -v t0="$started" -v t1="$ended" -v rss="$(tail -1 "$work/rss")" -v p="$passed" \
    -v rep="$(jq -r '.cassette.replayed' "$work/report.json")" -v rec="$(jq -r '.cassette.recorded' "$work/report.json")" \
    'BEGIN { printf "%.2f %.1f %d %d %d\n", (t1 - t0) / 1000, rss / 1024, p, rep, rec }'
}

report() { # label, file of lines
  awk -v l="$1" '{printf "  %s run %d: %.2f s, peak RSS %.1f MB, %d rows passed, %d calls replayed, %d recorded\n", l, NR, $1, $2, $3, $4, $5}' "$2"
  echo "  $1 median: $(awk '{print $1}' "$2" | median) s, peak RSS $(awk '{print $2}' "$2" | median) MB"
}

echo "weft eval benchmark ($(nproc) cores, $RUNS runs each, $ROWS rows, $(date -u +%FT%TZ), $(git rev-parse --short HEAD))"
: >"$work/live"; : >"$work/replay"
for i in $(seq "$RUNS"); do
  start_fake --latency-ms 200
  "$WEFT" connection update azure-ai --set "endpoint=$base" >/dev/null
  eval_case --record "$work/cassette.jsonl" >>"$work/live"
  stop_fake # offline: the replay reaches no service
  eval_case --replay "$work/cassette.jsonl" --strict >>"$work/replay"
done
echo "live, 200 ms a call, recording (ideal 6.25 s for 1,000 rows):"; report live "$work/live"
echo "replayed from the cassette ($(wc -l <"$work/cassette.jsonl") lines, $(du -k "$work/cassette.jsonl" | cut -f1) KiB), --strict, no service running:"
report replay "$work/replay"
live_s=$(awk '{print $1}' "$work/live" | median); replay_s=$(awk '{print $1}' "$work/replay" | median)
echo "  replay ÷ live wall time (same script run): $(awk -v a="$replay_s" -v b="$live_s" 'BEGIN{printf "%.3f (%.1f× faster)", a / b, b / a}')"
