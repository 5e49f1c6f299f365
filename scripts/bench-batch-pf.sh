#!/usr/bin/env bash
# Case 5 of scripts/bench-batch.sh: the same 1,000-row flow (one chat node, the question as the
# user message) with Prompt flow's `pf run create`, PF_WORKER_COUNT=32, against the same chat
# fake at 200 ms. Prints one line per run: wall seconds, peak RSS of pf's whole process tree (MB,
# sampled every 100 ms: pf runs its workers as child processes).
# Usage: bench-batch-pf.sh PF FAKE_BIN DATA RUNS WORKDIR
set -euo pipefail
pf=$1 fake_bin=$2 data=$3 runs=$4 work=$5
export PF_HOME_DIRECTORY="$work/pf-home" PF_WORKER_COUNT=32 PF_DISABLE_TRACING=true
mkdir -p "$PF_HOME_DIRECTORY" "$work/pf-flow"
"$pf" config set telemetry.enabled=false >/dev/null 2>&1 || true
cat >"$work/pf-flow/flow.dag.yaml" <<'YAML'
inputs:
  question:
    type: string
outputs:
  answer:
    type: string
    reference: ${chat.output}
nodes:
- name: chat
  type: llm
  source:
    type: code
    path: chat.jinja2
  inputs:
    deployment_name: gpt-4o-mini
    question: ${inputs.question}
  connection: bench_fake
  api: chat
YAML
printf '# system:\nYou are a helpful assistant. Answer in at most three sentences.\n\n# user:\n{{question}}\n' \
  >"$work/pf-flow/chat.jinja2"

tree_rss_kb() { # the summed RSS of a process and all its descendants
  ps -eo pid=,ppid=,rss= | awk -v root="$1" '
    { parent[$1] = $2; rss[$1] = $3 }
    END { for (p in rss) { q = p; while (q != "" && q != root && q != 1 && q != 0) q = parent[q];
                           if (q == root) total += rss[p] } print total + 0 }'
}

# pf starts a local service (waitress) for its commands; stop it when done.
trap '"$pf" service stop >/dev/null 2>&1 || true' EXIT

for i in $(seq "$runs"); do
  coproc PFFAKE { exec "$fake_bin" --latency-ms 200; }
  read -r base <&"${PFFAKE[0]}"
  cat >"$work/pf-conn.yaml" <<YAML
name: bench_fake
type: azure_open_ai
api_key: bench-key
api_base: $base
api_type: azure
api_version: "2024-10-21"
YAML
  "$pf" connection create --file "$work/pf-conn.yaml" >"$work/pf-conn.log" 2>&1 ||
    { echo "pf connection create failed:" >&2; cat "$work/pf-conn.log" >&2; exit 1; }
  started=$(date +%s%3N)
  "$pf" run create --flow "$work/pf-flow" --data "$data" --column-mapping 'question=${data.question}' \
    --name "bench-$$-$i" >"$work/pf-run-$i.log" 2>&1 &
  pid=$!
  peak=0
  while kill -0 "$pid" 2>/dev/null; do
    now=$(tree_rss_kb "$pid"); ((now > peak)) && peak=$now
    sleep 0.1
  done
  wait "$pid" || { echo "pf run create failed; its log: $work/pf-run-$i.log" >&2; tail -20 "$work/pf-run-$i.log" >&2; kill "$PFFAKE_PID"; exit 1; }
  ended=$(date +%s%3N)
  done_rows=$(curl -s "$base/stats" | jq -r .requests)
  kill "$PFFAKE_PID"; wait "$PFFAKE_PID" 2>/dev/null || true
  [[ $done_rows -ge $(wc -l <"$data") ]] || { echo "pf sent only $done_rows requests; its log: $work/pf-run-$i.log" >&2; exit 1; }
  awk -v t0="$started" -v t1="$ended" -v kb="$peak" 'BEGIN { printf "%.2f %.0f\n", (t1 - t0) / 1000, kb / 1024 }'
done
