#!/usr/bin/env bash
# The batch-run benchmarks of issue 14, against the throttling chat fake on 127.0.0.1
# (crates/weft-testkit/src/limited.rs, through the `fake-endpoint` binary) with a fixed latency:
#
#   1. 1,000 rows × one chat node at 200 ms, --concurrency 32     goal ≥ 0.95 of ideal (6.25 s)
#   2. 10,000 rows at 200 ms, --concurrency 128                   goal ≥ 0.90 of ideal
#   3. 100,000 rows at 200 ms, --concurrency 128                  peak RSS ≤ 60 MB
#   4. a fake that admits 16 requests in flight (429 beyond), --concurrency auto:
#      throughput ≥ 0.90 of 16 ÷ latency, 429s ≤ 5 % of all requests
#   and in each: peak RSS of the `weft` process (≤ 50 MB at concurrency 128) and the time from
#   its start to the fake's first request (≤ 100 ms).
#   5. when Prompt flow's `pf` is installed (on PATH, or PF=/path/to/pf): case 1 with
#      `pf run create`, PF_WORKER_COUNT=32, and the ratio of the two.
#
# Ideal = rows × latency ÷ concurrency. The flow is examples/chat.weft.yaml on an `azure_ai`
# connection whose endpoint is the fake (the OpenAI v1 route). Each case runs RUNS times (default
# 3); the script prints every run and the median. A script you run by hand, not a timed test.
# It needs the keychain session:
#   dbus-run-session -- bash .ci/with-session.sh scripts/bench-batch.sh
# Environment: RUNS=N, CASES="1 2 3 4 5" (a subset), PF=path to pf.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
CASES=${CASES:-"1 2 3 4 5"}
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_init batch

rows_file() { # rows → path of a JSONL file with that many questions
  local file="$work/rows-$1.jsonl"
  [[ -f $file ]] || seq 1 "$1" | awk '{printf "{\"question\":\"Question number %d?\"}\n", $1}' >"$file"
  echo "$file"
}

start_fake --latency-ms 0
connect_fake

# One weft batch: rows, latency ms, --concurrency value, ideal concurrency, extra fake flags.
# Prints: seconds ratio-of-ideal peak-RSS-MB first-request-ms requests throttled
weft_case() {
  local rows=$1 latency=$2 concurrency=$3 ideal_conc=$4; shift 4
  start_fake --latency-ms "$latency" "$@"
  "$WEFT" connection update azure-ai --set "endpoint=$base" >/dev/null
  local data; data=$(rows_file "$rows")
  local started; started=$(now_ms)
  local code=0
  /usr/bin/time -f "%M" -o "$work/rss" "$WEFT" batch run examples/chat.weft.yaml --data "$data" \
    --concurrency "$concurrency" --json >"$work/summary.json" 2>"$work/stderr" || code=$?
  local ended; ended=$(now_ms)
  if [[ $code -ne 0 ]]; then
    echo "weft batch run exited with $code:" >&2; tail -5 "$work/stderr" >&2; return 1
  fi
  local stats; stats=$(curl -s "$base/stats")
  local first; first=$(jq -r '.first_request_unix_ms' <<<"$stats")
  local succeeded; succeeded=$(jq -r '.succeeded' "$work/summary.json")
  [[ $succeeded == "$rows" ]] || { echo "only $succeeded of $rows rows succeeded" >&2; return 1; }
  awk -v rows="$rows" -v lat="$latency" -v conc="$ideal_conc" -v t0="$started" -v t1="$ended" \
    -v rss="$(tail -1 "$work/rss")" -v first="$first" \
    -v req="$(jq -r .requests <<<"$stats")" -v thr="$(jq -r .throttled <<<"$stats")" \
    'BEGIN { s = (t1 - t0) / 1000; ideal = rows * lat / 1000 / conc;
             printf "%.2f %.3f %.1f %d %d %d\n", s, ideal / s, rss / 1024, first - t0, req, thr }'
}

report_weft() { # label, file with the runs' lines
  local label=$1 lines; lines=$(cat "$2")
  echo "$lines" | awk -v l="$label" '{printf "  %s run %d: %.2f s, %.3f of ideal, peak RSS %.1f MB, first request after %d ms, %d requests, %d answered 429\n", l, NR, $1, $2, $3, $4, $5, $6}'
  printf '  %s median: %s s, %s of ideal, peak RSS %s MB, first request after %s ms' "$label" \
    "$(awk '{print $1}' <<<"$lines" | median)" "$(awk '{print $2}' <<<"$lines" | median)" \
    "$(awk '{print $3}' <<<"$lines" | median)" "$(awk '{print $4}' <<<"$lines" | median)"
  printf ', 429s %s %%\n' "$(awk '{print ($5 ? 100 * $6 / $5 : 0)}' <<<"$lines" | median)"
}

# Runs a case RUNS times in this shell (not a pipeline's subshell: the fake is its coprocess),
# its lines into $work/case<label>, then reports them.
runs() {
  local label=$1; shift
  for _ in $(seq "$RUNS"); do "$@"; done >"$work/case$label"
  report_weft "$label" "$work/case$label"
}

echo "weft batch benchmarks ($(nproc) cores, $RUNS runs each, $(date -u +%FT%TZ), $(git rev-parse --short HEAD))"
for case in $CASES; do
  case $case in
    1) echo "1. 1,000 rows, 200 ms, --concurrency 32 (ideal 6.25 s; goal ≥ 0.95)"
       runs 1 weft_case 1000 200 32 32 ;;
    2) echo "2. 10,000 rows, 200 ms, --concurrency 128 (ideal 15.6 s; goal ≥ 0.90, RSS ≤ 50 MB)"
       runs 2 weft_case 10000 200 128 128 ;;
    3) echo "3. 100,000 rows, 200 ms, --concurrency 128 (ideal 156 s; RSS ≤ 60 MB)"
       RUNS=1 runs 3 weft_case 100000 200 128 128 ;;
    4) echo "4. 1,000 rows, 200 ms, fake admits 16 in flight, --concurrency auto (ideal 12.5 s; goal ≥ 0.90, 429s ≤ 5 %)"
       runs 4 weft_case 1000 200 auto 16 --max-in-flight 16 ;;
    5) pf=${PF:-$(command -v pf || true)}
       if [[ -z $pf ]]; then echo "5. Prompt flow: no pf installed (set PF=/path/to/pf); skipped"; continue; fi
       echo "5. Prompt flow $("$pf" --version 2>/dev/null | grep -m1 -o '"promptflow": *"[^"]*"' | cut -d'"' -f4): 1,000 rows, 200 ms, PF_WORKER_COUNT=32"
       bash scripts/bench-batch-pf.sh "$pf" "$FAKE_BIN" "$(rows_file 1000)" "$RUNS" "$work" >"$work/case5"
       awk '{printf "  5 run %d: %.2f s, %.3f of ideal, peak RSS (process tree) %.0f MB\n", NR, $1, 6.25 / $1, $2}' "$work/case5"
       pf_s=$(awk '{print $1}' "$work/case5" | median)
       echo "  5 median: $pf_s s, $(awk -v s="$pf_s" 'BEGIN{printf "%.3f", 6.25 / s}') of ideal, peak RSS $(awk '{print $2}' "$work/case5" | median) MB"
       if [[ -f $work/case1 ]]; then
         weft_s=$(awk '{print $1}' "$work/case1" | median)
         echo "  weft ÷ pf wall time (case 1 vs 5, same script run): $(awk -v a="$weft_s" -v b="$pf_s" 'BEGIN{printf "%.3f (pf takes %.1f× as long)", a / b, b / a}')"
       fi ;;
  esac
done
